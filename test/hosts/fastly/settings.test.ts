import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/config/service-config.js';
import { loadAdminTokens, loadEdgeSettings, loadEdgeStorage, type SettingsSource } from '../../../src/hosts/fastly/settings.js';

const SECRET = 'unit-test-render-secret-0123456789abcdef';

function source(config: Record<string, string>, secrets: Record<string, string> = {}): SettingsSource {
  return { config: (n) => config[n], secret: async (n) => secrets[n] };
}

async function problems(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('Fastly settings (Config Store + Secret Store)', () => {
  it('fills defaults: renderer backend, no shield, renderer mode', async () => {
    const s = await loadEdgeSettings(
      source({ AVATAR_CONFIG_JSON: '{"tenants":{"acme":{"requireSignature":true}}}' }, { RENDER_SECRET: SECRET, TENANT_KEYS_JSON: '{"acme":{"k1":"0123456789abcdef0"}}' }),
    );
    expect(s).toMatchObject({ rendererBackend: 'renderer', renderMode: 'renderer', renderSecrets: [SECRET], storeBackend: 'store' });
    expect(s.shieldPop).toBeUndefined();
    expect(s.config.tenants.get('acme')!.keys).toEqual({ k1: '0123456789abcdef0' });
    expect(s.backendRequestLimit).toBe(10);
  });

  it('reads BACKEND_REQUEST_LIMIT (32 on paid accounts) and refuses nonsense', async () => {
    const base = { AVATAR_CONFIG_JSON: '{"tenants":{"demo":{}}}' };
    expect((await loadEdgeSettings(source({ ...base, BACKEND_REQUEST_LIMIT: '32' }, { RENDER_SECRET: SECRET }))).backendRequestLimit).toBe(32);
    for (const bad of ['0', '1', '2.5', 'ten', '5000']) {
      expect(await problems(loadEdgeSettings(source({ ...base, BACKEND_REQUEST_LIMIT: bad }, { RENDER_SECRET: SECRET })))).toEqual([
        expect.stringMatching(/^BACKEND_REQUEST_LIMIT must be an integer from 2 to 1000/),
      ]);
    }
  });

  it('lists every problem at once and never echoes secret values', async () => {
    const found = await problems(
      loadEdgeSettings(
        source({ SHIELD_POP: 'Nowhere!', RENDER_MODE: 'magic', AVATAR_CONFIG_JSON: '{"tenants":{"acme":{"formats":["gif"]}}}' }, { TENANT_KEYS_JSON: '{"ghost":{"k":"super-secret-value"}}' }),
      ),
    );
    expect(found.join('\n')).not.toContain('super-secret-value');
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('SHIELD_POP'),
        expect.stringContaining('RENDER_MODE'),
        expect.stringContaining('RENDER_SECRET'),
        expect.stringContaining("no tenant 'ghost'"),
        expect.stringContaining("tenant 'acme'"),
      ]),
    );
  });

  it('image-optimizer mode needs a region', async () => {
    expect(await problems(loadEdgeSettings(source({ RENDER_MODE: 'image-optimizer' })))).toEqual([expect.stringContaining('IMAGE_OPTIMIZER_REGION')]);
  });

  it('reads the bucket only with STORAGE=s3, credentials from the Secret Store', async () => {
    expect(await loadEdgeStorage(source({}))).toBeNull();
    const cfg = await loadEdgeStorage(source({ STORAGE: 's3', S3_ENDPOINT: 'https://acc.r2.cloudflarestorage.com', S3_BUCKET: 'avatars' }, { S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' }));
    expect(cfg?.primary).toMatchObject({ region: 'auto', bucket: 'avatars', accessKeyId: 'id', secretAccessKey: 'secret' });
    expect(await problems(loadEdgeStorage(source({ STORAGE: 's3', S3_BUCKET: 'avatars' })))).toEqual(expect.arrayContaining([expect.stringContaining('S3_ACCESS_KEY_ID')]));
  });

  it('admin tokens: ADMIN_TOKEN is "env", ADMIN_TOKENS_JSON names several', async () => {
    const t = await loadAdminTokens(source({}, { ADMIN_TOKEN: 'a'.repeat(32), ADMIN_TOKENS_JSON: JSON.stringify({ alice: 'b'.repeat(32) }) }));
    expect(t).toEqual({ env: 'a'.repeat(32), alice: 'b'.repeat(32) });
  });
});
