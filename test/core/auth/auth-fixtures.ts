import { createAuthorizer } from '../../../src/core/auth/create-authorizer.js';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { HttpError } from '../../../src/core/errors.js';
import { resolveImageRequest } from '../../../src/core/delivery/image-handler.js';

/** Tenants covering both modes; the secrets exist only in tests. */
export const config = loadServiceConfig({
  tenants: {
    open: {},
    acme: { requireSignature: true, keys: { k1: 'test-secret-acme-k1-0000', k2: 'test-secret-acme-k2-0000' } },
    guarded: { allowedReferers: ['example.com', '*.cdn-customer.net', 'localhost:8080'], allowEmptyReferer: false },
  },
});
export const acme = config.tenants.get('acme')!;
export const NOW = Date.UTC(2026, 0, 1); // 1767225600 s

const loader = { load: () => Promise.reject(new Error('not used')), facts: async () => ({ alpha: false, animated: false }) };
const authorize = createAuthorizer();

/**
 * Runs the real front of the pipeline (parse → canonicalize → authorize) on a path+query and
 * returns 'ok' or the HttpError code.
 */
export async function outcome(pathAndQuery: string, headers: Record<string, string> = {}, now = NOW): Promise<string> {
  try {
    await resolveImageRequest(new Request(`http://localhost${pathAndQuery}`, { headers }), {
      config,
      loader,
      authorize,
      clock: { now: () => now },
    });
    return 'ok';
  } catch (e) {
    if (e instanceof HttpError) return e.code;
    throw e;
  }
}
