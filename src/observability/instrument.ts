import type { ServiceMetrics, StoreName, StoreOp } from '../core/metrics/service-metrics.js';
import type { ObjectStore, Renderer } from '../core/ports.js';

/** Counts every render and its stage timings (decode, resize, encode), whoever asked for it. */
export function instrumentRenderer(renderer: Renderer, metrics: ServiceMetrics): Renderer {
  return {
    ...renderer,
    async render(source, variant, opts) {
      try {
        const result = await renderer.render(source, variant, opts);
        metrics.render(result.timings);
        return result;
      } catch (err) {
        metrics.renderFailed();
        throw err;
      }
    },
  };
}

const OPS: readonly StoreOp[] = ['get', 'head', 'put', 'delete', 'list'];

/**
 * Times each operation of one store (primary or secondary). A Proxy, not a copy: a store's
 * other capabilities (conditional gets, `replicas()`) pass through untouched.
 */
export function instrumentStore<S extends ObjectStore>(store: S, name: StoreName, metrics: ServiceMetrics): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || !(OPS as readonly (string | symbol)[]).includes(prop)) return value;
      const op = prop as StoreOp;
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          metrics.store(name, op, (performance.now() - t0) / 1000, true);
          return result;
        } catch (err) {
          metrics.store(name, op, (performance.now() - t0) / 1000, false);
          throw err;
        }
      };
    },
  });
}
