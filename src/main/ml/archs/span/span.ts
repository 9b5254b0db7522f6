/**
 * SPAN, the Swift Parameter-free Attention Network (Wan et al. 2024; NTIRE 2024 efficient
 * SR winner; ~0.4M parameters at 48 features): a 3x3 head, six SPAB blocks of three 3x3
 * convs (SiLU after the first two) closed by the parameter-free attention
 * (out3 + x) * (sigmoid(out3) - 0.5), a 3x3 conv after the last block, a 1x1 conv over
 * [head, that conv, block 1, block 6's first activation], and a 3x3 conv + pixel shuffle.
 * Each 3x3 conv here is one of the reference's Conv3XC, whose training branches fuse into a
 * single 3x3 kernel at inference (./torch.ts does that fusion on import). With `norm` the
 * input is first mapped to (x - rgb_mean) * 255, as the released models expect.
 *
 * Layers are named after the PyTorch state-dict prefixes ('.' -> '_'): conv_1,
 * block_N_cK_r, conv_2, conv_cat, upsampler_0.
 */
import * as tf from '@tensorflow/tfjs';
import { RestoraError } from '../../../../shared/errors.js';
import { PixelShuffle } from '../layers.js';
import { num, registerArch, type ArchOptions } from '../registry.js';
import { SpanAttention, SpanNormalize } from './layers.js';

type S = tf.SymbolicTensor;

export const SPAN_BLOCKS = 6;

function build(scale: number, o: ArchOptions): tf.LayersModel {
  const nf = num(o, 'features');
  if (!Number.isInteger(nf) || nf < 1 || nf > 1024) throw new RestoraError('USAGE', `span features must be a whole number from 1 to 1024, not ${nf}`);
  const conv = (x: S, filters: number, name: string, kernelSize = 3, activation?: 'swish'): S => tf.layers.conv2d({ filters, kernelSize, padding: 'same', name, ...(activation ? { activation } : {}) }).apply(x) as S;
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  const x: S = o.norm === false ? input : (new SpanNormalize({ name: 'normalize' }).apply(input) as S);
  const head = conv(x, nf, 'conv_1');
  let feat = head;
  let block1 = head;
  let lastOut1 = head;
  for (let b = 1; b <= SPAN_BLOCKS; b++) {
    const p = `block_${b}`;
    // The reference's SiLU is in place, so the out1 a block returns is already activated.
    const out1 = conv(feat, nf, `${p}_c1_r`, 3, 'swish');
    const out2 = conv(out1, nf, `${p}_c2_r`, 3, 'swish');
    const out3 = conv(out2, nf, `${p}_c3_r`);
    feat = new SpanAttention({ name: `${p}_attention` }).apply([out3, feat]) as S;
    if (b === 1) block1 = feat;
    lastOut1 = out1;
  }
  const trunk = conv(feat, nf, 'conv_2');
  const cat = tf.layers.concatenate({ axis: -1, name: 'cat' }).apply([head, trunk, block1, lastOut1]) as S;
  const fused = conv(cat, nf, 'conv_cat', 1);
  const up = conv(fused, 3 * scale * scale, 'upsampler_0');
  const out = new PixelShuffle({ scale, name: 'shuffle' }).apply(up) as S;
  return tf.model({ inputs: input, outputs: out, name: `span_x${scale}` });
}

registerArch({
  id: 'span',
  importName: 'SPAN',
  description: 'SPAN (Swift Parameter-free Attention Network): six blocks of three 3x3 convs with parameter-free attention, pixel shuffle; import SPAN models into it',
  scales: [1, 2, 3, 4],
  defaults: { features: 48, norm: true },
  build,
  // chaiNNer / spandrel run SPAN on the image as it is, the convs zero-padding their edges;
  // the released models were judged that way, so no replicated border.
  edgePad: 0,
  // Every conv with a spatial extent is 3x3 (radius 1): conv_1, 6 blocks x 3, conv_2 and the
  // upsampler conv make 21 (conv_cat is 1x1, the attention per pixel). The receptive field is
  // exactly 21 LR pixels each way, so tiles with this overlap reproduce the whole-image output.
  receptiveRadius: () => SPAN_BLOCKS * 3 + 3,
  // Everything runs at LR size; the widest activation is the concatenation, 4 * features floats
  // per pixel (192 at 48: ~500 px tiles on wasm).
  activationBytes: (_scale, o) => 4 * 4 * num(o, 'features'),
});
