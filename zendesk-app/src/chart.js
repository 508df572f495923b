// A small hand-drawn SVG chart: organizations created and updated per sync run, over time. No chart library.
import { h, s } from './dom.js';

/**
 * points: [{at: RFC 3339, created: n, updated: n}] oldest first. Returns a <figure> with an accessible summary
 * and a table fallback for screen readers.
 */
export function syncChart(points, { width = 640, height = 220, locale = 'en-US' } = {}) {
  const pad = { left: 44, right: 12, top: 14, bottom: 34 };
  const w = width - pad.left - pad.right;
  const hgt = height - pad.top - pad.bottom;
  const times = points.map((p) => Date.parse(p.at));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const max = Math.max(1, ...points.map((p) => Math.max(p.created, p.updated)));
  const top = niceCeil(max);
  const x = (t) => pad.left + (t1 === t0 ? w / 2 : ((t - t0) / (t1 - t0)) * w);
  const y = (v) => pad.top + hgt - (v / top) * hgt;
  const line = (key) => points.map((p, i) => `${i ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
  const fmt = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

  const ticks = [0, top / 2, top];
  const svg = s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, class: 'mlc-chart', role: 'img', 'aria-labelledby': 'mlc-chart-title mlc-chart-desc' },
    s('title', { id: 'mlc-chart-title' }, 'Organizations created and updated per sync run'),
    s('desc', { id: 'mlc-chart-desc' }, summary(points)),
    ticks.map((v) => [
      s('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'mlc-chart__grid' }),
      s('text', { x: pad.left - 6, y: y(v) + 4, class: 'mlc-chart__label', 'text-anchor': 'end' }, String(Math.round(v))),
    ]),
    s('text', { x: pad.left, y: height - 8, class: 'mlc-chart__label' }, fmt.format(t0)),
    t1 !== t0 ? s('text', { x: width - pad.right, y: height - 8, class: 'mlc-chart__label', 'text-anchor': 'end' }, fmt.format(t1)) : null,
    s('path', { d: line('updated'), class: 'mlc-chart__line mlc-chart__line--updated' }),
    s('path', { d: line('created'), class: 'mlc-chart__line mlc-chart__line--created' }),
    points.map((p, i) => [
      s('circle', { cx: x(times[i]), cy: y(p.updated), r: 3, class: 'mlc-chart__dot mlc-chart__dot--updated' }),
      s('circle', { cx: x(times[i]), cy: y(p.created), r: 3, class: 'mlc-chart__dot mlc-chart__dot--created' }),
    ]),
  );
  return h(
    'figure',
    { class: 'mlc-chart-figure', dataset: { testid: 'sync-chart' } },
    svg,
    h('figcaption', { class: 'mlc-legend' }, h('span', { class: 'mlc-legend__created' }, 'Created'), h('span', { class: 'mlc-legend__updated' }, 'Updated')),
  );
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function summary(points) {
  const created = points.reduce((n, p) => n + p.created, 0);
  const updated = points.reduce((n, p) => n + p.updated, 0);
  return `${points.length} runs: ${created} organizations created and ${updated} updated in all.`;
}
