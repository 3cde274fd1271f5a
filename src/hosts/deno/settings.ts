/**
 * Everything the Deno host reads from its environment, validated at once (every problem listed),
 * without touching `Deno`: main.ts hands in the env record and a file reader, so this file is
 * tested under vitest like the rest of the core. docs/deno.md lists the variables.
 */
import { ConfigError, DEFAULT_TENANTS, loadServiceConfig, type ServiceConfig, type ServiceInput } from '../../core/config/service-config.js';
import { renderSecretProblems } from '../../http/render-route.js';
import { type EnvRecord, loadStorageConfig, type StorageConfig } from '../../storage/config.js';

export type DenoMode = 'full' | 'renderer';

export interface DenoSettings {
  /** full: the public image API and (with RENDER_SECRET) the render route; renderer: only /_render/*. */
  mode: DenoMode;
  hostname: string;
  port: number;
  config: ServiceConfig;
  renderSecrets: string[];
  storage: StorageConfig;
  cacheMaxBytes: number;
  /** Directory (or file: URL) with the pinned codec binaries; unset: `wasm/` next to the bundle. */
  wasmDir?: string;
  /** Serve the demo page at / (full mode). Off by default: it signs URLs for a signed tenant. */
  demoPage: boolean;
  /** Where the service config came from, for the start-up line. */
  configSource: string;
}

/**
 * 64 MiB: Deno Deploy gives an isolate 512 MB, and one large render can peak at ~350 MB of
 * WebAssembly memory (PLATFORM.md); the CDN in front holds the long tail anyway.
 */
export const DEFAULT_DENO_CACHE_BYTES = 64 * 1024 * 1024;
/** Deno's own default port, so `deno run` and Deno Deploy's local emulation agree. */
export const DEFAULT_DENO_PORT = 8000;

export type ReadText = (path: string) => Promise<string>;

export async function loadDenoSettings(env: EnvRecord, readText: ReadText): Promise<DenoSettings> {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };

  const modeRaw = (get('MODE') ?? 'full').toLowerCase();
  const mode: DenoMode = modeRaw === 'renderer' ? 'renderer' : 'full';
  if (modeRaw !== 'full' && modeRaw !== 'renderer') problems.push(`MODE must be 'full' or 'renderer', got '${env.MODE}'`);

  const portRaw = get('PORT') ?? String(DEFAULT_DENO_PORT);
  const port = Number(portRaw);
  if (!/^\d{1,5}$/.test(portRaw) || port > 65535) problems.push(`PORT must be 0..65535, got '${env.PORT}'`);
  const hostname = get('HOST') ?? '0.0.0.0';

  const cacheRaw = get('CACHE_MAX_BYTES');
  const cacheMaxBytes = cacheRaw === undefined ? DEFAULT_DENO_CACHE_BYTES : Number(cacheRaw);
  if (cacheRaw !== undefined && !(/^\d+$/.test(cacheRaw) && cacheMaxBytes >= 1024 * 1024)) {
    problems.push(`CACHE_MAX_BYTES must be an integer of at least 1048576 (1 MiB), got '${env.CACHE_MAX_BYTES}'`);
  }

  const demoRaw = (get('DEMO_PAGE') ?? 'false').toLowerCase();
  const demoPage = ['1', 'true', 'yes', 'on'].includes(demoRaw);
  if (!demoPage && !['0', 'false', 'no', 'off'].includes(demoRaw)) problems.push(`DEMO_PAGE must be true or false, got '${env.DEMO_PAGE}'`);

  const renderRaw = get('RENDER_SECRET');
  const renderSecrets = renderRaw ? renderRaw.split(',').map((s) => s.trim()) : [];
  if (renderRaw) problems.push(...renderSecretProblems(renderSecrets));
  if (mode === 'renderer' && !renderRaw) problems.push('MODE=renderer needs RENDER_SECRET (the bearer secret the edge sends)');

  const { input, source } = await readServiceInput(get, readText, problems);
  mergeSecrets(input, get, problems);

  let storage: StorageConfig | undefined;
  try {
    storage = loadStorageConfig(env);
    // Relative to the working directory, like `npm start`'s default (which seeds the samples there).
    if (storage.kind === 'fs' && !storage.dataDir) storage = { kind: 'fs', dataDir: '.data' };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  let config: ServiceConfig | undefined;
  try {
    config = loadServiceConfig(input);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }

  if (problems.length || !storage || !config) throw new ConfigError(problems);
  const wasmDir = get('WASM_DIR');
  return { mode, hostname, port, config, renderSecrets, storage, cacheMaxBytes, demoPage, configSource: source, ...(wasmDir ? { wasmDir } : {}) };
}

/** AVATAR_CONFIG_JSON (inline, handy on Deno Deploy) or AVATAR_CONFIG (a file path), not both. */
async function readServiceInput(
  get: (name: string) => string | undefined,
  readText: ReadText,
  problems: string[],
): Promise<{ input: ServiceInput; source: string }> {
  const inline = get('AVATAR_CONFIG_JSON');
  const path = get('AVATAR_CONFIG');
  if (inline && path) {
    problems.push('set AVATAR_CONFIG_JSON or AVATAR_CONFIG, not both');
    return { input: {}, source: 'none' };
  }
  let text: string;
  let source: string;
  if (inline) {
    text = inline;
    source = 'AVATAR_CONFIG_JSON';
  } else if (path) {
    source = `AVATAR_CONFIG=${path}`;
    try {
      text = await readText(path);
    } catch (e) {
      problems.push(`${source}: cannot read the file (${(e as Error).message})`);
      return { input: {}, source };
    }
  } else {
    return { input: {}, source: 'defaults (tenant demo)' };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return { input: parsed as ServiceInput, source };
  } catch (e) {
    // The message of a JSON syntax error quotes the text around it, which may hold keys: say where, not what.
    problems.push(`${inline ? 'AVATAR_CONFIG_JSON' : source}: not a JSON object (${e instanceof SyntaxError ? 'syntax error' : (e as Error).message})`);
    return { input: {}, source };
  }
}

/**
 * Secrets kept apart from the tenant config, so the config can be a plain file in the
 * deployment while the secrets live in Deno Deploy's environment variables:
 *   AVATAR_TENANT_KEYS  {"acme": {"k1": "<signing secret>"}}  merged into each tenant's keys
 *   ADMIN_TOKEN         one admin bearer token, recorded in the audit log as "env"
 *   ADMIN_TOKENS_JSON   {"alice": "<token>", ...}             several, named
 */
function mergeSecrets(input: ServiceInput, get: (name: string) => string | undefined, problems: string[]): void {
  const keysRaw = get('AVATAR_TENANT_KEYS');
  if (keysRaw) {
    const keys = parseObject('AVATAR_TENANT_KEYS', keysRaw, problems);
    if (keys) {
      const tenants = { ...(input.tenants ?? DEFAULT_TENANTS) };
      for (const [name, k] of Object.entries(keys)) {
        if (!tenants[name]) {
          problems.push(`AVATAR_TENANT_KEYS: no tenant '${name}' in the service config`);
          continue;
        }
        if (typeof k !== 'object' || k === null || Array.isArray(k)) {
          problems.push(`AVATAR_TENANT_KEYS: '${name}' must be an object of key id → secret`);
          continue;
        }
        const t = tenants[name]!;
        tenants[name] = { ...t, keys: { ...(t.keys ?? {}), ...(k as Record<string, string>) } };
      }
      input.tenants = tenants;
    }
  }

  const tokens: Record<string, string> = { ...(input.admin?.tokens ?? {}) };
  const single = get('ADMIN_TOKEN');
  if (single) tokens.env = single;
  const manyRaw = get('ADMIN_TOKENS_JSON');
  if (manyRaw) Object.assign(tokens, parseObject('ADMIN_TOKENS_JSON', manyRaw, problems) ?? {});
  if (single || manyRaw) input.admin = { ...input.admin, tokens };
}

function parseObject(name: string, raw: string, problems: string[]): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: never echo the value, it holds secrets
  }
  problems.push(`${name} must be a JSON object`);
  return undefined;
}
