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
import type { ComputeHost } from '../worker/computeHost.js';
import { readCard, writeCard } from '../store/modelCard.js';
import type { ModelLibrary } from '../store/modelLibrary.js';
import { modelFolderFiles } from '../store/modelStore.js';
import type { ImportSource } from './convert.js';
import { insideFolder, statRegular } from '../store/safeFile.js';

export const MODEL_ID = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u;
const TORCH_EXT = ['.pth', '.pt', '.ckpt'];
const IMPORT_HINT = 'a .pth / .pt / .safetensors file, an ncnn .param + .bin pair, or a Restora model folder';

export type ResolvedSource = ImportSource | { format: 'restora'; files: [string] };

/**
 * What a path holds: one model, by its files. Only regular files are taken (a named pipe
 * would block the reader, a folder is no .bin); in a folder the user picked, a file
 * that links out of that folder is refused.
 */
export function resolveImportSource(p: string, folder?: string): ResolvedSource {
  const abs = path.resolve(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new RestoraError('NOT_FOUND', `${abs}: no such file or folder`, abs);
  }
  // A file found in a folder must stay in it; a file the user named may be a link they made.
  const take = (f: string) => (folder ? insideFolder(folder, f) : (statRegular(f), f));
  if (st.isDirectory() && !folder) {
    if (fs.existsSync(path.join(abs, 'model.json'))) {
      insideFolder(abs, path.join(abs, 'model.json'), 'the model folder');
      return { format: 'restora', files: [abs] };
    }
    const names = fs.readdirSync(abs).sort();
    const candidates = names.filter((n) => [...TORCH_EXT, '.safetensors', '.param'].includes(path.extname(n).toLowerCase()));
    if (candidates.length === 0) throw new RestoraError('UNSUPPORTED_FORMAT', `${abs}: holds no model file (${IMPORT_HINT})`, abs);
    if (candidates.length > 1) throw new RestoraError('USAGE', `${abs}: holds ${candidates.length} models (${candidates.join(', ')}); import one file at a time`, abs);
    return resolveImportSource(path.join(abs, candidates[0]!), abs);
  }
  const ext = path.extname(abs).toLowerCase();
  if (TORCH_EXT.includes(ext)) return { format: 'pytorch', files: [take(abs)] };
  if (ext === '.safetensors') return { format: 'safetensors', files: [take(abs)] };
  if (ext === '.param' || ext === '.bin') {
    const base = abs.slice(0, -ext.length);
    const [param, bin] = [`${base}.param`, `${base}.bin`];
    const missing = [param, bin].find((f) => !fs.existsSync(f));
    if (missing) throw new RestoraError('NOT_FOUND', `${abs}: an ncnn model needs its pair ${path.basename(missing)} beside it`, abs);
    return { format: 'ncnn', files: [take(param), take(bin)] };
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
  return name
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/^[^\p{L}\p{N}]+/u, '')
    .slice(0, 64);
}

/** A card is a few KB; one that is a pipe, a link out or huge is refused before readCard opens it. */
const MAX_CARD_BYTES = 1024 ** 2;
function readFolderCard(dir: string) {
  const file = insideFolder(dir, path.join(dir, 'card.json'), 'the model folder');
  if (fs.statSync(file).size > MAX_CARD_BYTES) throw new RestoraError('MODEL_INVALID', `${file}: over the 1 MB limit for a model card`, file);
  return readCard(dir);
}

/**
 * Copies only what the model is (model.json and the weight files it names, checked by
 * modelFolderFiles), with async copies: extra files (a 1 GB sparse one) stay behind,
 * links are copied as the files they are, and the main thread is never blocked. The
 * card is written afresh by the caller.
 */
async function copyModelFolder(src: string, dest: string): Promise<void> {
  const { weights } = modelFolderFiles(src);
  await fs.promises.mkdir(dest, { recursive: true });
  await fs.promises.copyFile(path.join(src, 'model.json'), path.join(dest, 'model.json'));
  for (const w of weights) {
    const to = path.join(dest, w.rel);
    await fs.promises.mkdir(path.dirname(to), { recursive: true });
    await fs.promises.copyFile(w.abs, to);
    // A file swapped between the check and the copy is caught by its size.
    if ((await fs.promises.stat(to)).size !== w.bytes) throw new RestoraError('MODEL_INVALID', `${w.abs}: it changed while being copied`, w.abs);
  }
}

export async function importModel(deps: ImportDeps, req: ModelImportRequest): Promise<ModelSummary> {
  const source = resolveImportSource(req.path);
  const main = source.files[0];
  const name = req.name?.trim() || (source.format === 'restora' ? path.basename(main) : path.basename(main, path.extname(main)));
  const existingCard = source.format === 'restora' && fs.existsSync(path.join(main, 'card.json')) ? readFolderCard(main) : null;
  const id = req.name ? idFrom(name) : (existingCard?.id ?? idFrom(name));
  if (!MODEL_ID.test(id)) throw new RestoraError('USAGE', `Model id "${id}" must be letters, digits, '.', '_' or '-'.`, undefined, { hint: { cli: 'Give one with --name.', studio: 'Give one in the Name field.' } });
  if (deps.models.list().some((m) => m.card.id === id)) throw new RestoraError('USAGE', `A model with id "${id}" is already installed.`, undefined, { hint: { cli: 'Pick another name with --name.', studio: 'Pick another name in the Name field.' } });
  const dest = path.join(deps.userDir, id);
  const tmp = `${dest}.importing`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(deps.userDir, { recursive: true });
  try {
    if (source.format === 'restora') {
      const probe = await deps.compute.probeModel(main);
      if (existingCard && existingCard.scale !== probe.scale) throw new RestoraError('MODEL_INVALID', `${main}: card says x${existingCard.scale} but the model upscales x${probe.scale}`, main);
      await copyModelFolder(main, tmp);
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
