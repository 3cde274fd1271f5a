import type { ConnInfo } from '../ports.js';

/** Where a host takes the client's address from (ACCESS_LOG_CLIENT_IP, docs/operations.md). */
export type ClientIpSource = 'off' | 'socket' | 'x-forwarded-for';

/**
 * The client's address: the TCP peer, or with `x-forwarded-for` (only behind a proxy trusted
 * to set that header) its first address, else the peer. Undefined for `off`.
 */
export function clientAddress(request: Request, conn: ConnInfo | undefined, source: ClientIpSource): string | undefined {
  if (source === 'socket') return conn?.remoteAddress;
  if (source === 'x-forwarded-for') return request.headers.get('x-forwarded-for')?.split(',')[0]?.trim().slice(0, 64) || conn?.remoteAddress;
  return undefined;
}
