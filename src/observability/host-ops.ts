import type { ServiceConfig } from '../core/config/service-config.js';
import { type MetricsRegistry, NO_METRICS_REGISTRY } from '../core/metrics/ports.js';
import { createServiceMetrics, type ServiceMetrics } from '../core/metrics/service-metrics.js';
import type { ObjectStore, Renderer } from '../core/ports.js';
import type { EnvRecord } from '../storage/config.js';
import { instrumentRenderer, instrumentStore } from './instrument.js';
import { type ConnInfo, createOps, metricsListenerHandler, type Ops } from './ops-handler.js';
import { loadOpsSettings, metricsServed, type OpsSettings } from './ops-settings.js';
import { createReadiness, type Readiness } from './readiness.js';

export type HostFetch = (request: Request, conn?: ConnInfo) => Promise<Response>;

export interface HostOps {
  settings: OpsSettings;
  metrics: ServiceMetrics;
  readiness: Readiness;
  wrapRenderer: (r: Renderer) => Renderer;
  wrapStore: (name: 'primary' | 'secondary', store: ObjectStore) => ObjectStore;
  /** Wraps the app's handler: /readyz, /metrics, request metrics and the access log. */
  wrapFetch: (fetch: HostFetch) => HostFetch;
  /** The METRICS_ADDR listener's handler (/metrics only). */
  metricsFetch: (request: Request) => Promise<Response>;
  inFlight(): number;
}

export interface HostOpsOptions {
  env: EnvRecord;
  config: ServiceConfig;
  /**
   * Prometheus registry the host can run: prom-client on Node, text-registry.ts on Deno. Made
   * only when /metrics is served (METRICS_TOKEN or METRICS_ADDR); otherwise nothing is recorded.
   */
  registry: () => MetricsRegistry;
  /** The store /readyz probes (the one the app uses), asked for at each probe. */
  store: () => ObjectStore;
  codecsReady: () => boolean;
  log: (msg: string, err?: unknown) => void;
  writeLine: (line: string) => void;
  settings?: OpsSettings;
}

/** The operations wiring both renderer hosts share (docs/operations.md). */
export function createHostOps(opts: HostOpsOptions): HostOps {
  const settings = opts.settings ?? loadOpsSettings(opts.env);
  const metrics = createServiceMetrics(metricsServed(settings) ? opts.registry() : NO_METRICS_REGISTRY);
  const readiness = createReadiness({
    codecsReady: opts.codecsReady,
    get store() {
      return opts.store();
    },
    timeoutMs: settings.readyStoreTimeoutMs,
    log: opts.log,
  });
  let ops: Ops | undefined;
  return {
    settings,
    metrics,
    readiness,
    wrapRenderer: (r) => instrumentRenderer(r, metrics),
    wrapStore: (name, store) => instrumentStore(store, name, metrics),
    wrapFetch(fetch) {
      ops = createOps({ app: fetch, metrics, readiness, settings, tenants: opts.config.tenants.keys(), writeLine: opts.writeLine, log: opts.log });
      return ops.fetch;
    },
    metricsFetch: metricsListenerHandler(metrics, settings.metricsToken),
    inFlight: () => ops?.inFlight() ?? 0,
  };
}
