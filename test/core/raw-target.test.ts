import { describe, expect, it } from 'vitest';
import { assertSafeRequestTarget } from '../../src/core/request/raw-target.js';

const verdict = (t: string) => {
  try {
    assertSafeRequestTarget(t);
    return 'ok';
  } catch (e) {
    return `${(e as { status: number }).status}`;
  }
};

describe('assertSafeRequestTarget', () => {
  it.each([
    '/demo/../etc/passwd',
    '/demo/..',
    '/..',
    '/demo/%2e%2e/x',
    '/demo/%2E%2e',
    '/demo/.%2e/x',
    '/demo/%2e./x',
    '/demo/./x',
    '/demo/%2e/x',
    '/demo/a\\b',
    '/demo\\..\\x',
    '/demo/a%5cb',
    '/demo/a%5Cb',
    '/demo/a\0b',
    '/demo/a%00b',
    '/demo/a\x01b',
    '/demo/a\x7fb',
    '/demo/a\nb',
  ])('refuses %j', (t) => expect(verdict(t)).toBe('400'));

  it.each(['/demo/hopper', '/demo/hopper/128.webp', '/demo/a..b', '/demo/.hidden', '/demo/x?path=../../etc&q=\\..', '/', '/healthz', '/demo/x?'])(
    'lets %j through (the path parser judges the rest)',
    (t) => expect(verdict(t)).toBe('ok'),
  );
});
