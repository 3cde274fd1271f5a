/**
 * Build-time warm-up, run by main.ts's top level while js-compute's build (Wizer) initialises
 * the module: whatever it leaves behind is in the snapshot every sandbox starts from. A sandbox
 * answers a bounded number of requests (sandbox-reuse.ts) and then a fresh one starts from the
 * snapshot again, so any one-off work the hot path does on first use would otherwise be paid
 * by the first request of every sandbox:
 *
 *   - SpiderMonkey compiles a function to bytecode on its first call. Running the hot path
 *     here compiles it into the snapshot: settings validation, URL parsing and
 *     canonicalization, the signature check, the response headers and the request log line.
 *   - The first crypto.subtle HMAC sign of an instance costs 4–7 ms of vCPU under Viceroy,
 *     later ones well under 1 ms. One sign here (signUrl below) moves that first-use cost into
 *     the snapshot, and signed requests stop paying it.
 *
 * It feeds the pure functions a request runs with made-up settings and URLs and drops the
 * results: no store, backend, cache, logger or randomness (none of those exist at build time,
 * nor do Request and Response; performance.now() and vCpuTime() abort the build). The
 * placeholder secrets below are public and belong to made-up tenants: a deployed service
 * reads its tenants and keys from its own stores. A failure is printed by the build and
 * changes nothing but speed.
 */
import { signUrl } from '../../core/auth/sign-url.js';
import { createAuthorizer } from '../../core/auth/create-authorizer.js';
import { createImageHandler } from '../../core/delivery/image-handler.js';
import { createResolveMemo } from '../../core/request/resolve-memo.js';
import type { VariantBody } from '../../core/ports.js';
import { lineFor } from './request-log.js';
import { rememberedHmac } from './remembered-hmac.js';
import { loadEdgeSettings, type SettingsSource } from './settings.js';
import { hostLog } from '../../observability/host-log.js';

const PLACEHOLDER_KEY = 'snapshot-warmup-placeholder-key-0000';
const CONFIG: Record<string, string> = {
  AVATAR_CONFIG_JSON: JSON.stringify({
    tenants: {
      warm: { fallback: 'generated' },
      'warm-signed': { requireSignature: true, allowedReferers: ['example.com', '*.example.com'], allowEmptyReferer: true, ttlClass: 'short' },
    },
  }),
  RENDERER_BACKEND: 'renderer',
  RATE_LIMITS_JSON: JSON.stringify({ clientRps: 100, tenants: { warm: { rendersPerMinute: 60 } } }),
};
const SECRETS: Record<string, string> = {
  RENDER_SECRET: 'snapshot-warmup-placeholder-render-secret',
  TENANT_KEYS_JSON: JSON.stringify({ 'warm-signed': { k1: PLACEHOLDER_KEY } }),
};

const source: SettingsSource = {
  config: (name) => CONFIG[name],
  secret: async (name) => SECRETS[name],
};

/** The parts of a Request the pipeline reads (Request itself exists only while handling one). */
function requestLike(url: string, headers: Record<string, string>): Request {
  // An X-Request-Id of its own: the log line would otherwise draw a random one at build time.
  return { url, method: 'GET', headers: new Headers({ 'x-request-id': 'snapshot-warmup', ...headers }) } as unknown as Request;
}

const cachedBody: VariantBody = {
  status: 200,
  body: new Uint8Array(16),
  contentType: 'image/webp',
  etag: '"warm"',
  surrogateKeys: ['warm', 'warm/id'],
  source: 'variant-store',
  timings: {},
};

/** Runs the hot path on made-up input; resolves when done (a failure goes to `log`, never thrown). */
export async function warmUpSnapshot(log: (msg: string) => void = hostLog): Promise<void> {
  try {
    const settings = await loadEdgeSettings(source);
    const tenant = settings.config.tenants.get('warm-signed')!;
    const signed = await signUrl({ tenant, id: 'id', params: { w: 64, h: 64, fmt: 'webp' }, kid: 'k1', base: 'https://warm.invalid' });
    let timings: Record<string, number> = {};
    let headers: Record<string, string> = {};
    const handler = createImageHandler({
      config: settings.config,
      cache: { getOrLoad: async () => ({ value: cachedBody, state: 'HIT' }), purge: async () => ({ purged: 0 }) },
      loader: { load: async () => cachedBody, facts: async () => ({ alpha: false, animated: false }) },
      authorize: createAuthorizer({ hmac: rememberedHmac() }),
      memo: createResolveMemo(),
      onAnswer: (t, h) => {
        timings = t;
        headers = h;
      },
    });
    const requests = [
      requestLike('https://warm.invalid/warm/id?w=64&h=64', { accept: 'image/avif,image/webp,*/*' }),
      requestLike('https://warm.invalid/warm/id/48.webp', { accept: 'image/webp' }),
      requestLike('https://warm.invalid/warm/id?size=96&fmt=auto', { accept: 'image/jpeg' }),
      requestLike(signed.url, { accept: 'image/webp', referer: 'https://www.example.com/page' }),
    ];
    await withStandIns(async () => {
      // Twice: the second round answers from the memo, as a repeated URL does.
      for (const request of [...requests, ...requests]) {
        const res = await handler(request);
        JSON.stringify(lineFor(request, res, { time: new Date().toISOString(), ms: 0, pop: '', timings, headers }));
      }
    });
  } catch (err) {
    log(`snapshot warm-up failed (requests still work, each paying for the first-use work itself): ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * performance.now() aborts the build (wizer.initialize traps, which no try/catch sees), and
 * the image handler reads it for Server-Timing; Response cannot be constructed at build time,
 * and the handler answers with one. Stand-ins answer during the warm-up only: a clock at 0,
 * and a Response that is a plain object with the status, headers and body it was given.
 */
async function withStandIns(run: () => Promise<void>): Promise<void> {
  const ownNow = Object.getOwnPropertyDescriptor(performance, 'now');
  const ownResponse = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  Object.defineProperty(performance, 'now', { value: () => 0, configurable: true, writable: true });
  Object.defineProperty(globalThis, 'Response', { value: StandInResponse, configurable: true, writable: true });
  try {
    await run();
  } finally {
    if (ownNow) Object.defineProperty(performance, 'now', ownNow);
    else delete (performance as { now?: unknown }).now;
    if (ownResponse) Object.defineProperty(globalThis, 'Response', ownResponse);
    else delete (globalThis as { Response?: unknown }).Response;
  }
}

/** What the warm-up's handler answers with (the log line reads its status and headers). */
class StandInResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: BodyInit | null;
  constructor(body?: BodyInit | null, init?: ResponseInit) {
    this.status = init?.status ?? 200;
    this.headers = new Headers(init?.headers);
    this.body = body ?? null;
  }
}
