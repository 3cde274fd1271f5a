import { bearerIndex } from '../constant-time.js';

/**
 * Which admin token `Authorization: Bearer <token>` carries: its id (what the audit log
 * records), or null. Every configured token is compared (constant-time.ts's bearerIndex).
 */
export async function adminTokenId(header: string | null, tokens: Readonly<Record<string, string>>): Promise<string | null> {
  const entries = Object.entries(tokens);
  const i = await bearerIndex(
    header,
    entries.map(([, secret]) => secret),
  );
  return entries[i]?.[0] || null;
}
