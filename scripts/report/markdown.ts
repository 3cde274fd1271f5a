import { type ReportData, STORE_READS } from './aggregate.js';
import { bytes, int, money, ms, pct } from './format.js';

/** Table cells from log values: no pipes or newlines that would break the table. */
const cell = (s: string) => s.replace(/[|\r\n`]/g, ' ');

export function renderMarkdown(d: ReportData, source: string): string {
  const c = d.cost.prices.currency;
  const approx = d.ceiling.exact ? '' : ' (estimated: HyperLogLog, ±1 %)';
  const out = [
    `# Cache and cost report`,
    '',
    `Log: \`${cell(source)}\`, ${int(d.lines.read)} lines (${int(d.lines.skipped)} not access log records), ${d.span.first} to ${d.span.last} (${d.span.minutes.toFixed(1)} minutes).`,
    '',
    '## Hit ratio',
    '',
    `- Requests: ${int(d.totals.requests)}; image requests with a cache state: ${int(d.totals.cacheable)}`,
    `- Hit ratio (HIT + STALE): **${pct(d.totals.hitRatio)}** — HIT ${int(d.totals.hits)}, STALE ${int(d.totals.stale)}, MISS ${int(d.totals.misses)}, COALESCED ${int(d.totals.coalesced)}`,
    `- Origin offload (everything but MISS): ${pct(d.totals.offload)}`,
    '',
    '| tenant | requests | hit ratio | renders | bytes |',
    '|---|---:|---:|---:|---:|',
    ...d.tenants.map((t) => `| ${cell(t.tenant)} | ${int(t.requests)} | ${pct(t.hitRatio)} | ${int(t.renders)} | ${bytes(t.bytes)} |`),
    '',
    '## Hit-ratio ceiling',
    '',
    `Each distinct cache key misses at least once, so the best possible hit ratio is 1 − distinct keys / requests${approx}.`,
    '',
    '| keyed by | distinct | ceiling |',
    '|---|---:|---:|',
    `| canonical variant | ${int(d.ceiling.distinctVariants)} | ${pct(d.ceiling.withCanonicalKeys)} |`,
    `| raw URL | ${int(d.ceiling.distinctUrls)} | ${pct(d.ceiling.withRawUrls)} |`,
    '',
    `Over ${int(d.ceiling.imageRequests)} image requests that resolved to a variant.`,
    '',
    '## Top dropped parameters',
    '',
    d.droppedParams.length ? '| parameter | requests |\n|---|---:|\n' + d.droppedParams.map((p) => `| ${cell(p.name)} | ${int(p.requests)} |`).join('\n') : 'None.',
    '',
    '## Renders',
    '',
    `- ${int(d.totals.renders)} renders; ${d.rendersPerMinute.mean.toFixed(2)} per minute on average, peak ${int(d.rendersPerMinute.peak)}${d.rendersPerMinute.peakAt ? ` at ${d.rendersPerMinute.peakAt}` : ''}`,
    '',
    '## Latency',
    '',
    'Time to the response headers; percentiles within 10 % (log-spaced buckets).',
    '',
    '| cache state | requests | p50 | p90 | p99 |',
    '|---|---:|---:|---:|---:|',
    ...d.latency.map((l) => `| ${l.state} | ${int(l.count)} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} |`),
    '',
    '## Monthly cost estimate',
    '',
    `The log's ${d.span.minutes.toFixed(1)} minutes scaled to 30 days (× ${d.cost.monthFactor.toFixed(1)}). Store reads are estimated from the loads: ${STORE_READS.load} per load from the store, ${STORE_READS.render} more per render (tombstone and takedown checks, the original).`,
    '',
    '| item | in the log | unit price | observed | per month |',
    '|---|---:|---:|---:|---:|',
    ...d.cost.items.map((i) => `| ${i.item} | ${i.quantity.toPrecision(4)} ${i.unit} | ${i.price} ${c} | ${money(i.observed, c)} | ${money(i.monthly, c)} |`),
    `| **total** | | | ${money(d.cost.observedTotal, c)} | **${money(d.cost.monthlyTotal, c)}** |`,
    '',
  ];
  return out.join('\n');
}
