/**
 * Include/exclude globs matched in time linear in the pattern times the path.
 * picomatch (used before) compiles globs to backtracking RegExps: `*a*a*a*a*a*a*a*a*b.png`
 * against one 61-character name blocked the main thread for 63 s. Here a glob is a small
 * automaton run over a set of states (Thompson's construction), so no input can make it slow.
 * Syntax: `*` (within a segment), `**` (across segments; `**\/` also matches no folder),
 * `?`, `[abc]` `[a-z]` `[!x]` `[^x]`, `{a,b}` alternatives, `\` escapes. Dotfiles match.
 */
import { RestoraError } from '../../shared/errors.js';

type Token =
  | { kind: 'char'; ch: string }
  | { kind: 'one' }
  | { kind: 'class'; test: (c: string) => boolean }
  /** `*`: any run without '/'. */
  | { kind: 'star' }
  /** `**` inside a segment or at the end: any run. */
  | { kind: 'any' }
  /** `**\/`: nothing, or any run ending in '/'. */
  | { kind: 'dirs' }
  /** `/**` at the end: nothing, or '/' and then anything. */
  | { kind: 'tail' };

const MAX_ALTERNATIVES = 64;
const MAX_PATTERN = 500;

/** `{a,b}c` -> ['ac', 'bc'], nested and repeated, capped (a pattern may not explode). */
function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '{' && depth++ === 0) open = i;
    else if (c === '}' && depth > 0 && --depth === 0) {
      const parts: string[] = [];
      let start = open + 1;
      let d = 0;
      for (let j = open + 1; j < i; j++) {
        const cj = pattern[j];
        if (cj === '\\') j++;
        else if (cj === '{') d++;
        else if (cj === '}') d--;
        else if (cj === ',' && d === 0) {
          parts.push(pattern.slice(start, j));
          start = j + 1;
        }
      }
      parts.push(pattern.slice(start, i));
      if (parts.length === 1) continue; // `{x}` is literal, as in bash
      const out: string[] = [];
      for (const p of parts) {
        for (const e of expandBraces(pattern.slice(0, open) + p + pattern.slice(i + 1))) {
          out.push(e);
          if (out.length > MAX_ALTERNATIVES) throw new RestoraError('USAGE', `glob "${pattern}" expands to more than ${MAX_ALTERNATIVES} alternatives`);
        }
      }
      return out;
    }
  }
  return [pattern];
}

/** `[...]` starting at `i` (the '['): the class and the index after ']', or null when unclosed (then '[' is literal). */
function parseClass(p: string, i: number): { test: (c: string) => boolean; next: number } | null {
  let j = i + 1;
  const negated = p[j] === '!' || p[j] === '^';
  if (negated) j++;
  const ranges: Array<[string, string]> = [];
  let first = true;
  for (; j < p.length; j++) {
    let c = p[j]!;
    if (c === ']' && !first) {
      return { test: (x) => x !== '/' && ranges.some(([a, b]) => x >= a && x <= b) !== negated, next: j + 1 };
    }
    first = false;
    if (c === '\\' && j + 1 < p.length) c = p[++j]!;
    if (p[j + 1] === '-' && j + 2 < p.length && p[j + 2] !== ']') {
      ranges.push([c, p[j + 2]!]);
      j += 2;
    } else ranges.push([c, c]);
  }
  return null;
}

function tokenize(p: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) tokens.push({ kind: 'char', ch: p[++i]! });
    else if (c === '?') tokens.push({ kind: 'one' });
    else if (c === '[') {
      const cls = parseClass(p, i);
      if (cls) {
        tokens.push({ kind: 'class', test: cls.test });
        i = cls.next - 1;
      } else tokens.push({ kind: 'char', ch: c });
    } else if (c === '*') {
      let n = 1;
      while (p[i + 1] === '*') {
        n++;
        i++;
      }
      const segmentStart = i - n < 0 || p[i - n] === '/';
      if (n >= 2 && segmentStart && p[i + 1] === '/') {
        tokens.push({ kind: 'dirs' });
        i++; // the '/' is part of `**/`
      } else if (n >= 2 && segmentStart && i + 1 === p.length && tokens.at(-1)?.kind === 'char' && (tokens.at(-1) as { ch: string }).ch === '/') {
        tokens.pop();
        tokens.push({ kind: 'tail' }, { kind: 'any' });
      } else if (n >= 2) tokens.push({ kind: 'any' });
      else if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else tokens.push({ kind: 'char', ch: c });
  }
  return tokens;
}

/** Runs the automaton: O(tokens x path) time, O(tokens) space. */
function matches(tokens: Token[], text: string): boolean {
  const n = tokens.length;
  let current = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  // Epsilon moves: every token that may match nothing lets the next state in too.
  const close = (s: Uint8Array) => {
    for (let i = 0; i < n; i++) {
      const k = tokens[i]!.kind;
      if (s[i] && (k === 'star' || k === 'any' || k === 'dirs')) s[i + 1] = 1;
      // `tail` may match nothing: skip it and the `any` after it.
      if (s[i] && k === 'tail') s[i + 2] = 1;
    }
  };
  current[0] = 1;
  close(current);
  for (const c of text) {
    next.fill(0);
    let alive = false;
    for (let i = 0; i < n; i++) {
      if (!current[i]) continue;
      const t = tokens[i]!;
      switch (t.kind) {
        case 'char':
          if (c === t.ch) next[i + 1] = 1;
          break;
        case 'one':
          if (c !== '/') next[i + 1] = 1;
          break;
        case 'class':
          if (t.test(c)) next[i + 1] = 1;
          break;
        case 'star':
          if (c !== '/') next[i] = 1;
          break;
        case 'any':
          next[i] = 1;
          break;
        case 'dirs':
          next[i] = 1;
          if (c === '/') next[i + 1] = 1;
          break;
        case 'tail':
          if (c === '/') next[i + 1] = 1;
          break;
      }
    }
    for (let i = 0; i <= n; i++) alive ||= next[i] === 1;
    if (!alive) return false;
    close(next);
    [current, next] = [next, current];
  }
  return current[n] === 1;
}

/** A matcher for any of `patterns` (paths use '/'; a Windows path's '\\' is read as '/'). Bad patterns are USAGE errors. */
export function globMatcher(patterns: readonly string[]): (file: string) => boolean {
  const compiled: Token[][] = [];
  for (const p of patterns) {
    if (p.length === 0 || p.length > MAX_PATTERN) throw new RestoraError('USAGE', `glob patterns must be 1-${MAX_PATTERN} characters (got ${p.length})`);
    for (const alt of expandBraces(p)) compiled.push(tokenize(alt));
    if (compiled.length > MAX_ALTERNATIVES * 4) throw new RestoraError('USAGE', `the globs expand to more than ${MAX_ALTERNATIVES * 4} patterns`);
  }
  return (file) => {
    const text = file.replaceAll('\\', '/');
    return compiled.some((t) => matches(t, text));
  };
}
