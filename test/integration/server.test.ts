import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaKeyOf, startServer, type RunningServer } from '../../src/main/server/httpServer.js';
import { unzipSync } from 'fflate';
import { MEDIA_KEY_PARAM } from '../../src/shared/methods.js';
import WebSocket from 'ws';
import { API_METHODS, type ApiHandlers, type AppEvent } from '../../src/shared/contract.js';
import { RestoraError } from '../../src/shared/errors.js';
import { EventBus } from '../../src/main/events.js';
import { tmpDir } from '../helpers.js';

let server: RunningServer;
let staticDir = '';
let mediaFile = '';
let bigFile = '';
let becameFolder = '';
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
  bigFile = path.join(tmpDir(), 'result.png');
  fs.writeFileSync(bigFile, Buffer.alloc(8 << 20, 7));
  // Imported as a file, replaced by a folder of the same name since.
  becameFolder = path.join(tmpDir(), 'photo.png');
  fs.mkdirSync(becameFolder);
  const media: Record<string, string> = { 'thumb/7': mediaFile, 'result/5': bigFile, 'image/9': becameFolder };
  server = await startServer(handlers, { staticDir, events, media: { resolve: async (p) => media[p] ?? null } });
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
    for (const r of [await api('app.info'), await api('app.info', { headers: auth }), await fetch(`http://127.0.0.1:${server.port}/media/thumb/7`), await fetch(`http://127.0.0.1:${server.port}/session`, { method: 'POST' })]) {
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
    expect(await refused(base, { authorization: 'Bearer wrong' })).toBe(401);
    expect(await refused(base, { authorization: `Bearer ${server.token}`, origin: 'https://evil.example' })).toBe(403);
    const ws = new WebSocket(base, { headers: { authorization: `Bearer ${server.token}` } });
    await new Promise((resolve, reject) => (ws.on('open', resolve), ws.on('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)))));
    const got = new Promise<AppEvent>((resolve) => ws.on('message', (d) => resolve(JSON.parse(String(d)) as AppEvent)));
    events.publish({ type: 'job.state', jobId: 3, state: 'done' });
    expect(await got).toEqual({ type: 'job.state', jobId: 3, state: 'done' });
    ws.close();
  });

  it('serves the UI page (code, no data) and never files outside it', async () => {
    const index = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await fetch(`http://127.0.0.1:${server.port}/index.html`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/..%2Fsecret.txt`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
  });
});

describe('web-mode browser session (issue 24, item 7)', () => {
  const base = () => `http://127.0.0.1:${server.port}`;

  it('keeps the session out of cookies, which every other server on 127.0.0.1 would receive (cookies ignore ports)', async () => {
    const entry = await fetch(server.url, { redirect: 'manual' });
    expect(entry.status).toBe(200);
    expect(entry.headers.get('set-cookie')).toBeNull();
    expect(await entry.text()).toContain('<title>Restora</title>');
    // A token that reached another port in a cookie (from an older version) opens nothing here.
    const cookie = `restora_token=${server.token}`;
    expect((await api('app.info', { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${base()}/media/thumb/7`, { headers: { cookie } })).status).toBe(401);
    const ws = await new Promise<number>((resolve) => {
      const s = new WebSocket(`ws://127.0.0.1:${server.port}/events`, { headers: { cookie } });
      s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      s.on('open', () => (s.close(), resolve(101)));
      s.on('error', () => undefined);
    });
    expect(ws).toBe(401);
  });

  it('a browser socket offers the token as a subprotocol and is answered with the events protocol only', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`, ['restora.events', `restora.token.${server.token}`]);
    await new Promise((resolve, reject) => (ws.on('open', resolve), ws.on('error', reject)));
    expect(ws.protocol).toBe('restora.events');
    ws.close();
    const wrong = new WebSocket(`ws://127.0.0.1:${server.port}/events`, ['restora.events', 'restora.token.wrong']);
    wrong.on('error', () => undefined);
    expect(await new Promise<number>((resolve) => wrong.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))).toBe(401);
  });

  it('takes ?token= only on the entry URL: not on the API, media, the socket or any other page path', async () => {
    calls.length = 0;
    const t = server.token;
    expect((await fetch(`${base()}/api/app.info?token=${t}`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${base()}/media/thumb/7?token=${t}`)).status).toBe(401);
    expect((await fetch(`${base()}/session?token=${t}`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base()}/index.html?token=${t}`, { redirect: 'manual' })).status).toBe(400);
    const ws = await new Promise<number>((resolve) => {
      const s = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${t}`);
      s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      s.on('open', () => (s.close(), resolve(101)));
      s.on('error', () => undefined);
    });
    expect(ws).toBe(401);
    // A wrong token on the entry URL is a clear refusal, not a page that fails later.
    expect((await fetch(`${base()}/?token=wrong`)).status).toBe(401);
    expect(calls).toHaveLength(0);
  });

  it('never redirects off-site: GET /.//evil.example/?token=T answers here, with no Location', async () => {
    for (const p of [`/.//evil.example/?token=${server.token}`, `//evil.example/?token=${server.token}`, `/%2F%2Fevil.example/?token=${server.token}`, `/\\evil.example/?token=${server.token}`]) {
      const r = await raw(p, {});
      expect(r.status, p).toBeLessThan(500);
      expect([301, 302, 303, 307, 308], p).not.toContain(r.status);
      expect(r.location, p).toBeUndefined();
    }
  });

  it('forbids framing the studio page (clickjacking): CSP frame-ancestors and X-Frame-Options', async () => {
    for (const r of [await fetch(server.url), await fetch(`${base()}/`), await api('app.info', { headers: { authorization: `Bearer ${server.token}` } })]) {
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });

  it('<img> and download links read media with the session media key, which opens nothing else', async () => {
    const session = await fetch(`${base()}/session`, { method: 'POST', headers: { authorization: `Bearer ${server.token}` } });
    const { value } = (await session.json()) as { value: { mediaKey: string } };
    expect(value.mediaKey).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(value.mediaKey).not.toBe(server.token);
    expect((await fetch(`${base()}/media/thumb/7?key=${value.mediaKey}`)).status).toBe(200);
    expect((await fetch(`${base()}/media/thumb/7?key=wrong`)).status).toBe(401);
    expect((await api('app.info', { headers: { authorization: `Bearer ${value.mediaKey}` } })).status).toBe(401);
  });

  it('refuses a declared API body over the limit before reading it', async () => {
    const r = await rawSocket(`POST /api/app.info HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 3000000000\r\n\r\n{}`);
    expect(r).toMatch(/^HTTP\/1\.1 413 /);
  });
});

/** Writes a raw request and resolves with what came back before the server answered (2 s at most). */
function rawSocket(request: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(server.port, '127.0.0.1', () => sock.write(request));
    let got = '';
    const timer = setTimeout(() => (sock.destroy(), resolve(got)), 2000);
    sock.on('data', (d: Buffer) => {
      got += d.toString();
      if (!got.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    });
    sock.on('error', () => (clearTimeout(timer), resolve(got)));
  });
}

/** A request with headers fetch will not let us set (Host). */
function raw(pathname: string, headers: Record<string, string>): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: pathname, method: pathname.startsWith('/api/') ? 'POST' : 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(res.headers.location ? { location: res.headers.location } : {}) }));
    });
    req.on('error', reject);
    req.end(pathname.startsWith('/api/') ? '{}' : undefined);
  });
}

const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('web-mode HTTP server under hostile clients', () => {
  const bearer = () => ({ authorization: `Bearer ${server.token}` });
  const alive = async () => (await api('app.info', { headers: { ...bearer(), 'content-type': 'application/json' } })).status;

  // Without an error listener ws re-throws these as an unhandled 'error' (vitest fails the file on it).
  it('survives malformed and oversized WebSocket frames on an authenticated socket', async () => {
    // A masked text frame whose 2 payload bytes are not UTF-8.
    const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0xc3 ^ 1, 0x28 ^ 2]);
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await new Promise((r) => sock.once('data', r));
    sock.write(frame);
    await new Promise((r) => sock.once('close', r));
    const big = new WebSocket(`ws://127.0.0.1:${server.port}/events`, { headers: { authorization: `Bearer ${server.token}` } });
    await new Promise((r) => big.on('open', r));
    big.on('error', () => undefined);
    big.send('x'.repeat(4096));
    await new Promise((r) => big.on('close', r));
    expect(await alive()).toBe(200);
  });

  it('answers 404 for a media file that became a folder, and stays up', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/media/image/9`, { headers: bearer() })).status).toBe(404);
    expect(await alive()).toBe(200);
  });

  it('frees the file descriptor of each download aborted mid-way', async () => {
    const before = openFds();
    for (let i = 0; i < 100; i++) {
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: server.port, path: '/media/result/5', headers: bearer() }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => resolve());
      });
    }
    await expect.poll(openFds, { timeout: 5000, interval: 100 }).toBeLessThan(before + 10);
    expect(await alive()).toBe(200);
  });

  it('answers 400 for a malformed % escape instead of failing', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/media/thumb%E0%A4%A`, { headers: bearer() })).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${server.port}/%zz.js`, { headers: bearer() })).status).toBe(400);
  });

  it('accepts its page through a port forward on a loopback name, and refuses other Host headers (DNS rebinding)', async () => {
    const forwarded = { ...bearer(), host: 'localhost:9999', origin: 'http://localhost:9999', 'content-type': 'application/json' };
    expect((await raw('/api/app.info', forwarded)).status).toBe(200);
    expect((await raw('/api/app.info', { ...forwarded, host: '[::1]:9999', origin: 'http://[::1]:9999' })).status).toBe(200);
    // The origin must be the one the page was served under.
    expect((await raw('/api/app.info', { ...forwarded, origin: 'http://localhost:8888' })).status).toBe(403);
    for (const host of ['evil.example', `evil.example:${server.port}`, '127.0.0.1.evil.example']) {
      const r = await raw('/api/app.info', { ...bearer(), host });
      expect(r.status, host).toBe(403);
      expect(r.body).toBe('forbidden host');
    }
  });
});

describe('batch results as downloads (web mode, issue 25)', () => {
  let dl: RunningServer;
  let files: { name: string; file: string }[] = [];
  beforeAll(async () => {
    const out = tmpDir();
    fs.mkdirSync(path.join(out, 'sub'));
    files = [
      { name: 'a.png', file: path.join(out, 'a.png') },
      { name: 'sub/b ü.png', file: path.join(out, 'sub', 'b ü.png') },
    ];
    fs.writeFileSync(files[0]!.file, Buffer.alloc(6 << 20, 3)); // big enough to fill the socket and wait for it to drain
    fs.writeFileSync(files[1]!.file, Buffer.from('second'));
    dl = await startServer(handlers, { downloads: { jobOutputs: (id) => (id === 3 ? files : null) } });
  });
  afterAll(async () => dl?.close());
  const url = (p: string, key = true) => `http://127.0.0.1:${dl.port}${p}${key ? `?${MEDIA_KEY_PARAM}=${mediaKeyOf(dl.token)}` : ''}`;

  it("streams a job's outputs as one zip, to the page's read-only media key", async () => {
    expect((await fetch(url('/download/job/3.zip', false))).status).toBe(401);
    const r = await fetch(url('/download/job/3.zip'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/zip');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="restora-job-3\.zip"/);
    const entries = unzipSync(new Uint8Array(await r.arrayBuffer()));
    expect(Object.keys(entries)).toEqual(['a.png', 'sub/b ü.png']);
    expect(Buffer.from(entries['a.png']!).equals(fs.readFileSync(files[0]!.file))).toBe(true);
    expect(Buffer.from(entries['sub/b ü.png']!).toString()).toBe('second');
  });

  it('serves each output on its own, and 404 for what is not there', async () => {
    const r = await fetch(url('/download/job/3/1'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="b_.png"; filename*=UTF-8''${encodeURIComponent('b ü.png')}`);
    expect(await r.text()).toBe('second');
    expect((await fetch(url('/download/job/3/2'))).status).toBe(404);
    expect((await fetch(url('/download/job/4.zip'))).status).toBe(404);
    // Not a download path: the media key opens nothing else.
    expect((await fetch(url('/download/job/x.zip'))).status).toBe(401);
  });
});
