import { ConfigError } from '../core/config/service-config.js';
import { DEFAULT_S3_TIMEOUT_MS, type S3Config, type S3Field, s3ConfigProblems } from './s3-store.js';
import { isR2Host } from './s3-url.js';

/**
 * Storage configuration from an env-like record (Node's or Deno's environment, or a
 * record a Fastly host builds from its Config and Secret Stores). Defaults live here;
 * every problem is reported at once.
 *
 *   STORAGE                 fs (default) | s3
 *   DATA_DIR                fs: the directory (unset: the host's default, `.data` in the repo)
 *   S3_ENDPOINT             https://<ACCOUNT_ID>.r2.cloudflarestorage.com, http://127.0.0.1:9000...
 *                           (unset: AWS, https://s3.<S3_REGION>.amazonaws.com)
 *   S3_REGION               auto for R2 endpoints, else us-east-1 (falls back to AWS_REGION)
 *   S3_BUCKET               required
 *   S3_ACCESS_KEY_ID        required (falls back to AWS_ACCESS_KEY_ID)
 *   S3_SECRET_ACCESS_KEY    required (falls back to AWS_SECRET_ACCESS_KEY)
 *   S3_SESSION_TOKEN        optional (falls back to AWS_SESSION_TOKEN)
 *   S3_FORCE_PATH_STYLE     true | false (unset: true for R2, IP and localhost endpoints; false for AWS)
 *   S3_TIMEOUT_MS           per request, body included (default 5000)
 *   S3_SECONDARY_*          the same names for an optional failover store; setting
 *                           S3_SECONDARY_ENDPOINT or S3_SECONDARY_BUCKET enables it
 */

export type StorageConfig = { kind: 'fs'; dataDir?: string } | { kind: 's3'; primary: S3Config; secondary?: S3Config };

export type EnvRecord = Record<string, string | undefined>;

const ENV_NAMES: Record<S3Field, string> = {
  endpoint: 'ENDPOINT',
  region: 'REGION',
  bucket: 'BUCKET',
  accessKeyId: 'ACCESS_KEY_ID',
  secretAccessKey: 'SECRET_ACCESS_KEY',
  forcePathStyle: 'FORCE_PATH_STYLE',
  timeoutMs: 'TIMEOUT_MS',
};

const AWS_FALLBACKS = new Set(['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY', 'SESSION_TOKEN', 'REGION']);

export function loadStorageConfig(env: EnvRecord): StorageConfig {
  const problems: string[] = [];
  const kind = (env.STORAGE ?? 'fs').trim().toLowerCase();
  let cfg: StorageConfig | undefined;
  if (kind === 'fs') {
    const dataDir = env.DATA_DIR?.trim();
    cfg = dataDir ? { kind: 'fs', dataDir } : { kind: 'fs' };
  } else if (kind === 's3') {
    const primary = readS3(env, 'S3_', problems, true);
    const wantsSecondary = !!(env.S3_SECONDARY_ENDPOINT || env.S3_SECONDARY_BUCKET);
    const secondary = wantsSecondary ? readS3(env, 'S3_SECONDARY_', problems, false) : undefined;
    if (primary && secondary && primary.endpoint === secondary.endpoint && primary.bucket === secondary.bucket) {
      problems.push('S3_SECONDARY_* names the same bucket as S3_*: failover to itself would not help');
    }
    if (primary) cfg = secondary ? { kind: 's3', primary, secondary } : { kind: 's3', primary };
  } else {
    problems.push(`STORAGE must be 'fs' or 's3', got '${env.STORAGE}'`);
  }
  if (problems.length || !cfg) throw new ConfigError(problems);
  return cfg;
}

function readS3(env: EnvRecord, p: string, problems: string[], awsFallback: boolean): S3Config | undefined {
  // The standard AWS_* variables stand in for the primary's credentials and region, as every AWS tool reads them.
  const get = (name: string): string | undefined => {
    const v = env[p + name]?.trim() || (awsFallback && AWS_FALLBACKS.has(name) ? env[`AWS_${name}`]?.trim() : undefined);
    return v ? v : undefined;
  };
  const before = problems.length;
  const endpointIn = get('ENDPOINT');
  const region = get('REGION') ?? (endpointIn && isR2(endpointIn) ? 'auto' : 'us-east-1');
  if (!endpointIn && region === 'auto') problems.push(`${p}ENDPOINT is required with region 'auto' (R2: https://<ACCOUNT_ID>.r2.cloudflarestorage.com)`);
  const endpoint = endpointIn ?? `https://s3.${region}.amazonaws.com`;

  const cfg: S3Config = {
    endpoint,
    region,
    bucket: get('BUCKET') ?? '',
    accessKeyId: get('ACCESS_KEY_ID') ?? '',
    secretAccessKey: get('SECRET_ACCESS_KEY') ?? '',
    timeoutMs: DEFAULT_S3_TIMEOUT_MS,
  };
  const token = get('SESSION_TOKEN');
  if (token) cfg.sessionToken = token;

  const pathStyle = get('FORCE_PATH_STYLE');
  if (pathStyle !== undefined) {
    const b = parseBool(pathStyle);
    if (b === undefined) problems.push(`${p}FORCE_PATH_STYLE must be true or false, got '${pathStyle}'`);
    else cfg.forcePathStyle = b;
  }
  const timeout = get('TIMEOUT_MS');
  if (timeout !== undefined) {
    const n = Number(timeout);
    if (!/^\d+$/.test(timeout) || n < 1 || n > 120_000) problems.push(`${p}TIMEOUT_MS must be 1..120000 (ms), got '${timeout}'`);
    else cfg.timeoutMs = n;
  }
  // Same checks as createS3Store, named after the variables a user actually sets.
  problems.push(...s3ConfigProblems(cfg, (f) => p + ENV_NAMES[f]));
  return problems.length === before ? cfg : undefined;
}

function isR2(endpoint: string): boolean {
  try {
    return isR2Host(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

function parseBool(v: string): boolean | undefined {
  const s = v.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return undefined;
}

/** One line for start-up logs: where objects live, never credentials. */
export function describeStorage(cfg: StorageConfig): string {
  if (cfg.kind === 'fs') return `directory ${cfg.dataDir ?? '(host default)'}`;
  const one = (c: S3Config) => `s3 ${c.endpoint} bucket ${c.bucket} (region ${c.region})`;
  return cfg.secondary ? `${one(cfg.primary)}, failing over to ${one(cfg.secondary)}` : one(cfg.primary);
}
