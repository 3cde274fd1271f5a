import { type CounterPort, type GaugePort, type HistogramDef, type HistogramPort, type Labels, type MetricDef, type MetricsRegistry, PROMETHEUS_TEXT_CONTENT_TYPE } from '../core/metrics/ports.js';

/**
 * The Prometheus text format (0.0.4) without a library, for the Deno host: prom-client is
 * CommonJS that requires Node built-ins by bare name ('util', 'v8', 'cluster'), which the Deno
 * bundle (esbuild, platform neutral) can neither resolve nor load at run time. Writes what
 * prom-client writes for the same calls (test/observability/registry-contract.test.ts).
 * Label sets are bounded by the callers (routes, status codes, configured tenants).
 */
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const num = (v: number) => (Number.isNaN(v) ? 'Nan' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : `${v}`);

interface Series<T> {
  labels: Labels;
  value: T;
}

abstract class Metric<T> {
  readonly series = new Map<string, Series<T>>();
  readonly labelNames: readonly string[];
  constructor(
    readonly def: MetricDef,
    readonly type: string,
  ) {
    if (!NAME.test(def.name)) throw new Error(`invalid metric name '${def.name}'`);
    this.labelNames = def.labelNames ?? [];
    for (const l of this.labelNames) if (!LABEL.test(l) || l === 'le') throw new Error(`invalid label name '${l}'`);
  }
  protected entry(labels: Labels, init: () => T): Series<T> {
    for (const k of Object.keys(labels)) if (!this.labelNames.includes(k)) throw new Error(`label '${k}' is not declared on ${this.def.name}`);
    const key = this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, value: init() }));
    return s;
  }
  protected head(): string {
    return `# HELP ${this.def.name} ${escapeHelp(this.def.help)}\n# TYPE ${this.def.name} ${this.type}\n`;
  }
  abstract write(): string;
}

/** `{a="x",b="y"}` in the order the labels were given, as prom-client writes them. */
function labelText(labels: Labels, first?: [string, string]): string {
  const parts = first ? [`${first[0]}="${escapeValue(first[1])}"`] : [];
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}="${escapeValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Scalar extends Metric<number> {
  add(labels: Labels = {}, value = 1): void {
    this.entry(labels, () => 0).value += value;
  }
  set(labels: Labels, value: number): void {
    this.entry(labels, () => 0).value = value;
  }
  write(): string {
    let out = this.head();
    // An unlabelled metric is always shown (0 before its first change), as prom-client does.
    if (this.labelNames.length === 0 && this.series.size === 0) return `${out}${this.def.name} 0\n`;
    for (const s of this.series.values()) out += `${this.def.name}${labelText(s.labels)} ${num(s.value)}\n`;
    return out;
  }
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

class Histogram extends Metric<HistogramValue> {
  constructor(
    def: HistogramDef,
    readonly buckets: readonly number[],
  ) {
    super(def, 'histogram');
  }
  observe(labels: Labels, value: number): void {
    const s = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).value;
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  write(): string {
    let out = this.head();
    const n = this.def.name;
    for (const { labels, value } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += value.counts[i]!;
        out += `${n}_bucket${labelText(labels, ['le', num(b)])} ${cumulative}\n`;
      });
      out += `${n}_bucket${labelText(labels, ['le', '+Inf'])} ${value.count}\n`;
      out += `${n}_sum${labelText(labels)} ${num(value.sum)}\n${n}_count${labelText(labels)} ${value.count}\n`;
    }
    return out;
  }
}

export function createTextRegistry(): MetricsRegistry {
  const metrics: { def: MetricDef; write(): string }[] = [];
  const add = <M extends { def: MetricDef; write(): string }>(m: M): M => {
    if (metrics.some((x) => x.def.name === m.def.name)) throw new Error(`metric '${m.def.name}' is registered twice`);
    metrics.push(m);
    return m;
  };
  return {
    contentType: PROMETHEUS_TEXT_CONTENT_TYPE,
    counter(def): CounterPort {
      const m = add(new Scalar(def, 'counter'));
      return {
        inc: (labels, value = 1) => {
          if (value < 0) throw new Error(`counter ${def.name} cannot go down`);
          m.add(labels, value);
        },
      };
    },
    gauge(def): GaugePort {
      const m = add(new Scalar(def, 'gauge'));
      return { set: (labels, v) => m.set(labels, v), inc: (labels, v = 1) => m.add(labels, v), dec: (labels, v = 1) => m.add(labels, -v) };
    },
    histogram(def): HistogramPort {
      const m = add(new Histogram(def, [...def.buckets]));
      return { observe: (labels, v) => m.observe(labels, v) };
    },
    exposition: async () => `${metrics.map((m) => m.write()).join('\n')}`,
  };
}
