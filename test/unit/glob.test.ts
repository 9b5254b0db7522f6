import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../../src/main/library/glob.js';

describe('include/exclude globs', () => {
  // Matched like picomatch with { dot: true } on these, the library used before.
  const cases: Array<[string, string, boolean]> = [
    ['*.png', 'a.png', true],
    ['*.png', 'dir/a.png', false],
    ['*.png', '.hidden.png', true],
    ['**/*.png', 'a.png', true],
    ['**/*.png', 'x/y/a.png', true],
    ['**/skip-*', 'raw/skip-me.png', true],
    ['**/skip-*', 'skip-me.png', true],
    ['1998/**', '1998/summer/dog.jpg', true],
    ['1998/**', '1999/dog.jpg', false],
    ['a/**/b.png', 'a/b.png', true],
    ['a/**/b.png', 'a/x/y/b.png', true],
    ['a/**/b.png', 'ab.png', false],
    ['?.jpg', 'x.jpg', true],
    ['?.jpg', 'xy.jpg', false],
    ['[abc]*.tif', 'b1.tif', true],
    ['[^abc]*.tif', 'b1.tif', false],
    ['[a-c]*.tif', 'd.tif', false],
    ['*.{png,jpg}', 'x.jpg', true],
    ['*.{png,jpg}', 'x.gif', false],
    ['{scans,prints}/**/*.{png,tif}', 'prints/1970/a.tif', true],
    ['*a*a*a*a*a*a*a*a*b.png', `${'a'.repeat(55)}.png`, false],
    ['*a*b.png', 'xaxb.png', true],
    ['\\*.png', '*.png', true],
    ['\\*.png', 'x.png', false],
    ['photo[1.png', 'photo[1.png', true],
  ];
  it.each(cases)('%s on %s -> %s, as picomatch', (pattern, file, expected) => {
    expect(globMatcher([pattern])(file)).toBe(expected);
    expect(picomatch(pattern, { dot: true })(file)).toBe(expected);
  });

  it('reads [!abc] as POSIX does, like [^abc] (picomatch 4 matches "b1.tif" with "[!abc]*.tif")', () => {
    expect(globMatcher(['[!abc]*.tif'])('b1.tif')).toBe(false);
    expect(globMatcher(['[!abc]*.tif'])('d1.tif')).toBe(true);
  });

  it('a pattern built to backtrack answers at once on a long name (picomatch: 63 s on 61 characters)', () => {
    const evil = '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b.png';
    const match = globMatcher([evil]);
    const name = `${'a'.repeat(240)}.png`;
    const t0 = performance.now();
    expect(match(name)).toBe(false);
    expect(match(`dir/${'a'.repeat(200)}b.png`)).toBe(false);
    expect(match(`${'a'.repeat(200)}b.png`)).toBe(true);
    // A hang guard, not a benchmark: the old matcher took minutes here.
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('refuses empty, huge and exploding patterns with a usage error', () => {
    expect(() => globMatcher([''])).toThrow(/1-500 characters/);
    expect(() => globMatcher(['x'.repeat(501)])).toThrow(/1-500 characters/);
    expect(() => globMatcher(['{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}.png'])).toThrow(/more than 64 alternatives/);
  });
});
