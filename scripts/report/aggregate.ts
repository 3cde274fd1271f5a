import { createDistinctCounter } from './distinct.js';
import { createLatencyHistogram, type LatencyHistogram } from './latency.js';
import type { Prices } from './prices.js';

/** The fields of an access log line (src/observability/access-log.ts) the report reads. */
interface LogLine {
  time: string;
  url: string;
  route: string;
  status: number;
  tenant: string;
  variant: string;
  cache: string;
  bytes: number | null;
  durationMs: number;
  timings?: Record<string, number>;
  dropped?: string[];
}

const CACHE_STATES = ['HIT', 'STALE', 'MISS', 'COALESCED', 'NONE'] as const;
const MAX_TENANTS = 1000;
const MAX_PARAMS = 10_000;
const OTHER = '(other)';

interface Tally {
  requests: number;
  /** Image requests with a cache state (the denominator of the hit ratio). */
  cacheable: number;
  hits: number;
  stale: number;
  misses: number;
  coalesced: number;
  renders: number;
  bytes: number;
}
const tally = (): Tally => ({ requests: 0, cacheable: 0, hits: 0, stale: 0, misses: 0, coalesced: 0, renders: 0, bytes: 0 });

export interface ReportData {
  lines: { read: number; skipped: number };
  span: { first: string; last: string; minutes: number };
  totals: Tally & { hitRatio: number; offload: number; storeGets: number };
  tenants: { tenant: string; requests: number; hitRatio: number; renders: number; bytes: number }[];
  ceiling: { imageRequests: number; distinctVariants: number; distinctUrls: number; exact: boolean; withCanonicalKeys: number; withRawUrls: number };
  droppedParams: { name: string; requests: number }[];
  rendersPerMinute: { mean: number; peak: number; peakAt: string };
  latency: { state: string; count: number; p50: number; p90: number; p99: number }[];
  /** Time series for the charts: one point per bucket of `bucketMinutes`. */
  series: { bucketMinutes: number; points: { at: string; requests: number; hitRatio: number | null; renders: number }[] };
  cost: {
    prices: Prices;
    monthFactor: number;
    items: { item: string; quantity: number; unit: string; price: number; observed: number; monthly: number }[];
    observedTotal: number;
    monthlyTotal: number;
  };
}

/** Store reads (GET + HEAD) per load, as the Node/Deno loader does them (core/delivery/variant-loader.ts). */
export const STORE_READS = { load: 2, render: 3 } as const;

export interface Aggregator {
  /** One line of the log; false when it is not an access log record (start-up lines, junk). */
  add(line: string): boolean;
  result(prices: Prices, maxPoints?: number): ReportData;
}

export function createAggregator(): Aggregator {
  let read = 0;
  let skipped = 0;
  let first = Infinity;
  let last = -Infinity;
  const totals = tally();
  let storeGets = 0;
  let imageRequests = 0;
  const variants = createDistinctCounter();
  const urls = createDistinctCounter();
  const tenants = new Map<string, Tally>();
  const dropped = new Map<string, number>();
  const latency = new Map<string, LatencyHistogram>([['all', createLatencyHistogram()], ...CACHE_STATES.map((s) => [s, createLatencyHistogram()] as [string, LatencyHistogram])]);
  const minutes = new Map<number, Tally>();

  function count(t: Tally, r: LogLine, render: boolean): void {
    t.requests++;
    t.bytes += r.bytes ?? 0;
    if (render) t.renders++;
    if (r.route !== 'image' || r.cache === 'NONE') return;
    t.cacheable++;
    if (r.cache === 'HIT') t.hits++;
    else if (r.cache === 'STALE') t.stale++;
    else if (r.cache === 'MISS') t.misses++;
    else if (r.cache === 'COALESCED') t.coalesced++;
  }

  return {
    add(line) {
      read++;
      let r: LogLine;
      try {
        if (!line.startsWith('{')) throw new Error('not JSON');
        r = JSON.parse(line) as LogLine;
        if (typeof r.time !== 'string' || typeof r.status !== 'number' || typeof r.route !== 'string') throw new Error('not a record');
      } catch {
        skipped++;
        return false;
      }
      const at = Date.parse(r.time);
      if (!Number.isFinite(at)) {
        skipped++;
        return false;
      }
      first = Math.min(first, at);
      last = Math.max(last, at);
      const render = r.timings?.decode !== undefined;
      count(totals, r, render);
      if (r.cache === 'MISS' && r.timings?.origin !== undefined) storeGets += STORE_READS.load + (render ? STORE_READS.render : 0);

      const minute = Math.floor(at / 60_000);
      let m = minutes.get(minute);
      if (!m) minutes.set(minute, (m = tally()));
      count(m, r, render);

      if (r.route === 'image') {
        const name = r.tenant || '(none)';
        let t = tenants.get(name) ?? tenants.get(OTHER);
        if (!t) {
          const key = tenants.size < MAX_TENANTS ? name : OTHER;
          tenants.set(key, (t = tally()));
        }
        count(t, r, render);
        if (r.variant) {
          imageRequests++;
          variants.add(r.variant);
          urls.add(r.url);
        }
        for (const p of r.dropped ?? []) {
          const key = dropped.has(p) || dropped.size < MAX_PARAMS ? p : OTHER;
          dropped.set(key, (dropped.get(key) ?? 0) + 1);
        }
      }
      if (typeof r.durationMs === 'number') {
        latency.get('all')!.add(r.durationMs);
        latency.get(CACHE_STATES.includes(r.cache as never) ? r.cache : 'NONE')!.add(r.durationMs);
      }
      return true;
    },

    result(prices, maxPoints = 120) {
      const ratio = (t: Tally) => (t.cacheable ? (t.hits + t.stale) / t.cacheable : 0);
      const spanMinutes = Number.isFinite(first) ? Math.max(1, (last - first) / 60_000) : 0;
      const month = 30 * 24 * 60;
      const monthFactor = spanMinutes ? month / spanMinutes : 0;

      let peak = 0;
      let peakAt = '';
      for (const [minute, m] of minutes) if (m.renders > peak) [peak, peakAt] = [m.renders, new Date(minute * 60_000).toISOString()];

      // Chart points: minutes grouped into at most maxPoints buckets.
      const firstMinute = Number.isFinite(first) ? Math.floor(first / 60_000) : 0;
      const lastMinute = Number.isFinite(last) ? Math.floor(last / 60_000) : 0;
      const bucketMinutes = Math.max(1, Math.ceil((lastMinute - firstMinute + 1) / maxPoints));
      const buckets = new Map<number, Tally>();
      for (const [minute, m] of minutes) {
        const b = firstMinute + Math.floor((minute - firstMinute) / bucketMinutes) * bucketMinutes;
        const t = buckets.get(b) ?? tally();
        for (const k of Object.keys(t) as (keyof Tally)[]) t[k] += m[k];
        buckets.set(b, t);
      }
      const points = [...buckets.entries()]
        .sort(([a], [b]) => a - b)
        .map(([b, t]) => ({ at: new Date(b * 60_000).toISOString(), requests: t.requests, hitRatio: t.cacheable ? ratio(t) : null, renders: t.renders }));

      const gb = totals.bytes / 1e9;
      const items = [
        { item: 'egress', quantity: gb, unit: 'GB', price: prices.egressPerGB },
        { item: 'requests', quantity: totals.requests / 1e6, unit: 'million requests', price: prices.requestsPerMillion },
        { item: 'renders', quantity: totals.renders / 1e6, unit: 'million renders', price: prices.rendersPerMillion },
        { item: 'store GETs', quantity: storeGets / 1e6, unit: 'million store reads', price: prices.storeGetsPerMillion },
      ].map(({ item, quantity, unit, price }) => ({ item, quantity, unit, price, observed: quantity * price, monthly: quantity * price * monthFactor }));

      return {
        lines: { read, skipped },
        span: { first: Number.isFinite(first) ? new Date(first).toISOString() : '', last: Number.isFinite(last) ? new Date(last).toISOString() : '', minutes: spanMinutes },
        totals: { ...totals, hitRatio: ratio(totals), offload: totals.cacheable ? 1 - totals.misses / totals.cacheable : 0, storeGets },
        tenants: [...tenants.entries()]
          .map(([tenant, t]) => ({ tenant, requests: t.requests, hitRatio: ratio(t), renders: t.renders, bytes: t.bytes }))
          .sort((a, b) => b.requests - a.requests || a.tenant.localeCompare(b.tenant)),
        ceiling: {
          imageRequests,
          distinctVariants: variants.count(),
          distinctUrls: urls.count(),
          exact: variants.exact() && urls.exact(),
          withCanonicalKeys: imageRequests ? Math.max(0, 1 - variants.count() / imageRequests) : 0,
          withRawUrls: imageRequests ? Math.max(0, 1 - urls.count() / imageRequests) : 0,
        },
        droppedParams: [...dropped.entries()]
          .map(([name, requests]) => ({ name, requests }))
          .sort((a, b) => b.requests - a.requests || a.name.localeCompare(b.name))
          .slice(0, 20),
        rendersPerMinute: { mean: minutes.size ? totals.renders / (lastMinute - firstMinute + 1) : 0, peak, peakAt },
        latency: [...latency.entries()].filter(([, h]) => h.count() > 0).map(([state, h]) => ({ state, count: h.count(), p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99) })),
        series: { bucketMinutes, points },
        cost: {
          prices,
          monthFactor,
          items,
          observedTotal: items.reduce((s, i) => s + i.observed, 0),
          monthlyTotal: items.reduce((s, i) => s + i.monthly, 0),
        },
      };
    },
  };
}
