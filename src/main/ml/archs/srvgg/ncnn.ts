/**
 * SRVGGNetCompact from an ncnn graph (Upscayl's realesr-animevideov3 and general models):
 * conv, PReLU, (conv, PReLU) x n, conv, PixelShuffle, plus the nearest-upsampled input.
 */
import { countLayers, convTensors, ncnnMismatch, ncnnParam, sameConvs3x3, type NcnnGraph } from '../ncnnGraph.js';
import { registerNcnnDetector, type DetectedModel } from '../registry.js';
import type { CanonicalLayers } from '../torchWeights.js';
import { srvggModel } from './torch.js';

export function detectSrvggNcnn(g: NcnnGraph): DetectedModel | null {
  const shuffle = g.layers.find((l) => l.type === 'PixelShuffle');
  if (!shuffle) return null;
  const arch = 'SRVGGNetCompact';
  const convs = sameConvs3x3(g, arch);
  const prelus = g.layers.filter((l) => l.type === 'PReLU');
  if (prelus.length !== convs.length - 1 || countLayers(g, 'Interp') !== 1 || countLayers(g, 'BinaryOp') !== 1) ncnnMismatch(g, arch, `its conv/PReLU counts (${convs.length}/${prelus.length}) do not match`);
  const scale = ncnnParam(shuffle, 0, 1);
  const layers: CanonicalLayers = new Map();
  let body = 0;
  for (let i = 0; i < convs.length; i++) {
    layers.set(`body.${body++}`, convTensors(g, convs[i]!));
    if (i < prelus.length) layers.set(`body.${body++}`, { weight: g.weights.get(prelus[i]!.name)![0]! });
  }
  if (convTensors(g, convs[convs.length - 1]!).weight.shape[0] !== 3 * scale * scale) ncnnMismatch(g, arch, 'the last conv does not feed an RGB pixel shuffle');
  return srvggModel(layers, scale, { features: convTensors(g, convs[0]!).weight.shape[0]!, convs: convs.length - 2 }, 'SRVGGNetCompact (ncnn)', g.file);
}

registerNcnnDetector('srvgg', detectSrvggNcnn);
