import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/main/server/httpServer.js';
import type { ApiHandlers } from '../../src/shared/contract.js';
import { tmpDir } from '../helpers.js';

let server: RunningServer;
let staticDir = '';
const calls: unknown[] = [];
const handlers: ApiHandlers = {
  'app.info': async (req) => (calls.push(req), { version: '9', backend: { id: 'cpu', tfName: 'cpu', threads: 1, tfjsVersion: 'x', skipped: [] } }),
  'models.list': async () => [],
};

beforeAll(async () => {
  staticDir = tmpDir();
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Restora</title>');
  fs.writeFileSync(path.join(tmpDir(), 'secret.txt'), 'nope');
  server = await startServer(handlers, { staticDir });
});
afterAll(() => server.close());

const api = (method: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${server.port}/api/${method}`, { method: 'POST', body: '{}', ...init });
const auth = { authorization: `Bearer ${'x'}` };

describe('web-mode HTTP server', () => {
  it('prints a loopback URL with a random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{20,}$/);
  });

  it('answers 401 and nothing else without the right token', async () => {
    calls.length = 0;
    for (const r of [await api('app.info'), await api('app.info', { headers: auth }), await fetch(`http://127.0.0.1:${server.port}/`)]) {
      expect(r.status).toBe(401);
      expect(await r.text()).toBe('unauthorized');
    }
    expect(calls).toHaveLength(0);
  });

  it('refuses requests from another origin', async () => {
    const r = await api('app.info', { headers: { authorization: `Bearer ${server.token}`, origin: 'https://evil.example' } });
    expect(r.status).toBe(403);
    expect(calls).toHaveLength(0);
  });

  it('calls the handler map with the token, and types malformed payloads as errors', async () => {
    const h = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    expect(await (await api('app.info', { headers: h })).json()).toMatchObject({ ok: true, value: { version: '9' } });
    const bad = await api('app.info', { headers: h, body: '[1,2]' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect((await api('app.info', { headers: h, body: '{nope' })).status).toBe(400);
    expect((await api('no.such', { headers: h })).status).toBe(404);
    expect(calls).toHaveLength(1);
  });

  it('serves the UI with ?token= (setting a strict cookie for its assets), and never files outside it', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`http://127.0.0.1:${server.port}/index.html`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/..%2Fsecret.txt`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/%2e%2e/%2e%2e/etc/passwd`, { headers: { cookie } })).status).toBe(404);
  });
});
