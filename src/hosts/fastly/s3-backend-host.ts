import type { S3Config } from '../../storage/s3-store.js';
import { defaultPathStyle, objectUrl } from '../../storage/s3-url.js';

/** What the service can read of a static backend (fastly:backend's Backend.fromName). */
export interface BackendHostInfo {
  /** The backend's address, host name or host:port. */
  target: string;
  /** Its override host, '' or null when none is set (then Host is the target's). */
  hostOverride: string | null;
}

/**
 * On Fastly the Host header of a backend request is the backend's (its override host, else its
 * address), not the URL's. SigV4 signs the URL's host, so the two must be the same name or S3
 * answers 403 SignatureDoesNotMatch on every call: a backend at `s3.<region>.amazonaws.com`
 * with virtual-hosted signing (`<bucket>.s3.<region>.amazonaws.com`) is the classic case.
 * Returns the problem, in words that say both fixes, or null when they agree.
 */
export function s3BackendHostProblem(prefix: string, cfg: Pick<S3Config, 'endpoint' | 'bucket' | 'forcePathStyle'>, backendName: string, backend: BackendHostInfo): string | null {
  // The store's own default when S3_FORCE_PATH_STYLE is unset (s3-store.ts).
  const pathStyle = cfg.forcePathStyle ?? defaultPathStyle(new URL(cfg.endpoint).hostname);
  const signedFor = (forcePathStyle: boolean) => new URL(objectUrl({ endpoint: cfg.endpoint, bucket: cfg.bucket, forcePathStyle }, 'k')).hostname.toLowerCase();
  const signed = signedFor(pathStyle);
  const sent = hostname(backend.hostOverride || backend.target);
  if (sent === signed) return null;
  const style = pathStyle ? 'path-style' : 'virtual-hosted';
  const flip = signedFor(!pathStyle) === sent ? ` or set ${prefix}FORCE_PATH_STYLE=${!pathStyle} to sign for '${sent}'` : '';
  return (
    `backend '${backendName}' sends Host '${sent}' but ${prefix}ENDPOINT/${prefix}BUCKET sign ${style} requests for '${signed}': ` +
    `S3 would refuse every signature. Point the backend (address, override_host and SNI) at '${signed}'${flip}`
  );
}

function hostname(hostOrHostPort: string): string {
  const h = hostOrHostPort.trim().toLowerCase();
  // host:port, [v6]:port, or a bare host / v6 literal.
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return (h.match(/:/g) ?? []).length === 1 ? h.slice(0, h.indexOf(':')) : h;
}
