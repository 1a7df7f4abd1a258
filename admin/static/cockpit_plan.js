/* The enrolment forecast and the balanced-development map: ECharts charts drawn from the page's JSON
   (#plan-data). Every chart has its table on the page already (rendered by the server), so a page without
   scripts, or a reader of tables, misses nothing. Loaded after echarts.min.js (deferred, in order). */
(function () {
  "use strict";
  const blob = document.getElementById("plan-data");
  if (!blob || !window.echarts) return;
  const D = JSON.parse(blob.textContent);
  const W = D.words;
  const RED = "#c62828", BLUE = "#3a6ea5", GREY = "#9aa5b1", GREEN = "#2e7d32", AMBER = "#c99700";
  const charts = [];
  const narrow = () => window.matchMedia("(max-width: 600px)").matches;

  function draw(id, option) {
    const el = document.getElementById(id);
    if (!el) return null;
    const chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
    chart.setOption(option, true);
    if (!charts.includes(chart)) charts.push(chart);
    el.dataset.drawn = "1";
    return chart;
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

  const axisLabel = (n) => ({interval: 0, rotate: n > 4 || narrow() ? 30 : 0, width: 90, overflow: "truncate"});
  const zoom = (n) => (n > 12 ? [{type: "slider", bottom: 0, startValue: 0, endValue: 11}, {type: "inside"}] : []);

  // ---- the forecast ------------------------------------------------------------------------------------------
  if (D.page === "forecast" && D.year) {
    const S = D.schools;
    const names = S.map((s) => s.name);
    draw("plan-totals", {
      tooltip: {trigger: "axis"}, legend: {top: 0},
      grid: {left: 8, right: 8, top: 36, bottom: S.length > 12 ? 40 : 8, containLabel: true},
      xAxis: {type: "category", data: names, axisLabel: axisLabel(S.length)},
      yAxis: {type: "value", name: narrow() ? "" : W.students},
      dataZoom: zoom(S.length),
      series: [
        {name: `${W.now} ${D.base_year}`, type: "bar", data: S.map((s) => s.now), itemStyle: {color: GREY}},
        {name: `${W.forecast} ${D.year}`, type: "bar",
          data: S.map((s) => ({value: s.forecast, itemStyle: {color: s.over ? RED : BLUE}})), itemStyle: {color: BLUE}},
        {name: W.places, type: "scatter", symbol: "rect", symbolSize: [narrow() ? 24 : 48, 3], data: S.map((s) => s.places),
          itemStyle: {color: "#222"}, z: 5},
      ],
    });
    // district (or the school's) total by year, and the forecast year dashed
    const years = [...new Set(S.flatMap((s) => Object.keys(s.history)))].sort();
    const total = years.map((y) => S.reduce((n, s) => n + (s.history[y] || 0), 0));
    const next = S.every((s) => s.forecast != null) ? S.reduce((n, s) => n + s.forecast, 0) : null;
    const axis = [...years, String(D.year)];
    draw("plan-trend", {
      tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 8, right: 16, top: 36, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: axis}, yAxis: {type: "value", name: narrow() ? "" : W.students, scale: true},
      series: [
        {name: S.length > 1 ? W.total : names[0], type: "line", data: [...total, null], itemStyle: {color: BLUE}},
        {name: W.forecast, type: "line", lineStyle: {type: "dashed"}, itemStyle: {color: RED},
          data: axis.map((_, i) => (i === years.length - 1 ? total[i] : i === years.length ? next : null))},
      ],
    });
    const pick = document.getElementById("plan-school");
    const grades = () => {
      const s = S[Number(pick ? pick.value : 0)] || S[0];
      draw("plan-grades", {
        tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 8, right: 8, top: 36, bottom: 8, containLabel: true},
        xAxis: {type: "category", data: s.grades.map((g) => (W.lang === "en" ? `G${g}` : `${g}年级`))},
        yAxis: {type: "value", name: narrow() ? "" : W.students},
        series: [
          {name: `${W.now} ${D.base_year}`, type: "bar", data: s.grades.map((g) => s.now_grades[g] ?? null), itemStyle: {color: GREY}},
          {name: `${W.forecast} ${D.year}`, type: "bar", data: s.grades.map((g) => s.forecast_grades[g] ?? null),
            itemStyle: {color: s.over ? RED : BLUE}},
        ],
      });
    };
    if (pick) pick.addEventListener("change", grades);
    grades();
  }

  // ---- the balanced-development map ----------------------------------------------------------------------
  if (D.page === "balance" && D.schools.length) {
    const S = D.schools;
    const names = S.map((s) => s.name);
    const pick = document.getElementById("plan-indicator");
    const bars = () => {
      const key = pick ? pick.value : D.indicators[0].key;
      const ind = D.indicators.find((i) => i.key === key);
      draw("plan-bars", {
        tooltip: {trigger: "axis"}, legend: {top: 0},
        grid: {left: 8, right: 8, top: 36, bottom: S.length > 12 ? 40 : 8, containLabel: true},
        xAxis: {type: "category", data: names, axisLabel: axisLabel(S.length)},
        yAxis: {type: "value", name: narrow() ? "" : ind.unit}, dataZoom: zoom(S.length),
        series: [
          {name: W.value, type: "bar", itemStyle: {color: BLUE},
            data: S.map((s) => ({value: s.values[key], itemStyle: {color: s.below.includes(key) ? RED : BLUE}}))},
          {name: W.standard, type: "scatter", symbol: "rect", symbolSize: [narrow() ? 24 : 48, 3], itemStyle: {color: "#222"}, z: 5,
            data: S.map((s) => s.standard[key])},
        ],
      });
    };
    if (pick) pick.addEventListener("change", bars);
    bars();
    // the map: schools × indicators, each cell the school's figure as a share of its standard
    const cells = [];
    const marked = D.indicators.filter((ind) => S.some((s) => s.standard[ind.key]));  // only what has a standard
    S.forEach((s, y) => marked.forEach((ind, x) => {
      const v = s.values[ind.key], bar = s.standard[ind.key];
      if (v != null && bar) cells.push([x, y, Math.round((100 * v) / bar)]);
    }));
    const short = marked.map((i) => i.title.replace(/^(生均|每百名学生)/, "").replace(/（.*）$/, ""));
    draw("plan-map", {
      tooltip: {formatter: (p) => `${names[p.value[1]]}<br>${marked[p.value[0]].title}: ${p.value[2]}%`},
      grid: {left: 8, right: 8, top: 8, bottom: 56, containLabel: true},
      xAxis: {type: "category", data: short, axisLabel: {interval: 0, rotate: 30, width: 80, overflow: "truncate"}, splitArea: {show: true}},
      yAxis: {type: "category", data: names, inverse: true, axisLabel: {width: narrow() ? 80 : 160, overflow: "truncate"}},
      visualMap: {type: "piecewise", orient: "horizontal", left: "center", bottom: 0, dimension: 2,
        pieces: [{lt: 100, color: RED, label: W.below}, {gte: 100, lt: 120, color: AMBER, label: "100–120%"},
          {gte: 120, color: GREEN, label: "≥120%"}]},
      series: [{name: W.ratio, type: "heatmap", data: cells, label: {show: !narrow() || marked.length < 6,
        formatter: (p) => `${p.value[2]}%`, fontSize: 10}}],
    });
  }
})();
