import { isSecretShaped, MIN_TOKEN_LENGTH, SECRET_ID_RE, secretShapeText } from './secret-shape.js';
import { type Tenant, type TenantInput, normalizeTenant } from './tenant-config.js';

/** Service-wide limits and cache policy (loose input form). */
export interface ServiceInput {
  limits?: Partial<Limits>;
  cache?: Partial<CachePolicy>;
  tenants?: Record<string, TenantInput>;
  admin?: { tokens?: Record<string, string> };
}

export interface Limits {
  /** Originals larger than this are refused before decoding (25 MB covers any phone or DSLR JPEG). */
  maxSourceBytes: number;
  /** Width × height read from the header; 50 MP bounds decode memory to ~200 MB RGBA. */
  maxSourcePixels: number;
  /** Largest w/h a URL may ask for before snapping; beyond this is a typo or an attack. */
  maxRequestDimension: number;
  /** Longest query string accepted; canonical URLs are ~100 chars, signed ones ~200. */
  maxQueryLength: number;
  /**
   * The renderer's memory budget (Node and Deno hosts; env RENDER_MEMORY_MB overrides it):
   * estimated bytes of renders in flight plus kept masters. A source whose smallest decode
   * cannot fit it (a PNG or WebP decodes at full size) is refused with SOURCE_TOO_LARGE, so
   * the pixel limit of those formats follows from it. 224 MiB keeps a Node or Deno renderer
   * process under ~384 MB.
   */
  renderMemoryBytes: number;
}

export interface CachePolicy {
  /** Browser/downstream max-age: a day, since purges cannot reach browsers. */
  browserMaxAge: number;
  /** Browsers may show a stale avatar for a week while revalidating. */
  browserSwr: number;
  /** Edge TTL: a year, because edges are purged on change. */
  edgeTtl: number;
  edgeSwr: number;
  /** Serve stale for a day when the origin fails. */
  edgeStaleIfError: number;
  /** TTL for tenants with ttlClass 'short' (legally sensitive), at the edge and in browsers. */
  shortTtl: number;
  /** How long a 410 for a taken-down image may be cached. */
  goneTtl: number;
  /** How long a 404 for a missing original may be cached at the edge. */
  notFoundTtl: number;
}

/** The admin API (purge, takedown, audit; see docs/admin-api.md). */
export interface AdminConfig {
  /** Token id → secret. The id is what the audit log records as "who"; the secret never is. None: every admin call is 401. */
  tokens: Record<string, string>;
}

export interface ServiceConfig {
  limits: Limits;
  cache: CachePolicy;
  tenants: Map<string, Tenant>;
  admin: AdminConfig;
}

export const LIMIT_DEFAULTS: Limits = {
  maxSourceBytes: 25 * 1024 * 1024,
  maxSourcePixels: 50_000_000,
  maxRequestDimension: 4096,
  maxQueryLength: 1024,
  renderMemoryBytes: 224 * 1024 * 1024,
};

export const CACHE_DEFAULTS: CachePolicy = {
  browserMaxAge: 86_400,
  browserSwr: 604_800,
  edgeTtl: 31_536_000,
  edgeSwr: 604_800,
  edgeStaleIfError: 86_400,
  shortTtl: 60,
  goneTtl: 60,
  notFoundTtl: 60,
};

/** The tenant every fresh checkout serves: the sample photos, unsigned. */
export const DEFAULT_TENANTS: Record<string, TenantInput> = {
  demo: { fallback: 'generated' },
};

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Runs a config loader, adding its ConfigError problems to `problems` (so a host reports all at once). */
export function collectProblems<T>(problems: string[], load: () => T): T | undefined {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
    return undefined;
  }
}

const positiveInt = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n > 0;

/** Defaults → merge → validate. Throws ConfigError listing every problem at once. */
export function loadServiceConfig(input: ServiceInput = {}): ServiceConfig {
  const problems: string[] = [];
  // A typo ("tenant", "limit") must not silently fall back to defaults. "_comment"-style keys are notes.
  const known = (section: string, obj: unknown, keys: readonly string[]) => {
    if (obj && typeof obj === 'object') {
      for (const k of Object.keys(obj)) if (!k.startsWith('_') && !keys.includes(k)) problems.push(`unknown setting '${section}${k}' (known: ${keys.join(', ')})`);
    }
  };
  known('', input, ['limits', 'cache', 'tenants', 'admin']);
  known('limits.', input.limits, Object.keys(LIMIT_DEFAULTS));
  known('cache.', input.cache, Object.keys(CACHE_DEFAULTS));
  const limits: Limits = { ...LIMIT_DEFAULTS, ...input.limits };
  for (const [k, v] of Object.entries(limits)) if (!positiveInt(v)) problems.push(`limits.${k} must be a positive integer`);
  const cache: CachePolicy = { ...CACHE_DEFAULTS, ...input.cache };
  for (const [k, v] of Object.entries(cache)) if (!positiveInt(v)) problems.push(`cache.${k} must be a positive integer (seconds)`);

  const tenants = new Map<string, Tenant>();
  const tenantInputs = input.tenants ?? DEFAULT_TENANTS;
  if (typeof tenantInputs !== 'object' || tenantInputs === null) problems.push('tenants must be an object');
  else for (const [name, t] of Object.entries(tenantInputs)) tenants.set(name, normalizeTenant(name, t ?? {}, problems));
  if (tenants.size === 0) problems.push('at least one tenant must be configured');
  const admin = normalizeAdmin(input.admin, problems);

  if (problems.length) throw new ConfigError(problems);
  return { limits, cache, tenants, admin };
}

function normalizeAdmin(input: ServiceInput['admin'], problems: string[]): AdminConfig {
  const tokens = input?.tokens ?? {};
  if (typeof tokens !== 'object' || tokens === null || Array.isArray(tokens)) {
    problems.push('admin.tokens must be an object of token id → secret');
    return { tokens: {} };
  }
  for (const [id, secret] of Object.entries(tokens)) {
    if (!SECRET_ID_RE.test(id)) problems.push(`admin token id '${id}' must match [A-Za-z0-9_-]{1,32}`);
    // The secret itself is never echoed, not even in a config error.
    if (!isSecretShaped(secret, MIN_TOKEN_LENGTH)) problems.push(`admin token '${id}' must be ${secretShapeText(MIN_TOKEN_LENGTH)}`);
  }
  return { tokens: { ...tokens } };
}
