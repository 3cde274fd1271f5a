import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const CLI = new URL('../../scripts/sign.ts', import.meta.url).pathname;
const env = { ...process.env, AVATAR_CONFIG: '', AVATAR_TENANT_KEYS: '' };

describe('npm run sign', () => {
  it('prints the documented test vector in both URL forms (--key, a tenant the config does not know)', async () => {
    const { stdout } = await run(
      TSX,
      [
        CLI,
        'acme',
        'u-42',
        '--w',
        '100',
        '--h',
        '100',
        '--fmt',
        'WEBP',
        '--q',
        '80',
        '--exp',
        '1767225600',
        '--kid',
        'k1',
        '--key',
        'test-vector-secret-0123456789',
        '--base',
        'https://img.example.com',
      ],
      { env },
    );
    const sig = 'hfn2mbgpc2nrbwuup-b0Ozyer8xods_XoncQg7SsgIg';
    expect(stdout.trim().split('\n')).toEqual([
      `https://img.example.com/acme/u-42?fmt=webp&fit=cover&h=128&q=85&w=128&exp=1767225600&kid=k1&sig=${sig}`,
      `https://img.example.com/acme/u-42/128.webp?fit=cover&q=85&exp=1767225600&kid=k1&sig=${sig}`,
    ]);
  });

  it('signs with keys from config/local.json by default, and explains errors with exit code 2', async () => {
    const local = { ...process.env, AVATAR_CONFIG: undefined, AVATAR_TENANT_KEYS: '' };
    const [signed, badKid, help] = await Promise.allSettled([
      run(TSX, [CLI, 'secure', 'hopper', '--w', '64', '--exp', '1767225600', '--json'], { env: local }),
      run(TSX, [CLI, 'secure', 'hopper', '--kid', 'nope'], { env: local }),
      run(TSX, [CLI, '--help'], { env }),
    ]);
    expect(signed.status === 'fulfilled' && JSON.parse(signed.value.stdout)).toMatchObject({
      kid: 'k1',
      exp: 1767225600,
      templateUrl: null,
      payload: '/secure/hopper?fit=inside&q=75&w=64&exp=1767225600',
    });
    expect(badKid).toMatchObject({ status: 'rejected', reason: { code: 2, stderr: expect.stringContaining("tenant 'secure' has no key 'nope'") } });
    expect(help.status === 'fulfilled' && help.value.stdout).toContain('Usage: npm run sign -- <tenant> <id> [options]');
  });

  it('prints URLs on the port npm start listens on: PORT, else 8080', async () => {
    const args = [CLI, 'acme', 'u-42', '--w', '64', '--exp', '1767225600', '--kid', 'k1', '--key', 'test-vector-secret-0123456789'];
    const [onPort, byDefault, badPort] = await Promise.allSettled([
      run(TSX, args, { env: { ...env, PORT: '9123' } }),
      run(TSX, args, { env: { ...env, PORT: undefined } }),
      run(TSX, args, { env: { ...env, PORT: 'eighty' } }),
    ]);
    expect(onPort.status === 'fulfilled' && onPort.value.stdout).toMatch(/^http:\/\/127\.0\.0\.1:9123\/acme\/u-42\?/);
    expect(byDefault.status === 'fulfilled' && byDefault.value.stdout).toMatch(/^http:\/\/127\.0\.0\.1:8080\/acme\/u-42\?/);
    expect(badPort).toMatchObject({ status: 'rejected', reason: { code: 2, stderr: expect.stringContaining("PORT must be a port number, got 'eighty'") } });
  });
});
