import { timingSafeEqual } from '../constant-time.js';

/** Who may upload: one of the tenant's upload tokens, or an admin token (any tenant). */
export interface Uploader {
  kind: 'upload' | 'admin';
  /** The token's id (recorded with the original as `uploaded-by`); never the secret. */
  id: string;
}

/** A value no header can equal, compared when no token is configured so timing does not tell. */
const NO_TOKEN = '\u0000no upload token configured';

/**
 * Which token `Authorization: Bearer <token>` carries, or null. Every candidate (the tenant's
 * upload tokens and every admin token) is compared in constant time without early exit, so
 * timing tells neither which token nearly matched nor whether the tenant has any.
 */
export async function uploaderOf(
  header: string | null,
  uploadTokens: Readonly<Record<string, string>>,
  adminTokens: Readonly<Record<string, string>>,
): Promise<Uploader | null> {
  const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
  const presented = m ? m[1]! : '';
  const candidates: Array<[Uploader['kind'], string, string]> = [
    ...Object.entries(uploadTokens).map(([id, secret]) => ['upload', id, secret] as [Uploader['kind'], string, string]),
    ...Object.entries(adminTokens).map(([id, secret]) => ['admin', id, secret] as [Uploader['kind'], string, string]),
  ];
  if (candidates.length === 0) candidates.push(['upload', '', NO_TOKEN]);
  let who: Uploader | null = null;
  for (const [kind, id, secret] of candidates) {
    const same = await timingSafeEqual(presented, secret);
    if (same && m && secret.length > 0 && id && who === null) who = { kind, id };
  }
  return who;
}
