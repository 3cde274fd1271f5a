import type { ReportData } from './aggregate.js';
import { costChart, esc, hitRatioChart, latencyChart } from './charts.js';
import { bytes, int, money, ms, pct } from './format.js';

const table = (head: string[], rows: string[][], numeric: boolean[] = []) =>
  `<table><thead><tr>${head.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

/** One self-contained page: inline CSS and SVG, no script, nothing fetched. */
export function renderHtml(d: ReportData, source: string): string {
  const c = d.cost.prices.currency;
  const stat = (label: string, value: string, id: string) => `<div class="stat" data-stat="${id}"><div class="v">${esc(value)}</div><div class="l">${esc(label)}</div></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cache and cost report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:780px;color:#111;background:#f8fafc}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
.stats{display:flex;gap:12px;flex-wrap:wrap}.stat{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:10px 14px;min-width:130px}
.stat .v{font-size:20px;font-weight:600}.stat .l{color:#555;font-size:12px}
table{border-collapse:collapse;background:#fff;margin:8px 0}th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left}.n{text-align:right}
svg{background:#fff;border:1px solid #e5e7eb;border-radius:6px;max-width:100%;height:auto}
.note{color:#555;font-size:12px}
</style></head><body>
<h1>Cache and cost report</h1>
<p class="note">${esc(source)} · ${int(d.lines.read)} lines · ${esc(d.span.first)} to ${esc(d.span.last)}</p>
<div class="stats">
${stat('hit ratio', pct(d.totals.hitRatio), 'hit-ratio')}
${stat('requests', int(d.totals.requests), 'requests')}
${stat('renders / minute', d.rendersPerMinute.mean.toFixed(2), 'renders-per-minute')}
${stat('per month (est.)', money(d.cost.monthlyTotal, c), 'monthly-cost')}
</div>
<h2>Hit ratio over time</h2>
<p class="note">One point per ${d.series.bucketMinutes} minute(s); HIT + STALE over image requests with a cache state.</p>
${hitRatioChart(d.series.points)}
${table(
  ['tenant', 'requests', 'hit ratio', 'renders', 'bytes'],
  d.tenants.map((t) => [t.tenant, int(t.requests), pct(t.hitRatio), int(t.renders), bytes(t.bytes)]),
  [false, true, true, true, true],
)}
<h2>Hit-ratio ceiling</h2>
${table(
  ['keyed by', 'distinct', 'ceiling'],
  [
    ['canonical variant', int(d.ceiling.distinctVariants), pct(d.ceiling.withCanonicalKeys)],
    ['raw URL', int(d.ceiling.distinctUrls), pct(d.ceiling.withRawUrls)],
  ],
  [false, true, true],
)}
<p class="note">1 − distinct keys / ${int(d.ceiling.imageRequests)} image requests${d.ceiling.exact ? '' : ' (distinct counts estimated with HyperLogLog, ±1 %)'}.</p>
<h2>Top dropped parameters</h2>
${
  d.droppedParams.length
    ? table(
        ['parameter', 'requests'],
        d.droppedParams.map((p) => [p.name, int(p.requests)]),
        [false, true],
      )
    : '<p>None.</p>'
}
<h2>Latency percentiles</h2>
${latencyChart(d.latency)}
${table(
  ['cache state', 'requests', 'p50', 'p90', 'p99'],
  d.latency.map((l) => [l.state, int(l.count), ms(l.p50), ms(l.p90), ms(l.p99)]),
  [false, true, true, true, true],
)}
<h2>Monthly cost estimate</h2>
${costChart(d.cost.items, c)}
${table(
  ['item', 'in the log', 'unit price', 'per month'],
  d.cost.items.map((i) => [i.item, `${i.quantity.toPrecision(4)} ${i.unit}`, `${i.price} ${c}`, money(i.monthly, c)]),
  [false, true, true, true],
)}
<p class="note">The log's ${d.span.minutes.toFixed(1)} minutes scaled to 30 days (× ${d.cost.monthFactor.toFixed(1)}). Total ${esc(money(d.cost.monthlyTotal, c))} per month.</p>
</body></html>
`;
}
