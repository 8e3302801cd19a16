// The seal line that lets render tell its own earlier output from a file edited by hand.
import { describe, expect, it } from 'vitest';
import { isPristine, seal, withoutSeal } from '../src/render/seal.js';

describe('seal', () => {
  const text = '#!py\n# a reactor\nprint("x")\n';

  it('a sealed text is pristine; any edit above the seal, or to the seal, is not', () => {
    const sealed = seal(text);
    expect(sealed.startsWith(text)).toBe(true);
    expect(isPristine(sealed)).toBe(true);
    expect(isPristine(sealed.replace('x', 'y'))).toBe(false);
    expect(isPristine(sealed.replace(/[0-9a-f](?=\n$)/, (c) => (c === '0' ? '1' : '0')))).toBe(false);
    expect(isPristine(sealed + '# appended\n')).toBe(false);
    expect(isPristine(text)).toBe(false);
  });

  it('adds the missing final newline before sealing, and is left out of diffs', () => {
    expect(isPristine(seal('no newline'))).toBe(true);
    expect(seal('no newline').startsWith('no newline\n# salt-autoscale rendered this file')).toBe(true);
    expect(withoutSeal(seal(text))).toBe(text);
    expect(withoutSeal(text)).toBe(text);
  });
});
