import type { Tenant } from '../config/tenant-config.js';
import { fixedLengthEqual } from '../constant-time.js';
import type { PendingVariant } from '../request/canonicalize.js';
import type { AuthParams } from '../request/query.js';
import { badSignature, expired, signatureRequired, unknownKey } from './auth-errors.js';
import { type HmacSha256Base64url, hmacSha256Base64url } from './hmac.js';
import { signingPayload } from './signing-payload.js';

// Unix seconds without leading zeros, so one expiry has exactly one spelling.
const EXP_RE = /^[1-9]\d{0,10}$/;
// HMAC-SHA256 is 32 bytes: 43 base64url characters without padding.
const SIG_RE = /^[A-Za-z0-9_-]{43}$/;

export interface SignatureCheck {
  tenant: Tenant;
  pending: PendingVariant;
  auth: AuthParams;
  /** ms since the epoch. */
  now: number;
}

/**
 * Verifies exp/kid/sig against the canonical variant. Order: presence → key id → shape →
 * HMAC (constant-time) → expiry. Expiry is checked after the HMAC so EXPIRED only ever
 * describes a URL the tenant really signed; a forged URL gets BAD_SIGNATURE whatever its exp.
 */
export async function verifySignature({ tenant, pending, auth, now }: SignatureCheck, hmac: HmacSha256Base64url = hmacSha256Base64url): Promise<void> {
  const { exp, kid, sig } = auth;
  if (!exp || !kid || !sig) throw signatureRequired();
  // hasOwn: a kid like "constructor" or "__proto__" must not find Object.prototype members.
  if (!Object.hasOwn(tenant.keys, kid)) throw unknownKey();
  if (!EXP_RE.test(exp) || !SIG_RE.test(sig)) throw badSignature();

  const expected = await hmac(tenant.keys[kid]!, signingPayload(pending, exp));
  // Both are 43 base64url characters (SIG_RE above, and an HMAC-SHA256): a fixed, public length.
  if (!fixedLengthEqual(sig, expected)) throw badSignature();
  checkExpiry(exp, now);
}

/** Throws 403 EXPIRED when `now` (ms since the epoch) is past `exp` (Unix seconds): the one part of a verified signature that changes with time. */
export function checkExpiry(exp: string, now: number): void {
  if (Math.floor(now / 1000) > Number(exp)) throw expired();
}
