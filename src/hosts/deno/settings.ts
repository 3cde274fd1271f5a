/**
 * Everything the Deno host reads from its environment, validated at once (every problem listed),
 * without touching `Deno`: main.ts hands in the env record and a file reader, so this file is
 * tested under vitest like the rest of the core. docs/deno.md lists the variables.
 */
import { withAdminTokens, withTenantKeys } from '../../core/config/secret-env.js';
import { collectProblems, ConfigError, loadServiceConfig, type ServiceConfig, type ServiceInput } from '../../core/config/service-config.js';
import { renderSecretProblems } from '../../core/config/render-secrets.js';
import { parseRateLimits, type RateLimits } from '../../core/limits/rate-limits.js';
import { readSchedulerSettings, type SchedulerSettings } from '../../render/scheduler/settings.js';
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
  /** RENDER_THREADS, RENDER_MEMORY_MB (else limits.renderMemoryBytes), RENDER_TIMEOUT_MS, RENDER_QUEUE (render/scheduler/settings.ts). */
  render: SchedulerSettings;
  /** RATE_LIMITS_JSON (absent: the defaults): per client IP and per tenant renders, per isolate (core/limits/rate-limits.ts). */
  rateLimits: RateLimits;
}

/**
 * 64 MiB: Deno Deploy gives an isolate 512 MB, and one large render can peak at ~350 MB of
 * WebAssembly memory; the CDN in front holds the long tail anyway.
 */
export const DEFAULT_DENO_CACHE_BYTES = 64 * 1024 * 1024;
/** Deno's own default port, so `deno run` and Deno Deploy's local emulation agree. */
export const DEFAULT_DENO_PORT = 8000;

export type ReadText = (path: string) => Promise<string>;

/** `cores` (main.ts passes navigator.hardwareConcurrency): the default is one render thread per core, as on the Node host. */
export async function loadDenoSettings(env: EnvRecord, readText: ReadText, cores = 1): Promise<DenoSettings> {
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

  const read = await readServiceInput(get, readText, problems);
  const source = read.source;
  // Secrets stay in Deno Deploy's environment; the config can be a plain file.
  const input = withAdminTokens(withTenantKeys(read.input, 'AVATAR_TENANT_KEYS', get('AVATAR_TENANT_KEYS'), problems), get('ADMIN_TOKEN'), get('ADMIN_TOKENS_JSON'), problems);

  let storage: StorageConfig | undefined;
  try {
    storage = loadStorageConfig(env);
    // Relative to the working directory, like `npm start`'s default (which seeds the samples there).
    if (storage.kind === 'fs' && !storage.dataDir) storage = { kind: 'fs', dataDir: '.data' };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  const config = collectProblems(problems, () => loadServiceConfig(input));
  // RENDER_MEMORY_MB overrides the config's limits.renderMemoryBytes.
  // One worker per core, as on the Node host: on 2 cores the second worker gives first touch
  // ~1.5× the requests/s for ~70 MB more at the peak (docs/deno.md, "Rendering").
  const render = readSchedulerSettings(env, Math.max(1, cores), problems, config?.limits.renderMemoryBytes);

  const rateLimits = parseRateLimits(get('RATE_LIMITS_JSON'), problems);

  if (problems.length || !storage || !config) throw new ConfigError(problems);
  const wasmDir = get('WASM_DIR');
  return { mode, hostname, port, config, renderSecrets, storage, cacheMaxBytes, demoPage, configSource: source, render, rateLimits, ...(wasmDir ? { wasmDir } : {}) };
}

/** AVATAR_CONFIG_JSON (inline, handy on Deno Deploy) or AVATAR_CONFIG (a file path), not both. */
async function readServiceInput(get: (name: string) => string | undefined, readText: ReadText, problems: string[]): Promise<{ input: ServiceInput; source: string }> {
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
