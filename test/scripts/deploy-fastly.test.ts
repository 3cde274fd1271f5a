import { afterEach, describe, expect, it } from 'vitest';
import { runDeploy } from '../../scripts/fastly-deploy/run.js';
import { startFakeFastlyConfigApi } from './fake-fastly-config-api.js';

const TOKEN = 'deploy-test-token';
const SERVICE = 'SVC123';
const RENDER_SECRET = 'deploy-test-render-secret-0123456789abcdef';

let api: Awaited<ReturnType<typeof startFakeFastlyConfigApi>> | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    FASTLY_API_TOKEN: TOKEN,
    FASTLY_SERVICE_ID: SERVICE,
    FASTLY_API_BASE: api!.url,
    FASTLY_RENDERER_HOST: 'avatar-renderer.deno.dev',
    FASTLY_DOMAIN: 'img.example.com',
    AVATAR_CONFIG_JSON: '{"tenants":{"demo":{}}}',
    SHIELD_POP: 'iad-va-us',
    RENDER_SECRET,
    TENANT_KEYS_JSON: '{}',
    ADMIN_TOKEN: 'deploy-test-admin-token-0123456789abcdef',
    STORAGE: 's3',
    S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com',
    S3_REGION: 'eu-west-1',
    S3_BUCKET: 'avatars',
    S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    S3_SECRET_ACCESS_KEY: 'secret/with+chars=',
    ...extra,
  };
}

async function deploy(e: Record<string, string>) {
  const out: string[] = [];
  const code = await runDeploy(e, (l) => out.push(l));
  return { code, out };
}

const writes = () => api!.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`);

describe('npm run deploy:fastly against a loopback fake of the Fastly API', () => {
  it('creates stores, entries, secrets, backends, links and the domain on a clone of the active version, without a prompt', async () => {
    api = await startFakeFastlyConfigApi({ token: TOKEN, serviceId: SERVICE });
    const { code, out } = await deploy(env());
    expect(code, out.join('\n')).toBe(0);
    const [cfg] = api.state.configStores;
    const [sec] = api.state.secretStores;
    expect(cfg!.name).toBe('avatar_edge_config');
    expect(Object.fromEntries(cfg!.items)).toEqual({
      AVATAR_CONFIG_JSON: '{"tenants":{"demo":{}}}',
      SHIELD_POP: 'iad-va-us',
      STORAGE: 's3',
      S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com',
      S3_REGION: 'eu-west-1',
      S3_BUCKET: 'avatars',
    });
    expect(sec!.name).toBe('avatar_edge_secrets');
    // Stored decoded by the fake: the script sent them base64-encoded, byte for byte.
    expect(sec!.secrets.get('S3_SECRET_ACCESS_KEY')).toBe('secret/with+chars=');
    expect([...sec!.secrets.keys()].sort()).toEqual(['ADMIN_TOKEN', 'RENDER_SECRET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'TENANT_KEYS_JSON']);

    const v2 = api.state.versions.find((v) => v.number === 2)!;
    expect([v2.active, api.state.versions[0]!.backends]).toEqual([false, []]);
    expect(v2.backends).toEqual([
      {
        name: 'renderer',
        address: 'avatar-renderer.deno.dev',
        port: 443,
        use_ssl: true,
        ssl_cert_hostname: 'avatar-renderer.deno.dev',
        ssl_sni_hostname: 'avatar-renderer.deno.dev',
        override_host: 'avatar-renderer.deno.dev',
        connect_timeout: 1000,
        first_byte_timeout: 20000,
        between_bytes_timeout: 10000,
      },
      // The bucket backend is the host the store signs (virtual-hosted AWS), so Host and signature agree.
      {
        name: 'store',
        address: 'avatars.s3.eu-west-1.amazonaws.com',
        port: 443,
        use_ssl: true,
        ssl_cert_hostname: 'avatars.s3.eu-west-1.amazonaws.com',
        ssl_sni_hostname: 'avatars.s3.eu-west-1.amazonaws.com',
        override_host: 'avatars.s3.eu-west-1.amazonaws.com',
        connect_timeout: 1000,
        first_byte_timeout: 5000,
        between_bytes_timeout: 10000,
      },
    ]);
    expect(v2.resources.map((r) => [r.name, r.resource_id])).toEqual([
      ['avatar_edge_config', cfg!.id],
      ['avatar_edge_secrets', sec!.id],
    ]);
    expect(v2.domains).toEqual([{ name: 'img.example.com' }]);
    expect(out.at(-1)).toBe(`version 2 is ready: npx fastly compute deploy --service-id ${SERVICE} --version latest --non-interactive`);
    expect(api.calls.every((c) => !JSON.stringify(c.body ?? {}).includes(RENDER_SECRET))).toBe(true);
  });

  it('is idempotent: a second run writes only the secrets; after activation a change goes to a new clone', async () => {
    api = await startFakeFastlyConfigApi({ token: TOKEN, serviceId: SERVICE });
    await deploy(env());
    const mark = api.calls.length;
    const again = await deploy(env());
    expect(again.code).toBe(0);
    expect(
      api.calls
        .slice(mark)
        .filter((c) => c.method !== 'GET')
        .map((c) => `${c.method} ${c.path}`),
    ).toEqual(Array(5).fill(`PUT /resources/stores/secret/${api.state.secretStores[0]!.id}/secrets`));
    expect(again.out.at(-1)).toBe('backends, links and domains unchanged (version 2)');
    expect(api.state.versions).toHaveLength(2);

    api.activate(2); // what `fastly compute deploy --version latest` does
    const moved = await deploy(env({ FASTLY_RENDERER_HOST: 'renderer-2.example.com', SHIELD_POP: 'lcy-london-uk' }));
    expect(moved.code, moved.out.join('\n')).toBe(0);
    expect(moved.out.filter((l) => !l.startsWith('put secret'))).toEqual([
      'updated config entry SHIELD_POP',
      'cloned version 2 → 3',
      'updated backend renderer → renderer-2.example.com:443 (version 3)',
      `version 3 is ready: npx fastly compute deploy --service-id ${SERVICE} --version latest --non-interactive`,
    ]);
    expect(api.state.versions.find((v) => v.number === 3)!.backends[0]).toMatchObject({ address: 'renderer-2.example.com', override_host: 'renderer-2.example.com' });
  });

  it('refuses before sending anything: invalid config, a store host that disagrees with the signature, missing settings', async () => {
    api = await startFakeFastlyConfigApi({ token: TOKEN, serviceId: SERVICE });
    const bad = await deploy(env({ AVATAR_CONFIG_JSON: '{not json', FASTLY_STORE_HOST: 's3.eu-west-1.amazonaws.com', RATE_LIMITS_JSON: '{"clientWindow":5}' }));
    expect(bad.code).toBe(1);
    const text = bad.out.join('\n');
    expect(text).toMatch(/^deploy refused, nothing was sent:/);
    expect(text).toMatch(/AVATAR_CONFIG_JSON/);
    expect(text).toContain('RATE_LIMITS_JSON.clientWindow must be 1, 10 or 60 (seconds), got 5');
    expect(text).toContain(
      "FASTLY_STORE_HOST: backend 'store' sends Host 's3.eu-west-1.amazonaws.com' but S3_ENDPOINT/S3_BUCKET sign virtual-hosted requests for 'avatars.s3.eu-west-1.amazonaws.com'",
    );
    const missing = await deploy({ FASTLY_API_BASE: api.url, RENDER_SECRET });
    expect(missing.out.join('\n')).toMatch(/FASTLY_SERVICE_ID is required[\s\S]*FASTLY_API_TOKEN is required[\s\S]*FASTLY_RENDERER_HOST is required/);
    expect(api.calls).toEqual([]);
    // Path-style with the regional host is the other way for them to agree.
    const ok = await deploy(env({ FASTLY_STORE_HOST: 's3.eu-west-1.amazonaws.com', S3_FORCE_PATH_STYLE: 'true' }));
    expect(ok.code, ok.out.join('\n')).toBe(0);
  });

  it('reports Fastly API errors with their message, without the token', async () => {
    api = await startFakeFastlyConfigApi({ token: TOKEN, serviceId: SERVICE });
    const r = await deploy(env({ FASTLY_API_TOKEN: 'wrong-token-value' }));
    expect(r.code).toBe(1);
    expect(r.out).toEqual(['deploy failed: Fastly API GET /resources/stores/config answered 401: Provided credentials are missing or invalid']);
    expect(writes()).toEqual([]);
  });
});
