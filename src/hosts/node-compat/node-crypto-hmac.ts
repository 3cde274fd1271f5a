import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { HmacSha256Base64url } from '../../core/auth/hmac.js';

// One KeyObject per secret (a tenant has a handful), bounded like core/auth/hmac.ts's cache.
const keys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 1000;

/**
 * The signature check's HMAC on Node and Deno (which has node:crypto too): createHmac answers
 * synchronously, where crypto.subtle.sign goes through the thread pool (one round trip per
 * signed request, hits included). Same bytes in, same 43-character base64url out; the
 * comparison stays the core's constant-time one.
 */
export const nodeHmacSha256Base64url: HmacSha256Base64url = (secret, payload) => {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return createHmac('sha256', key).update(payload, 'utf8').digest('base64url');
};
