import { HttpError } from '../../src/core/errors.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { canonicalize } from '../../src/core/request/canonicalize.js';
import { parsePath } from '../../src/core/request/parse-path.js';
import { parseQuery } from '../../src/core/request/query.js';

export const config = loadServiceConfig({});
export const demo = config.tenants.get('demo')!;

/** Runs the pure front of the pipeline on a URL path+query. */
export function canon(pathAndQuery: string, accept: string | null = 'image/webp,*/*') {
  const url = new URL(`http://x${pathAndQuery}`);
  const path = parsePath(url.pathname);
  const { image } = parseQuery(url.search, config.limits.maxQueryLength);
  return canonicalize(path, image, accept, demo, config.limits);
}

/** The HttpError a call throws (fails the test if it throws nothing or something else). */
export function httpError(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error('expected an HttpError');
}
