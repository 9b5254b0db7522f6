/**
 * SRVGGNetCompact from a PyTorch state dict (realesr-general-x4v3, animevideov3): body.N
 * convs with PReLU slopes between them; width, depth and scale read off the shapes.
 */
import { RestoraError } from '../../../../shared/errors.js';
import { registerDetector, type DetectedModel } from '../registry.js';
import { loadCanonical, shapeOf, take, torchShuffleOrder, type CanonicalLayers, type ChannelFixes, type TorchTensor } from '../torchWeights.js';

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
  const layers: CanonicalLayers = new Map();
  for (let i = 0; i <= top; i++) take(sd, `body.${i}`, `body.${i}`, layers, file, i % 2 === 0);
  return srvggModel(layers, scale, { features: nf, convs: top / 2 - 1 }, 'SRVGGNetCompact', file);
}

/** The detected model over canonical layers (from a state dict or an ncnn graph): the last conv feeds PyTorch's pixel shuffle. */
export function srvggModel(layers: CanonicalLayers, scale: number, archOptions: { features: number; convs: number }, layout: string, file: string): DetectedModel {
  const fixes: ChannelFixes = new Map([[`body_${2 * (archOptions.convs + 1)}`, { axis: 0, perm: torchShuffleOrder(3, scale) }]]);
  return { arch: 'srvgg', scale, archOptions, layout, loadInto: (model) => loadCanonical(model, layers, fixes, file, layout) };
}

registerDetector('srvgg', detectSrvgg);
