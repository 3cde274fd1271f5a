import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rememberedHmac } from '../../../src/hosts/fastly/remembered-hmac.js';

const node = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');

describe('remembered HMAC (signed hits in a reused sandbox)', () => {
  it('answers what crypto.subtle answers, computing each key and payload once', async () => {
    const calls: string[] = [];
    const hmac = rememberedHmac(async (s, p) => (calls.push(`${s}|${p}`), node(s, p)));
    for (let i = 0; i < 3; i++) expect(await hmac('key-one', '/t/a?w=64')).toBe(node('key-one', '/t/a?w=64'));
    expect(await hmac('key-one', '/t/a?w=65')).toBe(node('key-one', '/t/a?w=65'));
    // A rotated key: same payload, new secret, computed afresh.
    expect(await hmac('key-two', '/t/a?w=64')).toBe(node('key-two', '/t/a?w=64'));
    expect(calls).toEqual(['key-one|/t/a?w=64', 'key-one|/t/a?w=65', 'key-two|/t/a?w=64']);
  });

  it('the default is crypto.subtle, and it stays bounded: past the limit it starts over', async () => {
    expect(await rememberedHmac()('k', 'payload')).toBe(node('k', 'payload'));
    let calls = 0;
    const hmac = rememberedHmac(async (s, p) => (calls++, node(s, p)), 2);
    await hmac('k', 'a');
    await hmac('k', 'b');
    await hmac('k', 'c'); // over the limit: everything kept so far is dropped
    await hmac('k', 'a');
    expect(calls).toBe(4);
  });
});
