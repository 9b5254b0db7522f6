#!/usr/bin/env node
/**
 * `restora` command line: a thin adapter over the app's services.
 * Exit codes: 0 all items succeeded, 1 some failed, 2 usage error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import sharp from 'sharp';
import { createApp } from '../main/app/createApp.js';
import { BACKEND_IDS, DEFAULT_FACE_STRENGTH, TILE_RANGE, INPAINTER_ID, OUTPUT_FORMATS, PIXEL_LOSSES, PRESETS, SCRATCH_DETECTOR_ID, TASK_KINDS, taskChoices, taskFor, taskModel, TRAIN_PRESETS, type RepairChoice, type BackendId, type BackendInfo, type DetectedFace, type FaceChoice, type FaceCounts, type ItemResult, type OutputFormat, type PresetId, type TrainRequest, type TrainPreset, type UpscaleOptions } from '../shared/api.js';
import { RestoraError, errorMessage } from '../shared/errors.js';
import { dataHome, packageRoot } from '../main/paths.js';
import { teacherCostText } from '../main/ml/train/teacherCost.js';

const USAGE = `restora: restore and upscale photos with neural networks

Usage:
  restora upscale <files|dirs>... --out DIR [--model ID | --task restore|upscale|cleanup] [--scale N]
                  [--format png|jpg|webp|tiff|avif] [--quality Q] [--tile N] [--colours keep|model]
                  [--highlights keep|model] [--levels auto|off] [--recursive]
                  (--task: the model the studio's task button runs, your default from Models or
                  the bundled one: restore x2 (as restora restore: repair first), upscale x2|x4,
                  cleanup x2|x4; --scale picks the size, x2 without it.
                  --colours keep: the photo's own colours, no new colour cast; the default
                  for restoration models. model: the model's colours as they come.
                  --highlights keep: whites the model brightens roll off instead of clipping;
                  the default for restoration models. --levels auto: black/white points and
                  white balance for faded prints, after the model; off by default.
                  --recursive (-r): folders' subfolders too, mirrored under --out; without it
                  the photos left in subfolders are counted and said)
  restora restore <files|dirs>... --out DIR [--scratches auto|off|MASK] [--model ID|none] [--save-mask]
                  [--format F] [--quality Q] [--tile N] [--colours keep|model]
                  [--highlights keep|model] [--levels auto|off] [--recursive]
                  (old prints: finds scratches, creases, dust and torn corners and fills them
                  in, then restores with your Restore default (Models), restora-oldphoto-x2, or
                  --model; MASK: a mask image of the photo's size, white where damaged, or a
                  folder of masks named like the photos; --model none: repair only, at the
                  photo's size)
                  [--faces MODEL|off] [--face-strength S] [--face-fidelity W]
                  (faces: an imported face model (GFPGAN, CodeFormer, RestoreFormer++) restores each face
                  after the model, on by default when one is installed; S 0..1 blends it
                  over the photo's face, default 0.5; W: CodeFormer's fidelity, default 0.7)
  restora batch <files|dirs>... --out DIR [--model ID] [--scale N] [--format F]
                [--quality Q] [--name TEMPLATE] [--recursive] [--width W] [--height H] [--colours keep|model]
                [--faces MODEL [--face-strength S] [--face-fidelity W]]
                (--width/--height resize after the model, keeping the aspect ratio;
                the same command again resumes an interrupted batch)
  restora jobs [--json]
  restora train --data DIR... --scale N --preset bicubic|jpeg|old-photo|realistic|noise-jpeg
                --name NAME [--arch A] [--opt key=value]... [--steps N] [--batch B]
                [--patch P] [--loss l1|mse|charbonnier] [--lr X] [--optimizer adam|adamw|sgd]
                [--momentum M] [--nesterov] [--kl-weight W] [--kl-warmup STEPS]
                [--weight-decay X] [--schedule cosine|step] [--ema DECAY] [--gan]
                [--eval-dir DIR] [--init MODEL]
                (--init: fine-tune an installed model, e.g. an imported Real-ESRGAN; its
                architecture and scale are taken, the card records the lineage)
  restora train --teacher MODEL --data DIR... --scale N --name NAME [--preset P|none]
                [--teacher-regions N] [--teacher-downscale] [--yes] [other train options]
                (knowledge distillation: the targets are MODEL's outputs on your photos,
                no clean originals needed; without --preset (or with none) the photos
                themselves are the inputs, with one they are degraded first. MODEL runs
                once on each of N seeded 64px regions (default 1024), cached in the run's
                folder; the cost is measured and shown first, and over an hour needs --yes.
                --teacher-downscale: an x4 teacher for an x2 run, its output reduced to x2)
  restora train --resume RUN    (continues a paused, cancelled or interrupted run, by name or number, with its own settings)
                (--eval-dir: also score every validation on DIR's HR images, e.g. Set5)
                (--gan: after the pixel-loss steps, steps/2 of SRGAN fine-tuning)
                (--arch vae: a variational autoencoder; loss = reconstruction + W x KL per
                latent element, W rising from 0 over the warm-up; default W 1e-5)
  restora train --recipe vae-latent --data DIR... --name NAME [--steps N] [...]
                (three resumable stages: a VAE on clean photos, one on old-photo degraded
                ones, then the mapping between their latents; x2)
  restora serve [--port N]      (the UI and API on 127.0.0.1, token-guarded)
  restora models [--json]
  restora models import PATH [--name NAME] [--license TEXT] [--json]
                                (PATH: a PyTorch .pth/.pt or .safetensors state dict, an ncnn
                                .param/.bin pair, or a Restora model folder; RRDBNet (ESRGAN,
                                Real-ESRGAN x4plus/x2plus) and SRVGGNetCompact are recognised)
  restora eval --model ID --hr DIR --lr DIR --scale N [--json]
  restora eval --model ID --hr DIR --degrade PRESET [--seed N] --scale N [--json]
                                (HR degraded with a preset, seeded; baseline bicubic of the degraded input)
  restora info [--json]
  restora faces <files>... [--json] [--min-score S]
                                (each photo's faces: box, score, and five points (eye centres,
                                nose tip, mouth corners), found by @vladmandic/face-api's SSD
                                MobileNet and 68-point landmarks; default score 0.5)

Global options: --backend webgpu|gpu|node|wasm|cpu, --threads N, --help
  (webgpu: any GPU through a headless Chromium's WebGPU; see README, Backends)`;

class UsageError extends Error {}

const common = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
  threads: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

function parse<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...common, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(errorMessage(err, 'cli'));
  }
}

function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

function unitOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} must be a number from 0 to 1, got "${v}"`);
  return n;
}

const FACE_OPTIONS = { faces: { type: 'string' }, 'face-strength': { type: 'string' }, 'face-fidelity': { type: 'string' } } as const;

/**
 * --faces MODEL|off, --face-strength S, --face-fidelity W. Without --faces the face step runs
 * when a face model is installed (the studio's Faces step is on then too), with the first one.
 */
function facesOption(app: ReturnType<typeof appFrom>, values: { faces?: string | undefined; 'face-strength'?: string | undefined; 'face-fidelity'?: string | undefined }): FaceChoice | undefined {
  const strength = unitOption(values['face-strength'], 'face-strength');
  const fidelity = unitOption(values['face-fidelity'], 'face-fidelity');
  if (values.faces === 'off') {
    if (strength !== undefined || fidelity !== undefined) throw new UsageError('--face-strength and --face-fidelity need the face step; drop --faces off');
    return undefined;
  }
  let modelId = values.faces;
  if (modelId === undefined) {
    modelId = app.models.list().find((m) => m.card.task === 'face')?.card.id;
    if (modelId === undefined) {
      if (strength !== undefined || fidelity !== undefined) throw new UsageError('--face-strength and --face-fidelity need a face model: none is installed (restora models import a GFPGAN, CodeFormer or RestoreFormer++ file)');
      return undefined;
    }
  }
  try {
    app.models.face(modelId);
  } catch (err) {
    throw new UsageError(errorMessage(err, 'cli'));
  }
  return { modelId, ...(strength !== undefined ? { strength } : {}), ...(fidelity !== undefined ? { fidelity } : {}) };
}

/** ", 2 faces restored" for an item's line. */
function facesSaid(f: FaceCounts | undefined): string {
  if (!f) return '';
  if (f.found === 0) return ', no face found (face step skipped)';
  const left = [f.tooSmall ? `${f.tooSmall} too small to restore, under 16 px` : '', f.misshapen ? `${f.misshapen} left alone: not face-shaped` : ''].filter(Boolean).join('; ');
  return `, ${f.restored} face${f.restored === 1 ? '' : 's'} restored${left ? ` (${left})` : ''}`;
}

function normaliseFormat(v: string | undefined): OutputFormat {
  const f = (v ?? 'png').toLowerCase();
  const format = f === 'jpeg' ? 'jpg' : f === 'tif' ? 'tiff' : f;
  if (!OUTPUT_FORMATS.includes(format as OutputFormat)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  return format as OutputFormat;
}

function backendOption(v: string | undefined): BackendId | undefined {
  if (v === undefined) return undefined;
  if (!BACKEND_IDS.includes(v as BackendId)) throw new UsageError(`--backend must be ${BACKEND_IDS.join(', ')}, got "${v}"`);
  return v as BackendId;
}

/**
 * Says where models will run when the user chose a backend, and always says when the choice
 * could not be honoured (never a silent fallback).
 */
async function announceBackend(app: ReturnType<typeof appFrom>, values: { backend?: string | undefined }): Promise<void> {
  if (!values.backend && !process.env.RESTORA_BACKEND) return;
  const b = await app.compute.info();
  const where = b.compute?.backend === 'webgpu' ? `webgpu on ${[b.compute.adapter?.vendor, b.compute.adapter?.architecture].filter(Boolean).join(' ') || 'the GPU'}` : `${b.id} (${b.threads} threads)`;
  process.stderr.write(`Computing on ${where}\n`);
  if (b.fallbackReason) process.stderr.write(`warning: ${b.fallbackReason}\n`);
}

function appFrom(values: { backend?: string | undefined; threads?: string | undefined }) {
  const backend = backendOption(values.backend);
  const threads = intOption(values.threads, 'threads', 1, 256);
  return createApp({ ...(backend ? { backend } : {}), ...(threads ? { threads } : {}) });
}

function printSummary(results: ItemResult[]): number {
  const failed = results.filter((r) => !r.ok);
  const ok = results.length - failed.length;
  process.stderr.write(`\n${ok} of ${results.length} done${failed.length ? `, ${failed.length} failed:` : '.'}\n`);
  for (const f of failed) process.stderr.write(`  ${f.input}: [${f.error!.code}] ${f.error!.message}${f.error!.hint?.cli ? ` ${f.error!.hint.cli}` : ''}\n`);
  return failed.length ? 1 : 0;
}

/** Options shared by `upscale` and `batch`. */
const OUTPUT_OPTIONS = {
  out: { type: 'string', short: 'o' },
  model: { type: 'string', short: 'm' },
  scale: { type: 'string', short: 's' },
  format: { type: 'string', short: 'f' },
  quality: { type: 'string', short: 'q' },
  tile: { type: 'string' },
  colours: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Tone options of `upscale` and `restore` (and --recursive, which only they and `batch` take). */
const TONE_OPTIONS = {
  highlights: { type: 'string' },
  levels: { type: 'string' },
  recursive: { type: 'boolean', short: 'r' },
} as const satisfies ParseArgsConfig['options'];

/** --highlights keep|model and --levels auto|off, as UpscaleOptions fields. */
function toneOptions(v: { highlights?: string | undefined; levels?: string | undefined; recursive?: boolean | undefined }): Pick<UpscaleOptions, 'keepHighlights' | 'levels' | 'recursive'> {
  if (v.highlights !== undefined && v.highlights !== 'keep' && v.highlights !== 'model') throw new UsageError(`--highlights must be keep or model, got "${v.highlights}"`);
  if (v.levels !== undefined && v.levels !== 'auto' && v.levels !== 'off') throw new UsageError(`--levels must be auto or off, got "${v.levels}"`);
  return { ...(v.highlights ? { keepHighlights: v.highlights === 'keep' } : {}), ...(v.levels === 'auto' ? { levels: true } : {}), ...(v.recursive ? { recursive: true } : {}) };
}

function outputOptions(
  cmd: string,
  v: { out?: string | undefined; format?: string | undefined; scale?: string | undefined; quality?: string | undefined; tile?: string | undefined; colours?: string | undefined },
  positionals: string[],
) {
  if (!v.out) throw new UsageError(`${cmd} needs --out DIR`);
  // Caught here, before any work, so it reads as a usage mistake (exit 2), not a raw EEXIST.
  if (fs.existsSync(v.out) && !fs.statSync(v.out).isDirectory()) throw new UsageError(`--out ${v.out} is a file; give a folder (it is created if missing)`);
  if (positionals.length === 0) throw new UsageError(`${cmd} needs at least one input file or folder`);
  return {
    out: v.out,
    format: normaliseFormat(v.format),
    scale: intOption(v.scale, 'scale', 1, 8),
    quality: intOption(v.quality, 'quality', 1, 100),
    tile: intOption(v.tile, 'tile', TILE_RANGE.min, TILE_RANGE.max),
    keepColours: coloursOption(v.colours),
  };
}

/** --colours keep|model: keep the photo's own colours (default for restoration models) or take the model's. */
function coloursOption(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v !== 'keep' && v !== 'model') throw new UsageError(`--colours must be keep or model, got "${v}"`);
  return v === 'keep';
}

async function cmdUpscale(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...OUTPUT_OPTIONS, ...TONE_OPTIONS, task: { type: 'string', short: 't' } });
  if (values.help) return (console.log(USAGE), 0);
  const { out, format, scale, quality, tile, keepColours } = outputOptions('upscale', values, positionals);
  const tone = toneOptions(values);
  let modelId = values.model;
  let restoring = false;
  const app = appFrom(values);
  try {
    if (values.task !== undefined) {
      if (values.model) throw new UsageError(`--task and --model together: give one (tasks: ${taskChoices()}; or a model from restora models)`);
      if (!(TASK_KINDS as readonly string[]).includes(values.task)) throw new UsageError(`--task must be one of ${TASK_KINDS.join(', ')}, got "${values.task}" (tasks: ${taskChoices()})`);
      const task = taskFor(values.task, scale);
      if (!task) throw new UsageError(`--task ${values.task} has no x${scale}; choose one of: ${taskChoices()}`);
      modelId = taskModel(task, app.settings.get().defaults);
      restoring = task.kind === 'restore';
      process.stderr.write(`${task.label}: ${modelId}\n`);
    }
    if (!restoring) app.models.resolve(modelId, scale); // usage errors before any work
  } catch (err) {
    await app.close();
    throw err instanceof UsageError ? err : new UsageError(errorMessage(err, 'cli'));
  }
  // The studio's Restore old photo repairs scratches first: the same pipeline as restora restore.
  if (restoring) return restoreItems(app, values, positionals, out, { format, modelId, repair: 'auto', ...(quality ? { quality } : {}), ...(tile ? { tile } : {}), ...(keepColours !== undefined ? { keepColours } : {}), ...tone });
  return runItems(app, values, positionals, out, { format, ...(modelId ? { modelId } : {}), ...(scale ? { scale } : {}), ...(quality ? { quality } : {}), ...(tile ? { tile } : {}), ...(keepColours !== undefined ? { keepColours } : {}), ...tone });
}

/** Runs `upscale` or `restore` over the inputs with a line per item (progress and ETA on a terminal), Ctrl-C to cancel; the exit code. */
async function runItems(app: ReturnType<typeof appFrom>, values: { backend?: string | undefined; json?: boolean | undefined }, inputs: string[], out: string, options: UpscaleOptions): Promise<number> {
  await announceBackend(app, values);
  const tty = process.stderr.isTTY;
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ncancelling...\n');
    controller.abort();
  });
  let current = '';
  let itemStart = 0;
  let skipped = 0;
  const results = await app.upscale.run(
    inputs,
    out,
    options,
    {
      onItemStart: (i, n, file) => {
        current = `[${i + 1}/${n}] ${path.basename(file)}`;
        itemStart = performance.now();
        if (tty) process.stderr.write(`\r\x1b[K${current}`);
      },
      onItemProgress: (_i, d, t) => {
        if (!tty) return;
        const elapsed = (performance.now() - itemStart) / 1000;
        const eta = d > 0 ? (elapsed * (t - d)) / d : 0;
        process.stderr.write(`\r\x1b[K${current} ${Math.round((100 * d) / t)}% (tile ${d}/${t}, ETA ${eta.toFixed(0)} s)`);
      },
      onItemDone: (_i, r) => {
        const fixed = (r.repairedPixels !== undefined ? `, ${r.repairedPixels} damaged pixels filled` : '') + facesSaid(r.faces) + (r.tile ? `, in ${r.tile} px tiles: the GPU ran out of memory at the tile asked for` : '');
        const line = r.ok ? `${current} -> ${r.output} (${((r.ms ?? 0) / 1000).toFixed(1)} s${fixed})` : `${current} FAILED: ${r.error!.message}${r.error!.hint?.cli ? ` ${r.error!.hint.cli}` : ''}`;
        process.stderr.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
      },
      onSubfoldersSkipped: (n) => (skipped = n),
    },
    controller.signal,
  );
  await app.close();
  if (skipped) process.stderr.write(`${skipped} photo${skipped === 1 ? '' : 's'} in subfolders left out: add --recursive (-r) to include ${skipped === 1 ? 'it' : 'them'} (mirrored under ${out}).\n`);
  if (values.json) console.log(JSON.stringify(results, null, 2));
  return printSummary(results);
}

/** --scratches auto|off|MASK (a file or a folder of masks). */
function scratchesOption(v: string | undefined, inputs: string[]): RepairChoice {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === 'off') return 'off';
  if (!fs.existsSync(v)) throw new UsageError(`--scratches ${v}: no such mask file or folder (or give auto or off)`);
  if (fs.statSync(v).isFile() && (inputs.length !== 1 || fs.statSync(inputs[0]!).isDirectory())) {
    throw new UsageError(`--scratches ${v} is one mask for one photo; for several photos give a folder of masks named like them`);
  }
  return { maskFile: v };
}

async function cmdRestore(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...OUTPUT_OPTIONS, ...TONE_OPTIONS, scratches: { type: 'string' }, 'save-mask': { type: 'boolean' }, ...FACE_OPTIONS });
  if (values.help) return (console.log(USAGE), 0);
  const { out, format, quality, tile, keepColours } = outputOptions('restore', values, positionals);
  const tone = toneOptions(values);
  const repair = scratchesOption(values.scratches, positionals);
  if (values.model === 'none' && repair === 'off') throw new UsageError('--model none with --scratches off leaves nothing to do');
  const app = appFrom(values);
  // The Restore task's model, as the studio's button picks it (the user's default, else the bundled one).
  const modelId = values.model ?? taskModel(taskFor('restore')!, app.settings.get().defaults);
  let faces: FaceChoice | undefined;
  try {
    faces = facesOption(app, values);
  } catch (err) {
    await app.close();
    throw err;
  }
  if (faces) process.stderr.write(`faces: ${faces.modelId} (strength ${faces.strength ?? DEFAULT_FACE_STRENGTH}; --faces off to skip)\n`);
  return restoreItems(app, values, positionals, out, { format, modelId, repair, ...(faces ? { faces } : {}), ...(values['save-mask'] ? { saveMask: true } : {}), ...(quality ? { quality } : {}), ...(tile ? { tile } : {}), ...(keepColours !== undefined ? { keepColours } : {}), ...tone });
}

/** The restore pipeline (repair, then the model) over the inputs: `restora restore` and `upscale --task restore`. */
async function restoreItems(app: ReturnType<typeof appFrom>, values: { backend?: string | undefined; json?: boolean | undefined }, inputs: string[], out: string, options: UpscaleOptions): Promise<number> {
  try {
    if (options.modelId !== 'none') app.models.resolve(options.modelId, undefined);
    if (options.repair !== 'off') [SCRATCH_DETECTOR_ID, INPAINTER_ID].forEach((id) => app.models.get(id));
  } catch (err) {
    await app.close();
    throw new UsageError(errorMessage(err, 'cli'));
  }
  return runItems(app, values, inputs, out, options);
}

async function cmdBatch(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    ...OUTPUT_OPTIONS,
    name: { type: 'string' },
    recursive: { type: 'boolean', short: 'r' },
    width: { type: 'string' },
    height: { type: 'string' },
    ...FACE_OPTIONS,
  });
  if (values.help) return (console.log(USAGE), 0);
  const { out, format, scale, quality, tile, keepColours } = outputOptions('batch', values, positionals);
  const width = intOption(values.width, 'width', 1, 65535);
  const height = intOption(values.height, 'height', 1, 65535);
  const app = appFrom(values);
  try {
    // A batch restores faces only when asked (--faces MODEL): it is an upscale of any photos.
    const faces = values.faces === undefined && values['face-strength'] === undefined && values['face-fidelity'] === undefined ? undefined : facesOption(app, values);
    const jobs = app.jobs();
    let prepared;
    try {
      prepared = jobs.prepare({
        inputs: positionals,
        outDir: out,
        format,
        nameTemplate: values.name ?? '{name}',
        recursive: values.recursive ?? false,
        ...(values.model ? { modelId: values.model } : {}),
        ...(scale ? { scale } : {}),
        ...(quality ? { quality } : {}),
        ...(tile ? { tile } : {}),
        ...(keepColours !== undefined ? { keepColours } : {}),
        ...(width || height ? { resize: { ...(width ? { width } : {}), ...(height ? { height } : {}) } } : {}),
        ...(faces ? { faces } : {}),
      });
    } catch (err) {
      if (err instanceof RestoraError && (err.code === 'USAGE' || err.code === 'NOT_FOUND')) throw new UsageError(errorMessage(err, 'cli'));
      throw err;
    }
    const before = jobs.summary(prepared.jobId);
    await announceBackend(app, values);
    process.stderr.write(`${prepared.resumed ? 'Resuming' : 'Starting'} job ${prepared.jobId}: ${before.done} of ${before.total} done\n`);
    if (before.runningElsewhere) process.stderr.write('another process is working on this job: sharing its items (none is written twice)\n');
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const tty = process.stderr.isTTY;
    const summary = await jobs.run(prepared.jobId, {
      signal: controller.signal,
      onProgress: (p) => {
        const line = `[${p.done + p.failed}/${p.total}] ${p.ratePerSec.toFixed(2)} img/s, ETA ${p.etaSec.toFixed(0)} s  ${path.basename(p.current ?? '')}`;
        process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      },
    });
    if (tty) process.stderr.write('\n');
    if (values.json) console.log(JSON.stringify(summary, null, 2));
    process.stderr.write(`job ${summary.id} ${summary.state}: ${summary.done} of ${summary.total} done${summary.failed ? `, ${summary.failed} failed:` : '.'}\n`);
    for (const f of summary.failures) process.stderr.write(`  ${f.input}: [${f.code}] ${f.message}\n`);
    return summary.failed ? 1 : summary.pending ? 1 : 0;
  } finally {
    await app.close();
  }
}

/**
 * The request a run was started with, as stored with it: RUN is the run's name (its latest
 * run) or its number, as the studio shows it ("Run 3"); a name wins over a number.
 */
async function storedTrainRequest(run: string): Promise<TrainRequest> {
  const { openDatabase } = await import('../main/db/database.js');
  const db = openDatabase(path.join(dataHome(), 'restora.db'));
  try {
    type Row = { config_json: string };
    const row =
      (db.prepare('SELECT config_json FROM training_runs WHERE name = ? ORDER BY id DESC LIMIT 1').get(run) as Row | undefined) ??
      (/^\d{1,9}$/.test(run) ? (db.prepare('SELECT config_json FROM training_runs WHERE id = ?').get(Number(run)) as Row | undefined) : undefined);
    const request = row ? (JSON.parse(row.config_json) as { request?: TrainRequest }).request : undefined;
    if (!request) throw new UsageError(`No training run named or numbered "${run}" to resume (restora train --resume RUN: the name or the number the studio shows as "Run N").`);
    return request;
  } finally {
    db.close();
  }
}

/**
 * The VAE latent-translation recipe as three runs: <name>-clean (a VAE on clean photos, at
 * their size, one level deeper so its latent has the LR latent's size), <name>-degraded
 * (a VAE on the preset's x2 LR photos) and <name> (the mapping between them, x2).
 */
function latentRecipe<T extends TrainRequest>(base: T, patch: number): T[] {
  const shape = Object.fromEntries(Object.entries(base.archOptions ?? {}).filter(([k]) => ['channels', 'latent', 'blocks'].includes(k)));
  const levels = Number(base.archOptions?.levels ?? 2);
  return [
    { ...base, name: `${base.name}-clean`, latentStage: 'clean', arch: 'vae', scale: 1, preset: 'bicubic', patch: patch * 2, archOptions: { ...shape, levels: levels + 1 } },
    { ...base, name: `${base.name}-degraded`, latentStage: 'degraded', arch: 'vae', scale: 1, archOptions: { ...shape, levels } },
    { ...base, latentStage: 'mapping', arch: 'vae-mapping', scale: 2, archOptions: { ...shape, levels } },
  ];
}

async function cmdTrain(args: string[]): Promise<number> {
  const { values } = parse(args, {
    data: { type: 'string', multiple: true },
    scale: { type: 'string', short: 's' },
    preset: { type: 'string' },
    arch: { type: 'string' },
    opt: { type: 'string', multiple: true },
    steps: { type: 'string' },
    batch: { type: 'string' },
    patch: { type: 'string' },
    name: { type: 'string' },
    resume: { type: 'string' },
    gan: { type: 'boolean' },
    seed: { type: 'string' },
    loss: { type: 'string' },
    lr: { type: 'string' },
    optimizer: { type: 'string' },
    momentum: { type: 'string' },
    nesterov: { type: 'boolean' },
    'weight-decay': { type: 'string' },
    schedule: { type: 'string' },
    ema: { type: 'string' },
    'eval-dir': { type: 'string' },
    init: { type: 'string' },
    'kl-weight': { type: 'string' },
    'kl-warmup': { type: 'string' },
    recipe: { type: 'string' },
    teacher: { type: 'string' },
    'teacher-regions': { type: 'string' },
    'teacher-downscale': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
  });
  if (values.recipe !== undefined) {
    if (values.recipe !== 'vae-latent') throw new UsageError(`--recipe must be vae-latent, got "${values.recipe}"`);
    if (values.resume || values.gan || values.init) throw new UsageError('--recipe vae-latent resumes by itself when run again; it takes no --resume, --gan or --init');
    values.arch ??= 'vae';
    values.scale ??= '2';
    values.preset ??= 'old-photo';
    if (values.arch !== 'vae' || values.scale !== '2') throw new UsageError('--recipe vae-latent trains VAEs (--arch vae) for a x2 model (--scale 2)');
  }
  if (values.help) return (console.log(USAGE), 0);
  const choice = <T extends string>(v: string | undefined, name: string, allowed: readonly T[]): T | undefined => {
    if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
    return v as T | undefined;
  };
  const fraction = (v: string | undefined, name: string, lo: number, hi: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new UsageError(`--${name} must be a number in [${lo}, ${hi}]`);
    return n;
  };
  if (values.resume) {
    // --resume RUN: the run's own request, from the store; flags given now override it (e.g. more --steps).
    const stored = await storedTrainRequest(values.resume);
    // "--resume 3" names the run by its number: from here on it is that run's name.
    values.resume = stored.name;
    values.name ??= stored.name;
    values.data ??= stored.dataDirs;
    values.scale ??= String(stored.scale);
    values.preset ??= stored.preset;
    values.arch ??= stored.arch;
    if (!values.opt?.length) values.opt = Object.entries(stored.archOptions ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    for (const [flag, v] of [['steps', stored.steps], ['batch', stored.batch], ['patch', stored.patch], ['seed', stored.seed], ['lr', stored.lr], ['weight-decay', stored.weightDecay], ['ema', stored.ema], ['kl-weight', stored.klWeight], ['kl-warmup', stored.klWarmup]] as const) {
      if (values[flag] === undefined && v !== undefined) values[flag] = String(v);
    }
    values.loss ??= stored.loss;
    values.optimizer ??= stored.optimizer;
    if (values.momentum === undefined && stored.momentum !== undefined) values.momentum = String(stored.momentum);
    values.nesterov ??= stored.nesterov;
    values.schedule ??= stored.schedule;
    values['eval-dir'] ??= stored.evalDir;
    values.gan ??= stored.gan;
    values.init ??= stored.initModel;
    values.teacher ??= stored.teacher;
    if (values['teacher-regions'] === undefined && stored.teacherRegions !== undefined) values['teacher-regions'] = String(stored.teacherRegions);
    values['teacher-downscale'] ??= stored.teacherDownscale;
    if (values.name !== values.resume) throw new UsageError(`--resume ${values.resume} continues that run; --name ${values.name} names another`);
  }
  // Read after --resume filled in the run's stored choices (flags given now still win).
  const loss = choice(values.loss, 'loss', PIXEL_LOSSES);
  const optimizer = choice(values.optimizer, 'optimizer', ['adam', 'adamw', 'sgd'] as const);
  const schedule = choice(values.schedule, 'schedule', ['cosine', 'step'] as const);
  const lr = fraction(values.lr, 'lr', 1e-7, 1);
  const weightDecay = fraction(values['weight-decay'], 'weight-decay', 0, 1);
  const ema = fraction(values.ema, 'ema', 0, 0.99999);
  const momentum = fraction(values.momentum, 'momentum', 0, 0.999);
  const klWeight = fraction(values['kl-weight'], 'kl-weight', 0, 10);
  // A negative or non-numeric KL weight is refused above; the recipe's stages share it.
  const klWarmup = intOption(values['kl-warmup'], 'kl-warmup', 0, 1_000_000);
  if ((klWeight !== undefined || klWarmup !== undefined) && (values.arch ?? 'compact') !== 'vae') throw new UsageError('--kl-weight and --kl-warmup go with --arch vae');
  if ((momentum !== undefined || values.nesterov) && optimizer !== 'sgd') throw new UsageError('--momentum and --nesterov go with --optimizer sgd');
  if (values.init && !values.resume) {
    // A fine-tune takes the starting model's architecture, options and scale.
    const app = appFrom(values);
    let card;
    try {
      card = app.models.get(values.init).card;
    } catch (err) {
      throw new UsageError(errorMessage(err, 'cli'));
    } finally {
      await app.close();
    }
    values.arch ??= card.arch;
    values.scale ??= String(card.scale);
  }
  if (!values.data?.length || !values.name || !values.scale) throw new UsageError('train needs --data DIR, --scale N and --name NAME (or --resume RUN)');
  if (values.recipe && values.teacher) throw new UsageError('--recipe vae-latent cannot learn from a --teacher');
  // With a teacher the photos themselves are the inputs unless a preset degrades them first.
  const preset = values.preset ?? (values.teacher ? 'none' : 'bicubic');
  if (values.teacher ? !(TRAIN_PRESETS as readonly string[]).includes(preset) : !(PRESETS as readonly string[]).includes(preset)) {
    throw new UsageError(`--preset must be ${(values.teacher ? TRAIN_PRESETS : PRESETS).join(', ')}${values.teacher ? '' : ' (none, the photos themselves as inputs, goes with --teacher)'}`);
  }
  if ((values['teacher-regions'] !== undefined || values['teacher-downscale'] || values.yes) && !values.teacher) throw new UsageError('--teacher-regions, --teacher-downscale and --yes go with --teacher MODEL');
  const teacherRegions = intOption(values['teacher-regions'], 'teacher-regions', 1, 100_000);
  const scale = intOption(values.scale, 'scale', 1, 8)!;
  if (![1, 2, 4, 8].includes(scale)) throw new UsageError('--scale must be 1, 2, 4 or 8');
  const archOptions: Record<string, number | string | boolean> = {};
  for (const kv of values.opt ?? []) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) throw new UsageError(`--opt must be key=value, got "${kv}"`);
    // "false" must not become a truthy string (e.g. --opt global=false).
    archOptions[k] = v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v;
  }
  const app = appFrom(values);
  const { initBackend } = await import('../main/ml/backend.js');
  const { getArch } = await import('../main/ml/archs/index.js');
  try {
    try {
      getArch(values.arch ?? 'compact');
    } catch (err) {
      throw new UsageError(errorMessage(err, 'cli'));
    }
    const threads = intOption(values.threads, 'threads', 1, 256);
    const backend = await initBackend({ ...(backendOption(values.backend) ? { prefer: backendOption(values.backend)! } : {}), ...(threads ? { threads } : {}) });
    const { effectiveCompute } = await import('../main/ml/engine/chromium.js');
    const choice = effectiveCompute(backendOption(values.backend), app.settings.get().compute);
    process.stderr.write(
      choice === 'webgpu'
        ? `Training on webgpu in a headless Chromium page (validation and checkpoints on ${backend.id})\n`
        : choice === 'auto'
          ? `Training on the GPU if Chromium finds one (Settings: auto), else on ${backend.id}\n`
          : `Training on ${backend.id} (${backend.threads} threads)\n`,
    );
    const controller = new AbortController();
    process.once('SIGINT', () => {
      process.stderr.write(`\npausing: checkpoint written; continue with --resume ${values.name}\n`);
      controller.abort();
    });
    const tty = process.stderr.isTTY;
    const steps = intOption(values.steps, 'steps', 1, 10_000_000);
    const batch = intOption(values.batch, 'batch', 1, 1024);
    const patch = intOption(values.patch, 'patch', 8, 1024);
    const seed = intOption(values.seed, 'seed', 0, 2 ** 31);
    const request: TrainRequest & { resume: boolean } = {
        name: values.name,
        dataDirs: values.data,
        scale,
        preset: preset as TrainPreset,
        arch: values.arch ?? 'compact',
        archOptions,
        resume: Boolean(values.resume),
        // --gan: after --steps of pixel-loss training, steps/2 of SRGAN fine-tuning.
        ...(values.gan ? { gan: true } : {}),
        ...(values.init ? { initModel: values.init } : {}),
        ...(steps ? { steps } : {}),
        ...(batch ? { batch } : {}),
        ...(patch ? { patch } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(loss ? { loss } : {}),
        ...(lr ? { lr } : {}),
        ...(optimizer ? { optimizer } : {}),
        ...(momentum !== undefined ? { momentum } : {}),
        ...(values.nesterov ? { nesterov: true } : {}),
        ...(weightDecay !== undefined ? { weightDecay } : {}),
        ...(schedule ? { schedule } : {}),
        ...(ema ? { ema } : {}),
        ...(klWeight !== undefined ? { klWeight } : {}),
        ...(klWarmup !== undefined ? { klWarmup } : {}),
        ...(values['eval-dir'] ? { evalDir: values['eval-dir'] } : {}),
        ...(values.teacher ? { teacher: values.teacher, ...(teacherRegions !== undefined ? { teacherRegions } : {}), ...(values['teacher-downscale'] ? { teacherDownscale: true } : {}), ...(values.yes ? { teacherConfirmed: true } : {}) } : {}),
    };
    const training = await app.training();
    for (const stage of values.recipe ? latentRecipe(request, patch ?? 48) : [request]) {
      if (values.recipe) {
        if (app.models.list().some((m) => m.card.id === stage.name)) {
          process.stderr.write(`stage ${stage.latentStage} (${stage.name}): done, its model is installed\n`);
          continue;
        }
        stage.resume = fs.existsSync(path.join(app.home, 'runs', stage.name, 'checkpoint', 'state.json'));
        process.stderr.write(`stage ${stage.latentStage} (${stage.name}): ${stage.resume ? 'resuming' : 'starting'}\n`);
      }
    const result = await training.train(
      stage,
      (p) => {
        const v =
          (p.point?.kl !== undefined ? ` recon ${p.point.recon!.toFixed(4)} KL ${p.point.kl.toFixed(3)}` : '') +
          (p.point?.valPsnr !== undefined ? ` val ${p.point.valPsnr.toFixed(2)} dB` : '') +
          (p.point?.evalPsnr !== undefined ? ` eval ${p.point.evalPsnr.toFixed(2)} dB` : '');
        const line = `step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(1)} ${p.stepsPerSec.toFixed(2)} steps/s ETA ${Math.round(p.etaSec)} s${v}`;
        if (tty) process.stderr.write(`\r\x1b[K${line}`);
        else if (p.point) process.stderr.write(`${line}\n`);
      },
      controller.signal,
      undefined,
      undefined,
      {
        onTeacherEstimate: (e) => process.stderr.write(`${teacherCostText(e)}${e.confirmNeeded && stage.teacherConfirmed ? ' (over an hour; --yes given)' : ''}\n`),
        onTeacherProgress: (p) => {
          const line = `teacher: region ${p.done}/${p.total}, ${(p.seconds / Math.max(1, p.computed)).toFixed(2)} s per region, ETA ${Math.round(p.etaSec)} s`;
          if (tty) process.stderr.write(`\r\x1b[K${line}${p.done === p.total ? '\n' : ''}`);
          else if (p.done === p.total || p.computed % 50 === 0 || p.computed === 1) process.stderr.write(`${line}\n`);
        },
      },
    );
    if (tty) process.stderr.write('\n');
    for (const s of result.photos.skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
    process.stderr.write(
      `model ${result.modelId} -> ${result.modelDir}\nheld-out ${result.heldOut.psnr.toFixed(2)} dB / ${result.heldOut.ssim.toFixed(4)}${Number.isFinite(result.bicubic.psnr) ? ` (bicubic of the ${stage.teacher ? 'input' : 'degraded input'} ${result.bicubic.psnr.toFixed(2)} dB)` : ''}${stage.teacher ? ` against the teacher ${stage.teacher}` : ''} on ${result.photos.val} photo(s); trained on ${result.photos.train}\n`,
    );
    if (result.outcome.verdict) process.stderr.write(`${result.outcome.verdict}\n`);
    if (values.json) console.log(JSON.stringify(result, null, 2));
    }
    return 0;
  } catch (err) {
    if (err instanceof RestoraError && (err.code === 'USAGE' || err.code === 'NOT_FOUND')) throw new UsageError(errorMessage(err, 'cli'));
    throw err;
  } finally {
    await app.close();
  }
}

async function cmdServe(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string', short: 'p' } });
  if (values.help) return (console.log(USAGE), 0);
  const port = intOption(values.port, 'port', 0, 65535);
  const app = appFrom(values);
  const { startServer } = await import('../main/server/httpServer.js');
  const { createHandlers, createUploadHandler } = await import('../main/app/handlers.js');
  const staticDir = path.join(packageRoot(), 'out', 'renderer');
  const server = await startServer(createHandlers(app, { transport: 'http' }), {
    ...(port !== undefined ? { port } : {}),
    ...(fs.existsSync(staticDir) ? { staticDir } : {}),
    events: app.events,
    media: app.media,
    upload: createUploadHandler(app),
    downloads: { jobOutputs: (jobId) => app.jobRunner().outputs(jobId) },
  });
  // Last resort: a bug in one request's handling is logged, and the other clients keep their server.
  const keepServing = (what: string) => (err: unknown) => process.stderr.write(`restora serve: ${what} (still serving): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.on('uncaughtException', keepServing('unexpected error'));
  process.on('unhandledRejection', keepServing('unhandled rejection'));
  console.log(`Restora UI: ${server.url}`);
  if (!fs.existsSync(staticDir)) process.stderr.write('(UI not built: run `npm run build`; the API is served)\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await app.close();
  return 0;
}

async function cmdJobs(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) return (console.log(USAGE), 0);
  const app = appFrom(values);
  try {
    const list = app.jobs().list();
    if (values.json) console.log(JSON.stringify(list, null, 2));
    else if (list.length === 0) console.log('no jobs');
    else
      for (const j of list) {
        console.log(`job ${j.id}  ${j.state.padEnd(9)} ${j.done}/${j.total} done, ${j.failed} failed  -> ${j.spec.outDir}  (${j.createdAt})`);
        for (const f of j.failures) console.log(`    ${f.input}: [${f.code}] ${f.message}`);
      }
    return 0;
  } finally {
    await app.close();
  }
}

async function cmdModelsImport(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' }, license: { type: 'string' } });
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new UsageError('models import takes one PATH (a model file or folder)');
  const app = appFrom(values);
  try {
    const { createHandlers } = await import('../main/app/handlers.js');
    const m = await createHandlers(app)['models.import']({
      path: positionals[0]!,
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values.license !== undefined ? { license: values.license } : {}),
    });
    if (values.json) console.log(JSON.stringify(m, null, 2));
    else {
      const c = m.card;
      console.log(`imported ${c.id}: ${c.arch} x${c.scale}, ${c.params.toLocaleString('en')} params (${c.source?.layout ?? c.arch})` + (c.speed ? `, ${c.speed.outputMpPerSec} MP/s output on ${c.speed.backend}` : ''));
      console.log(`  into ${m.dir}`);
    }
    return 0;
  } finally {
    await app.close();
  }
}

async function cmdModels(args: string[]): Promise<number> {
  if (args[0] === 'import') return cmdModelsImport(args.slice(1));
  const { values } = parse(args, {});
  if (values.help) return (console.log(USAGE), 0);
  const app = appFrom(values);
  const list = app.models.list();
  const speeds = app.speed.read();
  await app.close();
  if (values.json) {
    console.log(JSON.stringify(list, null, 2));
    return 0;
  }
  for (const m of list) {
    const q = m.card.metrics?.['set5'];
    console.log(
      `${m.card.id.padEnd(24)} x${m.card.scale}  ${m.card.arch.padEnd(10)} ${String(m.card.params).padStart(8)} params  ${m.source.padEnd(7)}` +
        (q ? `  Set5 ${q.psnr.toFixed(2)} dB / ${q.ssim.toFixed(4)}` : '') +
        Object.entries(speeds)
          .filter(([k]) => k.startsWith(`upscale:${m.card.id}@`))
          .map(([k, v]) => `  ${v.value} ${v.unit} on ${k.split('@')[1]}`)
          .join(''),
    );
  }
  if (list.length === 0) console.log('no models installed');
  return 0;
}

async function cmdEval(args: string[]): Promise<number> {
  const { values } = parse(args, {
    model: { type: 'string', short: 'm' },
    hr: { type: 'string' },
    lr: { type: 'string' },
    scale: { type: 'string', short: 's' },
    degrade: { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.help) return (console.log(USAGE), 0);
  if (!values.model || !values.hr || !(values.lr || values.degrade) || !values.scale) throw new UsageError('eval needs --model, --hr, --scale and either --lr or --degrade PRESET');
  if (values.degrade && !(PRESETS as readonly string[]).includes(values.degrade)) throw new UsageError(`--degrade must be one of ${PRESETS.join(', ')}`);
  const scale = intOption(values.scale, 'scale', 1, 8)!;
  const seed = intOption(values.seed, 'seed', 0, 2 ** 31) ?? 1;
  for (const d of [values.hr, values.lr].filter((x): x is string => Boolean(x))) if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new UsageError(`${d} is not a folder`);
  const app = appFrom(values);
  let model;
  try {
    model = app.models.resolve(values.model, scale);
  } catch (err) {
    await app.close();
    throw new UsageError(errorMessage(err, 'cli'));
  }
  await app.close();
  const backend = backendOption(values.backend);
  const { evaluateModel, evaluateModelDegraded } = await import('../main/ml/eval/evaluate.js');
  const report = values.degrade
    ? await evaluateModelDegraded(model.dir, values.hr, scale, values.degrade as PresetId, seed, backend)
    : await evaluateModel(model.dir, values.hr, values.lr!, scale, backend);
  if (values.json) console.log(JSON.stringify({ model: values.model, ...report }, null, 2));
  else {
    for (const r of report.images) console.log(`${r.hr.padEnd(20)} ${r.psnr.toFixed(3)} dB  ${r.ssim.toFixed(4)}`);
    console.log(`${'mean'.padEnd(20)} ${report.psnr.toFixed(3)} dB  ${report.ssim.toFixed(4)}   (bicubic ${report.bicubic.psnr.toFixed(3)} dB / ${report.bicubic.ssim.toFixed(4)})`);
  }
  return 0;
}

/** Which backend each kind of job runs on with these options. */
function jobBackends(b: BackendInfo): { upscale: string; train: string } {
  const compute = b.compute?.backend === 'webgpu' ? `webgpu (${b.compute.adapter?.architecture || b.compute.adapter?.vendor || 'adapter'})` : b.id;
  return { upscale: compute, train: compute };
}

/** `restora faces FILES...`: each photo's faces (box, five points, score), for the face step and for checking it. */
async function cmdFaces(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { 'min-score': { type: 'string' } });
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length === 0) throw new UsageError('faces takes one or more image FILES');
  const minScore = values['min-score'] === undefined ? 0.5 : Number(values['min-score']);
  if (!(minScore > 0 && minScore < 1)) throw new UsageError(`--min-score must be a number between 0 and 1, got "${values['min-score']}"`);
  const { initBackend } = await import('../main/ml/backend.js');
  const { detectFaces } = await import('../main/ml/faces/faceDetector.js');
  const { decodeImage } = await import('../main/imaging/io.js');
  const threads = intOption(values.threads, 'threads', 1, 256);
  await initBackend({ prefer: backendOption(values.backend) ?? 'wasm', ...(threads ? { threads } : {}) });
  const out: { file: string; faces?: DetectedFace[]; error?: string }[] = [];
  for (const file of positionals) {
    try {
      const img = await decodeImage(file);
      // The detector reads 8-bit RGB; a 16-bit photo is reduced for it (the boxes are the same).
      const rgb = img.maxValue === 255 ? (img.rgb as Uint8Array) : Uint8Array.from(img.rgb, (v) => Math.round((v * 255) / img.maxValue));
      const faces = await detectFaces(rgb, img.width, img.height, minScore);
      out.push({ file, faces });
      if (!values.json) {
        console.log(`${file}: ${faces.length === 0 ? 'no face' : `${faces.length} face${faces.length === 1 ? '' : 's'}`}`);
        for (const f of faces) {
          const b = f.box;
          console.log(`  ${Math.round(b.width)}x${Math.round(b.height)} at ${Math.round(b.x)},${Math.round(b.y)}  score ${f.score.toFixed(2)}  eyes ${f.points.slice(0, 2).map((p) => p.map(Math.round).join(',')).join(' ')}  nose ${f.points[2]!.map(Math.round).join(',')}  mouth ${f.points.slice(3).map((p) => p.map(Math.round).join(',')).join(' ')}`);
        }
      }
    } catch (err) {
      // A bad file fails alone, named.
      out.push({ file, error: errorMessage(err, 'cli') });
      process.stderr.write(`restora: ${errorMessage(err, 'cli')}\n`);
    }
  }
  if (values.json) console.log(JSON.stringify(out, null, 2));
  return out.some((o) => o.error) ? 1 : 0;
}

async function cmdInfo(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) return (console.log(USAGE), 0);
  const app = appFrom(values);
  const backend = await app.compute.info();
  // The adapter a --backend webgpu job would get (starts Chromium for a moment).
  const { probeWebGpu } = await import('../main/ml/engine/pageEngine.js');
  const webgpu = backend.compute?.adapter ? { adapter: backend.compute.adapter } : await probeWebGpu();
  const info = {
    restora: (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version,
    backend,
    webgpu,
    jobs: jobBackends(backend),
    node: process.versions.node,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    models: app.models.list().map((m) => m.card.id),
    measuredSpeed: app.speed.read(),
    home: app.home,
  };
  await app.close();
  if (values.json) console.log(JSON.stringify(info, null, 2));
  else {
    console.log(`Restora ${info.restora}`);
    console.log(`backend   ${backend.id} (tfjs ${backend.tfName}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'})${backend.skipped.length ? `; not available: ${backend.skipped.join(', ')}` : ''}`);
    if (backend.fallbackReason) console.log(`          (asked for another: ${backend.fallbackReason})`);
    console.log(`tfjs      ${backend.tfjsVersion}`);
    if (webgpu.adapter) {
      const a = webgpu.adapter;
      console.log(`webgpu    ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ')}${a.fallback ? ' (software adapter: works, slower than wasm)' : ''}; max buffer ${(a.maxBufferSize / 2 ** 20).toFixed(0)} MiB, max binding ${(a.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`);
    } else console.log(`webgpu    not available: ${webgpu.unavailable}`);
    console.log(`jobs      upscale/batch/eval on ${info.jobs.upscale}; train on ${info.jobs.train}`);
    console.log(`node      ${info.node}`);
    console.log(`sharp     ${info.sharp} (libvips ${info.libvips})`);
    console.log(`models    ${info.models.join(', ') || 'none'}`);
    for (const [k, v] of Object.entries(info.measuredSpeed)) console.log(`speed     ${k}: ${v.value} ${v.unit} (${v.samples} jobs)`);
    console.log(`data      ${info.home}`);
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'upscale':
        return await cmdUpscale(rest);
      case 'models':
        return await cmdModels(rest);
      case 'restore':
        return await cmdRestore(rest);
      case 'batch':
        return await cmdBatch(rest);
      case 'jobs':
        return await cmdJobs(rest);
      case 'train':
        return await cmdTrain(rest);
      case 'serve':
        return await cmdServe(rest);
      case 'eval':
        return await cmdEval(rest);
      case 'info':
        return await cmdInfo(rest);
      case 'faces':
        return await cmdFaces(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err instanceof RestoraError && err.code === 'USAGE')) {
      process.stderr.write(`restora: ${errorMessage(err, 'cli')}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`restora: ${errorMessage(err, 'cli')}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
