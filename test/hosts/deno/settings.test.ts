import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/config/service-config.js';
import { DEFAULT_DENO_CACHE_BYTES, loadDenoSettings } from '../../../src/hosts/deno/settings.js';
import { RATE_LIMIT_DEFAULTS } from '../../../src/core/limits/rate-limits.js';

const SECRET = 'r'.repeat(32);
const files: Record<string, string> = {
  '/etc/avatar.json': JSON.stringify({ tenants: { acme: { breakpoints: [64, 128] } } }),
  '/etc/bad.json': '{"tenants": {"acme": {"keys": {"k1": "sup3r-secret-value-0123"}}',
};
const readText = async (path: string) => {
  const t = files[path];
  if (t === undefined) throw new Error('No such file or directory');
  return t;
};

async function problemsOf(env: Record<string, string>): Promise<string[]> {
  try {
    await loadDenoSettings(env, readText);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('Deno host settings', () => {
  it('runs with no environment at all: full mode, :8000, directory store, demo tenant', async () => {
    const s = await loadDenoSettings({}, readText);
    expect(s).toMatchObject({ mode: 'full', hostname: '0.0.0.0', port: 8000, renderSecrets: [], demoPage: false, storage: { kind: 'fs', dataDir: '.data' }, cacheMaxBytes: DEFAULT_DENO_CACHE_BYTES });
    expect([...s.config.tenants.keys()]).toEqual(['demo']);
  });

  it("reads the render scheduler's settings: threads default to one per core (at least one), budget, deadline and queue", async () => {
    const defaults = await loadDenoSettings({}, readText, 2);
    expect(defaults.render).toEqual({ threads: 2, memoryBytes: 224 * 1024 * 1024, timeoutMs: 5000, maxQueue: 8 });
    expect((await loadDenoSettings({}, readText, 1)).render.threads).toBe(1);
    expect((await loadDenoSettings({}, readText, 0)).render.threads).toBe(1);
    expect((await loadDenoSettings({}, readText, 8)).render.threads).toBe(8);
    // The budget comes from the config's limits.renderMemoryBytes unless RENDER_MEMORY_MB says otherwise.
    const configured = JSON.stringify({ limits: { renderMemoryBytes: 160 * 1024 * 1024 } });
    expect((await loadDenoSettings({ AVATAR_CONFIG_JSON: configured }, readText, 2)).render.memoryBytes).toBe(160 * 1024 * 1024);
    expect((await loadDenoSettings({ AVATAR_CONFIG_JSON: configured, RENDER_MEMORY_MB: '300' }, readText, 2)).render.memoryBytes).toBe(300 * 1024 * 1024);
    const set = await loadDenoSettings({ RENDER_THREADS: '0', RENDER_MEMORY_MB: '300', RENDER_MASTERS_MB: '0', RENDER_TIMEOUT_MS: '2500', RENDER_QUEUE: '3' }, readText, 2);
    expect(set.render).toEqual({ threads: 0, memoryBytes: 300 * 1024 * 1024, masterBytes: 0, timeoutMs: 2500, maxQueue: 3 });
    expect((await loadDenoSettings({ RENDER_MASTERS_MB: '48' }, readText, 2)).render.masterBytes).toBe(48 * 1024 * 1024);
    // Masters are part of the budget: never more than it.
    expect(await problemsOf({ RENDER_MEMORY_MB: '64', RENDER_MASTERS_MB: '65' })).toEqual([
      "RENDER_MASTERS_MB must be 0..64 (MiB of RENDER_MEMORY_MB that decoded masters may keep; 0 keeps none), got '65'",
    ]);
    const problems = await problemsOf({ RENDER_THREADS: 'many', RENDER_MEMORY_MB: '1', RENDER_TIMEOUT_MS: '-5', RENDER_QUEUE: '1.5' });
    expect(problems).toEqual([
      "RENDER_THREADS must be 0..64 (0 renders on the main thread), got 'many'",
      "RENDER_MEMORY_MB must be 16..65536 (MiB for decoded pixels in flight plus masters), got '1'",
      "RENDER_TIMEOUT_MS must be 1..600000 (milliseconds per render), got '-5'",
      "RENDER_QUEUE must be 0..10000 (renders waiting; more are answered 503), got '1.5'",
    ]);
  });

  it('reads the service config from a file or inline JSON, and secrets from their own variables', async () => {
    const fromFile = await loadDenoSettings({ AVATAR_CONFIG: '/etc/avatar.json', AVATAR_TENANT_KEYS: JSON.stringify({ acme: { k1: 'k'.repeat(16) } }) }, readText);
    expect(fromFile.config.tenants.get('acme')?.breakpoints).toEqual([64, 128]);
    expect(fromFile.config.tenants.get('acme')?.keys).toEqual({ k1: 'k'.repeat(16) });
    expect(fromFile.configSource).toBe('AVATAR_CONFIG=/etc/avatar.json');

    const inline = await loadDenoSettings(
      {
        AVATAR_CONFIG_JSON: files['/etc/avatar.json']!,
        DEMO_PAGE: 'yes',
        MODE: 'renderer',
        RENDER_SECRET: ` ${SECRET} , ${'s'.repeat(40)}`,
        ADMIN_TOKEN: 'a'.repeat(32),
        PORT: '0',
        HOST: '127.0.0.1',
      },
      readText,
    );
    expect(inline).toMatchObject({ demoPage: true, mode: 'renderer', port: 0, hostname: '127.0.0.1', renderSecrets: [SECRET, 's'.repeat(40)] });
    expect(inline.config.admin.tokens).toEqual({ env: 'a'.repeat(32) });
  });

  it('selects S3/R2 storage through the shared storage variables', async () => {
    const s = await loadDenoSettings({ STORAGE: 's3', S3_ENDPOINT: 'https://acc.r2.cloudflarestorage.com', S3_BUCKET: 'avatars', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' }, readText);
    expect(s.storage).toMatchObject({ kind: 's3', primary: { region: 'auto', bucket: 'avatars' } });
  });

  it('lists every problem at once and never echoes a secret', async () => {
    const problems = await problemsOf({
      MODE: 'edge',
      PORT: '70000',
      CACHE_MAX_BYTES: '12',
      RENDER_SECRET: 'short-render-secret',
      AVATAR_CONFIG: '/etc/bad.json',
      STORAGE: 's3',
      DEMO_PAGE: 'sometimes',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "MODE must be 'full' or 'renderer', got 'edge'",
        "PORT must be 0..65535, got '70000'",
        "CACHE_MAX_BYTES must be an integer of at least 1048576 (1 MiB), got '12'",
        'RENDER_SECRET: secret #1 must be 32-512 printable characters without spaces or commas',
        'AVATAR_CONFIG=/etc/bad.json: not a JSON object (syntax error)',
        "DEMO_PAGE must be true or false, got 'sometimes'",
      ]),
    );
    expect(problems.some((p) => p.startsWith('S3_BUCKET'))).toBe(true);
    expect(problems.join('\n')).not.toMatch(/short-render-secret|sup3r/);
  });

  it('refuses renderer mode without a secret, two config sources, keys for unknown tenants, missing files', async () => {
    expect(await problemsOf({ MODE: 'renderer' })).toEqual(['MODE=renderer needs RENDER_SECRET (the bearer secret the edge sends)']);
    expect(await problemsOf({ AVATAR_CONFIG: '/etc/avatar.json', AVATAR_CONFIG_JSON: '{}' })).toEqual(['set AVATAR_CONFIG_JSON or AVATAR_CONFIG, not both']);
    expect(await problemsOf({ AVATAR_TENANT_KEYS: '{"nobody": {}}' })).toEqual(["AVATAR_TENANT_KEYS: no tenant 'nobody' in the service config"]);
    expect(await problemsOf({ AVATAR_CONFIG: '/missing.json' })).toEqual(['AVATAR_CONFIG=/missing.json: cannot read the file (No such file or directory)']);
    expect(await problemsOf({ ADMIN_TOKENS_JSON: '["x"]' })).toEqual(['ADMIN_TOKENS_JSON must be a JSON object']);
  });

  it('reads RATE_LIMITS_JSON as the Fastly host does: the defaults when unset, every problem listed', async () => {
    const s = await loadDenoSettings({ RATE_LIMITS_JSON: '{"rendersPerMinute": 30, "tenants": {"demo": {"clientRps": 0}}}' }, readText);
    expect(s.rateLimits.defaults.rendersPerMinute).toBe(30);
    expect(s.rateLimits.tenants.get('demo')).toMatchObject({ clientRps: 0, rendersPerMinute: 30 });
    expect((await loadDenoSettings({}, readText)).rateLimits.defaults).toEqual(RATE_LIMIT_DEFAULTS);
    expect(await problemsOf({ RATE_LIMITS_JSON: '{"clientWindow": 5}' })).toEqual(['RATE_LIMITS_JSON.clientWindow must be 1, 10 or 60 (seconds), got 5']);
  });
});
