/**
 * What `npm run deploy:fastly` wants the service to have, from environment variables, checked
 * before anything is sent: the same validation the service runs per request (settings.ts), and
 * the S3 backend host against the host the store signs (s3-backend-host.ts).
 */
import { s3BackendHostProblem } from '../../src/hosts/fastly/s3-backend-host.js';
import { CONFIG_STORE, loadEdgeSettings, loadEdgeStorage, SECRET_STORE, type SettingsSource } from '../../src/hosts/fastly/settings.js';
import { objectUrl, defaultPathStyle } from '../../src/storage/s3-url.js';

/** Config Store entries the service reads (docs/fastly.md, "Configuration reference"). */
export const CONFIG_ENTRIES = [
  'AVATAR_CONFIG_JSON',
  'RENDERER_BACKEND',
  'SHIELD_POP',
  'RENDER_MODE',
  'IMAGE_OPTIMIZER_REGION',
  'RATE_LIMITS_JSON',
  'BACKEND_REQUEST_LIMIT',
  'STORAGE',
  'STORE_BACKEND',
  'STORE_SECONDARY_BACKEND',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_BUCKET',
  'S3_FORCE_PATH_STYLE',
  'S3_TIMEOUT_MS',
  'S3_SECONDARY_ENDPOINT',
  'S3_SECONDARY_REGION',
  'S3_SECONDARY_BUCKET',
  'S3_SECONDARY_FORCE_PATH_STYLE',
  'S3_SECONDARY_TIMEOUT_MS',
] as const;

export const SECRET_ENTRIES = [
  'RENDER_SECRET',
  'TENANT_KEYS_JSON',
  'ADMIN_TOKEN',
  'ADMIN_TOKENS_JSON',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_SESSION_TOKEN',
  'S3_SECONDARY_ACCESS_KEY_ID',
  'S3_SECONDARY_SECRET_ACCESS_KEY',
  'S3_SECONDARY_SESSION_TOKEN',
] as const;

/** A static backend as Fastly's API spells its fields. */
export interface BackendSpec {
  name: string;
  address: string;
  port: number;
  use_ssl: boolean;
  ssl_cert_hostname: string | null;
  ssl_sni_hostname: string | null;
  override_host: string;
  connect_timeout: number;
  first_byte_timeout: number;
  between_bytes_timeout: number;
}

export interface DeployPlan {
  serviceId: string;
  configStore: string;
  secretStore: string;
  config: Record<string, string>;
  secrets: Record<string, string>;
  backends: BackendSpec[];
  domains: string[];
}

export class DeployConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`deploy refused, nothing was sent:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Record<string, string | undefined>;

export async function planDeploy(env: Env): Promise<DeployPlan> {
  const problems: string[] = [];
  const set = (n: string) => (env[n] !== undefined && env[n]!.trim() !== '' ? env[n]! : undefined);
  const serviceId = set('FASTLY_SERVICE_ID');
  if (!serviceId) problems.push('FASTLY_SERVICE_ID is required (create the service once: npx fastly service create --type wasm --name avatar-edge --non-interactive)');
  if (!set('FASTLY_API_TOKEN')) problems.push('FASTLY_API_TOKEN is required (a token with global scope for the service and its stores)');

  const config: Record<string, string> = {};
  for (const n of CONFIG_ENTRIES) if (set(n) !== undefined) config[n] = env[n]!;
  const secrets: Record<string, string> = {};
  for (const n of SECRET_ENTRIES) if (set(n) !== undefined) secrets[n] = env[n]!;

  // The service's own validation, on what the stores will hold.
  const source: SettingsSource = { config: (n) => config[n], secret: async (n) => secrets[n] };
  let storage: Awaited<ReturnType<typeof loadEdgeStorage>> = null;
  const collect = (err: unknown) => problems.push(...((err as { problems?: string[] }).problems ?? [(err as Error).message]));
  await loadEdgeSettings(source).catch(collect);
  storage = await loadEdgeStorage(source).catch((err) => (collect(err), null));

  const backends: BackendSpec[] = [];
  const rendererHost = set('FASTLY_RENDERER_HOST');
  if (rendererHost) backends.push(backend(config.RENDERER_BACKEND ?? 'renderer', rendererHost, 20_000, problems));
  else if ((config.RENDER_MODE ?? 'renderer') === 'renderer') problems.push('FASTLY_RENDERER_HOST is required: the renderer deployment, e.g. avatar-renderer.deno.dev');

  // The bucket backends default to the host the store signs, so the two cannot disagree.
  if (storage) {
    const pairs = [
      ['S3_', storage.primary, config.STORE_BACKEND ?? 'store', 'FASTLY_STORE_HOST'],
      ...(storage.secondary ? [['S3_SECONDARY_', storage.secondary, config.STORE_SECONDARY_BACKEND ?? 'store_secondary', 'FASTLY_STORE_SECONDARY_HOST'] as const] : []),
    ] as const;
    for (const [prefix, cfg, name, hostVar] of pairs) {
      const spec = backend(name, set(hostVar) ?? signedOrigin(cfg), 5_000, problems);
      const p = s3BackendHostProblem(prefix, cfg, name, { target: spec.address, hostOverride: spec.override_host });
      if (p) problems.push(`${hostVar}: ${p}`);
      backends.push(spec);
    }
  } else if (set('FASTLY_STORE_HOST') && (config.STORAGE ?? '').toLowerCase() !== 's3') {
    problems.push('FASTLY_STORE_HOST is set but STORAGE is not s3: the service would not use the bucket');
  }

  if (problems.length) throw new DeployConfigError(problems);
  return {
    serviceId: serviceId!,
    configStore: set('FASTLY_CONFIG_STORE') ?? CONFIG_STORE,
    secretStore: set('FASTLY_SECRET_STORE') ?? SECRET_STORE,
    config,
    secrets,
    backends,
    domains: (set('FASTLY_DOMAIN') ?? '')
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean),
  };
}

function signedOrigin(cfg: { endpoint: string; bucket: string; forcePathStyle?: boolean }): string {
  const forcePathStyle = cfg.forcePathStyle ?? defaultPathStyle(new URL(cfg.endpoint).hostname);
  return new URL(objectUrl({ endpoint: cfg.endpoint, bucket: cfg.bucket, forcePathStyle }, 'k')).origin;
}

/** `host`, `host:port` or `https://host[:port]` (http:// for loopback tests) → a TLS backend whose Host, certificate name and SNI are that host. */
function backend(name: string, raw: string, firstByteTimeout: number, problems: string[]): BackendSpec {
  let u: URL;
  try {
    u = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    problems.push(`backend '${name}': '${raw}' is not a host name or URL`);
    u = new URL('https://invalid.invalid');
  }
  if (u.pathname !== '/' || u.search) problems.push(`backend '${name}': '${raw}' must be a host, without a path`);
  const tls = u.protocol === 'https:';
  const host = u.hostname;
  return {
    name,
    address: host,
    port: u.port ? Number(u.port) : tls ? 443 : 80,
    use_ssl: tls,
    ssl_cert_hostname: tls ? host : null,
    ssl_sni_hostname: tls ? host : null,
    override_host: host,
    connect_timeout: 1_000,
    first_byte_timeout: firstByteTimeout,
    between_bytes_timeout: 10_000,
  };
}
