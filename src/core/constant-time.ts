import { MAX_SECRET_LENGTH } from './config/secret-shape.js';

/**
 * Constant-time equality for secrets (tokens, signatures). Compares HMACs of both sides
 * under a random per-process key, so neither the content nor the length of the secret
 * leaks through timing, then compares the fixed-size digests without early exit.
 */
// The bytes are kept with the key: Fastly's runtime signs with the imported buffer itself (core/auth/hmac.ts).
let blinding: { key: Promise<CryptoKey>; bytes: Uint8Array } | undefined;

// Created on first use, not at import: Fastly runs top-level code at build time (Wizer), which
// would bake one key into the binary. importKey of random bytes rather than generateKey, which
// Fastly's runtime does not implement.
function blindingKey(): Promise<CryptoKey> {
  if (!blinding) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    blinding = { key: crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), bytes };
  }
  return blinding.key;
}

export async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const key = await blindingKey();
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.sign('HMAC', key, enc.encode(a)), crypto.subtle.sign('HMAC', key, enc.encode(b))]);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/**
 * Equality without an early exit, for two strings whose length is public and fixed (two
 * base64url HMAC-SHA256 signatures, 43 characters each): the time depends on the length
 * only. Synchronous and allocation-free, so a signed cache hit pays one HMAC, not three.
 * Secrets of varying length (bearer tokens) go through `timingSafeEqual`.
 */
export function fixedLengthEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** A bearer header: `Bearer ` and up to 512 printable ASCII characters, the shape of every configured secret. */
const BEARER_RE = new RegExp(`^Bearer ([\\x21-\\x7e]{1,${MAX_SECRET_LENGTH}})$`);

/** A value no header can equal, compared when there is no secret so timing does not tell. */
const NO_SECRET = '\u0000no secret configured';

/**
 * Which of `secrets` `Authorization: Bearer <token>` carries: the index of the first one it
 * equals, or -1. Every secret is compared, in constant time and without early exit, so timing
 * tells neither which one nearly matched nor how many there are; with none, a placeholder is
 * compared. An empty secret never matches. The one place bearer tokens are matched.
 */
export async function bearerIndex(header: string | null, secrets: readonly string[]): Promise<number> {
  const m = BEARER_RE.exec(header ?? '');
  const presented = m ? m[1]! : '';
  let found = -1;
  for (const [i, secret] of (secrets.length ? secrets : [NO_SECRET]).entries()) {
    const same = await timingSafeEqual(presented, secret);
    if (same && m && secret.length > 0 && secrets.length && found === -1) found = i;
  }
  return found;
}

/** Whether `Authorization: Bearer <token>` carries any of `secrets`. */
export async function bearerMatches(header: string | null, secrets: readonly string[]): Promise<boolean> {
  return (await bearerIndex(header, secrets)) !== -1;
}
