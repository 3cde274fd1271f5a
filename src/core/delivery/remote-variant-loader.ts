import type { ServiceConfig } from '../config/service-config.js';
import { strongEtag } from './etag.js';
import { HttpError } from '../errors.js';
import type { VariantBody, VariantLoader } from '../ports.js';
import { renderPath } from '../render-protocol.js';
import type { OriginalFacts } from '../request/negotiate-format.js';
import { surrogateKeysFor } from '../surrogate-keys.js';
import type { Variant } from '../variant.js';

/** Sends one request to the renderer (the host decides backend, cache mode and timeouts). */
export type RenderSend = (request: Request, variant: Variant) => Promise<Response>;

export interface RemoteLoaderDeps {
  config: ServiceConfig;
  send: RenderSend;
  /** The renderer's bearer secret (the first one, while a secret rotates). */
  secret: string;
  /**
   * Whether an original has alpha and is animated (asked only for fmt=auto without WebP in
   * Accept, when the tenant allows both JPEG and PNG, or with both AVIF and WebP in Accept).
   * Hosts that can read the original's header supply it.
   */
  facts?: (tenant: string, id: string) => Promise<OriginalFacts>;
}

/** Any origin works as a base: the host's `send` pins the backend, the path is all that matters. */
const BASE = 'http://renderer';

/**
 * The miss path on hosts that cannot decode (the Fastly edge): ask the renderer route
 * (core/render-protocol.ts) for the canonical variant. The renderer does tombstone → stored
 * variant → original → render → write-back, so a precomputed variant is a plain read there.
 * 200 and 410 come back as cacheable bodies; a 404 is the same 404 the other hosts answer
 * (not cached, like theirs). Anything else is the renderer failing or being misconfigured:
 * a 502 that is never cached.
 */
export function createRemoteLoader(deps: RemoteLoaderDeps): VariantLoader {
  const { config } = deps;
  return {
    async load(variant: Variant): Promise<VariantBody> {
      const t0 = performance.now();
      const request = new Request(BASE + renderPath(variant), {
        headers: { authorization: `Bearer ${deps.secret}`, accept: '*/*' },
      });
      let res: Response;
      try {
        res = await deps.send(request, variant);
      } catch (err) {
        throw new HttpError(502, 'RENDERER_UNREACHABLE', `the renderer could not be reached: ${(err as Error)?.message ?? err}`);
      }
      const body = new Uint8Array(await res.arrayBuffer());
      const timings = { origin: performance.now() - t0 };
      const surrogateKeys = surrogateKeysFor(variant);
      const contentType = res.headers.get('content-type') ?? 'application/octet-stream';
      const etag = res.headers.get('etag') ?? (await strongEtag(body));

      if (res.status === 200 || res.status === 410) {
        const source = res.status === 410 ? 'tombstone' : sourceOf(res.headers.get('x-render-source'));
        const ttl = maxAge(res.headers.get('cache-control'));
        // A 410 keeps the renderer's short public Cache-Control; a 200 gets the browser policy from the image handler.
        const headers = res.status === 410 ? { 'cache-control': res.headers.get('cache-control') ?? `public, max-age=${config.cache.goneTtl}` } : undefined;
        return { status: res.status, body, contentType, etag, surrogateKeys, source, timings, ...(ttl === undefined ? {} : { ttl }), ...(headers ? { headers } : {}) };
      }
      if (res.status === 404) throw new HttpError(404, 'NOT_FOUND', errorMessage(body) ?? `no image '${variant.id}' for tenant '${variant.tenant}'`);
      throw new HttpError(502, 'RENDERER_ERROR', `the renderer answered ${res.status}`);
    },

    async facts(tenant: string, id: string): Promise<OriginalFacts> {
      // Without a way to look at the original, PNG is the safe answer: right pixels, more bytes;
      // and a still, so the tenant's AVIF stays (animated originals then serve their first frame).
      return deps.facts ? deps.facts(tenant, id) : { alpha: true, animated: false };
    },
  };
}

function errorMessage(body: Uint8Array): string | undefined {
  try {
    const m = (JSON.parse(new TextDecoder().decode(body)) as { message?: unknown }).message;
    return typeof m === 'string' ? m.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

function sourceOf(header: string | null): VariantBody['source'] {
  return header === 'render' || header === 'generated' || header === 'tombstone' ? header : 'variant-store';
}

/** `max-age` from a Cache-Control value, in seconds. */
export function maxAge(cacheControl: string | null): number | undefined {
  const m = /(?:^|,)\s*max-age=(\d{1,10})\s*(?:,|$)/i.exec(cacheControl ?? '');
  return m ? Number(m[1]) : undefined;
}
