import type { ObjectStore } from '../core/ports.js';

export interface ReadinessDeps {
  /** Whether the codecs are compiled and warmed (a host that warms before listening says true). */
  codecsReady: () => boolean;
  store: ObjectStore;
  timeoutMs: number;
  log?: (msg: string, err?: unknown) => void;
  /** A check's answer is reused this long, so frequent probes cost the store one HEAD a second at most. */
  cacheMs?: number;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { codecs: 'ok' | 'warming'; store: 'ok' | 'unreachable' | 'timeout'; shutdown: 'no' | 'draining' };
}

/** A key no writer uses: a HEAD of it answers "missing" from a reachable store. */
export const READINESS_PROBE_KEY = '_ops/readiness-probe';

export interface Readiness {
  check(): Promise<ReadinessReport>;
  /** Once set (SIGTERM), /readyz answers 503 so load balancers stop sending new requests. */
  setDraining(): void;
}

export function createReadiness(deps: ReadinessDeps): Readiness {
  const cacheMs = deps.cacheMs ?? 1000;
  let draining = false;
  let last: { at: number; result: Promise<ReadinessReport['checks']['store']> } | undefined;

  function storeCheck(): Promise<ReadinessReport['checks']['store']> {
    const now = Date.now();
    if (last && now - last.at < cacheMs) return last.result;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deps.timeoutMs)));
    const probe = deps.store.head(READINESS_PROBE_KEY).then(
      () => 'ok' as const,
      (err) => (deps.log?.('readiness: store unreachable', err), 'unreachable' as const),
    );
    const result = Promise.race([probe, timeout]).finally(() => clearTimeout(timer));
    last = { at: now, result };
    return result;
  }

  return {
    setDraining: () => void (draining = true),
    async check() {
      const codecs = deps.codecsReady() ? 'ok' : 'warming';
      const store = await storeCheck();
      const shutdown = draining ? 'draining' : 'no';
      return { ready: codecs === 'ok' && store === 'ok' && !draining, checks: { codecs, store, shutdown } };
    },
  };
}
