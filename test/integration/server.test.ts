import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/main/server/httpServer.js';
import WebSocket from 'ws';
import { API_METHODS, type ApiHandlers, type AppEvent } from '../../src/shared/contract.js';
import { RestoraError } from '../../src/shared/errors.js';
import { EventBus } from '../../src/main/app/events.js';
import { tmpDir } from '../helpers.js';

let server: RunningServer;
let staticDir = '';
let mediaFile = '';
const calls: unknown[] = [];
const events = new EventBus();
const unimplemented = Object.fromEntries(
  API_METHODS.map((m) => [
    m,
    async () => {
      throw new RestoraError('UNSUPPORTED', `${m} is not part of this test`);
    },
  ]),
);
const handlers = {
  ...unimplemented,
  'app.info': async (req: unknown) => (calls.push(req), { version: '9', home: '/h', backend: { id: 'cpu', tfName: 'cpu', threads: 1, tfjsVersion: 'x', skipped: [] } }),
  'library.get': async (req: unknown) => {
    calls.push(req);
    throw new RestoraError('NOT_FOUND', 'no such image');
  },
} as unknown as ApiHandlers;

beforeAll(async () => {
  staticDir = tmpDir();
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Restora</title>');
  fs.writeFileSync(path.join(tmpDir(), 'secret.txt'), 'nope');
  mediaFile = path.join(tmpDir(), 'thumb.png');
  fs.writeFileSync(mediaFile, Buffer.from('89504e470d0a1a0a', 'hex'));
  server = await startServer(handlers, {
    staticDir,
    events,
    media: { resolve: async (p) => (p === 'thumb/7' ? mediaFile : null) },
  });
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

  it('validates every payload against the contract schema before the handler runs', async () => {
    calls.length = 0;
    const h = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    for (const body of ['{"id":"7"}', '{}', '{"id":-1}', '{"id":1,"extra":true}', '{"__proto__":{"id":1}}']) {
      const r = await api('library.get', { headers: h, body });
      expect(r.status, body).toBe(400);
      const j = (await r.json()) as { ok: boolean; error: { code: string; message: string } };
      expect(j.error.code).toBe('USAGE');
      expect(j.error.message).toMatch(/^library\.get: /);
    }
    expect(calls).toHaveLength(0);
    const ok = await api('library.get', { headers: h, body: '{"id":1}' });
    expect(ok.status).toBe(200); // a domain error is an answer, not a transport failure
    expect(await ok.json()).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(calls).toEqual([{ id: 1 }]);
  });

  it('serves media only by media path, with the token', async () => {
    const auth2 = { authorization: `Bearer ${server.token}` };
    const r = await fetch(`http://127.0.0.1:${server.port}/media/thumb/7`, { headers: auth2 });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect((await fetch(`http://127.0.0.1:${server.port}/media/thumb/7`)).status).toBe(401);
    for (const p of ['thumb/8', '..%2F..%2Fetc%2Fpasswd', 'image/7/../../x', `${encodeURIComponent(mediaFile)}`]) {
      expect((await fetch(`http://127.0.0.1:${server.port}/media/${p}`, { headers: auth2 })).status, p).toBe(404);
    }
  });

  it('pushes events over a WebSocket at /events only with the token and from its own origin', async () => {
    const base = `ws://127.0.0.1:${server.port}/events`;
    const refused = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await refused(base)).toBe(401);
    expect(await refused(`${base}?token=wrong`)).toBe(401);
    expect(await refused(`${base}?token=${server.token}`, { origin: 'https://evil.example' })).toBe(403);
    const ws = new WebSocket(`${base}?token=${server.token}`);
    await new Promise((resolve) => ws.on('open', resolve));
    const got = new Promise<AppEvent>((resolve) => ws.on('message', (d) => resolve(JSON.parse(String(d)) as AppEvent)));
    events.publish({ type: 'job.state', jobId: 3, state: 'done' });
    expect(await got).toEqual({ type: 'job.state', jobId: 3, state: 'done' });
    ws.close();
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
