import { ConfigError, type ServiceInput } from './service-config.js';

/**
 * Admin tokens from the environment, added to the configured ones, so a deployment keeps its
 * secrets in env or a secret store rather than in a file (same names as the Deno host):
 *   ADMIN_TOKEN         one token, recorded in the audit log as "env"
 *   ADMIN_TOKENS_JSON   {"alice": "<token>", ...}, several, named
 * Validation (length, charset) stays loadServiceConfig's job.
 */
export function withAdminTokenFromEnv(input: ServiceInput, env: Readonly<Record<string, string | undefined>>): ServiceInput {
  const tokens: Record<string, string> = { ...input.admin?.tokens };
  if (env.ADMIN_TOKEN) tokens.env = env.ADMIN_TOKEN;
  if (env.ADMIN_TOKENS_JSON) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.ADMIN_TOKENS_JSON);
    } catch {
      parsed = null;
    }
    // The value holds secrets: never echo it.
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(['ADMIN_TOKENS_JSON must be a JSON object {"<id>": "<token>"}']);
    Object.assign(tokens, parsed);
  }
  if (!env.ADMIN_TOKEN && !env.ADMIN_TOKENS_JSON) return input;
  return { ...input, admin: { ...input.admin, tokens } };
}
