/**
 * The WebGPU page engine's HTTP server and socket face every local user (the port shows in
 * `ps`): hostile requests get a 4xx and the server keeps serving (issue 24, item 1).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { computePageDir, PageEngine, startPageServer, type PageServer } from '../../src/main/ml/engine/pageEngine.js';
import type { LaunchedPage, PageLauncher } from '../../src/main/ml/engine/chromium.js';
import { decodeFrame, encodeFrame } from '../../src/main/ml/engine/wire.js';
import { tmpDir } from '../helpers.js';
import { hostilePageTraffic } from '../pageFuzz.js';

const TOKEN = 'a'.repeat(48);
let dir = '';
let page: PageServer;

function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: page.port, path: p, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves 'open' or 'refused' for a socket client. */
function connect(query: string, origin: string | null = `http://127.0.0.1:${page.port}`): Promise<{ state: 'open' | 'refused'; ws: WebSocket }> {
  const ws = new WebSocket(`ws://127.0.0.1:${page.port}/engine${query}`, origin ? { origin } : {});
  return new Promise((resolve) => {
    ws.on('open', () => resolve({ state: 'open', ws }));
    ws.on('error', () => resolve({ state: 'refused', ws }));
  });
}

describe('the compute page server', () => {
  beforeEach(async () => {
    dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'compute.html'), '<!doctype html><p>compute</p>');
    fs.writeFileSync(path.join(path.dirname(dir), `secret-${path.basename(dir)}.txt`), 'secret');
    page = await startPageServer(dir, TOKEN, { maxPayload: 1024 });
  });

  afterEach(async () => {
    for (const c of page.wss.clients) c.terminate();
    page.wss.close();
    await new Promise((r) => page.server.close(r));
    fs.rmSync(path.join(path.dirname(dir), `secret-${path.basename(dir)}.txt`), { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a malformed percent escape with 400 and keeps serving', async () => {
    expect((await get('/%E0%A4%A')).status).toBe(400);
    expect((await get('/compute%00.html')).status).toBe(400);
    expect(await get('/compute.html')).toMatchObject({ status: 200, body: expect.stringContaining('compute') });
  });

  it('answers 404 for unknown paths and paths outside its folder', async () => {
    expect((await get('/nothing.js')).status).toBe(404);
    expect((await get(`/%2e%2e/secret-${path.basename(dir)}.txt`)).status).toBe(404);
    expect((await get('/')).status).toBe(404);
  });

  it('serves only loopback host names', async () => {
    expect((await get('/compute.html', { host: `evil.example:${page.port}` })).status).toBe(403);
    expect((await get('/compute.html', { host: `localhost:${page.port}` })).status).toBe(200);
  });

  it('takes one socket client: with the token, from the page origin; never a second', async () => {
    expect((await connect('?token=wrong')).state).toBe('refused');
    expect((await connect(`?token=${TOKEN}`, 'http://evil.example')).state).toBe('refused');
    expect((await connect(`?token=${TOKEN}`, null)).state).toBe('refused');
    expect((await connect('?token=%E0%A4%A')).state).toBe('refused');
    const first = await connect(`?token=${TOKEN}`);
    expect(first.state).toBe('open');
    expect((await connect(`?token=${TOKEN}`)).state).toBe('refused');
    expect(page.wss.clients.size).toBe(1);
    // A frame over the cap closes that client, and the server still serves.
    const closed = new Promise<number>((r) => first.ws.on('close', (code) => r(code)));
    first.ws.send(encodeFrame({ type: 'reply', id: 1, reply: { op: 'predicted', y: new Float32Array(1024) } }));
    expect(await closed).toBe(1009);
    expect((await get('/compute.html')).status).toBe(200);
  });
});

/** A stand-in for Chromium: a probe's malformed GET lands first, then the "page" connects as the real one does. */
function fakePage(firstFrame: (url: URL) => Uint8Array): { launcher: PageLauncher; statuses: number[] } {
  const statuses: number[] = [];
  const launcher: PageLauncher = async (address) => {
    const url = new URL(address);
    const status = (p: string) => new Promise<number>((resolve, reject) => http.get({ host: url.hostname, port: url.port, path: p }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
    statuses.push(await status('/%E0%A4%A'), await status(url.pathname));
    let close: () => void = () => undefined;
    const exited = new Promise<string>((resolve) => (close = () => resolve('closed')));
    const ws = new WebSocket(`ws://${url.host}/engine?token=${new URLSearchParams(url.hash.slice(1)).get('token')}`, { origin: url.origin });
    ws.on('error', () => undefined);
    ws.on('open', () => ws.send(firstFrame(url)));
    ws.on('message', (data: Buffer) => {
      const { id } = decodeFrame<{ id: number }>(new Uint8Array(data));
      ws.send(encodeFrame({ type: 'reply', id, reply: { op: 'done' } }));
    });
    ws.on('close', () => close());
    const page: LaunchedPage = { exited, close: async () => (ws.close(), close()) };
    return page;
  };
  return { launcher, statuses };
}

describe.skipIf(!fs.existsSync(path.join(computePageDir(), 'compute.html')))('the page engine under a hostile request', () => {
  it('starts and answers although a malformed URL reached its server first', async () => {
    const { launcher, statuses } = fakePage(() => encodeFrame({ type: 'ready', info: { backend: 'webgpu' } }));
    const engine = await PageEngine.start({ launcher, startTimeoutMs: 10_000 });
    try {
      expect(statuses).toEqual([400, 200]);
      expect(await engine.call({ op: 'dispose', model: 'none' })).toEqual({ op: 'done' });
    } finally {
      await engine.close();
    }
  });

  it('keeps serving its page through 400 generated hostile requests, upgrades and raw bytes on its port', async () => {
    const { launcher } = fakePage(() => encodeFrame({ type: 'ready', info: { backend: 'webgpu' } }));
    let address = '';
    const engine = await PageEngine.start({ launcher: (url) => ((address = url), launcher(url)), startTimeoutMs: 10_000 });
    try {
      const port = Number(new URL(address).port);
      const report = await hostilePageTraffic(port, 24, 400);
      console.log(`page fuzz (fake page): ${JSON.stringify(report.statuses)} by status`);
      expect(report.bad).toEqual([]);
      expect(report.upgradesAccepted).toBe(0);
      expect(await engine.call({ op: 'dispose', model: 'none' })).toEqual({ op: 'done' });
    } finally {
      await engine.close();
    }
  }, 120_000);

  it('refuses a page whose first frame is garbage, with a clear error', async () => {
    const { launcher } = fakePage(() => new Uint8Array([255, 255, 255, 255, 1, 2]));
    await expect(PageEngine.start({ launcher, startTimeoutMs: 10_000 })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining('malformed frame') });
  });
});
