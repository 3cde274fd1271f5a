import { sha256, toHex } from '../sha256.js';

/** Strong ETag from the bytes themselves: the same variant rendered twice gets the same tag. */
export async function strongEtag(body: Uint8Array): Promise<string> {
  return `"${toHex((await sha256(body)).subarray(0, 16))}"`;
}

/**
 * If-None-Match matching per RFC 9110 (weak comparison; `*` matches anything). Every revalidating
 * hit runs it, so it loops over the tags itself instead of a callback and two regexes per tag
 * (each a builtin call under js-compute's interpreter).
 */
export function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const bare = withoutWeak(etag);
  const tags = ifNoneMatch.split(',');
  for (let i = 0; i < tags.length; i++) if (withoutWeak(tags[i]!.trim()) === bare) return true;
  return false;
}

const withoutWeak = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);
