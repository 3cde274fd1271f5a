import { base64url } from './base64url.js';

// Imported keys per secret: importKey is not free, and a tenant has only a handful of keys.
// Bounded so that a host feeding secrets dynamically cannot grow it without limit. Keyed by the
// secret itself, so a rotated key is a new entry and never signs with the old one's material.
const keys = new Map<string, { key: Promise<CryptoKey>; bytes: Uint8Array }>();
const MAX_CACHED_KEYS = 1000;

function importKey(secret: string): Promise<CryptoKey> {
  let held = keys.get(secret);
  if (!held) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    const bytes = new TextEncoder().encode(secret);
    // The bytes are kept as long as the key: Fastly's runtime (js-compute 3.46) keeps pointing
    // at the buffer it was imported from, so once that is collected the key signs with whatever
    // memory is there. A reused sandbox's second request signed wrongly before this
    // (docs/fastly.md, "CPU per request").
    held = { key: crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']) as Promise<CryptoKey>, bytes };
    keys.set(secret, held);
  }
  return held.key;
}

/**
 * HMAC-SHA256 of the UTF-8 payload under the UTF-8 secret, as base64url without padding (43
 * chars). The signature check takes it as a parameter: crypto.subtle is the portable default,
 * and a host with a synchronous HMAC passes its own (Node and Deno: hosts/node-compat/node-crypto-hmac.ts; subtle's sign is a
 * trip to the thread pool there, ~60 µs per signed request, hits included).
 */
export type HmacSha256Base64url = (secret: string, payload: string) => string | Promise<string>;

/** The portable HmacSha256Base64url (crypto.subtle). */
export async function hmacSha256Base64url(secret: string, payload: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await importKey(secret), new TextEncoder().encode(payload));
  return base64url(new Uint8Array(mac));
}
