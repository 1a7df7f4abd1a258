/* Learning pages: the student's map (radar, trend, weak points; polls its JSON every few seconds, so a new
   response shows without a reload), the class heat map, the value-added report, and the editors' forms.
   Charts with the vendored ECharts; every chart has a table or text beside it with the same figures. */
(function () {
  "use strict";
  const W = JSON.parse((document.getElementById("learning-words") || {}).textContent || "{}");
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const pct = (v) => (v == null ? "—" : Math.round(v * 100) + "%");
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || undefined;
  const subj = (s) => (W.subjects && W.subjects[s]) || s;
  async function api(url, method, body, raw) {
    const headers = {"X-CSRFToken": csrf(), "Accept": "application/json"};
    if (!raw) headers["Content-Type"] = "application/json";
    const resp = await fetch(url, {method: method || "GET", credentials: "same-origin", headers,
      body: raw ? body : body ? JSON.stringify(body) : undefined});
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) { const e = new Error((data.error && data.error.message) || resp.status); e.data = data; throw e; }
    return data;
  }
  const errorText = (err) => { const f = err.data && err.data.error && err.data.error.fields; return f && Object.keys(f).length ? Object.entries(f).map(([k, v]) => k + ": " + v).join("；") : err.message; };
  const toast = (text, kind) => (window.jizuo && window.jizuo.toast ? window.jizuo.toast(text, kind) : null);
  const chart = (el) => (window.echarts && el ? (window.echarts.getInstanceByDom(el) || window.echarts.init(el)) : null);

  // ---- the student's map ------------------------------------------------------------------------
  const map = document.getElementById("learning-map");
  if (map) {
    const draw = (d) => {
      document.getElementById("map-at").textContent = new Date(d.at).toLocaleTimeString();
      document.getElementById("map-responses").textContent = d.responses;
      const radarEl = document.getElementById("radar"), narrow = radarEl.clientWidth < 560;
      if (narrow && d.subjects.length > 1 && !radarEl.dataset.tall) { radarEl.style.height = "560px"; radarEl.dataset.tall = "1"; }
      const radar = chart(radarEl);
      if (radar) radar.resize();
      const rows = [];
      d.subjects.forEach((s) => s.axes.forEach((a) => rows.push(`<tr data-group="${esc(a.code)}"><td>${esc(subj(s.subject))}</td><td>${esc(a.name)}</td><td class="num mastery">${pct(a.mastery)}</td></tr>`)));
      document.querySelector("#radar-table tbody").innerHTML = rows.join("") || `<tr><td colspan="3">${esc(W.none)}</td></tr>`;
      map.dataset.radar = d.subjects.map((s) => s.axes.map((a) => a.code + "=" + a.mastery).join(",")).join(";");
      if (radar) {
        radar.setOption({
          animation: false, tooltip: {}, legend: {bottom: 0, data: d.subjects.map((s) => subj(s.subject))},
          radar: d.subjects.map((s, i) => ({indicator: s.axes.map((a) => ({name: a.name, max: 1})), radius: narrow && d.subjects.length > 1 ? "30%" : "55%",
            center: d.subjects.length < 2 ? ["50%", "48%"] : narrow ? ["50%", i ? "72%" : "27%"] : [i ? "74%" : "26%", "48%"],
            axisName: {color: css("--muted"), fontSize: 11}})),
          series: d.subjects.map((s, i) => ({type: "radar", radarIndex: i, name: subj(s.subject), areaStyle: {opacity: 0.25},
            data: [{name: subj(s.subject), value: s.axes.map((a) => a.mastery)}]}))}, true);
      }
      const trend = chart(document.getElementById("trend"));
      if (trend) {
        const weeks = [...new Set(Object.values(d.trend).flat().map((x) => x.week))].sort();
        trend.setOption({animation: false, tooltip: {trigger: "axis"}, legend: {bottom: 0}, grid: {left: 40, right: 16, top: 16, bottom: 48},
          xAxis: {type: "category", data: weeks.map((w) => w.slice(5))}, yAxis: {type: "value", min: 0, max: 1},
          series: Object.entries(d.trend).map(([s, pts]) => {
            const at = Object.fromEntries(pts.map((p) => [p.week, p.mastery]));
            return {type: "line", name: subj(s), data: weeks.map((w) => (w in at ? at[w] : null)), connectNulls: true};
          })}, true);
      }
      document.getElementById("weak-rule").textContent = `< ${pct(d.threshold)} · ≥ ${d.min_attempts}`;
      document.querySelector("#weak tbody").innerHTML = d.weak.map((w) => `<tr data-code="${esc(w.code)}"><td>${esc(w.name)}</td><td>${esc(subj(w.subject))}</td><td class="num">${pct(w.mastery)}</td><td class="num">${w.correct}/${w.attempts}</td></tr>`).join("") || `<tr><td colspan="4">${esc(W.none)}</td></tr>`;
      document.querySelector("#pushes tbody").innerHTML = d.pushes.map((p) => `<tr><td>${esc(p.title)}</td><td>${esc(p.point)}</td><td>${esc(window.jizuo && window.jizuo.localTime ? window.jizuo.localTime(p.pushed_at) : p.pushed_at)}</td><td>${p.opened_at ? esc(W.opened) : esc(W.not_opened)}</td><td class="num">${pct(p.mastery_then)} → ${pct(p.mastery_now)}</td></tr>`).join("") || `<tr><td colspan="5">${esc(W.none)}</td></tr>`;
      document.querySelector("#interactions tbody").innerHTML = d.interactions.map((x) => `<tr data-subject="${esc(x.subject)}"><td>${esc(subj(x.subject))}</td><td class="num total">${x.total}</td><td>${Object.entries(x.kinds).map(([k, n]) => esc((W.kinds || {})[k] || k) + " " + n).join(" · ")}</td><td class="mono">${x.weeks.map((w) => w.count).join(" ")}</td></tr>`).join("") || `<tr><td colspan="4">${esc(W.none)}</td></tr>`;
      document.querySelector("#certificates tbody").innerHTML = d.certificates.map((c) => `<tr><td>${esc(c.certificate)}</td><td>${esc(c.level || "—")}</td><td class="status">${esc((W.status || {})[c.status] || c.status)}</td></tr>`).join("") || `<tr><td colspan="3">${esc(W.none)}</td></tr>`;
      document.getElementById("plans").innerHTML = d.plans.map((p) => `<li>${esc(p.text)} <span class="hint">${esc(p.by || "")}</span></li>`).join("") || `<li class="hint">${esc(W.none)}</li>`;
    };
    const load = () => api(map.dataset.src).then(draw).catch(() => {});
    load();
    setInterval(load, 3000);
    const form = document.getElementById("plan-form");
    if (form) form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      api(form.dataset.src, "POST", {text: form.elements.text.value}).then(() => { form.reset(); toast(W.saved); load(); })
        .catch((err) => toast(errorText(err), "error"));
    });
  }

  // ---- the class heat map -----------------------------------------------------------------------
  const cls = document.getElementById("class-map");
  if (cls) {
    api(cls.dataset.src).then((d) => {
      const heatEl = document.getElementById("heat");
      heatEl.style.height = Math.max(420, 150 + 16 * d.students.length) + "px";
      const heat = chart(heatEl);
      const data = [];
      d.cells.forEach((row, y) => row.forEach((v, x) => { if (v != null) data.push([x, y, v]); }));
      if (heat) heat.setOption({
        tooltip: {formatter: (p) => `${esc(d.students[p.value[1]].name)} · ${esc(d.points[p.value[0]].name)}: ${pct(p.value[2])}`},
        grid: {left: 70, right: 16, top: 8, bottom: 110},
        xAxis: {type: "category", data: d.points.map((p) => p.name), axisLabel: {rotate: 40, fontSize: 10}},
        yAxis: {type: "category", data: d.students.map((s) => s.name), inverse: true, axisLabel: {fontSize: 10, interval: 0}},
        visualMap: {min: 0, max: 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
          inRange: {color: [css("--danger") || "#c0392b", css("--warn") || "#e0a100", css("--ok") || "#2e8b57"]}},
        series: [{type: "heatmap", data, label: {show: false}}]});
      cls.dataset.cells = String(data.length);
      document.querySelector("#weakest tbody").innerHTML = d.weakest.map((p) => `<tr><td>${esc(p.name)}</td><td class="num">${pct(p.mean)}</td><td class="num">${p.weak}/${p.students}</td></tr>`).join("") || `<tr><td colspan="3">${esc(W.none)}</td></tr>`;
      document.getElementById("class-students").innerHTML = d.students.map((s) => `<li><a href="${cls.dataset.student}${s.id}">${esc(s.name)}</a></li>`).join("");
    }).catch((err) => toast(errorText(err), "error"));
  }
  document.querySelectorAll("select[data-class-pick]").forEach((sel) => sel.addEventListener("change", () => {
    const subject = (sel.form.elements.subject || {}).value;
    window.location = sel.dataset.base + sel.value + (subject ? "?subject=" + encodeURIComponent(subject) : "");
  }));

  // ---- value added ------------------------------------------------------------------------------
  const va = document.getElementById("value-added");
  if (va) {
    const ci = (m) => (!m || m.estimate == null ? "—" : `${m.estimate > 0 ? "+" : ""}${m.estimate}` + (m.low == null ? "" : ` [${m.low}, ${m.high}]`));
    api(va.dataset.src).then((d) => {
      document.getElementById("va-summary").textContent = d.components ? `n = ${d.students} · σ²(class) = ${d.components.class} · σ²(residual) = ${d.components.residual}` : W.none;
      const row = (name, r) => `<tr><td>${esc(name)}</td><td class="num">${r.gain.n}</td><td class="num gain">${ci(r.gain)}</td><td class="num regression">${ci(r.regression)}</td><td class="num multilevel">${ci(r.multilevel)}</td></tr>`;
      document.querySelector("#va-classes tbody").innerHTML = d.classes.map((c) => row(c.name, c)).join("") || `<tr><td colspan="5">${esc(W.none)}</td></tr>`;
      document.querySelector("#va-teachers tbody").innerHTML = d.teachers.map((t) => row(t.teacher, t)).join("") || `<tr><td colspan="5">${esc(W.none)}</td></tr>`;
      const c = chart(document.getElementById("va-chart"));
      if (c && d.classes.length) {
        const methods = ["gain", "regression", "multilevel"];
        const names = d.classes.map((x) => x.name);
        c.setOption({tooltip: {}, legend: {bottom: 0, data: methods.map((m) => W[m])}, grid: {left: 48, right: 16, top: 16, bottom: 64},
          xAxis: {type: "category", data: names, axisLabel: {fontSize: 10}}, yAxis: {type: "value"},
          series: methods.map((m, i) => ({type: "custom", name: W[m],
            data: d.classes.map((x, j) => [j, x[m].estimate, x[m].low == null ? x[m].estimate : x[m].low,
              x[m].high == null ? x[m].estimate : x[m].high]).filter((v) => v[1] != null),
            encode: {x: 0, y: [1, 2, 3]},
            renderItem: (params, api2) => {
              const mid = api2.coord([api2.value(0), api2.value(1)]), lo = api2.coord([api2.value(0), api2.value(2)]);
              const hi = api2.coord([api2.value(0), api2.value(3)]), x = mid[0] + (i - 1) * 14, color = api2.visual("color");
              return {type: "group", children: [
                {type: "line", shape: {x1: x, y1: lo[1], x2: x, y2: hi[1]}, style: {stroke: color, lineWidth: 2}},
                {type: "line", shape: {x1: x - 4, y1: lo[1], x2: x + 4, y2: lo[1]}, style: {stroke: color, lineWidth: 2}},
                {type: "line", shape: {x1: x - 4, y1: hi[1], x2: x + 4, y2: hi[1]}, style: {stroke: color, lineWidth: 2}},
                {type: "circle", shape: {cx: x, cy: mid[1], r: 5}, style: {fill: color}}]};
            }}))}, true);
      }
      va.dataset.loaded = "1";
    }).catch((err) => toast(errorText(err), "error"));
  }

  // ---- editors ----------------------------------------------------------------------------------
  const jsonForm = (id, shape) => {
    const form = document.getElementById(id);
    if (!form) return;
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      api(form.dataset.src, "POST", shape(form.elements)).then(() => { toast(W.saved); window.location.reload(); })
        .catch((err) => toast(errorText(err), "error"));
    });
  };
  jsonForm("point-form", (e) => ({subject: e.subject.value, code: e.code.value, name: e.name.value, name_en: e.name_en.value, parent_code: e.parent_code.value}));
  jsonForm("resource-form", (e) => ({title: e.title.value, url: e.url.value, kind: e.kind.value, subject: e.subject.value,
    points: [e.points.value], minutes: e.minutes.value ? Number(e.minutes.value) : null}));
  document.querySelectorAll("form.csv-form").forEach((form) => form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = new FormData(form);
    api(form.dataset.src, "POST", body, true).then((d) => { toast(W.imported + " " + d.imported); setTimeout(() => window.location.reload(), 800); })
      .catch((err) => toast(errorText(err), "error"));
  }));
})();
