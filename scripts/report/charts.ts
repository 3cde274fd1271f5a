/**
 * Inline SVG charts for the HTML report: no script, no CDN, so the page opens anywhere
 * (an air-gapped laptop, an attachment in a ticket). Each chart is an <svg data-chart="…">.
 */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const W = 720;
const H = 260;
const PAD = { l: 56, r: 16, t: 16, b: 40 };
const COLORS = ['#2563eb', '#f59e0b', '#dc2626', '#16a34a'];

function frame(name: string, title: string, inner: string): string {
  return `<svg data-chart="${name}" role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg"><title>${esc(title)}</title><rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>${inner}</svg>`;
}

function axes(yLabels: [number, string][], yOf: (v: number) => number): string {
  let out = `<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#555"/><line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" stroke="#555"/>`;
  for (const [v, label] of yLabels) {
    const y = yOf(v).toFixed(1);
    out += `<line x1="${PAD.l}" y1="${y}" x2="${W - PAD.r}" y2="${y}" stroke="#e5e7eb"/><text x="${PAD.l - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle" fill="#333">${esc(label)}</text>`;
  }
  return out;
}

/** Hit ratio per time bucket: a line, with gaps where a bucket had no cacheable request. */
export function hitRatioChart(points: { at: string; hitRatio: number | null }[]): string {
  // Placed by time, so minutes without traffic show as gaps rather than being squeezed out.
  const times = points.map((p) => Date.parse(p.at));
  const t0 = times[0] ?? 0;
  const span = (times[times.length - 1] ?? 0) - t0;
  const x = (i: number) => PAD.l + (span <= 0 ? (W - PAD.l - PAD.r) / 2 : ((times[i]! - t0) / span) * (W - PAD.l - PAD.r));
  const y = (v: number) => H - PAD.b - v * (H - PAD.t - PAD.b);
  let inner = axes(
    [0, 0.25, 0.5, 0.75, 1].map((v) => [v, `${v * 100} %`]),
    y,
  );
  const segments: string[][] = [[]];
  points.forEach((p, i) => {
    if (p.hitRatio === null) segments.push([]);
    else segments[segments.length - 1]!.push(`${x(i).toFixed(1)},${y(p.hitRatio).toFixed(1)}`);
  });
  for (const s of segments.filter((s) => s.length)) {
    inner += s.length > 1 ? `<polyline data-series="hit-ratio" points="${s.join(' ')}" fill="none" stroke="${COLORS[0]}" stroke-width="2"/>` : '';
    for (const pt of s) {
      const [cx, cy] = pt.split(',');
      inner += `<circle cx="${cx}" cy="${cy}" r="2.5" fill="${COLORS[0]}"/>`;
    }
  }
  if (points.length) {
    inner += `<text x="${PAD.l}" y="${H - 12}" font-size="11" fill="#333">${esc(points[0]!.at.slice(0, 16).replace('T', ' '))}</text>`;
    inner += `<text x="${W - PAD.r}" y="${H - 12}" font-size="11" text-anchor="end" fill="#333">${esc(points[points.length - 1]!.at.slice(0, 16).replace('T', ' '))} UTC</text>`;
  }
  return frame('hit-ratio', 'Hit ratio over time', inner);
}

/** Grouped bars: p50, p90, p99 per cache state, on a log scale (hits are ~1 ms, renders ~100 ms). */
export function latencyChart(rows: { state: string; p50: number; p90: number; p99: number }[]): string {
  const max = Math.max(1, ...rows.map((r) => r.p99));
  const min = 0.01;
  const top = 10 ** Math.ceil(Math.log10(max));
  const y = (v: number) => H - PAD.b - (Math.log10(Math.max(v, min) / min) / Math.log10(top / min)) * (H - PAD.t - PAD.b);
  const ticks: [number, string][] = [];
  for (let v = min; v <= top * 1.0001; v *= 10) ticks.push([v, v >= 1000 ? `${v / 1000} s` : `${v} ms`]);
  let inner = axes(ticks, y);
  const group = (W - PAD.l - PAD.r) / Math.max(1, rows.length);
  const bar = Math.min(28, (group - 16) / 3);
  rows.forEach((r, i) => {
    const gx = PAD.l + i * group + (group - bar * 3) / 2;
    (['p50', 'p90', 'p99'] as const).forEach((k, j) => {
      const top = y(r[k]);
      inner += `<rect data-series="${k}" x="${(gx + j * bar).toFixed(1)}" y="${top.toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${(H - PAD.b - top).toFixed(1)}" fill="${COLORS[j]}"><title>${esc(`${r.state} ${k}: ${r[k].toFixed(2)} ms`)}</title></rect>`;
    });
    inner += `<text x="${(gx + bar * 1.5).toFixed(1)}" y="${H - PAD.b + 16}" font-size="11" text-anchor="middle" fill="#333">${esc(r.state)}</text>`;
  });
  inner += ['p50', 'p90', 'p99']
    .map(
      (k, j) =>
        `<rect x="${W - PAD.r - 150 + j * 50}" y="${PAD.t}" width="10" height="10" fill="${COLORS[j]}"/><text x="${W - PAD.r - 136 + j * 50}" y="${PAD.t + 9}" font-size="11" fill="#333">${k}</text>`,
    )
    .join('');
  return frame('latency', 'Latency percentiles by cache state', inner);
}

/** Horizontal bars: each item's share of the monthly estimate. */
export function costChart(items: { item: string; monthly: number }[], currency: string): string {
  const max = Math.max(1e-9, ...items.map((i) => i.monthly));
  const rowH = (H - PAD.t - PAD.b) / Math.max(1, items.length);
  const left = 110;
  let inner = '';
  items.forEach((it, i) => {
    const w = (it.monthly / max) * (W - left - 140);
    const yy = PAD.t + i * rowH + rowH * 0.2;
    inner += `<text x="${left - 8}" y="${(yy + rowH * 0.3).toFixed(1)}" font-size="12" text-anchor="end" dominant-baseline="middle" fill="#333">${esc(it.item)}</text>`;
    inner += `<rect data-series="cost" x="${left}" y="${yy.toFixed(1)}" width="${Math.max(1, w).toFixed(1)}" height="${(rowH * 0.6).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"/>`;
    inner += `<text x="${(left + Math.max(1, w) + 6).toFixed(1)}" y="${(yy + rowH * 0.3).toFixed(1)}" font-size="12" dominant-baseline="middle" fill="#333">${esc(`${it.monthly.toFixed(2)} ${currency}`)}</text>`;
  });
  return frame('cost', 'Monthly cost breakdown', inner);
}
