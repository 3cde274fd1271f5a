/**
 * What the Fastly service reads from its Config Store and Secret Store, validated with every
 * problem listed (ConfigError). No `fastly:*` here: stores.ts hands in the two lookups, so
 * this file is tested like the core. Names match the Deno host's environment variables where
 * the meaning is the same (AVATAR_CONFIG_JSON, TENANT_KEYS_JSON, RENDER_SECRET, ADMIN_*, S3_*).
 * docs/fastly.md lists every entry.
 *
 * A sandbox reads these again every few seconds (settings-memo.ts): lookups are lazy (the
 * image path reads 5 config entries and 2 secrets; storage is read only where needed), well
 * under the 32 lookups a request may make.
 */
import { parseJsonObject, withAdminTokens, withTenantKeys } from '../../core/config/secret-env.js';
import { collectProblems, ConfigError, loadServiceConfig, type ServiceConfig, type ServiceInput } from '../../core/config/service-config.js';
import { renderSecretProblems } from '../../core/config/render-secrets.js';
import { loadStorageConfig, type StorageConfig } from '../../storage/config.js';
import { DEFAULT_BACKEND_REQUEST_LIMIT } from './backend-budget.js';
import { parseRateLimits, type RateLimits } from '../../core/limits/rate-limits.js';

export interface SettingsSource {
  /** A Config Store entry, or undefined when absent. */
  config(name: string): string | undefined;
  /** A Secret Store entry's plaintext, or undefined when absent. */
  secret(name: string): Promise<string | undefined>;
}

/** Resource-link names of the two stores (fastly.toml [setup] and [local_server], and the deploy script, use the same). */
export const CONFIG_STORE = 'avatar_edge_config';
export const SECRET_STORE = 'avatar_edge_secrets';

export type RenderMode = 'renderer' | 'image-optimizer';
export type ImageOptimizerRegion = 'us_east' | 'us_central' | 'us_west' | 'eu_central' | 'eu_west' | 'asia' | 'australia';
export const IO_REGIONS: readonly ImageOptimizerRegion[] = ['us_east', 'us_central', 'us_west', 'eu_central', 'eu_west', 'asia', 'australia'];

export interface EdgeSettings {
  config: ServiceConfig;
  /** Static backend the misses go to: the renderer (Deno/Node deployment in renderer mode). */
  rendererBackend: string;
  /** Shield POP code (e.g. `pdx-or-us`); absent: every POP goes to the renderer itself. */
  shieldPop?: string;
  renderMode: RenderMode;
  imageOptimizerRegion?: ImageOptimizerRegion;
  /** The first is sent to the renderer; all are accepted on /_render/* (the shield role). */
  renderSecrets: string[];
  /** Static backend of the R2/S3 bucket (admin API, alpha probes, Image Optimizer's originals). */
  storeBackend: string;
  storeSecondaryBackend: string;
  /** Backend requests one execution may make (Fastly: 32, 10 on trial accounts); past it they are refused. */
  backendRequestLimit: number;
  /** Per-client-IP and per-tenant render limits at the POP (RATE_LIMITS_JSON, core/limits/rate-limits.ts). */
  rateLimits: RateLimits;
}

/** Defaults, named as in fastly.toml's [setup] and [local_server] sections. */
export const EDGE_DEFAULTS = {
  rendererBackend: 'renderer',
  storeBackend: 'store',
  storeSecondaryBackend: 'store_secondary',
} as const;

const BACKEND_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
// Fastly POP codes look like `pdx-or-us`, `lcy-london-uk`, `iad-va-us`.
const POP_RE = /^[a-z0-9]+(-[a-z0-9]+){1,4}$/;

function trimmed(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

/** The settings every request needs. */
export async function loadEdgeSettings(src: SettingsSource): Promise<EdgeSettings> {
  const problems: string[] = [];
  const get = (name: string) => trimmed(src.config(name));
  const [renderRaw, keysRaw] = await Promise.all([src.secret('RENDER_SECRET'), src.secret('TENANT_KEYS_JSON')]);

  const rendererBackend = get('RENDERER_BACKEND') ?? EDGE_DEFAULTS.rendererBackend;
  if (!BACKEND_RE.test(rendererBackend)) problems.push(`RENDERER_BACKEND '${rendererBackend}' is not a backend name`);
  const storeBackend = get('STORE_BACKEND') ?? EDGE_DEFAULTS.storeBackend;
  if (!BACKEND_RE.test(storeBackend)) problems.push(`STORE_BACKEND '${storeBackend}' is not a backend name`);
  const storeSecondaryBackend = get('STORE_SECONDARY_BACKEND') ?? EDGE_DEFAULTS.storeSecondaryBackend;
  if (!BACKEND_RE.test(storeSecondaryBackend)) problems.push(`STORE_SECONDARY_BACKEND '${storeSecondaryBackend}' is not a backend name`);

  const limitRaw = get('BACKEND_REQUEST_LIMIT');
  const backendRequestLimit = limitRaw === undefined ? DEFAULT_BACKEND_REQUEST_LIMIT : Number(limitRaw);
  // 2 at least: one request of work and the admin API's audit entry.
  if (!Number.isInteger(backendRequestLimit) || backendRequestLimit < 2 || backendRequestLimit > 1000) {
    problems.push(`BACKEND_REQUEST_LIMIT must be an integer from 2 to 1000 (Fastly allows 32 backend requests per execution, 10 on trial accounts), got '${limitRaw}'`);
  }

  const rateLimits = parseRateLimits(src.config('RATE_LIMITS_JSON'), problems);

  const shieldPop = get('SHIELD_POP');
  if (shieldPop !== undefined && !POP_RE.test(shieldPop)) problems.push(`SHIELD_POP '${shieldPop}' is not a POP code like pdx-or-us`);

  const modeRaw = (get('RENDER_MODE') ?? 'renderer').toLowerCase();
  const renderMode: RenderMode = modeRaw === 'image-optimizer' ? 'image-optimizer' : 'renderer';
  if (modeRaw !== 'renderer' && modeRaw !== 'image-optimizer') problems.push(`RENDER_MODE must be 'renderer' or 'image-optimizer', got '${modeRaw}'`);
  const regionRaw = get('IMAGE_OPTIMIZER_REGION');
  const imageOptimizerRegion = IO_REGIONS.find((r) => r === regionRaw);
  if (regionRaw !== undefined && !imageOptimizerRegion) problems.push(`IMAGE_OPTIMIZER_REGION must be one of ${IO_REGIONS.join(', ')}`);
  if (renderMode === 'image-optimizer' && !imageOptimizerRegion) problems.push('RENDER_MODE=image-optimizer needs IMAGE_OPTIMIZER_REGION (the region closest to the bucket)');

  const renderSecrets = renderRaw?.trim() ? renderRaw.split(',').map((s) => s.trim()) : [];
  if (renderSecrets.length) problems.push(...renderSecretProblems(renderSecrets));
  else if (renderMode === 'renderer') problems.push('RENDER_SECRET (Secret Store) is required: the renderer only answers requests that carry it');

  const input = withTenantKeys(parseServiceInput(src.config('AVATAR_CONFIG_JSON'), problems), 'TENANT_KEYS_JSON', keysRaw, problems);
  const config = collectProblems(problems, () => loadServiceConfig(input));

  if (problems.length || !config) throw new ConfigError(problems);
  return {
    config,
    rendererBackend,
    renderMode,
    renderSecrets,
    storeBackend,
    storeSecondaryBackend,
    backendRequestLimit,
    rateLimits,
    ...(shieldPop ? { shieldPop } : {}),
    ...(imageOptimizerRegion ? { imageOptimizerRegion } : {}),
  };
}

/** Admin tokens (only the admin routes read them): ADMIN_TOKEN (recorded as "env") and/or ADMIN_TOKENS_JSON. */
export async function loadAdminTokens(src: SettingsSource): Promise<Record<string, string>> {
  const problems: string[] = [];
  const [single, many] = await Promise.all([src.secret('ADMIN_TOKEN'), src.secret('ADMIN_TOKENS_JSON')]);
  const tokens = withAdminTokens({}, single, many, problems).admin?.tokens ?? {};
  // Validated by the same rules as every host's admin.tokens.
  collectProblems(problems, () => loadServiceConfig({ admin: { tokens } }));
  if (problems.length) throw new ConfigError(problems);
  return tokens;
}

const STORAGE_CONFIG = ['STORAGE', 'S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET', 'S3_FORCE_PATH_STYLE', 'S3_TIMEOUT_MS'];
const STORAGE_SECRETS = ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_SESSION_TOKEN'];

/**
 * The bucket, when the service has one (STORAGE=s3): read only by the admin API, alpha probes
 * and Image Optimizer mode. Absent (null) otherwise: the renderer alone reads the bucket.
 */
export async function loadEdgeStorage(src: SettingsSource): Promise<Extract<StorageConfig, { kind: 's3' }> | null> {
  if ((trimmed(src.config('STORAGE')) ?? '').toLowerCase() !== 's3') return null;
  const secondary = !!(trimmed(src.config('S3_SECONDARY_ENDPOINT')) || trimmed(src.config('S3_SECONDARY_BUCKET')));
  const names = (list: string[]) => (secondary ? [...list, ...list.filter((n) => n !== 'STORAGE').map((n) => n.replace('S3_', 'S3_SECONDARY_'))] : list);
  const env: Record<string, string | undefined> = {};
  for (const n of names(STORAGE_CONFIG)) env[n] = src.config(n);
  const secretNames = names(STORAGE_SECRETS);
  const values = await Promise.all(secretNames.map((n) => src.secret(n)));
  secretNames.forEach((n, i) => (env[n] = values[i]));
  const cfg = loadStorageConfig(env);
  if (cfg.kind !== 's3') throw new ConfigError(['STORAGE must be s3 on Fastly (there is no file system)']);
  return cfg;
}

function parseServiceInput(raw: string | undefined, problems: string[]): ServiceInput {
  if (raw === undefined || raw.trim() === '') return {};
  const o = parseJsonObject('AVATAR_CONFIG_JSON', raw, problems);
  if (o && 'admin' in o) problems.push('AVATAR_CONFIG_JSON: admin tokens belong in the Secret Store (ADMIN_TOKEN, ADMIN_TOKENS_JSON)');
  return (o ?? {}) as ServiceInput;
}
