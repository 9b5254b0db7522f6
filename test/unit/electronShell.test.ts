import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerIpc, type IpcMainLike } from '../../src/main/electron/ipc.js';
import { CONTENT_SECURITY_POLICY, isTrustedSender, secureWebPreferences } from '../../src/main/electron/security.js';
import { API_METHODS, IPC_CHANNEL_PREFIX, type ApiHandlers } from '../../src/shared/contract.js';
import { ROOT } from '../helpers.js';

type Listener = Parameters<IpcMainLike['handle']>[1];

function fakeIpc() {
  const handlers = new Map<string, Listener>();
  return { ipc: { handle: (c: string, l: Listener) => void handlers.set(c, l) } satisfies IpcMainLike, handlers };
}

const calls: unknown[] = [];
const api: ApiHandlers = {
  'app.info': async (req) => (calls.push(req), { version: '0', backend: { id: 'cpu', tfName: 'cpu', threads: 1, tfjsVersion: 'x', skipped: [] } }),
  'models.list': async () => [],
};

describe('Electron shell pieces', () => {
  it('window preferences are hardened', () => {
    const p = secureWebPreferences('/x/preload.mjs');
    expect(p).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, allowRunningInsecureContent: false });
  });

  it('CSP allows only the app itself', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*/);
  });

  it('trusts IPC only from the app pages', () => {
    expect(isTrustedSender('file:///app/index.html')).toBe(true);
    expect(isTrustedSender('https://evil.example/')).toBe(false);
    expect(isTrustedSender('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
  });

  it('registers one channel per contract method and answers typed results', async () => {
    const { ipc, handlers } = fakeIpc();
    registerIpc(ipc, api);
    expect([...handlers.keys()].sort()).toEqual(API_METHODS.map((m) => IPC_CHANNEL_PREFIX + m).sort());
    const ok = await handlers.get(IPC_CHANNEL_PREFIX + 'app.info')!({ senderFrame: { url: 'file:///index.html' } }, {});
    expect(ok).toMatchObject({ ok: true, value: { version: '0' } });
  });

  it('rejects malformed payloads and untrusted frames with a typed error, without calling the handler', async () => {
    const { ipc, handlers } = fakeIpc();
    registerIpc(ipc, api);
    calls.length = 0;
    const h = handlers.get(IPC_CHANNEL_PREFIX + 'app.info')!;
    for (const bad of [null, 'x', [1], 42]) {
      expect(await h({ senderFrame: { url: 'file:///index.html' } }, bad)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    }
    expect(await h({ senderFrame: { url: 'https://evil.example' } }, {})).toMatchObject({ ok: false });
    expect(await h({ senderFrame: null }, {})).toMatchObject({ ok: false });
    expect(calls).toHaveLength(0);
  });

  it('only the shell imports electron', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && /from 'electron'/.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
      }
    };
    walk(path.join(ROOT, 'src'));
    expect(offenders.sort()).toEqual(['src/main/index.ts', 'src/preload/index.ts']);
  });
});
