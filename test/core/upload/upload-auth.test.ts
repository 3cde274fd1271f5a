import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from '../../../src/core/config/service-config.js';
import { uploaderOf } from '../../../src/core/upload/upload-auth.js';

const TENANT = { app: 'tenant-upload-token-0123456789abcdef', old: 'tenant-upload-token-previous-0123456789' };
const ADMIN = { ops: 'admin-token-0123456789abcdef-0123456789' };

describe('upload tokens', () => {
  it("accept the tenant's tokens (several, for rotation) and admin tokens, naming which", async () => {
    expect(await uploaderOf(`Bearer ${TENANT.app}`, TENANT, ADMIN)).toEqual({ kind: 'upload', id: 'app' });
    expect(await uploaderOf(`Bearer ${TENANT.old}`, TENANT, ADMIN)).toEqual({ kind: 'upload', id: 'old' });
    expect(await uploaderOf(`Bearer ${ADMIN.ops}`, TENANT, ADMIN)).toEqual({ kind: 'admin', id: 'ops' });
    expect(await uploaderOf(`Bearer ${ADMIN.ops}`, {}, ADMIN)).toEqual({ kind: 'admin', id: 'ops' });
  });

  it('refuse everything else', async () => {
    for (const h of [null, '', 'Bearer ', `bearer ${TENANT.app}`, `Basic ${TENANT.app}`, `Bearer ${TENANT.app.slice(0, -1)}`, `Bearer ${TENANT.app} `, 'Bearer app']) {
      expect(await uploaderOf(h, TENANT, ADMIN)).toBeNull();
    }
    expect(await uploaderOf(`Bearer ${TENANT.app}`, {}, {})).toBeNull();
  });

  it('are validated with the tenant config: id charset, 32+ printable characters, never echoed', () => {
    const load = (uploadTokens: unknown) => () => loadServiceConfig({ tenants: { demo: { uploadTokens } as never } });
    expect(load({ app: TENANT.app })().tenants.get('demo')!.uploadTokens).toEqual({ app: TENANT.app });
    expect(loadServiceConfig({ tenants: { demo: {} } }).tenants.get('demo')!.uploadTokens).toEqual({});
    const err = (() => {
      try {
        load({ 'bad id': TENANT.app, short: 'too-short-secret', spaced: 'x'.repeat(20) + ' ' + 'y'.repeat(20) })();
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toHaveLength(3);
    expect(err!.message).not.toContain('too-short-secret');
    expect(load(['x'])).toThrow(/uploadTokens must be an object/);
  });
});
