import { withAdminTokens } from './secret-env.js';
import { ConfigError, type ServiceInput } from './service-config.js';

/** Admin tokens from the environment (ADMIN_TOKEN, ADMIN_TOKENS_JSON), added to the configured ones. */
export function withAdminTokenFromEnv(input: ServiceInput, env: Readonly<Record<string, string | undefined>>): ServiceInput {
  const problems: string[] = [];
  const out = withAdminTokens(input, env.ADMIN_TOKEN, env.ADMIN_TOKENS_JSON, problems);
  if (problems.length) throw new ConfigError(problems);
  return out;
}
