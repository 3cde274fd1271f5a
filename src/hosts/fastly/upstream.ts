import type { Backend } from 'fastly:backend';
import { CacheOverride } from 'fastly:cache-override';
import { Shield } from 'fastly:shielding';
import type { RenderSend } from '../../core/delivery/remote-variant-loader.js';
import type { Variant } from '../../core/variant.js';
import { RENDER_BUDGET_HEADER } from './edge-limits.js';

export type FetchWithBackend = (input: Request, init: RequestInit) => Promise<Response>;

/** Where this POP sends a miss, and why (logged). */
export interface Upstream {
  send: RenderSend;
  /** `renderer`: this POP calls the renderer; `shield`: another POP's copy of this service does. */
  via: 'renderer' | 'shield' | 'renderer (shield fallback)';
  backend: string;
}

/** A render of a large original takes seconds; the shield POP waits for the renderer on our behalf. */
export const SHIELD_FIRST_BYTE_TIMEOUT_MS = 20_000;

export interface UpstreamOptions {
  rendererBackend: string;
  shieldPop?: string;
  /** true for /_render/* requests (we are the shield): never shield again, or requests would loop. */
  asShield: boolean;
  /**
   * This service's own origin (the incoming request's, e.g. https://img.example.com). The
   * shield POP picks the service by Host like any Fastly POP, so requests to it carry ours;
   * the renderer backend gets its Host from the backend's override host instead.
   */
  serviceOrigin: string;
  fetch: FetchWithBackend;
  log?: (msg: string, err?: unknown) => void;
  /** Called before a shield fallback calls the renderer; throws to refuse (the render budget). */
  beforeDirect?: (variant: Variant) => void;
}

/**
 * Shielding: every edge POP sends its misses to one shield POP (the one nearest the renderer),
 * which runs this same service, answers /_render/* from its own cache, and only then calls the
 * renderer. So a variant is rendered once per shield, not once per POP. On the shield POP
 * itself (runningOn) and on /_render/* requests the renderer is called directly.
 *
 * Shielding only exists on Fastly's network. Viceroy knows shield POPs only when fastly.toml
 * lists them under [local_server.shielding_sites]; an unknown POP makes `new Shield()` throw,
 * and then this POP calls the renderer itself, which is always correct, only less collapsed.
 */
export function chooseUpstream(opts: UpstreamOptions): Upstream {
  const direct = (via: Upstream['via']): Upstream => ({ send: sendTo(opts.rendererBackend, opts.fetch), via, backend: opts.rendererBackend });
  if (!opts.shieldPop || opts.asShield) return direct('renderer');
  let shield: Shield;
  try {
    shield = new Shield(opts.shieldPop);
  } catch (err) {
    opts.log?.(`shield POP '${opts.shieldPop}' is unknown here (local run?): calling the renderer directly`, err);
    return direct('renderer (shield fallback)');
  }
  if (shield.runningOn()) return direct('renderer');
  let backend: Backend;
  try {
    backend = shieldBackend(opts.shieldPop, shield);
  } catch (err) {
    opts.log?.(`shield POP '${opts.shieldPop}' has no backend here: calling the renderer directly`, err);
    return direct('renderer (shield fallback)');
  }
  return { send: withShieldFallback(sendTo(backend, opts.fetch, opts.serviceOrigin), direct('renderer').send, opts), via: 'shield', backend: backend.name };
}

/**
 * The backend to a shield POP, made once per sandbox: it is a dynamic backend that lives as
 * long as the sandbox, and asking for it again in a later request of a reused sandbox
 * (sandbox-reuse.ts) fails (Viceroy 0.22: "backend_for_shield: Generic error"). Bounded: one
 * entry per SHIELD_POP value seen, normally one.
 */
const shieldBackends = new Map<string, Backend>();
const MAX_SHIELD_BACKENDS = 8;

function shieldBackend(pop: string, shield: Shield): Backend {
  let backend = shieldBackends.get(pop);
  if (!backend) {
    backend = shield.encryptedBackend({ firstByteTimeout: SHIELD_FIRST_BYTE_TIMEOUT_MS });
    if (shieldBackends.size >= MAX_SHIELD_BACKENDS) shieldBackends.clear();
    shieldBackends.set(pop, backend);
  }
  return backend;
}

/**
 * The shield POP is one more thing that can fail: when it cannot be reached, times out (its
 * first-byte timeout) or answers 5xx, this POP calls the renderer itself, once, and logs it.
 * Both requests go through the same fetch, so both count against the execution's backend
 * budget. A 4xx from the shield (404, 410) is an answer and is passed on as it is.
 */
function withShieldFallback(viaShield: RenderSend, direct: RenderSend, opts: UpstreamOptions): RenderSend {
  return async (request, variant) => {
    // The request is sent twice at most: keep a pristine copy for the second attempt.
    const spare = request.clone();
    let why: string;
    try {
      const res = await viaShield(request, variant);
      // The shield's own render budget refusing is an answer: calling the renderer from here would go around it.
      if (res.status < 500 || res.headers.has(RENDER_BUDGET_HEADER)) return res;
      why = `answered ${res.status}`;
      await res.body?.cancel();
    } catch (err) {
      why = `failed: ${(err as Error)?.message ?? err}`;
    }
    opts.log?.(`shield POP '${opts.shieldPop}' ${why}: calling the renderer directly (shield fallback)`);
    opts.beforeDirect?.(variant);
    return direct(spare, variant);
  };
}

function sendTo(backend: string | Backend, fetchFn: FetchWithBackend, origin?: string): RenderSend {
  return (request) => {
    const u = new URL(request.url);
    const out = origin ? new Request(origin + u.pathname + u.search, { headers: request.headers }) : request;
    // 'pass': the answer is stored in Core Cache by the caller; the readthrough cache must not keep a second copy.
    return fetchFn(out, { backend, cacheOverride: new CacheOverride('pass') } as RequestInit);
  };
}
