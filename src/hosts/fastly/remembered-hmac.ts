/**
 * The signature check's HMAC with its results kept for the sandbox's life: a reused sandbox
 * (sandbox-reuse.ts) sees the same signed URL many times (an avatar on a busy page), and
 * crypto.subtle's sign is most of a signed hit's CPU in Fastly's interpreter (~0.9 ms under
 * Viceroy). Keyed by the secret and the payload, so a rotated key computes afresh and a
 * changed URL never matches; the comparison with the URL's signature stays the caller's
 * (constant time). Bounded: past `max` entries it starts over.
 */
import { type HmacSha256Base64url, hmacSha256Base64url } from '../../core/auth/hmac.js';

export const MAX_REMEMBERED_SIGNATURES = 1000;

export function rememberedHmac(inner: HmacSha256Base64url = hmacSha256Base64url, max = MAX_REMEMBERED_SIGNATURES): HmacSha256Base64url {
  const bySecret = new Map<string, Map<string, string>>();
  let size = 0;
  return async (secret, payload) => {
    const known = bySecret.get(secret)?.get(payload);
    if (known !== undefined) return known;
    const mac = await inner(secret, payload);
    if (size >= max) {
      bySecret.clear();
      size = 0;
    }
    let macs = bySecret.get(secret);
    if (!macs) bySecret.set(secret, (macs = new Map()));
    if (!macs.has(payload)) size++;
    macs.set(payload, mac);
    return mac;
  };
}
