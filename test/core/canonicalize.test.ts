import { describe, expect, it } from 'vitest';
import { snapNearest, snapUp, withFormat } from '../../src/core/request/canonicalize.js';
import { resolveNegotiated } from '../../src/core/request/negotiate-format.js';
import { canonicalKey } from '../../src/core/variant.js';
import { canon, httpError } from './helpers.js';

const key = (pq: string, accept?: string | null) => {
  const p = canon(pq, accept);
  return canonicalKey(withFormat(p, resolveNegotiated(p.format, { alpha: false, animated: false })));
};

const error = httpError;

describe('canonicalize', () => {
  it('snaps widths up the ladder and fills defaults', () => {
    expect(key('/demo/u-42?w=287&h=287')).toBe('demo/u-42/384x384-cover-q75.webp');
    expect(key('/demo/u-42')).toBe('demo/u-42/256x256-cover-q75.webp');
    expect(key('/demo/u-42?w=100')).toBe('demo/u-42/128x0-inside-q75.webp');
    expect(key('/demo/u-42?w=4096')).toBe('demo/u-42/1024x0-inside-q75.webp');
  });

  it('drops junk params and ignores order and case', () => {
    const a = key('/demo/u-42?w=120&h=120&fmt=webp&utm_source=mail&cb=123');
    const b = key('/demo/u-42?FMT=WEBP&_=9&H=120&w=120&fbclid=x');
    expect(a).toBe(b);
    expect(a).toBe('demo/u-42/128x128-cover-q75.webp');
  });

  it('folds dpr into pixels and caps it', () => {
    expect(key('/demo/u-42?w=64&h=64&dpr=2')).toBe('demo/u-42/128x128-cover-q75.webp');
    expect(key('/demo/u-42?w=64&h=64&dpr=9')).toBe(key('/demo/u-42?w=64&h=64&dpr=3'));
    expect(key('/demo/u-42?w=64&h=64&dpr=0.5')).toBe(key('/demo/u-42?w=64&h=64'));
  });

  it('maps the template form onto the same variant as the query form', () => {
    expect(key('/demo/u-42/128.webp')).toBe(key('/demo/u-42?w=128&h=128&fmt=webp'));
    expect(key('/demo/u-42/100.jpg')).toBe('demo/u-42/128x128-cover-q75.jpeg');
    expect(canon('/demo/u-42/128.webp').negotiated).toBe(false);
  });

  it('folds Accept into one format', () => {
    expect(canon('/demo/u-42', 'image/avif,image/webp,*/*').format).toBe('webp');
    expect(canon('/demo/u-42', 'image/webp;q=0').format).toBe('jpeg-or-png');
    expect(canon('/demo/u-42', '*/*').format).toBe('jpeg-or-png');
    expect(canon('/demo/u-42', null).format).toBe('jpeg-or-png');
    expect(canon('/demo/u-42', null).negotiated).toBe(true);
  });

  it('snaps quality and fixes it for png', () => {
    expect(key('/demo/u-42?q=77')).toBe('demo/u-42/256x256-cover-q75.webp');
    expect(key('/demo/u-42?q=100&fmt=png')).toBe('demo/u-42/256x256-cover-q100.png');
    expect(key('/demo/u-42?q=10&fmt=png')).toBe(key('/demo/u-42?fmt=png'));
    expect(snapNearest(55, [50, 60])).toBe(60);
    expect(snapUp(2000, [16, 32])).toBe(32);
  });

  it('keeps the version in the key', () => {
    expect(key('/demo/u-42?v=3')).toBe('demo/u-42/256x256-cover-q75.webp@v3');
  });

  it.each([
    ['/demo/u-42?w=-1', 'w'],
    ['/demo/u-42?w=abc', 'w'],
    ['/demo/u-42?w=1.5', 'w'],
    ['/demo/u-42?h=0', 'h'],
    ['/demo/u-42?w=100000', 'w'],
    ['/demo/u-42?fit=stretch', 'fit'],
    ['/demo/u-42?fmt=gif', 'fmt'],
    ['/demo/u-42?q=101', 'q'],
    ['/demo/u-42?dpr=-2', 'dpr'],
    ['/demo/u-42?v=a/b', 'v'],
  ])('%s is a 400 naming %s', (pq, param) => {
    const e = error(() => canon(pq));
    expect(e.status).toBe(400);
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toContain(`'${param}'`);
  });

  it('refuses repeated params', () => {
    expect(error(() => canon('/demo/u-42?w=1&w=2')).status).toBe(400);
  });
});
