import { describe, expect, it } from 'vitest';
import { PageHost, parentLauncher, type PageExited, type PageRequest } from '../../src/main/ml/engine/pageRelay.js';

/** A worker-side launcher wired to a parent-side host, with a fake page launcher. */
function wired(fail = false) {
  const closes: string[] = [];
  const ends = new Map<string, (why: string) => void>();
  const late: { host?: PageHost } = {};
  const relay = parentLauncher((m: PageRequest) => void late.host!.handle(m));
  const host = (late.host = new PageHost(
    async (url) => {
      if (fail) throw new Error('no window for you');
      return { exited: new Promise<string>((r) => ends.set(url, r)), close: async () => void closes.push(url) };
    },
    (m: PageExited) => relay.onExited(m),
  ));
  return { relay, host, closes, ends };
}

describe('page relay between a worker and the thread that owns windows', () => {
  it('opens, reports an exit, and closes each page once even when the worker and the app both close', async () => {
    const { relay, host, closes, ends } = wired();
    const page = await relay.launcher('http://127.0.0.1:1/a');
    await new Promise((r) => setTimeout(r, 0));
    ends.get('http://127.0.0.1:1/a')!('window crashed');
    expect(await page.exited).toBe('window crashed');
    const second = await relay.launcher('http://127.0.0.1:1/b');
    await new Promise((r) => setTimeout(r, 0));
    await Promise.all([second.close(), host.closeAll()]);
    await new Promise((r) => setTimeout(r, 0));
    expect(closes.filter((u) => u.endsWith('/b'))).toHaveLength(1);
    expect(closes).toContain('http://127.0.0.1:1/a');
  });

  it('a page that cannot open reads as exited with the reason', async () => {
    const { relay } = wired(true);
    const page = await relay.launcher('http://127.0.0.1:1/x');
    expect(await page.exited).toBe('no window for you');
  });
});
