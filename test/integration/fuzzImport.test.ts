/**
 * Model import under fuzz (issue 24): generated hostile model files of every format
 * (PyTorch zip, legacy pickle stream, safetensors, ncnn pair, Restora model folder) go
 * through `models.import` on a live server, as the studio sends them. Each must be
 * imported or refused with a clear error naming the file, never INTERNAL; the server
 * must stay up; and the process that hosts the server and its compute worker must stay
 * under 1.5 GB peak RSS over all of them (so every single import did too).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/app/createApp.js';
import { createHandlers } from '../../src/main/app/handlers.js';
import { startServer, type RunningServer } from '../../src/main/server/httpServer.js';
import { HOSTILE_FORMATS, writeHostileModels, type HostileCase } from '../hostileModelFiles.js';
import { installTinyModel, tmpDir } from '../helpers.js';

/** Generated files per format (each accepted one costs a timed import of about a second here); the soak (`npm run bench -- --soak`) runs 200 per format. */
const PER_FORMAT = Number(process.env.RESTORA_FUZZ_MODELS ?? 120);
const RSS_BOUND_MB = 1536;

let home = '';
let app: App;
let server: RunningServer;
let cases: HostileCase[] = [];

function post(method: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: `/api/${method}`, method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The file a refusal must name: an ncnn pair's .param or .bin, whichever is at fault. */
const named = (c: HostileCase) => (c.format === 'ncnn' ? path.basename(c.path, '.param') : path.basename(c.path));
const peakRssMB = () => process.resourceUsage().maxRSS / 1024;

beforeAll(async () => {
  home = tmpDir('restora-fuzz-import-');
  const template = await installTinyModel(tmpDir(), 'template');
  const files = path.join(home, 'hostile');
  fs.mkdirSync(files);
  cases = writeHostileModels(files, PER_FORMAT, 24, template);
  // Two threads: test files run one at a time here, and most of the time goes to each accepted model's timed import.
  app = createApp({ home: path.join(home, 'app'), backend: 'wasm', threads: 2 });
  server = await startServer(createHandlers(app, { transport: 'http' }), { events: app.events, media: app.media });
});

afterAll(async () => {
  await server?.close();
  await app?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('model import under fuzz', () => {
  it(`imports or clearly refuses ${PER_FORMAT} generated hostile models per format, and stays under ${RSS_BOUND_MB} MB peak RSS`, async () => {
    const bad: string[] = [];
    const outcome: Record<string, Record<string, number>> = {};
    let worstGrowth = { mb: 0, what: '' };
    const ms = { imported: 0, refused: 0 };
    for (const c of cases) {
      const rssBefore = process.memoryUsage().rss;
      const t0 = performance.now();
      const r = await post('models.import', { path: c.path });
      const took = performance.now() - t0;
      if (process.env.RESTORA_FUZZ_TRACE) console.log(`${Math.round(took)} ms ${path.basename(c.path)} (${c.kind})`);
      const grew = (process.memoryUsage().rss - rssBefore) / 1024 ** 2;
      if (grew > worstGrowth.mb) worstGrowth = { mb: +grew.toFixed(1), what: `${path.basename(c.path)} (${c.kind})` };
      const what = `${path.basename(c.path)} (${c.kind})`;
      if (r.status !== 200) {
        bad.push(`${what} -> HTTP ${r.status} ${r.text.slice(0, 200)}`);
        continue;
      }
      const reply = JSON.parse(r.text) as { ok: boolean; value?: { card: { id: string } }; error?: { code: string; message: string } };
      const counts = (outcome[c.format] ??= {});
      const key = reply.ok ? 'imported' : reply.error!.code;
      ms[reply.ok ? 'imported' : 'refused'] += took;
      counts[key] = (counts[key] ?? 0) + 1;
      if (reply.ok) {
        // Keep the library small: what was imported goes again.
        await post('models.delete', { id: reply.value!.card.id });
      } else if (reply.error!.code === 'INTERNAL' || !reply.error!.message.includes(named(c))) {
        bad.push(`${what} -> ${reply.error!.code}: ${reply.error!.message.slice(0, 300)}`);
      }
    }
    console.log(
      `import fuzz: ${cases.length} models, outcomes ${JSON.stringify(outcome)}, peak RSS ${peakRssMB().toFixed(0)} MB, seconds importing ${(ms.imported / 1000).toFixed(1)} and refusing ${(ms.refused / 1000).toFixed(1)}, largest growth in one import ${JSON.stringify(worstGrowth)}`,
    );
    expect(bad).toEqual([]);
    for (const f of HOSTILE_FORMATS) expect(Object.values(outcome[f] ?? {}).reduce((a, b) => a + b, 0)).toBe(PER_FORMAT);
    expect((await post('app.info', {})).status).toBe(200);
    expect(peakRssMB()).toBeLessThan(RSS_BOUND_MB);
    // Nothing refused was left half-written in the user's model folder.
    const left = fs.existsSync(path.join(home, 'app', 'models')) ? fs.readdirSync(path.join(home, 'app', 'models')) : [];
    expect(left.filter((n) => n.startsWith('.') || n.includes('tmp'))).toEqual([]);
  }, 600_000);
});
