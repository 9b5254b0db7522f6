/** Web mode's way in for photos the browser holds: /upload stores each once and imports it; and the sample photo. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers, createUploadHandler } from '../../src/main/app/handlers.js';
import { startServer, type RunningServer } from '../../src/main/server/httpServer.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';

let app: App;
let server: RunningServer;
let png: Buffer;

const upload = (query: string, body: Buffer | string) =>
  fetch(`http://127.0.0.1:${server.port}/upload?${query}`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { authorization: `Bearer ${server.token}` } }).then(async (r) => ({
    status: r.status,
    json: (await r.json()) as { ok: boolean; value?: { added: number; duplicates: number }; error?: { code: string; message: string } },
  }));
const call = (method: string, body: unknown) =>
  fetch(`http://127.0.0.1:${server.port}/api/${method}`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' } }).then(
    (r) => r.json() as Promise<{ ok: boolean; value?: unknown; error?: { code: string } }>,
  );

beforeAll(async () => {
  app = createApp({ home: tmpDir('restora-upload-'), backend: 'wasm', threads: 1 });
  server = await startServer(createHandlers(app, { transport: 'http' }), { upload: createUploadHandler(app), media: app.media });
  png = await sharp(Buffer.from(toUint8(synthImage(48, 32, 3))), { raw: { width: 48, height: 32, channels: 3 } })
    .png()
    .toBuffer();
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

describe('uploads and the sample photo', () => {
  it('stores an uploaded photo once under uploads/<hash>/<name> and imports it; the same bytes again are a duplicate', async () => {
    const { id } = app
      .library()
      .listProjects()
      .find((p) => p.name === 'web') ?? { id: app.library().createProject('web') };
    const first = await upload(`projectId=${id}&name=${encodeURIComponent('grand mère 1952.png')}`, png);
    expect(first).toMatchObject({ status: 200, json: { ok: true, value: { added: 1, duplicates: 0 } } });
    const again = await upload(`projectId=${id}&name=copy.png`, png);
    expect(again.json).toMatchObject({ ok: true, value: { added: 0, duplicates: 1 } });
    const stored = fs
      .readdirSync(path.join(app.home, 'uploads'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.png'));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(/^[0-9a-f]{32}\/grand mère 1952\.png$/);
    expect(
      app
        .library()
        .list(id)
        .rows.map((r) => path.basename(r.path)),
    ).toEqual(['grand mère 1952.png']);
  });

  it('refuses what is not a photo, a bad name or no project with a clear answer, leaving no partial file', async () => {
    const id = app.library().createProject('refusals');
    expect((await upload(`projectId=${id}&name=notes.txt`, 'hello')).json).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED_FORMAT', message: expect.stringContaining('notes.txt: not an image') } });
    expect((await upload(`projectId=${id}&name=${encodeURIComponent('../../evil.png')}`, png)).json).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect((await upload(`projectId=${id}&name=empty.png`, '')).json).toMatchObject({ ok: false, error: { code: 'CORRUPT_IMAGE' } });
    expect((await upload(`projectId=999&name=a.png`, png)).json).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((await upload(`name=a.png`, png)).status).toBe(400);
    const unauth = await fetch(`http://127.0.0.1:${server.port}/upload?projectId=${id}&name=a.png`, { method: 'POST', body: new Uint8Array(png) });
    expect(unauth.status).toBe(401);
    expect(fs.readdirSync(path.join(app.home, 'uploads')).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('imports the sample photo shipped with Restora, and says the open dialog is desktop-only', async () => {
    const id = app.library().createProject('sample');
    expect(await call('library.importSample', { projectId: id })).toMatchObject({ ok: true, value: { added: 1 } });
    expect(
      app
        .library()
        .list(id)
        .rows.map((r) => path.basename(r.path)),
    ).toEqual(['coffee.png']);
    expect(await call('app.pickPaths', { kind: 'files' })).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
  });
});

describe('hostile uploads and masks (issue 24, item 8)', () => {
  const storedDirs = () =>
    fs
      .readdirSync(path.join(app.home, 'uploads'))
      .filter((f) => !f.startsWith('.'))
      .sort();

  it('a 400-byte file name gets a clear 400 naming the limit (not a 500), and stores nothing', async () => {
    const id = app.library().createProject('long names');
    const before = storedDirs();
    const name = `${'é'.repeat(198)}.png`; // 202 characters, 400 bytes
    const r = await upload(`projectId=${id}&name=${encodeURIComponent(name)}`, png);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringMatching(/400 bytes.*255 bytes/) } });
    expect(storedDirs()).toEqual(before);
  });

  it('a refused upload leaves nothing in uploads/<hash>/', async () => {
    const id = app.library().createProject('refused');
    const before = storedDirs();
    const r = await upload(`projectId=${id}&name=holiday.png`, 'not a png at all, only its name is');
    expect(r.json).toMatchObject({ ok: true, value: { added: 0, duplicates: 0 } });
    expect((r.json.value as unknown as { failed: { path: string }[] }).failed).toHaveLength(1);
    expect(storedDirs()).toEqual(before);
    expect(fs.readdirSync(path.join(app.home, 'uploads')).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('a declared 3 GB body is refused with 413 before it is read', async () => {
    const id = app.library().createProject('huge');
    const answer = await new Promise<string>((resolve) => {
      const sock = net.connect(server.port, '127.0.0.1', () =>
        sock.write(`POST /upload?projectId=${id}&name=huge.png HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 3000000000\r\n\r\n${'x'.repeat(1000)}`),
      );
      let got = '';
      // Nothing more is sent: a server that waits for the body never answers.
      const timer = setTimeout(() => (sock.destroy(), resolve(got)), 3000);
      sock.on('data', (d: Buffer) => {
        got += d.toString();
        if (!got.includes('\r\n\r\n')) return;
        clearTimeout(timer);
        sock.destroy();
        resolve(got);
      });
      sock.on('error', () => (clearTimeout(timer), resolve(got)));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(fs.readdirSync(path.join(app.home, 'uploads')).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('a mask is measured from its header before it is decoded: a small file claiming 16000x16000 is refused by its size', async () => {
    const id = app.library().createProject('masks');
    const photo = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 9, g: 80, b: 200 } } })
      .png()
      .toBuffer();
    expect((await upload(`projectId=${id}&name=mask-target.png`, photo)).json).toMatchObject({ ok: true, value: { added: 1 } });
    const imageId = app.library().list(id).rows[0]!.id;
    // A real 8x8 PNG whose header claims 16000x16000 (CRC fixed): 256 MP to decode, a few bytes to read.
    const small = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .png()
      .toBuffer();
    const claim = Buffer.from(small);
    claim.writeUInt32BE(16000, 16);
    claim.writeUInt32BE(16000, 20);
    claim.writeUInt32BE(zlib.crc32(claim.subarray(12, 29)) >>> 0, 29);
    const r = await call('damage.saveMask', { imageId, png: claim.toString('base64') });
    expect(r).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect((r.error as unknown as { message: string }).message).toMatch(/16000x16000, but .*48x32/);
    expect(fs.existsSync(path.join(app.home, 'masks', `${imageId}.png`))).toBe(false);
  });
});
