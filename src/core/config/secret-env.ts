import { DEFAULT_TENANTS, type ServiceInput } from './service-config.js';

/**
 * Secrets kept apart from the tenant config (env variables, a Secret Store), merged into it the
 * same way on every host. Values hold secrets, so problems never echo them.
 */

/** A JSON object, or undefined with a problem recorded. */
export function parseJsonObject(name: string, raw: string, problems: string[]): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: never echo the value
  }
  problems.push(`${name} must be a JSON object`);
  return undefined;
}

/**
 * `{"<tenant>": {"<kid>": "<secret>"}}` REPLACES those tenants' signing keys: keys in a config
 * file (e.g. the published local-dev ones) must not stay valid once real ones are supplied.
 */
export function withTenantKeys(input: ServiceInput, varName: string, raw: string | undefined, problems: string[]): ServiceInput {
  if (!raw?.trim()) return input;
  const keys = parseJsonObject(varName, raw, problems);
  if (!keys) return input;
  const tenants = { ...(input.tenants ?? DEFAULT_TENANTS) };
  for (const [name, k] of Object.entries(keys)) {
    const t = tenants[name];
    if (!t) problems.push(`${varName}: no tenant '${name}' in the service config`);
    else if (typeof k !== 'object' || k === null || Array.isArray(k)) problems.push(`${varName}: '${name}' must be an object of key id → secret`);
    else tenants[name] = { ...t, keys: k as Record<string, string> };
  }
  return { ...input, tenants };
}

/**
 * Admin tokens added to the configured ones:
 *   ADMIN_TOKEN         one token, recorded in the audit log as "env"
 *   ADMIN_TOKENS_JSON   {"alice": "<token>", ...}, several, named
 * Validation (length, charset) stays loadServiceConfig's job.
 */
export function withAdminTokens(input: ServiceInput, single: string | undefined, many: string | undefined, problems: string[]): ServiceInput {
  if (!single?.trim() && !many?.trim()) return input;
  const tokens: Record<string, string> = { ...input.admin?.tokens };
  if (single?.trim()) tokens.env = single.trim();
  if (many?.trim()) Object.assign(tokens, parseJsonObject('ADMIN_TOKENS_JSON', many, problems) ?? {});
  return { ...input, admin: { ...input.admin, tokens } };
}
