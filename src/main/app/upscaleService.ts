/**
 * Upscales a list of files/folders into an output folder: naming, overwrite
 * guards and per-item error capture. A failing item never stops the others.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_FACE_FIDELITY, DEFAULT_FACE_STRENGTH, DEFAULT_TILE, type ItemResult, type OutputFormat, type UpscaleOptions } from '../../shared/api.js';
import { damageNetDirs, pipelineRequest, repairPlanFor } from '../ml/infer/pipeline.js';
import type { UpscaleDefaults } from './requestDefaults.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import type { ComputeHost } from '../ml/worker/computeHost.js';
import { enumerateInputs } from '../imaging/inputs.js';
import type { ModelLibrary } from '../ml/store/modelLibrary.js';
import { SpeedCache } from '../ml/store/speedCache.js';

export interface UpscaleEvents {
  onItemStart?(index: number, total: number, input: string): void;
  onItemProgress?(index: number, done: number, total: number): void;
  onItemDone?(index: number, result: ItemResult): void;
  /** Without `recursive`: how many photos the named folders hold in subfolders, left out (said, never silent). */
  onSubfoldersSkipped?(count: number): void;
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
    /** Settings' defaults (requestDefaults.ts) for what a request leaves out. */
    private readonly defaults: () => UpscaleDefaults = () => ({ tile: DEFAULT_TILE }),
  ) {}

  async run(inputs: readonly string[], outDir: string, options: UpscaleOptions, events: UpscaleEvents = {}, signal?: AbortSignal): Promise<ItemResult[]> {
    const model = options.modelId === 'none' ? null : this.models.resolve(options.modelId, options.scale);
    const repairing = options.repair !== undefined && options.repair !== 'off';
    if (!model && !repairing) throw new RestoraError('USAGE', 'With no model there is nothing to do unless scratches are repaired.', undefined, { hint: { cli: '--model none needs --scratches auto or a mask.' } });
    const damage = repairing ? damageNetDirs(this.models) : null;
    const faceModel = options.faces ? this.models.face(options.faces.modelId) : null;
    const faces = faceModel ? { modelDir: faceModel.dir, strength: options.faces?.strength ?? DEFAULT_FACE_STRENGTH, fidelity: options.faces?.fidelity ?? DEFAULT_FACE_FIDELITY } : undefined;
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
    const recursive = options.recursive ?? false;
    const entries = enumerateInputs(inputs, recursive);
    if (!recursive && events.onSubfoldersSkipped) {
      const direct = entries.length;
      const all = enumerateInputs(inputs, true).length;
      if (all > direct) events.onSubfoldersSkipped(all - direct);
    }
    const items = entries.map((e) => ({
      relDir: e.relDir,
      file: e.input,
      ...(e.missing ? { error: new RestoraError('NOT_FOUND', `${e.input}: no such file or folder`, e.input) } : {}),
    }));
    const claimed = new Map<string, string>();
    const results: ItemResult[] = [];
    let backend: { id: string; threads: number } | null = null;
    for (let i = 0; i < items.length; i++) {
      const { file, error, relDir } = items[i]!;
      events.onItemStart?.(i, items.length, file);
      const started = performance.now();
      let result: ItemResult;
      // Subfolders are mirrored, so two photos of one name in different folders do not collide.
      const dest = path.join(outDir, relDir, outputName(file, format));
      try {
        if (error) throw error;
        if (sameFile(file, dest)) {
          throw new RestoraError('WOULD_OVERWRITE_INPUT', `${file}: output ${dest} would overwrite the input.`, file, { hint: { cli: 'Choose another --out folder.', studio: 'Choose another output folder.' } });
        }
        const prior = claimed.get(path.resolve(dest));
        if (prior) {
          throw new RestoraError('WOULD_OVERWRITE_INPUT', `${file}: output ${dest} is already written by ${prior} in this run; rename one of them`, file);
        }
        if (relDir) fs.mkdirSync(path.dirname(dest), { recursive: true });
        const repair = damage ? repairPlanFor(damage, maskFor(file), options.saveMask ? path.join(path.dirname(dest), `${path.basename(file, path.extname(file))}-mask.png`) : undefined) : undefined;
        const done = await this.compute.upscale(
          model?.dir ?? null,
          pipelineRequest(model, file, dest, format, { repair, keepColours: options.keepColours, keepHighlights: options.keepHighlights, levels: options.levels, quality: options.quality, tile: options.tile ?? this.defaults().tile, faces }),
          { onProgress: (d, t) => events.onItemProgress?.(i, d, t), ...(signal ? { signal } : {}) },
        );
        claimed.set(path.resolve(dest), file);
        const ms = performance.now() - started;
        result = {
          input: file,
          output: dest,
          ok: true,
          ms: Math.round(ms),
          ...(done.repairedPixels !== undefined ? { repairedPixels: done.repairedPixels } : {}),
          ...(done.faces ? { faces: done.faces } : {}),
          ...(done.tile ? { tile: done.tile } : {}),
        };
        if (this.speed && model && !repair && ms > 200) {
          backend ??= await this.compute.info();
          const mp = (done.outWidth * done.outHeight) / 1e6;
          this.speed.record(SpeedCache.key('upscale', model.card.id, backend.id, backend.threads), mp / (ms / 1000), 'MP/s');
        }
      } catch (err) {
        const code = err instanceof RestoraError ? err.code : 'INTERNAL';
        result = { input: file, ok: false, error: { code, message: errorMessage(err), ...(err instanceof RestoraError && err.hint ? { hint: err.hint } : {}) } };
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
