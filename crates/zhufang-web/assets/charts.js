// Figures as charts (ECharts, embedded from npm; SVG renderer, no network).
// Every element with data-chart holds its chart as JSON:
//   {"categories": ["城南派出所", …], "unit": "%", "series": [{"name": "5分钟到场率", "data": [92.5, …]}, …]}
// A null value is drawn as a gap (nothing to divide by). The table beside
// each chart keeps the exact figures; the chart is for comparing at a glance.
(function () {
  'use strict';
  var palette = ['#1677ff', '#52c41a', '#fa8c16', '#eb2f96', '#13c2c2', '#722ed1'];
  function draw(el) {
    var spec;
    try {
      spec = JSON.parse(el.getAttribute('data-chart'));
    } catch (e) {
      return;
    }
    if (!window.echarts || !spec || !spec.categories || spec.categories.length === 0) {
      el.hidden = true;
      return;
    }
    var unit = spec.unit || '';
    var chart = window.echarts.init(el, null, { renderer: 'svg' });
    chart.setOption({
      color: palette,
      animation: false,
      tooltip: {
        trigger: 'axis',
        valueFormatter: function (v) { return v == null ? '—' : v + unit; }
      },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: spec.categories.length > 6 ? 72 : 32 },
      xAxis: {
        type: 'category',
        data: spec.categories,
        axisLabel: { interval: 0, rotate: spec.categories.length > 6 ? 30 : 0 }
      },
      yAxis: { type: 'value', max: unit === '%' ? 100 : null, axisLabel: { formatter: '{value}' + unit } },
      series: (spec.series || []).map(function (s) {
        return { name: s.name, type: 'bar', data: s.data, barMaxWidth: 28 };
      })
    });
    el.setAttribute('data-drawn', '1');
    window.addEventListener('resize', function () { chart.resize(); });
  }
  function all() {
    document.querySelectorAll('[data-chart]').forEach(draw);
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', all);
  } else {
    all();
  }
})();
