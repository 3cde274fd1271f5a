import { describe, expect, it } from 'vitest';
import { errorText } from '../../src/core/bounded.js';

describe('errorText (what every report says about a failure)', () => {
  it('is the first line of the message, at most 300 characters, with the code when the message lacks it', () => {
    expect(errorText(new Error('first line\n    at stack frame'))).toBe('first line');
    expect(errorText(new Error('x'.repeat(400)))).toHaveLength(300);
    expect(errorText(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('socket hang up [ECONNRESET]');
    expect(errorText(Object.assign(new Error('ECONNRESET: socket hang up'), { code: 'ECONNRESET' }))).toBe('ECONNRESET: socket hang up');
    expect(errorText('plain string')).toBe('plain string');
    expect(errorText(null)).toBe('null');
  });
});
