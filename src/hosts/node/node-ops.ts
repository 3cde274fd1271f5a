import type { ServiceConfig } from '../../core/config/service-config.js';
import { createServiceMetrics, type ServiceMetrics } from '../../core/metrics/service-metrics.js';
import type { ObjectStore, Renderer } from '../../core/ports.js';
import { instrumentRenderer, instrumentStore } from '../../observability/instrument.js';
import { createOps, metricsListenerHandler, type Ops } from '../../observability/ops-handler.js';
import { type OpsSettings, loadOpsSettings } from '../../observability/ops-settings.js';
import { createPromClientRegistry } from '../../observability/prom-client-registry.js';
import { createReadiness, type Readiness } from '../../observability/readiness.js';
import type { EnvRecord } from '../../storage/config.js';
import { type FetchHandler, serve } from './http-adapter.js';

export interface NodeOps {
  settings: OpsSettings;
  metrics: ServiceMetrics;
  wrapRenderer: (r: Renderer) => Renderer;
  wrapStore: (name: 'primary' | 'secondary', store: ObjectStore) => ObjectStore;
  /** For startNodeApp's wrapFetch: /readyz, /metrics, request metrics and the access log. */
  wrapFetch: (fetch: FetchHandler) => FetchHandler;
  readiness: Readiness;
  inFlight(): number;
  /** The METRICS_ADDR listener, when configured. */
  startMetricsListener(): Promise<{ url: string; close(): Promise<void> } | undefined>;
}

/** The Node host's operations wiring (docs/operations.md): prom-client metrics, access log, readiness. */
export function createNodeOps(opts: {
  env: EnvRecord;
  config: ServiceConfig;
  /** The store /readyz probes (the one the app uses). */
  store: () => ObjectStore;
  log: (msg: string, err?: unknown) => void;
  settings?: OpsSettings;
  metrics?: ServiceMetrics;
  writeLine?: (line: string) => void;
}): NodeOps {
  const settings = opts.settings ?? loadOpsSettings(opts.env);
  const metrics = opts.metrics ?? createServiceMetrics(createPromClientRegistry());
  const readiness = createReadiness({
    // startNodeApp warms every codec (and render thread) before it listens.
    codecsReady: () => true,
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
      ops = createOps({
        app: fetch,
        metrics,
        readiness,
        settings,
        tenants: opts.config.tenants.keys(),
        writeLine: opts.writeLine ?? ((line) => void process.stdout.write(`${line}\n`)),
        log: opts.log,
      });
      return ops.fetch;
    },
    inFlight: () => ops?.inFlight() ?? 0,
    async startMetricsListener() {
      if (!settings.metricsAddr) return undefined;
      const server = await serve(metricsListenerHandler(metrics, settings.metricsToken), settings.metricsAddr);
      return { url: server.url, close: server.close };
    },
  };
}
