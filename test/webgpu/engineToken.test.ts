/**
 * The engine token never reaches a command line, where any local user can read it
 * (issue 24, item 2): Chromium is started on a private forwarding page, and the token
 * travels in the address's fragment.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chromiumLauncher, sandboxFlags } from '../../src/main/ml/engine/chromium.js';
import { PageEngine } from '../../src/main/ml/engine/pageEngine.js';
import { HAVE_CHROMIUM } from './helpers.js';

/** Every process's command line that this user may read (Linux /proc). */
function commandLines(): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      out.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

describe.skipIf(!HAVE_CHROMIUM || process.platform !== 'linux')('the engine token', () => {
  it('is on no command line while the engine runs, and the page still connects with it', async () => {
    let address = '';
    const engine = await PageEngine.start({ launcher: (url) => ((address = url), chromiumLauncher(url)), startTimeoutMs: 60_000 });
    try {
      const token = new URLSearchParams(new URL(address).hash.slice(1)).get('token');
      expect(token).toMatch(/^[0-9a-f]{48}$/);
      expect(new URL(address).search).toBe('');
      expect(commandLines().filter((c) => c.includes(token!))).toEqual([]);
      expect(await engine.call({ op: 'info' })).toMatchObject({ op: 'info' });
    } finally {
      await engine.close();
    }
  }, 90_000);

  it('is on no command line during start-up', async () => {
    let token = '';
    let during: string[] = [];
    const started = PageEngine.start({
      launcher: async (url) => {
        token = new URLSearchParams(new URL(url).hash.slice(1)).get('token') ?? '';
        const page = await chromiumLauncher(url, { unlockWebGpu: false });
        during = commandLines().filter((c) => c.includes(token));
        return page;
      },
      startTimeoutMs: 60_000,
    }).catch((err: unknown) => err);
    const r = await started;
    if (r instanceof PageEngine) await r.close();
    expect(token).not.toBe('');
    expect(during).toEqual([]);
  }, 90_000);
});

describe('the Chromium sandbox', () => {
  it('stays on unless Chromium runs as root or the user turns it off', () => {
    expect(sandboxFlags(1000, {})).toEqual([]);
    expect(sandboxFlags(null, {})).toEqual([]); // Windows: no uid
    expect(sandboxFlags(0, {})).toEqual(['--no-sandbox']);
    expect(sandboxFlags(1000, { RESTORA_CHROMIUM_NO_SANDBOX: '1' })).toEqual(['--no-sandbox']);
  });
});
