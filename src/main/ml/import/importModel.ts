/**
 * Model import, main-thread side: works out what a user-picked path holds, then
 * has the compute worker convert it into a temporary folder of the user's model
 * library, renamed into place only when everything succeeded (nothing is added
 * on any failure).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ModelImportRequest, ModelSummary } from '../../../shared/api.js';
import { RestoraError } from '../../../shared/errors.js';
import type { ComputeHost } from '../infer/computeHost.js';
import { readCard, writeCard } from '../store/modelCard.js';
import type { ModelLibrary } from '../store/modelLibrary.js';
import type { ImportSource } from './convert.js';

export const MODEL_ID = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u;
const TORCH_EXT = ['.pth', '.pt', '.ckpt'];
const IMPORT_HINT = 'a .pth / .pt / .safetensors file, an ncnn .param + .bin pair, or a Restora model folder';

export type ResolvedSource = ImportSource | { format: 'restora'; files: [string] };

/** What a path holds: one model, by its files. */
export function resolveImportSource(p: string): ResolvedSource {
  const abs = path.resolve(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new RestoraError('NOT_FOUND', `${abs}: no such file or folder`, abs);
  }
  if (st.isDirectory()) {
    if (fs.existsSync(path.join(abs, 'model.json'))) return { format: 'restora', files: [abs] };
    const names = fs.readdirSync(abs).sort();
    const candidates = names.filter((n) => [...TORCH_EXT, '.safetensors', '.param'].includes(path.extname(n).toLowerCase()));
    if (candidates.length === 0) throw new RestoraError('UNSUPPORTED_FORMAT', `${abs}: holds no model file (${IMPORT_HINT})`, abs);
    if (candidates.length > 1) throw new RestoraError('USAGE', `${abs}: holds ${candidates.length} models (${candidates.join(', ')}); import one file at a time`, abs);
    return resolveImportSource(path.join(abs, candidates[0]!));
  }
  const ext = path.extname(abs).toLowerCase();
  if (TORCH_EXT.includes(ext)) return { format: 'pytorch', files: [abs] };
  if (ext === '.safetensors') return { format: 'safetensors', files: [abs] };
  if (ext === '.param' || ext === '.bin') {
    const base = abs.slice(0, -ext.length);
    const [param, bin] = [`${base}.param`, `${base}.bin`];
    const missing = [param, bin].find((f) => !fs.existsSync(f));
    if (missing) throw new RestoraError('NOT_FOUND', `${abs}: an ncnn model needs its pair ${path.basename(missing)} beside it`, abs);
    return { format: 'ncnn', files: [param, bin] };
  }
  throw new RestoraError('UNSUPPORTED_FORMAT', `${abs}: not a model file Restora imports (${IMPORT_HINT})`, abs);
}

export interface ImportDeps {
  models: ModelLibrary;
  compute: ComputeHost;
  /** The user's model folder (RESTORA_HOME/models). */
  userDir: string;
}

function idFrom(name: string): string {
  return name.normalize('NFC').replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^[^\p{L}\p{N}]+/u, '').slice(0, 64);
}

export async function importModel(deps: ImportDeps, req: ModelImportRequest): Promise<ModelSummary> {
  const source = resolveImportSource(req.path);
  const main = source.files[0];
  const name = req.name?.trim() || (source.format === 'restora' ? path.basename(main) : path.basename(main, path.extname(main)));
  const existingCard = source.format === 'restora' && fs.existsSync(path.join(main, 'card.json')) ? readCard(main) : null;
  const id = req.name ? idFrom(name) : (existingCard?.id ?? idFrom(name));
  if (!MODEL_ID.test(id)) throw new RestoraError('USAGE', `Model id "${id}" must be letters, digits, '.', '_' or '-' (give one with --name).`);
  if (deps.models.list().some((m) => m.card.id === id)) throw new RestoraError('USAGE', `A model with id "${id}" is already installed; pick another name (--name).`);
  const dest = path.join(deps.userDir, id);
  const tmp = `${dest}.importing`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(deps.userDir, { recursive: true });
  try {
    if (source.format === 'restora') {
      const probe = await deps.compute.probeModel(main);
      if (existingCard && existingCard.scale !== probe.scale) throw new RestoraError('MODEL_INVALID', `${main}: card says x${existingCard.scale} but the model upscales x${probe.scale}`, main);
      fs.cpSync(main, tmp, { recursive: true });
      writeCard(tmp, {
        ...(existingCard ?? { arch: 'imported', archOptions: {}, task: 'upscale', notes: `imported from ${main}` }),
        id,
        name: req.name?.trim() || existingCard?.name || id,
        scale: probe.scale,
        params: probe.params,
        ...(req.license ? { license: req.license } : {}),
      });
    } else {
      await deps.compute.importModel(source, tmp, { id, name, ...(req.license ? { license: req.license } : {}) });
    }
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return deps.models.get(id);
}
