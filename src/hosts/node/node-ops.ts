import type { ServiceConfig } from '../../core/config/service-config.js';
import type { ObjectStore } from '../../core/ports.js';
import { createHostOps, type HostOps } from '../../observability/host-ops.js';
import type { OpsSettings } from '../../observability/ops-settings.js';
import { createPromClientRegistry } from '../../observability/prom-client-registry.js';
import type { EnvRecord } from '../../storage/config.js';
import { serve } from './http-adapter.js';

export interface NodeOps extends HostOps {
  /** The METRICS_ADDR listener, when configured. */
  startMetricsListener(): Promise<{ url: string; close(): Promise<void> } | undefined>;
}

/** The Node host's operations wiring (docs/operations.md): prom-client metrics, access log, readiness. */
export function createNodeOps(opts: {
  env: EnvRecord;
  config: ServiceConfig;
  store: () => ObjectStore;
  log: (msg: string, err?: unknown) => void;
  settings?: OpsSettings;
  writeLine?: (line: string) => void;
}): NodeOps {
  const ops = createHostOps({
    ...opts,
    registry: () => createPromClientRegistry(),
    // startNodeApp warms every codec (and render thread) before it listens.
    codecsReady: () => true,
    writeLine: opts.writeLine ?? ((line) => void process.stdout.write(`${line}\n`)),
  });
  return {
    ...ops,
    async startMetricsListener() {
      if (!ops.settings.metricsAddr) return undefined;
      const server = await serve(ops.metricsFetch, ops.settings.metricsAddr);
      return { url: server.url, close: server.close };
    },
  };
}
