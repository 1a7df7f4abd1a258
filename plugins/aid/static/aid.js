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
