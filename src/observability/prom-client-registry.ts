import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsRegistry } from '../core/metrics/ports.js';

/**
 * The Node host's metrics: prom-client, with its default process metrics (CPU, memory, event
 * loop lag, GC) next to the service's own. Node only: see text-registry.ts for Deno.
 */
export function createPromClientRegistry(opts: { processMetrics?: boolean } = {}): MetricsRegistry {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    contentType: registry.contentType,
    counter(def) {
      const c = new Counter({ name: def.name, help: def.help, labelNames: [...(def.labelNames ?? [])], registers });
      return { inc: (labels = {}, value = 1) => c.inc(labels, value) };
    },
    gauge(def) {
      const g = new Gauge({ name: def.name, help: def.help, labelNames: [...(def.labelNames ?? [])], registers });
      return { set: (labels, v) => g.set(labels, v), inc: (labels = {}, v = 1) => g.inc(labels, v), dec: (labels = {}, v = 1) => g.dec(labels, v) };
    },
    histogram(def) {
      const h = new Histogram({ name: def.name, help: def.help, labelNames: [...(def.labelNames ?? [])], buckets: [...def.buckets], registers });
      return { observe: (labels, v) => h.observe(labels, v) };
    },
    exposition: () => registry.metrics(),
  };
}
