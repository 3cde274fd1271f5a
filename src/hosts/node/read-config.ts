import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ServiceInput } from '../../core/config/service-config.js';

/** What `npm start` and `npm run sign` read when AVATAR_CONFIG is not set: tenants demo and secure. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../../config/local.json', import.meta.url));

export interface ConfigSource {
  input: ServiceInput;
  /** Where it came from, for the start-up log. */
  source: string;
}

/**
 * The local host's configuration: the JSON file at AVATAR_CONFIG (default config/local.json;
 * AVATAR_CONFIG='' means the embedded defaults), then AVATAR_TENANT_KEYS — a JSON object
 * `{ "<tenant>": { "<kid>": "<secret>" } }` that replaces those tenants' signing keys, so real
 * secrets can stay out of files. Validation is loadServiceConfig's job.
 */
export function readServiceInput(env: NodeJS.ProcessEnv = process.env): ConfigSource {
  const path = env.AVATAR_CONFIG ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : '');
  let input: ServiceInput = {};
  if (path) {
    try {
      input = JSON.parse(readFileSync(path, 'utf8')) as ServiceInput;
    } catch (e) {
      throw new ConfigError([`AVATAR_CONFIG=${path}: ${(e as Error).message}`]);
    }
  }
  const keys = env.AVATAR_TENANT_KEYS;
  if (keys) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(keys);
    } catch {
      // The value holds secrets: never echo it.
      throw new ConfigError(['AVATAR_TENANT_KEYS is not valid JSON (expected {"<tenant>": {"<kid>": "<secret>"}})']);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(['AVATAR_TENANT_KEYS must be a JSON object {"<tenant>": {"<kid>": "<secret>"}}']);
    }
    const tenants = { ...input.tenants };
    const problems: string[] = [];
    for (const [name, k] of Object.entries(parsed)) {
      if (!tenants[name]) problems.push(`AVATAR_TENANT_KEYS names tenant '${name}', which the configuration does not have`);
      else tenants[name] = { ...tenants[name], keys: k as Record<string, string> };
    }
    if (problems.length) throw new ConfigError(problems);
    input = { ...input, tenants };
  }
  return { input, source: path || 'embedded defaults' };
}
