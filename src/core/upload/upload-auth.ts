import { bearerIndex } from '../constant-time.js';

/** Who may upload: one of the tenant's upload tokens, or an admin token (any tenant). */
export interface Uploader {
  kind: 'upload' | 'admin';
  /** The token's id (recorded with the original as `uploaded-by`); never the secret. */
  id: string;
}

/**
 * Which token `Authorization: Bearer <token>` carries, or null. Every candidate (the tenant's
 * upload tokens and every admin token) is compared (constant-time.ts's bearerIndex), so timing
 * tells neither which token nearly matched nor whether the tenant has any.
 */
export async function uploaderOf(header: string | null, uploadTokens: Readonly<Record<string, string>>, adminTokens: Readonly<Record<string, string>>): Promise<Uploader | null> {
  const candidates: Array<[Uploader['kind'], string, string]> = [
    ...Object.entries(uploadTokens).map(([id, secret]) => ['upload', id, secret] as [Uploader['kind'], string, string]),
    ...Object.entries(adminTokens).map(([id, secret]) => ['admin', id, secret] as [Uploader['kind'], string, string]),
  ];
  const match =
    candidates[
      await bearerIndex(
        header,
        candidates.map(([, , secret]) => secret),
      )
    ];
  return match?.[1] ? { kind: match[0], id: match[1] } : null;
}
