/**
 * The one shape every configured secret has (admin, upload and metrics tokens, render
 * secrets): printable ASCII without spaces, so it travels unchanged in an
 * `Authorization: Bearer` header, and at most 512 characters, the most a bearer header may
 * carry (core/constant-time.ts). The floor differs per secret and is the caller's.
 */
export const MAX_SECRET_LENGTH = 512;

/** 32 characters is 128 bits as hex (`openssl rand -hex 16`): the floor for admin, upload and render secrets. */
export const MIN_TOKEN_LENGTH = 32;

/** A secret's id (admin and upload token ids, signing key ids): named in logs and URLs, never secret. */
export const SECRET_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;

const PRINTABLE_RE = /^[\x21-\x7e]+$/;

export function isSecretShaped(secret: unknown, minLength: number): secret is string {
  return typeof secret === 'string' && secret.length >= minLength && secret.length <= MAX_SECRET_LENGTH && PRINTABLE_RE.test(secret);
}

/** How the shape reads in a config error (which never echoes the secret itself). */
export function secretShapeText(minLength: number): string {
  return `${minLength}-${MAX_SECRET_LENGTH} printable characters without spaces`;
}
