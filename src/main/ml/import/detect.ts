/**
 * Architecture detection from a state dict's keys and shapes, the way chaiNNer's spandrel
 * does it: each architecture registers a detector beside its definition (src/main/ml/archs/
 * <arch>/torch.ts) that recognises its layouts by their keys, reads the hyper-parameters off
 * the tensor shapes and maps the weights; here they are tried in turn, and a file no one
 * recognises is refused with what its keys look like.
 */
import { RestoraError } from '../../../shared/errors.js';
import { getArch, listArchs, listDetectors, type DetectedModel } from '../archs/index.js';
import { looksLikeFaceModel, unsupportedFaceModel } from '../archs/gfpgan/torch.js';
import type { StateDict } from './stateDict.js';

export type { DetectedModel };

function unsupported(file: string, sd: StateDict): never {
  const keys = [...sd.keys()];
  const sample = keys.slice(0, 6).join(', ') + (keys.length > 6 ? `, ... (${keys.length} tensors)` : '');
  const known = listArchs().filter((a) => listDetectors().some((d) => d.arch === a.id));
  const named = (role: 'face' | 'upscaler') =>
    known
      .filter((a) => (a.role === 'face') === (role === 'face'))
      .map((a) => a.importName ?? a.id)
      .join(', ');
  throw new RestoraError('UNSUPPORTED', `${file}: unsupported architecture: keys look like ${sample}. Restora imports ${named('upscaler')} upscalers, and ${named('face')} face restorers.`, file);
}

/** Recognises the architecture of a state dict; refuses anything else with what its keys look like. */
export function detectArchitecture(state: StateDict, file: string): DetectedModel {
  const sd = new Map(state);
  let found: DetectedModel | null = null;
  for (const d of listDetectors()) {
    found = d.detect(sd, file);
    if (found) break;
  }
  if (!found) {
    const keys = [...state.keys()];
    if (looksLikeFaceModel(keys)) unsupportedFaceModel(file, keys);
    unsupported(file, state);
  }
  if (getArch(found.arch).role === 'face') found = { ...found, task: 'face' };
  // BatchNorm counters and the like carry no weights; anything else left over means a layout we do not fully know.
  const left = [...sd.keys()].filter((k) => !k.endsWith('num_batches_tracked'));
  if (left.length > 0) {
    throw new RestoraError('MODEL_INVALID', `${file}: looks like ${found.layout} but has tensors Restora does not place: ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', ...' : ''}`, file);
  }
  return found;
}
