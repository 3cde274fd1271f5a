import type { ServiceConfig } from '../core/config/service-config.js';
import { HttpError } from '../core/errors.js';
import { assertSafePath, assertTenantAndId } from '../core/request/parse-path.js';
import { readLimitedBody } from '../core/upload/read-body.js';
import { uploaderOf } from '../core/upload/upload-auth.js';
import type { UploadService } from '../core/upload/upload-service.js';
import type { Handler } from './router.js';

export interface UploadRouteDeps {
  config: ServiceConfig;
  service: UploadService;
}

const PATH_RE = /^\/_upload\/([^/]+)\/([^/]+)$/;

/**
 * PUT /_upload/{tenant}/{id} with the image as the body: PUT because the client names the
 * resource and repeating the request leaves the same image (only the version moves on).
 * Authentication comes first and says nothing on failure (not even whether the tenant
 * exists); then method, path, tenant; the upload service does the rest (docs/storage.md).
 */
export function createUploadRoute(deps: UploadRouteDeps): Handler {
  return async (request) => {
    const url = new URL(request.url);
    const m = PATH_RE.exec(url.pathname);
    const tenant = m ? deps.config.tenants.get(m[1]!) : undefined;
    const who = await uploaderOf(request.headers.get('authorization'), tenant?.uploadTokens ?? {}, deps.config.admin.tokens);
    if (!who) throw new HttpError(401, 'UNAUTHORIZED', 'unauthorized', { 'www-authenticate': 'Bearer' });

    if (request.method !== 'PUT') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'use PUT /_upload/{tenant}/{id} with the image as the body', { allow: 'PUT' });
    if (!m) throw new HttpError(404, 'NOT_FOUND', 'use PUT /_upload/{tenant}/{id} with the image as the body');
    const [, tenantName, id] = m as unknown as [string, string, string];
    // Percent-encoding is refused like on image paths: ids never need it, traversal hides in it.
    assertSafePath(url.pathname, 'PUT /_upload/{tenant}/{id}');
    assertTenantAndId(tenantName, id);
    if (!tenant) throw new HttpError(404, 'UNKNOWN_TENANT', `no tenant '${tenantName}'`);

    const result = await deps.service.upload(tenant, id, () => readLimitedBody(request, deps.config.limits.maxSourceBytes), who);
    const { created, ...body } = result;
    return new Response(JSON.stringify(body), {
      status: created ? 201 : 200,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        ...(created ? { location: `/${tenantName}/${id}` } : {}),
      },
    });
  };
}
