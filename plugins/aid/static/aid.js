/* The aid pages: review forms post to the JSON API, then the page reloads with the new step; the coverage
   chart (Apache ECharts, vendored with the shell) draws the months' outcomes beside their table. */
(function () {
  "use strict";
  const words = JSON.parse((document.getElementById("aid-words") || {}).textContent || "{}");
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const send = (url, body) => fetch(url, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json"},
    body: JSON.stringify(body)}).then(async (r) => {
      const data = await r.json().catch(() => ({}));
      if (!r.ok) { throw new Error((data.message || words.failed) + (data.fields ? " " + JSON.stringify(data.fields) : "")); }
      return data;
    });
  const done = () => { if (window.jizuo) { jizuo.toast(words.saved); } setTimeout(() => location.reload(), 400); };
  const fail = (e) => { if (window.jizuo) { jizuo.toast(e.message, "error"); } };

  document.addEventListener("DOMContentLoaded", function () {
    const box = document.querySelector(".aid-forms");
    if (box) {
      const sid = box.dataset.student;
      box.querySelectorAll("form[data-aid]").forEach((form) => form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const body = {};
        new FormData(form).forEach((v, k) => { if (v !== "") { body[k] = k === "amount" ? Number(v) : v; } });
        send(`/aid/api/students/${sid}/${form.dataset.aid}`, body).then(done, fail);
      }));
    }
    document.querySelectorAll("button[data-award]").forEach((b) => b.addEventListener("click", () => {
      send(`/aid/api/awards/${b.dataset.award}`, {status: b.dataset.status}).then(done, fail);
    }));
    const run = document.getElementById("aid-identify");
    if (run) {
      run.addEventListener("click", () => {
        run.disabled = true;
        send("/aid/api/identify", run.dataset.month ? {month: run.dataset.month} : {}).then(done, (e) => { run.disabled = false; fail(e); });
      });
    }
    const el = document.getElementById("aid-chart");
    const data = document.getElementById("aid-months");
    if (el && data && window.echarts) {
      const months = JSON.parse(data.textContent);
      const chart = echarts.init(el);
      const series = ["candidate", "insufficient", "normal"].map((k) => ({name: words[k], type: "bar", stack: "all",
        data: months.map((m) => m[k])}));
      chart.setOption({animation: false, tooltip: {trigger: "axis"}, legend: {}, grid: {left: 40, right: 10, bottom: 30},
        xAxis: {type: "category", data: months.map((m) => m.month)}, yAxis: {type: "value"}, series: series,
        color: ["#c0392b", "#9aa5b1", "#5b8def"]});
      el.dataset.drawn = "1";
      window.addEventListener("resize", () => chart.resize());
    }
  });
}());

/* The district's page: every school's desensitised counts from the platform, a table and a stacked bar. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const table = document.getElementById("aid-district");
    const meta = document.getElementById("aid-schools");
    if (!table || !meta) { return; }
    const words = JSON.parse((document.getElementById("aid-words") || {}).textContent || "{}");
    const info = JSON.parse(meta.textContent);
    fetch(table.dataset.src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then((r) => r.json()).then((data) => {
        const rows = {};
        const put = (school, key, count) => { (rows[school] = rows[school] || {})[key] = count; };
        (data.items || []).forEach((fig) => (fig.schools || []).forEach((s) => (s.cells || []).forEach((c) => {
          const key = c.group.status || c.group.confirmed;
          put(s.school_id, key, c.count);
        })));
        const cols = ["candidate", "insufficient", "normal", "covered", "not_yet"];
        const body = table.querySelector("tbody");
        Object.keys(rows).forEach((id) => {
          const tr = document.createElement("tr");
          tr.dataset.school = id;
          const name = document.createElement("td");
          name.textContent = info.schools[id] || id;
          tr.appendChild(name);
          cols.forEach((k) => {
            const td = document.createElement("td");
            const v = rows[id][k];
            td.textContent = v === null ? info.suppressed : (v === undefined ? "—" : String(v));
            td.className = "n-" + k;
            tr.appendChild(td);
          });
          body.appendChild(tr);
        });
        if (window.jizuo && jizuo.labelTables) { jizuo.labelTables(); }
        const el = document.getElementById("aid-district-chart");
        if (el && window.echarts) {
          const ids = Object.keys(rows);
          const chart = echarts.init(el);
          chart.setOption({animation: false, tooltip: {trigger: "axis"}, legend: {}, grid: {left: 40, right: 10, bottom: 60},
            xAxis: {type: "category", data: ids.map((id) => info.schools[id] || id), axisLabel: {rotate: 20}},
            yAxis: {type: "value"}, color: ["#c0392b", "#9aa5b1", "#5b8def"],
            series: ["candidate", "insufficient", "normal"].map((k) => ({name: words[k], type: "bar", stack: "all",
              data: ids.map((id) => rows[id][k] || 0)}))});
          el.dataset.drawn = "1";
        }
        table.dataset.loaded = "1";
      });
  });
}());
