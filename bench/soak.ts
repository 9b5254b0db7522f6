/**
 * Soak: `restora serve` in a child process under mixed load for a while (default 10 min):
 * the studio's polling (library, jobs, runs every 100 ms), first-time and cached thumbnails,
 * an import of new photos every 20 s, upscales back to back, one training run and export
 * jobs one after another, hostile model files imported one after another (issue 24: the
 * generated files of test/hostileModelFiles.ts, 200 per format unless told), and, with
 * --webgpu, hostile traffic on the WebGPU page engine's port, found as an attacker finds it
 * (the Chromium command line). Reports p50/p99 latency per kind of request, errors, the
 * server's RSS and open file descriptors at start, end and peak, and for the imports the
 * server's peak RSS (VmHWM) after each, against the 1.5 GB bound. Prints one JSON line.
 *   npx tsx bench/soak.ts [--seconds N] [--hostile-per-format N] [--webgpu]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { packageRoot } from '../src/main/paths.js';
import { installTinyModel } from '../test/helpers.js';
import { writeHostileModels } from '../test/hostileModelFiles.js';
import { hostilePageTraffic } from '../test/pageFuzz.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const seconds = option('--seconds', 600);
const hostilePerFormat = option('--hostile-per-format', 200);
const webgpu = argv.includes('--webgpu');
const IMPORT_RSS_BOUND_MB = 1536;
const root = packageRoot();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-soak-'));

let photoSeed = 0;
async function makePhotos(dir: string, n: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const seed = ++photoSeed;
    const w = 192;
    const h = 144;
    const px = Buffer.alloc(w * h * 3);
    for (let k = 0; k < px.length; k++) px[k] = (Math.sin(k / (53 + seed)) * 90 + 128 + ((k * (seed + 7)) % 23)) & 255;
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(path.join(dir, `photo-${seed}.png`));
  }
}

await makePhotos(path.join(work, 'photos'), 40);
const hostileDir = path.join(work, 'hostile');
fs.mkdirSync(hostileDir);
const hostile = writeHostileModels(hostileDir, hostilePerFormat, 1224, await installTinyModel(path.join(work, 'template-home'), 'template'));
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'index.ts'), 'serve', ...(webgpu ? ['--backend', 'webgpu'] : [])], {
  cwd: root,
  env: { ...process.env, RESTORA_HOME: path.join(work, 'home') },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let serverLog = '';
child.stderr.on('data', (b: Buffer) => (serverLog = (serverLog + b.toString()).slice(-4000)));
const url = await new Promise<URL>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    const m = /Restora UI: (\S+)/.exec(out);
    if (m) resolve(new URL(m[1]!));
  });
  child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${serverLog}`)));
});
const port = Number(url.port);
const token = url.searchParams.get('token')!;

function request(pathname: string, body?: unknown): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
    });
    req.on('error', (err) => resolve({ status: 0, text: err.message, ms: performance.now() - t0 }));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const latencies: Record<string, number[]> = {};
const errors: Record<string, number> = {};
const errorSamples: string[] = [];
async function call<T>(kind: string, method: string, body: unknown = {}): Promise<T | undefined> {
  const r = await request(`/api/${method}`, body);
  (latencies[kind] ??= []).push(r.ms);
  const parsed = r.status === 200 ? (JSON.parse(r.text) as { ok: boolean; value?: T; error?: { code: string } }) : null;
  if (!parsed?.ok) {
    errors[kind] = (errors[kind] ?? 0) + 1;
    if (errorSamples.length < 10) errorSamples.push(`${method}: ${r.status} ${r.text.slice(0, 200)}`);
    return undefined;
  }
  return parsed.value;
}

/** The server's peak RSS so far (VmHWM), MB. */
function peakRssMB(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** The WebGPU page's port, read from a Chromium command line as any local user can (null until the page runs). */
function pagePort(): number | null {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(cmd);
      if (m && /chrom/i.test(cmd)) return Number(m[1]);
    } catch {
      // gone, or not ours
    }
  }
  return null;
}

function processStats(): { rssMB: number; fds: number } {
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  return { rssMB: +rss.toFixed(1), fds: fs.readdirSync(`/proc/${child.pid}/fd`).length };
}

const end = Date.now() + seconds * 1000;
const running = () => Date.now() < end;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const projectId = (await call<{ id: number }>('setup', 'projects.create', { name: 'soak' }))!.id;
await call('setup', 'library.import', { projectId, paths: [path.join(work, 'photos')] });
const start = processStats();
const samples: Array<{ t: number; rssMB: number; fds: number }> = [{ t: 0, ...start }];
const t0 = Date.now();

const ids = async () => ((await call<{ rows: { id: number }[] }>('ui', 'library.list', { projectId, limit: 1000 }))?.rows ?? []).map((r) => r.id);
let known = await ids();
let counts = { imports: 0, upscales: 0, exports: 0, thumbnails: 0, trainingSteps: 0, hostileModels: 0, pageProbes: 0 };
const hostileOutcomes: Record<string, number> = {};
const hostileBad: string[] = [];
let worstImport = { peakRssMB: 0, file: '' };
const pageStatuses: Record<number, number> = {};
const pageBad: string[] = [];

const loops = [
  // The studio polls what it shows.
  (async () => {
    while (running()) {
      known = await ids();
      await call('ui', 'jobs.list');
      await call('ui', 'training.runs');
      await sleep(100);
    }
  })(),
  // Thumbnails: each new photo's first request makes it, later ones are cached.
  (async () => {
    let i = 0;
    while (running()) {
      const id = known[i++ % Math.max(1, known.length)];
      if (id !== undefined) {
        const r = await request(`/media/thumb/${id}`);
        (latencies.thumbnail ??= []).push(r.ms);
        if (r.status !== 200) errors.thumbnail = (errors.thumbnail ?? 0) + 1;
        counts.thumbnails++;
      }
      await sleep(20);
    }
  })(),
  // New photos arrive every 20 s.
  (async () => {
    while (running()) {
      await sleep(20_000);
      if (!running()) break;
      const dir = path.join(work, `arrivals-${counts.imports}`);
      await makePhotos(dir, 10);
      await call('import', 'library.import', { projectId, paths: [dir] });
      counts.imports++;
    }
  })(),
  // Upscales back to back (the Compare view).
  (async () => {
    let i = 0;
    while (running()) {
      const id = known[i++ % Math.max(1, known.length)];
      if (id === undefined) await sleep(100);
      else if (await call('upscale', 'upscale.image', { imageId: id, taskId: `soak-${i}` })) counts.upscales++;
    }
  })(),
  // Exports one after another.
  (async () => {
    while (running()) {
      const formats = ['png', 'jpg', 'webp'] as const;
      const started = await call<{ jobId: number }>('export', 'jobs.start', { imageIds: known.slice(0, 20), outDir: path.join(work, `export-${counts.exports}`), format: formats[counts.exports % 3] });
      if (!started) break;
      for (;;) {
        await sleep(500);
        const jobs = (await call<Array<{ id: number; state: string }>>('ui', 'jobs.list')) ?? [];
        if (!running() || jobs.find((j) => j.id === started.jobId)?.state !== 'running') break;
      }
      counts.exports++;
    }
  })(),
  // Hostile model files, one import after another; the server's peak RSS after each.
  (async () => {
    for (const c of hostile) {
      if (!running()) break;
      const r = await request('/api/models.import', { path: c.path });
      (latencies.hostileImport ??= []).push(r.ms);
      counts.hostileModels++;
      const peak = peakRssMB();
      if (peak > worstImport.peakRssMB) worstImport = { peakRssMB: +peak.toFixed(1), file: `${path.basename(c.path)} (${c.kind})` };
      const reply = r.status === 200 ? (JSON.parse(r.text) as { ok: boolean; value?: { card: { id: string } }; error?: { code: string; message: string } }) : null;
      const key = reply ? (reply.ok ? 'imported' : reply.error!.code) : `HTTP ${r.status}`;
      hostileOutcomes[key] = (hostileOutcomes[key] ?? 0) + 1;
      const stem = c.format === 'ncnn' ? path.basename(c.path, '.param') : path.basename(c.path);
      if (!reply || key === 'INTERNAL' || (!reply.ok && !reply.error!.message.includes(stem))) hostileBad.push(`${path.basename(c.path)} (${c.kind}): ${r.text.slice(0, 200)}`);
      if (reply?.ok) await call('hostile', 'models.delete', { id: reply.value!.card.id });
    }
  })(),
  // With --webgpu: hostile traffic on the page engine's port, in rounds, while upscales run on it.
  (async () => {
    if (!webgpu) return;
    let seed = 1;
    while (running()) {
      const port = pagePort();
      if (port === null) {
        await sleep(1000);
        continue;
      }
      const report = await hostilePageTraffic(port, seed++, 50);
      counts.pageProbes += 50;
      for (const [k, v] of Object.entries(report.statuses)) pageStatuses[Number(k)] = (pageStatuses[Number(k)] ?? 0) + v;
      pageBad.push(...report.bad.slice(0, 5 - Math.min(5, pageBad.length)));
      if (report.upgradesAccepted) pageBad.push(`${report.upgradesAccepted} hostile upgrades accepted`);
    }
  })(),
  // Resources every 5 s.
  (async () => {
    while (running()) {
      await sleep(5000);
      samples.push({ t: Math.round((Date.now() - t0) / 1000), ...processStats() });
    }
  })(),
];
const run = await call<{ runId: number }>('train', 'training.start', { name: 'soak-run', dataDirs: [path.join(work, 'photos')], scale: 2, preset: 'bicubic', arch: 'compact', steps: 100_000, batch: 4, patch: 32 });
await Promise.all(loops);
const runs = (await call<Array<{ id: number; step?: number; lastStep?: number; state: string }>>('ui', 'training.runs')) ?? [];
const r0 = runs.find((r) => r.id === run?.runId);
counts = { ...counts, trainingSteps: Number(r0?.lastStep ?? r0?.step ?? 0) };
if (run) await call('train', 'training.cancel', { runId: run.runId });
await sleep(2000);
const final = processStats();
child.kill('SIGINT');
await new Promise((r) => child.once('exit', r));
fs.rmSync(work, { recursive: true, force: true });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return +(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0).toFixed(1);
};
console.log(
  JSON.stringify({
    seconds,
    cpus: os.cpus().length,
    counts,
    latencyMs: Object.fromEntries(Object.entries(latencies).map(([k, xs]) => [k, { n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) }])),
    errors,
    errorSamples,
    server: { start, end: final, peakRssMB: Math.max(...samples.map((s) => s.rssMB)), peakFds: Math.max(...samples.map((s) => s.fds)) },
    hostileModels: {
      files: hostile.length,
      imported: counts.hostileModels,
      outcomes: hostileOutcomes,
      unclear: hostileBad.slice(0, 10),
      peakRssMB: worstImport.peakRssMB,
      peakAfter: worstImport.file,
      boundMB: IMPORT_RSS_BOUND_MB,
      withinBound: worstImport.peakRssMB < IMPORT_RSS_BOUND_MB,
    },
    ...(webgpu ? { pageEngine: { probes: counts.pageProbes, byStatus: pageStatuses, bad: pageBad } } : {}),
    samples: samples.filter((_, i) => i % 12 === 0),
  }),
);
