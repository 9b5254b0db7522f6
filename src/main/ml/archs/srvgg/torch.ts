/**
 * SRVGGNetCompact from a PyTorch state dict (realesr-general-x4v3, animevideov3): body.N
 * convs with PReLU slopes between them; width, depth and scale read off the shapes.
 */
import { RestoraError } from '../../../../shared/errors.js';
import { registerDetector, type DetectedModel } from '../registry.js';
import { shapeOf, take, type TorchTensor } from '../torchWeights.js';

type StateDict = Map<string, TorchTensor>;

export function detectSrvgg(sd: StateDict, file: string): DetectedModel | null {
  const keys = [...sd.keys()];
  if (!sd.has('body.0.weight') || !keys.every((k) => /^body\.\d+\.(weight|bias)$/.test(k))) return null;
  const top = Math.max(...keys.map((k) => Number(k.split('.')[1])));
  if (top % 2 !== 0 || top < 2) return null;
  // Even indices are convs, odd ones PReLU slopes; ReLU / LeakyReLU variants carry no weights and cannot be told apart.
  if (!sd.has('body.1.weight')) {
    throw new RestoraError('UNSUPPORTED', `${file}: an SRVGGNetCompact without PReLU weights (its activation is not stored in the file); Restora imports the PReLU form`, file);
  }
  const nf = shapeOf(sd, 'body.0.weight', 4, file)[0]!;
  const outCh = shapeOf(sd, `body.${top}.weight`, 4, file)[0]!;
  const scale = Math.round(Math.sqrt(outCh / 3));
  if (scale * scale * 3 !== outCh) throw new RestoraError('UNSUPPORTED', `${file}: an SRVGGNetCompact with ${outCh} output channels is not an RGB upscaler`, file);
  const layers = new Map<string, { weight: TorchTensor; bias?: TorchTensor }>();
  for (let i = 0; i <= top; i++) take(sd, `body.${i}`, `body.${i}`, layers, file, i % 2 === 0);
  return { arch: 'srvgg', scale, archOptions: { features: nf, convs: top / 2 - 1 }, layout: 'SRVGGNetCompact', layers };
}

registerDetector('srvgg', detectSrvgg);
