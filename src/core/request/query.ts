import { HttpError } from '../errors.js';

/** Parameters that mean something; everything else (utm_*, cache busters...) is dropped. */
export const IMAGE_PARAMS = ['w', 'h', 'fit', 'fmt', 'q', 'dpr', 'v', 'g'] as const;
export const AUTH_PARAMS = ['exp', 'kid', 'sig'] as const;
const ALLOWED = new Set<string>([...IMAGE_PARAMS, ...AUTH_PARAMS]);

export type ImageParams = Partial<Record<(typeof IMAGE_PARAMS)[number], string>>;
export type AuthParams = Partial<Record<(typeof AUTH_PARAMS)[number], string>>;

export interface ParsedQuery {
  image: ImageParams;
  auth: AuthParams;
}

/** Keeps allowlisted params (names case-insensitive, values trimmed), refuses repeats and oversize. */
export function parseQuery(search: string, maxLength: number): ParsedQuery {
  const raw = search.startsWith('?') ? search.slice(1) : search;
  if (raw.length > maxLength) {
    throw new HttpError(414, 'QUERY_TOO_LONG', `the query string must be at most ${maxLength} characters`);
  }
  const image: ImageParams = {};
  const auth: AuthParams = {};
  const seen = new Set<string>();
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(raw);
  } catch {
    throw new HttpError(400, 'INVALID_QUERY', 'the query string could not be parsed');
  }
  for (const [rawName, value] of params) {
    const name = rawName.toLowerCase();
    if (!ALLOWED.has(name)) continue;
    if (seen.has(name)) throw new HttpError(400, 'INVALID_PARAMETER', `parameter '${name}' is given more than once`);
    seen.add(name);
    const v = value.trim();
    if ((AUTH_PARAMS as readonly string[]).includes(name)) auth[name as keyof AuthParams] = v;
    else image[name as keyof ImageParams] = v;
  }
  return { image, auth };
}
