import { describe, expect, it } from 'vitest';
import { etagMatches } from '../../../src/core/delivery/etag.js';

describe('If-None-Match against an ETag', () => {
  it('matches weakly: W/ on either side, any tag of the list, * for anything', () => {
    expect(etagMatches('"a1"', '"a1"')).toBe(true);
    expect(etagMatches('W/"a1"', '"a1"')).toBe(true);
    expect(etagMatches('"a1"', 'W/"a1"')).toBe(true);
    expect(etagMatches('"x", W/"a1" ,"y"', '"a1"')).toBe(true);
    expect(etagMatches(' * ', '"a1"')).toBe(true);
  });

  it('does not match another tag, an absent or empty header, or a tag that differs only in quotes or case', () => {
    expect(etagMatches(null, '"a1"')).toBe(false);
    expect(etagMatches('', '"a1"')).toBe(false);
    expect(etagMatches('"a2"', '"a1"')).toBe(false);
    expect(etagMatches('a1', '"a1"')).toBe(false);
    expect(etagMatches('"A1"', '"a1"')).toBe(false);
    expect(etagMatches('w/"a1"', '"a1"')).toBe(false);
    expect(etagMatches('W/W/"a1"', '"a1"')).toBe(false);
    expect(etagMatches('"x",, "y"', '"a1"')).toBe(false);
  });
});
