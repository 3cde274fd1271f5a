import type { ServiceConfig } from '../config/service-config.js';
import type { Tenant } from '../config/tenant-config.js';
import type { PendingVariant } from './canonicalize.js';
import { MAX_HEADER_LENGTH } from './header-limits.js';
import type { PathParts } from './parse-path.js';
import type { AuthParams } from './query.js';
import type { Variant } from '../variant.js';

/**
 * What parse → canonicalize → authorize decided about one request, remembered by a host whose
 * process answers the same URLs again and again (a reused Fastly sandbox: the same avatar on a
 * busy page), so a repeated request skips the URL parsing, the canonicalization and the
 * signature's HMAC and comparison.
 *
 * The key is everything those stages read: the raw URL (path, query, the signature's
 * exp/kid/sig) and the Accept, Referer and Origin headers, each as it came (absent and empty
 * differ). Only requests that passed every check are kept, so a refused one is refused again
 * the full way. Two things depend on more than the key and are checked on every request, hit
 * or not (image-handler.ts): the signature's expiry against the clock, and the size of the
 * one header the pipeline reads that is not in the key (If-None-Match).
 *
 * Sound only with an authorizer whose answer depends on nothing else (the default
 * createAuthorizer: header sizes, signature, hotlink). Entries belong to one ServiceConfig
 * object: a host that reads its settings again (a new tenant, a rotated signing key) passes a
 * new one and everything remembered under the old one is dropped. Bounded to `max` entries
 * (the oldest goes first), each at most the query limit plus three header values long.
 */
export interface ResolveMemo {
  /** The entry for `key` under `config`, or undefined (a different config drops every entry first). */
  get(config: ServiceConfig, key: string): ResolvedParts | undefined;
  /** Remembers a request that passed every check under `config`. */
  set(config: ServiceConfig, key: string, parts: ResolvedParts): void;
  /** Longest If-None-Match accepted (the authorizer's bound): checked on every hit. */
  readonly maxHeaderLength: number;
}

/** The pipeline's result before format negotiation (which may ask the store for the original's alpha or animation, so it runs on every request). */
export interface ResolvedParts {
  tenant: Tenant;
  path: PathParts;
  auth: AuthParams;
  pending: PendingVariant;
  /**
   * When the format needs nothing from the original: the canonical variant and its key, the
   * same on every request of the entry, so the image handler works them out on first use and
   * keeps them here. Nobody changes a variant once made (loaders copy it to add to it).
   */
  atOnce?: { variant: Variant; key: string };
}

export const MAX_RESOLVED_REQUESTS = 1000;

export function createResolveMemo({ max = MAX_RESOLVED_REQUESTS, maxHeaderLength = MAX_HEADER_LENGTH }: { max?: number; maxHeaderLength?: number } = {}): ResolveMemo {
  let owner: ServiceConfig | undefined;
  const entries = new Map<string, ResolvedParts>();
  const adopt = (config: ServiceConfig) => {
    if (owner === config) return;
    entries.clear();
    owner = config;
  };
  return {
    maxHeaderLength,
    get(config, key) {
      adopt(config);
      return entries.get(key);
    },
    set(config, key, parts) {
      adopt(config);
      if (!entries.has(key) && entries.size >= max) entries.delete(entries.keys().next().value!);
      entries.set(key, parts);
    },
  };
}

/** The memo's key of a request: its URL and the headers parse → canonicalize → authorize read, each kept apart from absent. */
export function resolveMemoKey(request: Request, accept: string | null): string {
  const h = request.headers;
  // A header value never holds a line feed (HTTP forbids it), so the parts cannot run into each other.
  return `${request.url}\n${part(accept)}\n${part(h.get('referer'))}\n${part(h.get('origin'))}`;
}

const part = (v: string | null) => (v === null ? '\u0000' : `=${v}`);
