import { sha256, toHex } from '../sha256.js';

/** Strong ETag from the bytes themselves: the same variant rendered twice gets the same tag. */
export async function strongEtag(body: Uint8Array): Promise<string> {
  return `"${toHex((await sha256(body)).subarray(0, 16))}"`;
}

/** If-None-Match matching per RFC 9110 (weak comparison; `*` matches anything). */
export function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}
