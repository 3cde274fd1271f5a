import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/core/config/service-config.js';
import type { ObjectStore } from '../../src/core/ports.js';
import { createNodeStore } from '../../src/hosts/node/node-store.js';
import { describeStorage, type EnvRecord } from '../../src/storage/config.js';

export const STORE_SPEC_HELP = `A store is named the way the service is configured (docs/storage.md):
  env:PREFIX_     the variables PREFIX_STORAGE, PREFIX_S3_ENDPOINT, PREFIX_S3_BUCKET, ... (PREFIX_ stripped)
  PREFIX_         the same (a value ending in "_")
  env:            the service's own variables (STORAGE, S3_*, DATA_DIR), as npm start reads them
  fs:DIR          a directory store at DIR
  FILE.json       a JSON object of those variables, e.g. {"STORAGE":"s3","S3_BUCKET":"avatars",...}`;

/** The variables a spec stands for, as loadStorageConfig reads them. */
export function storageEnvFromSpec(spec: string, env: EnvRecord): EnvRecord {
  if (spec.startsWith('fs:')) {
    const dir = spec.slice(3);
    if (!dir) throw new ConfigError(['fs: needs a directory, e.g. fs:.data']);
    return { STORAGE: 'fs', DATA_DIR: dir };
  }
  if (spec.endsWith('.json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(spec, 'utf8'));
    } catch (e) {
      throw new ConfigError([`${spec}: ${(e as Error).message.split('\n')[0]}`]);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
      throw new ConfigError([`${spec} must be a JSON object of variable names to string values`]);
    }
    return parsed as EnvRecord;
  }
  const prefix = spec.startsWith('env:') ? spec.slice(4) : spec;
  if (!spec.startsWith('env:') && !prefix.endsWith('_')) {
    throw new ConfigError([`'${spec}' is not a store: use env:PREFIX_, PREFIX_, env:, fs:DIR or FILE.json`]);
  }
  if (!prefix) return env;
  const out: EnvRecord = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  if (!out.STORAGE && !out.S3_BUCKET && !out.DATA_DIR) {
    throw new ConfigError([`no ${prefix}STORAGE, ${prefix}S3_BUCKET or ${prefix}DATA_DIR variable is set for '${spec}'`]);
  }
  // PREFIX_S3_BUCKET alone means a bucket: falling back to the service's default (a local
  // directory) would quietly migrate into .data instead.
  if (!out.STORAGE && Object.keys(out).some((k) => k.startsWith('S3_'))) out.STORAGE = 's3';
  return out;
}

/** The store a spec names, and a one-line description of it (never credentials). */
export function storeFromSpec(spec: string, env: EnvRecord): { store: ObjectStore; description: string } {
  const { store, config } = createNodeStore(storageEnvFromSpec(spec, env));
  return { store, description: describeStorage(config) };
}
