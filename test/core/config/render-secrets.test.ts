import { describe, expect, it } from 'vitest';
import { parseRenderSecrets, renderSecretProblems } from '../../../src/core/config/render-secrets.js';
import { ConfigError } from '../../../src/core/config/service-config.js';

const SECRET = 'render-secret-0123456789abcdef0123456789';
const OLD = 'old-render-secret-0123456789abcdef01234567';

describe('render secrets', () => {
  it('reads RENDER_SECRET from the environment: one, or several comma-separated; never echoes them', () => {
    expect(parseRenderSecrets(undefined)).toEqual([]);
    expect(parseRenderSecrets(' ')).toEqual([]);
    expect(parseRenderSecrets(SECRET)).toEqual([SECRET]);
    expect(parseRenderSecrets(`${SECRET}, ${OLD}`)).toEqual([SECRET, OLD]);
    let err: unknown;
    try {
      parseRenderSecrets(`${SECRET},too-short-secret`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['RENDER_SECRET: secret #2 must be 32-512 printable characters without spaces or commas']);
    expect((err as Error).message).not.toContain('too-short');
  });

  it('needs at least one secret, each of the secret shape and without a comma', () => {
    expect(renderSecretProblems([])).toEqual(['RENDER_SECRET: at least one secret is needed for the render route']);
    expect(renderSecretProblems([SECRET, OLD])).toEqual([]);
    const withComma = `${SECRET.slice(0, 20)},${SECRET.slice(20)}`;
    const withSpace = `${SECRET.slice(0, 20)} ${SECRET.slice(20)}`;
    expect(renderSecretProblems([withComma, withSpace, 'x'.repeat(513), 'x'.repeat(512)])).toEqual([
      'RENDER_SECRET: secret #1 must be 32-512 printable characters without spaces or commas',
      'RENDER_SECRET: secret #2 must be 32-512 printable characters without spaces or commas',
      'RENDER_SECRET: secret #3 must be 32-512 printable characters without spaces or commas',
    ]);
  });
});
