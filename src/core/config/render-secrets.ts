import { ConfigError } from './service-config.js';
import { isSecretShaped, MIN_TOKEN_LENGTH, secretShapeText } from './secret-shape.js';

/** The render secret's floor, the same as admin tokens'. */
export const MIN_RENDER_SECRET_LENGTH = MIN_TOKEN_LENGTH;

/**
 * What is wrong with a list of render secrets (the bearer secrets an edge sends to
 * /_render/*): none at all, or one not of the secret shape or holding a comma (the separator
 * of `RENDER_SECRET`). Never echoes a secret, not even in a config error.
 */
export function renderSecretProblems(secrets: readonly string[]): string[] {
  if (secrets.length === 0) return ['RENDER_SECRET: at least one secret is needed for the render route'];
  return secrets.flatMap((s, i) =>
    isSecretShaped(s, MIN_RENDER_SECRET_LENGTH) && !s.includes(',') ? [] : [`RENDER_SECRET: secret #${i + 1} must be ${secretShapeText(MIN_RENDER_SECRET_LENGTH)} or commas`],
  );
}

/**
 * `RENDER_SECRET` as hosts read it from the environment: one secret, or several separated by
 * commas while one rotates (`new,old`). Unset or empty: no render route. Throws ConfigError.
 */
export function parseRenderSecrets(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const secrets = raw.split(',').map((s) => s.trim());
  const problems = renderSecretProblems(secrets);
  if (problems.length) throw new ConfigError(problems);
  return secrets;
}
