import type { Authorizer } from '../delivery/image-handler.js';
import { assertHeaderSizes, MAX_HEADER_LENGTH } from '../request/header-limits.js';
import type { HmacSha256Base64url } from './hmac.js';
import { checkHotlink } from './hotlink.js';
import { verifySignature } from './verify-signature.js';

export interface AuthorizerOptions {
  /** Longest accepted value of a header the pipeline reads (431 above it). */
  maxHeaderLength?: number;
  /** The HMAC for signatures; crypto.subtle unless the host has a faster one (see hmac.ts). */
  hmac?: HmacSha256Base64url;
}

/**
 * The default auth stage: header sizes (431) → signature when the tenant requires one (403
 * SIGNATURE_REQUIRED / UNKNOWN_KEY / BAD_SIGNATURE / EXPIRED) → hotlink (403 HOTLINK_DENIED).
 * The signature goes first: a missing or wrong signature is the more fundamental problem to
 * report to whoever is debugging a URL. Runs before the cache, so cached variants never
 * bypass it.
 */
export function createAuthorizer(opts: AuthorizerOptions = {}): Authorizer {
  const max = opts.maxHeaderLength ?? MAX_HEADER_LENGTH;
  return async (ctx) => {
    assertHeaderSizes(ctx.request, max);
    if (ctx.tenant.requireSignature) await verifySignature(ctx, opts.hmac);
    checkHotlink(ctx.request, ctx.tenant);
  };
}
