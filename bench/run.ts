/**
 * `npm run bench`: Restora's figures side by side with a peer in the same run.
 * Prints one JSON document (and writes bench/results/latest.json).
 *   --big      also upscale a generated 6000x4000 JPEG x2 in a child process (peak RSS)
 *   --library  also time library import of 20,000 images and paging with a filter
 *   --tiles    also sweep the tile size for x2 inference throughput on the same photo
 *   --lag      also measure the main thread's event-loop lag while a training run goes (worker vs main thread)
 *   --jobs     also measure the batch engine's per-item overhead against direct upscales (same worker)
 *   --big4     also run x4plus (imported) on a 3000x2000 photo: peak RSS and ETA, cancelled after 4 tiles
 *   --soak     also run `restora serve` for 10 min under mixed load (bench/soak.ts): p50/p99 latency, RSS and fds
 *   --no-upscayl  leave out imported Real-ESRGAN models vs upscayl-bin (~3 min on 2 cores)
 *   --no-webgpu   leave out the WebGPU engine vs the wasm engine (~75 s on SwiftShader)
 *   --no-span     leave out SPAN x4 vs restora-x4, and its memory on a 3000x2000 photo (bench/span.ts, ~1 min)
 *   --no-archs    leave out RealPLKSR, SwinIR and DAT at their released sizes vs the bundled models, each with
 *                 its memory and projected time on a 3000x2000 photo (bench/{realplksr,swinir,dat}.ts; several
 *                 minutes each on 2 cores: one full-size tile of a transformer is minutes of wasm)
 *   --no-faces    leave out the face models (GFPGAN, CodeFormer: one 512 px face each, ~1 min on 2 cores)
 *   --no-distilled  leave out the distilled students vs their Real-ESRGAN teachers (bench/distilled.ts; a few
 *                 minutes on 2 cores, most of it importing x4plus and its one timed run)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/main/ml/backend.js';
import { loadLayersModel, readCard } from '../src/main/ml/store/modelStore.js';
import { upscaleTiled, type Predictor } from '../src/main/ml/infer/tiling.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, imresize } from '../src/main/imaging/imresize.js';
import { evaluateModel, evaluatePairs } from '../src/main/ml/eval/evaluate.js';
import { bundledModelsDir, packageRoot } from '../src/main/paths.js';
import { tilingFor } from '../src/main/ml/archs/index.js';
import { DEFAULT_TRAINER_CONFIG, Trainer } from '../src/main/ml/train/trainer.js';
import { degradedSource, makeBicubicPair, type BatchSource } from '../src/main/ml/train/dataset.js';
import { threadedDegradedSource } from '../src/main/ml/train/degradeLoader.js';
import { degrade } from '../src/main/degrade/presets.js';

const root = packageRoot();
const args = new Set(process.argv.slice(2));
const backend = await initBackend();
const ESRGAN_DIR = path.join(root, 'node_modules', '@upscalerjs', 'esrgan-slim', 'models', 'x2');
const SHARED = process.env.RESTORA_SHARED_DATA ?? path.resolve(root, '../shared/data');

/** The bench photo, decoded once for every section (read-only: callers crop or resize copies). */
let benchPhotoOnce: ReturnType<typeof loadBenchPhoto> | undefined;
function benchPhoto() {
  return (benchPhotoOnce ??= loadBenchPhoto());
}

/** A ~2 MP photo (1632x1224): a crop of a big Debian wallpaper photo if fetched, else generated. */
async function loadBenchPhoto() {
  const w = 1632;
  const h = 1224;
  const real = path.join(root, 'data', 'debs', 'x', 'usr', 'share', 'wallpapers', 'Path', 'contents', 'images', '2560x1600.jpg');
  if (fs.existsSync(real)) {
    const img = await decodeRgbFloat(real);
    return { source: 'plasma-workspace-wallpapers Path 2560x1600.jpg (crop)', img: crop(img, 0, 0, w, h) };
  }
  const data = new Float32Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = (i / w) | 0;
    data[i * 3] = 128 + 100 * Math.sin(x / 9) * Math.cos(y / 13);
    data[i * 3 + 1] = (255 * x) / w;
    data[i * 3 + 2] = 128 + 90 * Math.sin((x * y) / 5000);
  }
  return { source: 'generated', img: { width: w, height: h, channels: 3, data } };
}

function rss(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function timeUpscale(p: Predictor, u8: Uint8Array, w: number, h: number, overlap: number, multiple = 1, scale = 2) {
  await upscaleTiled(p, u8.subarray(0, 64 * 64 * 3), 64, 64, 255, { scale, tile: 64, overlap, multiple }); // warm-up
  const t0 = performance.now();
  await upscaleTiled(p, u8, w, h, 255, { scale, tile: 384, overlap, multiple });
  const sec = (performance.now() - t0) / 1000;
  return { seconds: +sec.toFixed(2), outputMPperSec: +((w * scale * h * scale) / 1e6 / sec).toFixed(3) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A trainer on one bench photo, 3 warm-up steps done; `time(n)` gives n per-step times in ms. */
async function trainStepper(arch: string, scale: number, batch: number, patch: number) {
  const photos = [makeBicubicPair('bench', imresize((await benchPhoto()).img, 0.5), scale)];
  const config = { ...DEFAULT_TRAINER_CONFIG, arch, scale, steps: 100000, batch, patch, validateEvery: 1e9, checkpointEvery: 1e9 };
  const trainer = await Trainer.open(config, photos, [], fs.mkdtempSync(path.join(os.tmpdir(), 'restora-bench-')));
  for (let i = 0; i < 3; i++) trainer.trainStep();
  return {
    trainer,
    time(n: number): number[] {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        trainer.trainStep();
        out.push(+(performance.now() - t0).toFixed(1));
      }
      return out;
    },
  };
}

/** Median of `steps` training steps after 3 warm-up steps, and a per-kernel profile of one more. */
async function timeTrainStep(arch: string, scale: number, batch: number, patch: number, steps: number) {
  const stepper = await trainStepper(arch, scale, batch, patch);
  const times = stepper.time(steps);
  const ms = median(times);
  const prof = await tf.profile(() => {
    stepper.trainer.trainStep();
  });
  const byKernel = new Map<string, number>();
  for (const k of prof.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  stepper.trainer.model.dispose();
  return {
    arch,
    scale,
    batch,
    patch,
    restora: { msPerStep: +ms.toFixed(0), samplesPerSec: +((batch * 1000) / ms).toFixed(1), stepsMs: times, numTensors: tf.memory().numTensors },
    profile: Object.fromEntries(
      [...byKernel.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([k, v]) => [k, `${v.toFixed(0)} ms (${((100 * v) / total).toFixed(0)}%)`]),
    ),
  };
}

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  backend: { id: backend.id, threads: backend.threads, tfjs: backend.tfjsVersion },
};

// 1. Inference x2 of the same ~2 MP photo: restora-x2 vs UpscalerJS esrgan-slim x2.
{
  const { source, img } = await benchPhoto();
  const u8 = Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
  const dir = path.join(bundledModelsDir(), 'restora-x2');
  const card = readCard(dir);
  const ours = await loadLayersModel(dir);
  const { overlap, multiple } = tilingFor(card);
  const restora = await timeUpscale(ours, u8, img.width, img.height, overlap, multiple);
  const entry: Record<string, unknown> = { photo: source, inputSize: [img.width, img.height], restora: { model: 'restora-x2', params: ours.countParams(), ...restora } };
  {
    // The same photo x4 with restora-x4 (compact x4), for the PyTorch x4 figure below.
    const dir4 = path.join(bundledModelsDir(), 'restora-x4');
    const net4 = await loadLayersModel(dir4);
    const t4 = tilingFor(readCard(dir4));
    report.inferenceX4 = { photo: source, inputSize: [img.width, img.height], restora: { model: 'restora-x4', params: net4.countParams(), ...(await timeUpscale(net4, u8, img.width, img.height, t4.overlap, t4.multiple, 4)) } };
    net4.dispose();
  }
  if (fs.existsSync(ESRGAN_DIR)) {
    const esrgan = await loadLayersModel(ESRGAN_DIR);
    // UpscalerJS ESRGAN models take and return 0..255.
    const peer: Predictor = { predict: (x) => tf.tidy(() => (esrgan.predict(x.mul(255)) as tf.Tensor).div(255)) };
    const peerTime = await timeUpscale(peer, u8, img.width, img.height, 16);
    entry.peer = { model: '@upscalerjs/esrgan-slim x2', params: esrgan.countParams(), ...peerTime };
    entry.speedRatio = +(restora.outputMPperSec / peerTime.outputMPperSec).toFixed(2);
    if (fs.existsSync(path.join(SHARED, 'set5'))) {
      const qOurs = await evaluateModel(dir, path.join(SHARED, 'set5'), path.join(SHARED, 'set5', 'LR_bicubic', 'X2'), 2);
      // UpscalerJS ESRGAN takes and returns 0..255.
      const qPeer = await evaluatePairs(path.join(SHARED, 'set5'), path.join(SHARED, 'set5', 'LR_bicubic', 'X2'), 2, (lr) => {
        const y = tf.tidy(() => (esrgan.predict(tf.tensor4d(lr.data, [1, lr.height, lr.width, 3])) as tf.Tensor).clipByValue(0, 255).round());
        const data = y.dataSync() as Float32Array;
        y.dispose();
        return { width: lr.width * 2, height: lr.height * 2, channels: 3, data };
      });
      entry.set5x2 = { restora: +qOurs.psnr.toFixed(3), peer: +qPeer.psnr.toFixed(3), bicubic: +qOurs.bicubic.psnr.toFixed(3) };
    }
  } else {
    entry.peer = 'not installed (npm install -D @upscalerjs/esrgan-slim)';
  }
  report.inferenceX2 = entry;
}

// 2. Training steps: the default compact net (batch 16, 48 px LR patches) and srresnet x4 (batch 4, 24 px).
report.trainStepCompactX2 = await timeTrainStep('compact', 2, 16, 48, 10);
report.trainStepSrresnetX4 = await timeTrainStep('srresnet', 4, 4, 24, 5);

// 2b. Training on the fly with the old-photo preset: degradation in the training thread vs on the loader thread.
{
  const photo = imresize((await benchPhoto()).img, 0.5);
  const config = { ...DEFAULT_TRAINER_CONFIG, arch: 'compact', scale: 2, steps: 1000, batch: 16, patch: 48, validateEvery: 1e9, checkpointEvery: 1e9 };
  const steps = 6;
  const time = async (source: BatchSource) => {
    const trainer = await Trainer.open(config, source, [], fs.mkdtempSync(path.join(os.tmpdir(), 'restora-bench-')));
    for (let i = 0; i < 2; i++) await trainer.nextStep();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await trainer.nextStep();
    trainer.dispose();
    return +((performance.now() - t0) / steps).toFixed(0);
  };
  const inThread = await time(degradedSource([photo], (hr, s, rng) => degrade(hr, s, 'old-photo', rng)));
  const loader = threadedDegradedSource([photo], 'old-photo');
  const threaded = await time(loader);
  await loader.close();
  report.trainStepOldPhotoX2 = { batch: 16, patch: 48, msPerStep: { degradeInTrainingThread: inThread, degradeOnLoaderThread: threaded }, speedup: +(inThread / threaded).toFixed(2) };
}

// 3. The PyTorch CPU peer (bench/peers), same architecture, batch, patch and threads.
{
  const python = '/usr/bin/python3';
  const peerScript = path.join(root, 'bench', 'peers', 'torch_peer.py');
  // glibc hands PyTorch's activation-sized buffers back to the OS after every step, and the
  // page faults of getting them again make its steps swing from ~50 to ~190 ms on this VM
  // (system time ~20%). Keeping the allocator's memory makes the peer steady at its best,
  // so the ratio below is against PyTorch at its fastest, not its slowest.
  const peerEnv = { ...process.env, MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '4294967296', MALLOC_TOP_PAD_: '268435456' };
  const runPeer = (extra: string[]) => spawnSync(python, [peerScript, '--threads', String(backend.threads), ...extra], { encoding: 'utf8', env: peerEnv });
  const probe = fs.existsSync(python) ? spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }) : null;
  if (!probe || probe.status !== 0) {
    report.torchPeer = 'not installed: apt-get install -y python3-torch (then /usr/bin/python3 has torch)';
  } else {
    const r = runPeer(['--srresnet-batch', '4', '--srresnet-patch', '24']);
    if (r.status !== 0) report.torchPeer = { error: r.stderr.slice(-400) };
    else {
      const peer = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        trainStepMs: number;
        srresnetX4: { trainStepMs: number };
        inferX2OutputMPperSec: number;
        inferX4OutputMPperSec: number;
      };
      // The headline training ratio: three interleaved rounds (Restora 10 steps, then PyTorch
      // 20 steps in a fresh process), medians over all steps of each, so that slow and fast
      // spells of the shared machine fall on both sides.
      const stepper = await trainStepper('compact', 2, 16, 48);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let round = 0; round < 3; round++) {
        ours.push(...stepper.time(10));
        const t = runPeer(['--train-only', '--steps', '20']);
        if (t.status === 0) theirs.push(...(JSON.parse(t.stdout.trim().split('\n').pop()!) as { trainStepsMs: number[] }).trainStepsMs);
      }
      stepper.trainer.model.dispose();
      const oursMs = median(ours);
      const theirsMs = theirs.length ? median(theirs) : peer.trainStepMs;
      const oursSrresnet = report.trainStepSrresnetX4 as { restora: { msPerStep: number } };
      const inf = report.inferenceX2 as { restora: { outputMPperSec: number } };
      const inf4 = report.inferenceX4 as { restora: { outputMPperSec: number } };
      report.torchPeer = {
        ...peer,
        interleavedCompactX2: {
          rounds: 3,
          restora: { medianMs: +oursMs.toFixed(1), minMs: Math.min(...ours), steps: ours.length },
          torch: { medianMs: +theirsMs.toFixed(1), minMs: theirs.length ? Math.min(...theirs) : null, steps: theirs.length },
        },
        trainStepRatio: +(oursMs / theirsMs).toFixed(2),
        srresnetTrainStepRatio: +(oursSrresnet.restora.msPerStep / peer.srresnetX4.trainStepMs).toFixed(2),
        inferX4Ratio: +(peer.inferX4OutputMPperSec / inf4.restora.outputMPperSec).toFixed(2),
        // Same batch (16) on both sides: training throughput in samples/s, as issue 5 asks.
        trainSamplesPerSec: { restora: +((16 * 1000) / oursMs).toFixed(1), torch: +((16 * 1000) / theirsMs).toFixed(1) },
        inferX2Ratio: +(peer.inferX2OutputMPperSec / inf.restora.outputMPperSec).toFixed(2),
        note: 'ratios are restora time / torch time (1 = parity); training figures are medians of per-step times',
      };
    }
  }
}

// 3a. Imported community models (Upscayl's Real-ESRGAN ncnn files) vs upscayl-bin on the same photo (child process).
if (!args.has('--no-upscayl')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'importedModels.ts'), ...(args.has('--big4') ? ['--big'] : [])], { encoding: 'utf8', cwd: root });
  report.importedVsUpscayl = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 3a'. Distilled students (restora-clean-x2/x4, or their stand-ins while not bundled) vs their teachers (child process).
if (!args.has('--no-distilled')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'distilled.ts')], { encoding: 'utf8', cwd: root });
  report.distilled = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 3a''. Face models (GFPGAN, CodeFormer at their released sizes): one 512 px face each, and their memory (child process).
if (!args.has('--no-faces')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'faceModels.ts')], { encoding: 'utf8', cwd: root });
  report.faceModels = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 3a'''. SPAN x4 (48 features, random weights) vs the bundled restora-x4 on the same 160 px crop, and its memory on a 3000x2000 photo (child process).
if (!args.has('--no-span')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'span.ts')], { encoding: 'utf8', cwd: root });
  report.span = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 3a''''. The community's newer architectures at their released sizes (random weights), each beside a
// bundled model on the same crop, with peak RSS and projected time on a 3000x2000 photo (child processes).
if (!args.has('--no-archs')) {
  for (const arch of ['realplksr', 'swinir', 'dat']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', `${arch}.ts`)], { encoding: 'utf8', cwd: root });
    report[arch] = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
  }
}

// 3b. The WebGPU engine (headless Chromium, whatever adapter it finds) beside the wasm engine (child process).
if (!args.has('--no-webgpu')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'webgpu.ts')], { encoding: 'utf8', cwd: root });
  report.webgpu = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 3c. Optional: x2 throughput by tile size (the default tile must be chosen for throughput and memory).
if (args.has('--tiles')) {
  const { img } = await benchPhoto();
  const u8 = Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
  const dir = path.join(bundledModelsDir(), 'restora-x2');
  const net = await loadLayersModel(dir);
  const { overlap, multiple } = tilingFor(readCard(dir));
  const channels = Number(readCard(dir).archOptions.channels ?? 32);
  await upscaleTiled(net, u8.subarray(0, 64 * 64 * 3), 64, 64, 255, { scale: 2, tile: 64, overlap, multiple }); // warm-up
  const rows: Record<string, unknown>[] = [];
  for (const tile of [128, 192, 256, 384, 512, 768]) {
    const t0 = performance.now();
    await upscaleTiled(net, u8, img.width, img.height, 255, { scale: 2, tile, overlap, multiple });
    const sec = (performance.now() - t0) / 1000;
    const side = tile + 2 * overlap;
    // One conv activation of the padded tile (float32): what each layer holds while a tile runs.
    rows.push({ tile, seconds: +sec.toFixed(2), outputMPperSec: +((img.width * 2 * img.height * 2) / 1e6 / sec).toFixed(3), activationMBPerLayer: +((side * side * channels * 4) / 2 ** 20).toFixed(1) });
  }
  report.tileSweepX2 = { photo: [img.width, img.height], overlap, rows };
}

// 4. Optional: a 6000x4000 JPEG x2 through the CLI path in a child process, for peak RSS.
if (args.has('--big')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'bigImage.ts')], { encoding: 'utf8', cwd: root });
  report.bigImageX2 = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 5. Optional: library import/paging (child process).
if (args.has('--library')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'library.ts')], { encoding: 'utf8', cwd: root });
  report.libraryAndJobs = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 6. Optional: batch-engine overhead, direct vs through BatchJobs on one compute worker (child process).
if (args.has('--jobs')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'jobOverhead.ts')], { encoding: 'utf8', cwd: root });
  report.jobOverhead = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 7. Optional: main-thread event-loop lag during training, worker thread vs main thread (child process).
if (args.has('--lag')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'eventLoopLag.ts')], { encoding: 'utf8', cwd: root });
  report.eventLoopLag = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

// 8. Optional: the server under 10 minutes of mixed load (child processes).
if (args.has('--soak')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'soak.ts')], { encoding: 'utf8', cwd: root });
  report.soak = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : { error: r.stderr.slice(-500) };
}

report.peakRssMB = rss();
const out = JSON.stringify(report, null, 2);
fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench', 'results', 'latest.json'), out + '\n');
console.log(out);
