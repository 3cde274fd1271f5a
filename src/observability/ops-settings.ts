import { isSecretShaped, secretShapeText } from '../core/config/secret-shape.js';
import { ConfigError } from '../core/config/service-config.js';
import type { ClientIpSource } from '../core/request/client-address.js';
import type { EnvRecord } from '../storage/config.js';

export type { ClientIpSource };

/** The operations settings both renderer hosts read (docs/operations.md lists them). */
export interface OpsSettings {
  /** Bearer token GET /metrics requires; without it /metrics is served only on `metricsAddr`. */
  metricsToken?: string;
  /** A separate listener for /metrics only (e.g. 127.0.0.1:9464), reachable by the scraper alone. */
  metricsAddr?: { host: string; port: number };
  accessLog: 'stdout' | 'off';
  /** Whether access log lines carry the client's address, and from where. */
  clientIp: ClientIpSource;
  /** How long SIGTERM waits for in-flight requests before it cuts them off. */
  shutdownDeadlineMs: number;
  /** How long /readyz waits for the store to answer. */
  readyStoreTimeoutMs: number;
}

export const DEFAULT_SHUTDOWN_DEADLINE_MS = 10_000;
export const DEFAULT_READY_STORE_TIMEOUT_MS = 2_000;

export function loadOpsSettings(env: EnvRecord): OpsSettings {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const metricsToken = get('METRICS_TOKEN');
  // Sent as a bearer token, so it has the shape of every other secret (floor 16: read-only data).
  if (metricsToken !== undefined && !isSecretShaped(metricsToken, 16)) problems.push(`METRICS_TOKEN must be ${secretShapeText(16)}`);

  let metricsAddr: OpsSettings['metricsAddr'];
  const addr = get('METRICS_ADDR');
  if (addr !== undefined) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(addr);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port > 65535) problems.push(`METRICS_ADDR must be host:port (e.g. 127.0.0.1:9464), got '${addr}'`);
    else metricsAddr = { host: m[1] ?? m[2]!, port };
  }

  const accessLog = (get('ACCESS_LOG') ?? 'stdout').toLowerCase();
  if (accessLog !== 'stdout' && accessLog !== 'off') problems.push(`ACCESS_LOG must be 'stdout' or 'off', got '${env.ACCESS_LOG}'`);
  const clientIp = (get('ACCESS_LOG_CLIENT_IP') ?? 'off').toLowerCase();
  if (!['off', 'socket', 'x-forwarded-for'].includes(clientIp)) problems.push(`ACCESS_LOG_CLIENT_IP must be 'off', 'socket' or 'x-forwarded-for', got '${env.ACCESS_LOG_CLIENT_IP}'`);

  const ms = (name: string, fallback: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > max) problems.push(`${name} must be an integer of 1..${max} (milliseconds), got '${raw}'`);
    return n;
  };
  const shutdownDeadlineMs = ms('SHUTDOWN_DEADLINE_MS', DEFAULT_SHUTDOWN_DEADLINE_MS, 600_000);
  const readyStoreTimeoutMs = ms('READY_STORE_TIMEOUT_MS', DEFAULT_READY_STORE_TIMEOUT_MS, 60_000);

  if (problems.length) throw new ConfigError(problems);
  return {
    ...(metricsToken ? { metricsToken } : {}),
    ...(metricsAddr ? { metricsAddr } : {}),
    accessLog: accessLog as OpsSettings['accessLog'],
    clientIp: clientIp as ClientIpSource,
    shutdownDeadlineMs,
    readyStoreTimeoutMs,
  };
}

/** Whether anyone can read /metrics: with METRICS_TOKEN on the main listener, or on METRICS_ADDR. */
export const metricsServed = (s: Pick<OpsSettings, 'metricsToken' | 'metricsAddr'>): boolean => s.metricsToken !== undefined || s.metricsAddr !== undefined;

/** One line for the start-up log. */
export function describeOps(s: OpsSettings): string {
  const metrics = !metricsServed(s)
    ? '/metrics off (set METRICS_TOKEN or METRICS_ADDR)'
    : s.metricsAddr
      ? `/metrics on http://${s.metricsAddr.host.includes(':') ? `[${s.metricsAddr.host}]` : s.metricsAddr.host}:${s.metricsAddr.port}${s.metricsToken ? ' (bearer token)' : ''}`
      : '/metrics (bearer token)';
  return `${metrics}; access log ${s.accessLog}${s.clientIp !== 'off' ? ` with client IP (${s.clientIp})` : ''}; /readyz`;
}
