/** What the CLI's commands share: argument parsing, options, the app, item lines and summaries. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createApp } from '../main/app/createApp.js';
import {
  BACKEND_IDS,
  TILE_RANGE,
  INPAINTER_ID,
  OUTPUT_FORMATS,
  SCRATCH_DETECTOR_ID,
  tileChangeSaid,
  type BackendId,
  type BackendInfo,
  type FaceChoice,
  type FaceCounts,
  type ItemResult,
  type OutputFormat,
  type UpscaleOptions,
} from '../shared/api.js';
import { errorMessage } from '../shared/errors.js';

export class UsageError extends Error {}

export const common = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
  threads: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export function parse<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...common, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(errorMessage(err, 'cli'));
  }
}

export function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

export function unitOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} must be a number from 0 to 1, got "${v}"`);
  return n;
}

export const FACE_OPTIONS = { faces: { type: 'string' }, 'face-strength': { type: 'string' }, 'face-fidelity': { type: 'string' } } as const;

/**
 * --faces MODEL|off, --face-strength S, --face-fidelity W. Without --faces the face step runs
 * when a face model is installed (the studio's Faces step is on then too), with the first one.
 */
export function facesOption(app: ReturnType<typeof appFrom>, values: { faces?: string | undefined; 'face-strength'?: string | undefined; 'face-fidelity'?: string | undefined }): FaceChoice | undefined {
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
export function facesSaid(f: FaceCounts | undefined): string {
  if (!f) return '';
  if (f.found === 0) return ', no face found (face step skipped)';
  const left = [f.tooSmall ? `${f.tooSmall} too small to restore, under 16 px` : '', f.misshapen ? `${f.misshapen} left alone: not face-shaped` : ''].filter(Boolean).join('; ');
  return `, ${f.restored} face${f.restored === 1 ? '' : 's'} restored${left ? ` (${left})` : ''}`;
}

export function normaliseFormat(v: string | undefined): OutputFormat {
  const f = (v ?? 'png').toLowerCase();
  const format = f === 'jpeg' ? 'jpg' : f === 'tif' ? 'tiff' : f;
  if (!OUTPUT_FORMATS.includes(format as OutputFormat)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  return format as OutputFormat;
}

export function backendOption(v: string | undefined): BackendId | undefined {
  if (v === undefined) return undefined;
  if (!BACKEND_IDS.includes(v as BackendId)) throw new UsageError(`--backend must be ${BACKEND_IDS.join(', ')}, got "${v}"`);
  return v as BackendId;
}

/**
 * Says where models will run when the user chose a backend, and always says when the choice
 * could not be honoured (never a silent fallback).
 */
export async function announceBackend(app: ReturnType<typeof appFrom>, values: { backend?: string | undefined }): Promise<void> {
  if (!values.backend && !process.env.RESTORA_BACKEND) return;
  const b = await app.compute.info();
  const where = b.compute?.backend === 'webgpu' ? `webgpu on ${[b.compute.adapter?.vendor, b.compute.adapter?.architecture].filter(Boolean).join(' ') || 'the GPU'}` : `${b.id} (${b.threads} threads)`;
  process.stderr.write(`Computing on ${where}\n`);
  if (b.fallbackReason) process.stderr.write(`warning: ${b.fallbackReason}\n`);
}

export function appFrom(values: { backend?: string | undefined; threads?: string | undefined }) {
  const backend = backendOption(values.backend);
  const threads = intOption(values.threads, 'threads', 1, 256);
  return createApp({ ...(backend ? { backend } : {}), ...(threads ? { threads } : {}) });
}

export function printSummary(results: ItemResult[]): number {
  const failed = results.filter((r) => !r.ok);
  const ok = results.length - failed.length;
  process.stderr.write(`\n${ok} of ${results.length} done${failed.length ? `, ${failed.length} failed:` : '.'}\n`);
  for (const f of failed) process.stderr.write(`  ${f.input}: [${f.error!.code}] ${f.error!.message}${f.error!.hint?.cli ? ` ${f.error!.hint.cli}` : ''}\n`);
  return failed.length ? 1 : 0;
}

/** Options shared by `upscale` and `batch`. */
export const OUTPUT_OPTIONS = {
  out: { type: 'string', short: 'o' },
  model: { type: 'string', short: 'm' },
  scale: { type: 'string', short: 's' },
  format: { type: 'string', short: 'f' },
  quality: { type: 'string', short: 'q' },
  tile: { type: 'string' },
  colours: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Tone options of `upscale` and `restore` (and --recursive, which only they and `batch` take). */
export const TONE_OPTIONS = {
  highlights: { type: 'string' },
  levels: { type: 'string' },
  recursive: { type: 'boolean', short: 'r' },
} as const satisfies ParseArgsConfig['options'];

/** --highlights keep|model and --levels auto|off, as UpscaleOptions fields. */
export function toneOptions(v: { highlights?: string | undefined; levels?: string | undefined; recursive?: boolean | undefined }): Pick<UpscaleOptions, 'keepHighlights' | 'levels' | 'recursive'> {
  if (v.highlights !== undefined && v.highlights !== 'keep' && v.highlights !== 'model') throw new UsageError(`--highlights must be keep or model, got "${v.highlights}"`);
  if (v.levels !== undefined && v.levels !== 'auto' && v.levels !== 'off') throw new UsageError(`--levels must be auto or off, got "${v.levels}"`);
  return { ...(v.highlights ? { keepHighlights: v.highlights === 'keep' } : {}), ...(v.levels === 'auto' ? { levels: true } : {}), ...(v.recursive ? { recursive: true } : {}) };
}

export function outputOptions(cmd: string, v: { out?: string | undefined; format?: string | undefined; scale?: string | undefined; quality?: string | undefined; tile?: string | undefined; colours?: string | undefined }, positionals: string[]) {
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
export function coloursOption(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v !== 'keep' && v !== 'model') throw new UsageError(`--colours must be keep or model, got "${v}"`);
  return v === 'keep';
}

/** Runs `upscale` or `restore` over the inputs with a line per item (progress and ETA on a terminal), Ctrl-C to cancel; the exit code. */
export async function runItems(app: ReturnType<typeof appFrom>, values: { backend?: string | undefined; json?: boolean | undefined }, inputs: string[], out: string, options: UpscaleOptions): Promise<number> {
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
        const fixed = (r.repairedPixels !== undefined ? `, ${r.repairedPixels} damaged pixels filled` : '') + facesSaid(r.faces) + (r.tile ? `, ${tileChangeSaid(r.tile)}` : '');
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

/** The restore pipeline (repair, then the model) over the inputs: `restora restore` and `upscale --task restore`. */
export async function restoreItems(app: ReturnType<typeof appFrom>, values: { backend?: string | undefined; json?: boolean | undefined }, inputs: string[], out: string, options: UpscaleOptions): Promise<number> {
  try {
    if (options.modelId !== 'none') app.models.resolve(options.modelId, undefined);
    if (options.repair !== 'off') [SCRATCH_DETECTOR_ID, INPAINTER_ID].forEach((id) => app.models.get(id));
  } catch (err) {
    await app.close();
    throw new UsageError(errorMessage(err, 'cli'));
  }
  return runItems(app, values, inputs, out, options);
}

/** Which backend each kind of job runs on with these options. */
export function jobBackends(b: BackendInfo): { upscale: string; train: string } {
  const compute = b.compute?.backend === 'webgpu' ? `webgpu (${b.compute.adapter?.architecture || b.compute.adapter?.vendor || 'adapter'})` : b.id;
  return { upscale: compute, train: compute };
}
