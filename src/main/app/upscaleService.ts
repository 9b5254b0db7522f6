/**
 * Upscales a list of files/folders into an output folder: naming, overwrite
 * guards and per-item error capture. A failing item never stops the others.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_TILE, INPAINTER_ID, SCRATCH_DETECTOR_ID, type ItemResult, type OutputFormat, type UpscaleOptions } from '../../shared/api.js';
import type { RepairPlan } from '../ml/infer/upscaleFile.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import type { ComputeHost } from '../ml/infer/computeHost.js';
import { enumerateInputs } from '../imaging/inputs.js';
import type { ModelLibrary } from '../ml/store/modelLibrary.js';
import { SpeedCache } from '../ml/store/speedCache.js';


export interface UpscaleEvents {
  onItemStart?(index: number, total: number, input: string): void;
  onItemProgress?(index: number, done: number, total: number): void;
  onItemDone?(index: number, result: ItemResult): void;
}

/** The bundled damage nets' folders (resolved once per run: a missing one is said before any work). */
export function damageNetDirs(models: ModelLibrary): { detector: string; inpainter: string } {
  return { detector: models.get(SCRATCH_DETECTOR_ID).dir, inpainter: models.get(INPAINTER_ID).dir };
}

/** The repair step of one photo: the inpainter, on the user's mask or else on the detector's. */
export function repairPlanFor(nets: { detector: string; inpainter: string }, maskFile?: string, maskOut?: string): RepairPlan {
  return { inpainterDir: nets.inpainter, ...(maskFile ? { maskFile } : { detectorDir: nets.detector }), ...(maskOut ? { maskOut } : {}) };
}

export function outputName(input: string, format: OutputFormat): string {
  return `${path.basename(input, path.extname(input))}.${format}`;
}

function sameFile(a: string, b: string): boolean {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

export class UpscaleService {
  constructor(
    private readonly models: ModelLibrary,
    private readonly compute: ComputeHost,
    private readonly speed?: SpeedCache,
  ) {}

  async run(
    inputs: readonly string[],
    outDir: string,
    options: UpscaleOptions,
    events: UpscaleEvents = {},
    signal?: AbortSignal,
  ): Promise<ItemResult[]> {
    const model = options.modelId === 'none' ? null : this.models.resolve(options.modelId, options.scale);
    const repairing = options.repair !== undefined && options.repair !== 'off';
    if (!model && !repairing) throw new RestoraError('USAGE', 'With no model (--model none) there is nothing to do unless scratches are repaired.');
    const damage = repairing ? damageNetDirs(this.models) : null;
    const maskFor = (file: string): string | undefined => {
      if (typeof options.repair !== 'object') return undefined;
      const m = options.repair.maskFile;
      // A folder of masks: the photo's name, as PNG, or with -mask.
      if (fs.existsSync(m) && fs.statSync(m).isDirectory()) {
        const base = path.basename(file, path.extname(file));
        const found = [`${base}.png`, `${base}-mask.png`].map((n) => path.join(m, n)).find((c) => fs.existsSync(c));
        if (!found) throw new RestoraError('NOT_FOUND', `${file}: no mask for it in ${m} (looked for ${base}.png and ${base}-mask.png)`, file);
        return found;
      }
      return m;
    };
    const format = options.format ?? 'png';
    fs.mkdirSync(outDir, { recursive: true });
    const items = enumerateInputs(inputs, false).map((e) => ({
      file: e.input,
      ...(e.missing ? { error: new RestoraError('NOT_FOUND', `${e.input}: no such file or folder`, e.input) } : {}),
    }));
    const claimed = new Map<string, string>();
    const results: ItemResult[] = [];
    let backend: { id: string; threads: number } | null = null;
    for (let i = 0; i < items.length; i++) {
      const { file, error } = items[i]!;
      events.onItemStart?.(i, items.length, file);
      const started = performance.now();
      let result: ItemResult;
      const dest = path.join(outDir, outputName(file, format));
      try {
        if (error) throw error;
        if (sameFile(file, dest)) {
          throw new RestoraError('WOULD_OVERWRITE_INPUT', `${file}: output ${dest} would overwrite the input; choose another --out folder`, file);
        }
        const prior = claimed.get(path.resolve(dest));
        if (prior) {
          throw new RestoraError('WOULD_OVERWRITE_INPUT', `${file}: output ${dest} is already written by ${prior} in this run; rename one of them`, file);
        }
        const repair = damage ? repairPlanFor(damage, maskFor(file), options.saveMask ? path.join(outDir, `${path.basename(file, path.extname(file))}-mask.png`) : undefined) : undefined;
        const done = await this.compute.upscale(
          model?.dir ?? null,
          {
            input: file,
            output: dest,
            scale: model?.card.scale ?? 1,
            format,
            tile: options.tile ?? DEFAULT_TILE,
            overlap: 0,
            ...(options.quality !== undefined ? { quality: options.quality } : {}),
            ...(options.keepColours !== undefined ? { keepColours: options.keepColours } : {}),
            ...(options.keepHighlights !== undefined ? { keepHighlights: options.keepHighlights } : {}),
            ...(options.levels ? { levels: true } : {}),
            ...(repair ? { repair } : {}),
          },
          { onProgress: (d, t) => events.onItemProgress?.(i, d, t), ...(signal ? { signal } : {}) },
        );
        claimed.set(path.resolve(dest), file);
        const ms = performance.now() - started;
        result = { input: file, output: dest, ok: true, ms: Math.round(ms), ...(done.repairedPixels !== undefined ? { repairedPixels: done.repairedPixels } : {}) };
        if (this.speed && model && !repair && ms > 200) {
          backend ??= await this.compute.info();
          const mp = (done.outWidth * done.outHeight) / 1e6;
          this.speed.record(SpeedCache.key('upscale', model.card.id, backend.id, backend.threads), mp / (ms / 1000), 'MP/s');
        }
      } catch (err) {
        const code = err instanceof RestoraError ? err.code : 'INTERNAL';
        result = { input: file, ok: false, error: { code, message: errorMessage(err) } };
        if (code === 'CANCELLED') {
          results.push(result);
          events.onItemDone?.(i, result);
          break;
        }
      }
      results.push(result);
      events.onItemDone?.(i, result);
    }
    return results;
  }
}
