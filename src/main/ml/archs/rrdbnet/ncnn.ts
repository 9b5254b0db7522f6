/**
 * RRDBNet from an ncnn graph (Upscayl's realesrgan-x4plus and friends): conv_first, 15 convs
 * per block (dense concatenations), conv_body, one conv per x2 nearest upsampling, conv_hr,
 * conv_last, taken in graph order as the canonical layers a PyTorch import gives.
 */
import { countLayers, convTensors, ncnnMismatch, ncnnParam, sameConvs3x3, type NcnnGraph } from '../ncnnGraph.js';
import { registerNcnnDetector, type DetectedModel } from '../registry.js';
import type { CanonicalLayers } from '../torchWeights.js';
import { rrdbModel } from './torch.js';

export function detectRrdbNcnn(g: NcnnGraph): DetectedModel | null {
  // The dense blocks concatenate; a graph without any is not an RRDBNet.
  if (countLayers(g, 'Concat') === 0 || g.layers.some((l) => l.type === 'PixelShuffle')) return null;
  const arch = 'RRDBNet';
  const convs = sameConvs3x3(g, arch);
  const ups = countLayers(g, 'Interp');
  const blocks = (convs.length - 4 - ups) / 15;
  if (!Number.isInteger(blocks) || blocks < 1 || countLayers(g, 'Concat') !== 12 * blocks || countLayers(g, 'Eltwise') + countLayers(g, 'BinaryOp') !== 4 * blocks + 1) {
    ncnnMismatch(g, arch, `${convs.length} convolutions, ${countLayers(g, 'Concat')} concats and ${ups} upsamplings make no whole number of blocks`);
  }
  for (const l of g.layers.filter((x) => x.type === 'Interp')) if (ncnnParam(l, 0, 0) !== 1 || ncnnParam(l, 1, 1) !== 2 || ncnnParam(l, 2, 1) !== 2) ncnnMismatch(g, arch, `${l.name} is not a nearest x2 upsampling`);
  const conv = (i: number) => convTensors(g, convs[i]!);
  const layers: CanonicalLayers = new Map();
  let i = 0;
  layers.set('conv_first', conv(i++));
  for (let b = 0; b < blocks; b++) for (let r = 1; r <= 3; r++) for (let c = 1; c <= 5; c++) layers.set(`body.${b}.rdb${r}.conv${c}`, conv(i++));
  layers.set('conv_body', conv(i++));
  for (let u = 1; u <= ups; u++) layers.set(`conv_up${u}`, conv(i++));
  layers.set('conv_hr', conv(i++));
  layers.set('conv_last', conv(i++));
  const inCh = conv(0).weight.shape[1]!;
  if (inCh !== 3) ncnnMismatch(g, arch, `the first conv takes ${inCh} channels`);
  return rrdbModel(layers, 2 ** ups, { features: conv(0).weight.shape[0]!, blocks, growth: conv(1).weight.shape[0]!, upsamples: ups }, 'RRDBNet (ncnn)', g.file);
}

registerNcnnDetector('rrdbnet', detectRrdbNcnn);
