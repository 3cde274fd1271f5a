/**
 * Metrics as ports: the core names what it counts, the host supplies how (prom-client on
 * Node, a small exposition writer on Deno, whose esbuild bundle cannot take prom-client).
 * Nothing here imports a metrics library.
 */
export type Labels = Readonly<Record<string, string>>;

export interface MetricDef {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export interface HistogramDef extends MetricDef {
  /** Upper bounds, ascending, in the metric's unit (seconds). */
  buckets: readonly number[];
}

export interface CounterPort {
  inc(labels?: Labels, value?: number): void;
}

export interface GaugePort {
  set(labels: Labels, value: number): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
}

export interface HistogramPort {
  observe(labels: Labels, value: number): void;
}

/** The content type of the Prometheus text exposition (format 0.0.4). */
export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What a host fills: makes instruments and writes them in the Prometheus text format. */
export interface MetricsRegistry {
  counter(def: MetricDef): CounterPort;
  gauge(def: MetricDef): GaugePort;
  histogram(def: HistogramDef): HistogramPort;
  /** The Prometheus text exposition (format 0.0.4). */
  exposition(): Promise<string>;
  readonly contentType: string;
}

/**
 * What the render scheduler reports (src/render/scheduler). Call sites: `queueDepth` whenever a
 * job is queued or taken off the queue, `rejected` when a job is refused (queue full, over the
 * memory budget, deadline passed), `memoryInUse` when budget is reserved or released,
 * `masterKept`/`masterReused` when a decoded master is kept for later renders or one is reused.
 */
export interface RenderMetrics {
  queueDepth(depth: number): void;
  rejected(reason: string): void;
  memoryInUse(bytes: number): void;
  memoryBudget(bytes: number): void;
  masterKept(): void;
  masterReused(): void;
}

export const NO_RENDER_METRICS: RenderMetrics = {
  queueDepth() {},
  rejected() {},
  memoryInUse() {},
  memoryBudget() {},
  masterKept() {},
  masterReused() {},
};

const NO_PORT = { inc() {}, set() {}, dec() {}, observe() {} };

/**
 * A registry that records nothing, for a host whose /metrics nobody can read (neither
 * METRICS_TOKEN nor METRICS_ADDR set): prom-client's label hashing and bucket search would
 * otherwise run on every request for nothing.
 */
export const NO_METRICS_REGISTRY: MetricsRegistry = {
  counter: () => NO_PORT,
  gauge: () => NO_PORT,
  histogram: () => NO_PORT,
  exposition: async () => '',
  contentType: PROMETHEUS_TEXT_CONTENT_TYPE,
};
