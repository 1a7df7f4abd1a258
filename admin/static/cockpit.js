/* The cockpits' charts (Apache ECharts, vendored): each figure's table, as the page's JSON gives it, drawn on a
   canvas. Hidden cells ("*") are gaps, never zeros. Every chart has its table on the page. */
(function () {
  'use strict';
  var blob = document.getElementById('cockpit-charts');
  if (!blob || !window.echarts) { return; }
  var data = JSON.parse(blob.textContent);
  var PALETTE = ['#2f6fb0', '#e38b2c', '#3a9d5d', '#c0504d', '#8064a2', '#4bacc6', '#9c7a3c', '#7f7f7f'];
  var narrow = window.matchMedia('(max-width: 600px)').matches;

  function num(c, useValue) {
    if (!c || c.hidden) { return null; }
    return useValue ? c.value : c.count;
  }

  function valued(t) {  // chart the values (means, shares) when every published cell has one
    var cells = [];
    t.rows.forEach(function (r) { cells = cells.concat(r.cells); });
    var shown = cells.filter(function (c) { return !c.hidden && c.count; });
    return t.has_value && shown.length > 0 && shown.every(function (c) { return c.value !== null; });
  }

  function base(small, labels) {
    var many = labels.length > (narrow ? 6 : 14);
    return {
      color: PALETTE, animation: false,
      grid: small ? {left: 4, right: 4, top: 6, bottom: 4, containLabel: false}
                  : {left: 48, right: 16, top: 36, bottom: many ? 64 : 40, containLabel: true},
      tooltip: small ? undefined : {trigger: 'axis'},
      xAxis: {type: 'category', data: labels, show: !small,
              axisLabel: {rotate: many ? 40 : 0, interval: 0, fontSize: 11,
                          formatter: function (s) { return s.length > 8 ? s.slice(0, 8) + '…' : s; }}},
      yAxis: {type: 'value', show: !small, splitLine: {lineStyle: {color: '#eee'}}},
      dataZoom: (!small && many) ? [{type: 'slider', height: 16, bottom: 4, endValue: narrow ? 5 : 19}] : undefined,
      legend: undefined,
      series: []
    };
  }

  function small(t) {
    var useValue = valued(t);
    var foot = t.foot || t.rows[0];
    if (!foot) { return null; }
    var labels, values;
    if (t.columns.length >= 2 || !t.foot) {
      labels = t.columns;
      values = foot.cells.map(function (c) { return num(c, useValue); });
    } else {
      labels = t.rows.map(function (r) { return r.label; });
      values = t.rows.map(function (r) { return num(r.cells[0], useValue); });
    }
    var opt = base(true, labels);
    opt.series.push({type: t.chart === 'line' ? 'line' : 'bar', data: values, barMaxWidth: 18});
    return opt;
  }

  function interval(t, opt) {
    var lows = [], spans = [], values = [];
    t.rows.forEach(function (r) {
      var c = r.cells[0];
      var ok = c && !c.hidden && c.low !== null && c.high !== null;
      lows.push(ok ? c.low : null);
      spans.push(ok ? c.high - c.low : null);
      values.push(c && !c.hidden ? c.value : null);
    });
    opt.series.push({type: 'bar', stack: 'ci', data: lows, itemStyle: {color: 'transparent'}, silent: true, barMaxWidth: 14});
    opt.series.push({type: 'bar', stack: 'ci', name: t.columns[0] || '', data: spans, barMaxWidth: 14,
                     itemStyle: {color: 'rgba(47,111,176,0.25)'}});
    opt.series.push({type: 'scatter', name: t.title, data: values, symbolSize: 9, itemStyle: {color: '#2f6fb0'}});
    opt.yAxis.scale = true;
    return opt;
  }

  function big(t) {
    var useValue = valued(t);
    var rows = t.rows;
    if (!rows.length) { return null; }
    if (t.chart === 'interval' && t.has_interval) {
      return interval(t, base(false, rows.map(function (r) { return r.label; })));
    }
    if (rows.length === 1 || t.chart === 'line') {  // one school (or a trend): the categories along the axis
      var src = rows.length === 1 ? rows[0] : (t.foot || rows[0]);
      var opt1 = base(false, t.columns);
      opt1.series.push({type: t.chart === 'line' ? 'line' : 'bar', name: src.label, barMaxWidth: 28,
                        data: src.cells.map(function (c) { return num(c, useValue); })});
      return opt1;
    }
    var opt = base(false, rows.map(function (r) { return r.label; }));
    var stack = !useValue && t.chart !== 'bar' || (!useValue && t.columns.length > 1);
    t.columns.forEach(function (col, j) {
      opt.series.push({type: 'bar', name: col, stack: stack ? 'all' : undefined, barMaxWidth: 24,
                       data: rows.map(function (r) { return num(r.cells[j], useValue); })});
    });
    if (t.columns.length > 1) { opt.legend = {top: 0, type: 'scroll'}; }
    return opt;
  }

  var drawn = [];
  data.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el) { return; }
    var opt = c.small ? small(c.table) : big(c.table);
    var any = opt && opt.series.some(function (s) { return s.data.some(function (v) { return v; }); });
    if (!any) { el.hidden = true; return; }  // nothing to draw: the tile's number and the table say it
    var chart = window.echarts.init(el, null, {renderer: 'canvas'});
    chart.setOption(opt);
    drawn.push(chart);
  });
  window.addEventListener('resize', function () { drawn.forEach(function (ch) { ch.resize(); }); });
  document.body.setAttribute('data-charts-drawn', String(drawn.length));
}());
