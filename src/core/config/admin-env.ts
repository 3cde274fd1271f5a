import type { ServiceInput } from './service-config.js';

/**
 * ADMIN_TOKEN adds one admin token to the configured ones (id ADMIN_TOKEN_ID, default
 * 'admin'), so a deployment keeps the secret in its environment or secret store rather than
 * in a file. Validation (length, charset) stays loadServiceConfig's job.
 */
export function withAdminTokenFromEnv(input: ServiceInput, env: Readonly<Record<string, string | undefined>>): ServiceInput {
  const token = env.ADMIN_TOKEN;
  if (!token) return input;
  const id = env.ADMIN_TOKEN_ID || 'admin';
  return { ...input, admin: { ...input.admin, tokens: { ...input.admin?.tokens, [id]: token } } };
}
