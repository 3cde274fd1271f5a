import { existsSync, readFileSync } from 'node:fs';
import { withTenantKeys } from '../../core/config/secret-env.js';
import { ConfigError, type ServiceInput } from '../../core/config/service-config.js';
import { REPO_ROOT } from './repo-root.js';

/** What `npm start` and `npm run sign` read when AVATAR_CONFIG is not set: tenants demo and secure. */
export const DEFAULT_CONFIG_PATH = `${REPO_ROOT}config/local.json`;

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
  const problems: string[] = [];
  input = withTenantKeys(input, 'AVATAR_TENANT_KEYS', env.AVATAR_TENANT_KEYS, problems);
  if (problems.length) throw new ConfigError(problems);
  return { input, source: path || 'embedded defaults' };
}
