/**
 * Variational autoencoders for restoration ("Bringing Old Photos Back to Life", Wan et
 * al. 2020), in two registered forms:
 * - 'vae': encoder -> mean / log-variance at 1/2^levels resolution -> reparameterised
 *   sample (the mean at inference) -> decoder with pixel shuffles. At x2/x4 the decoder
 *   predicts a residual over the bicubic anchor, like every Restora SR net; at x1 it is a
 *   plain autoencoder (an anchor would hand the input straight to the output and leave the
 *   latent nothing to learn). There are no skips past the latent, on purpose: all the
 *   decoder knows is the latent, which is the point of the latent-space recipe.
 * - 'vae-mapping': the latent-translation model: the degraded-photo VAE's encoder, a
 *   mapping network between the two latent spaces, and the clean-photo VAE's decoder. Its
 *   encoder and decoder are frozen (their weights come from the two VAEs of the recipe);
 *   only the mapping (layers map_*) trains.
 * Layer names carry the part they belong to (enc_, latent_, dec_, map_), which is how the
 * recipe moves weights from the VAEs into the mapping model.
 */
import * as tf from '@tensorflow/tfjs';
import { num, registerArch, type ArchOptions } from './registry.js';
import { BicubicAnchor, PixelShuffle, PixelUnshuffle } from './layers.js';
import { LatentSample } from './maskLayers.js';

type S = tf.SymbolicTensor;

const conv = (x: S, filters: number, k: number, name: string, act: 'relu' | 'linear' = 'relu', trainable = true): S =>
  tf.layers.conv2d({ filters, kernelSize: k, padding: 'same', activation: act, name, trainable, kernelInitializer: 'heNormal' }).apply(x) as S;

/** Feature width at level i (0 = input resolution): doubling, capped at 4x. */
const width = (c: number, i: number) => c * Math.min(2 ** i, 4);

function resBlocks(x: S, n: number, filters: number, prefix: string, trainable: boolean): S {
  let h = x;
  for (let i = 0; i < n; i++) {
    const r = conv(conv(h, filters, 3, `${prefix}${i}a`, 'relu', trainable), filters, 3, `${prefix}${i}b`, 'linear', trainable);
    h = tf.layers.add({ name: `${prefix}${i}_add` }).apply([h, r]) as S;
  }
  return h;
}

interface VaeShape {
  channels: number;
  latent: number;
  blocks: number;
}

function shapeOf(o: ArchOptions): VaeShape {
  return { channels: num(o, 'channels'), latent: num(o, 'latent'), blocks: num(o, 'blocks') };
}

/** Image -> (mean, logVar) at 1/2^levels of its side. */
function encode(x: S, v: VaeShape, levels: number, p: string, trainable: boolean): { mean: S; logVar: S } {
  let h = conv(x, v.channels, 3, `${p}enc_head`, 'relu', trainable);
  for (let i = 1; i <= levels; i++) {
    h = new PixelUnshuffle({ scale: 2, name: `${p}enc_down${i}_unshuffle` }).apply(h) as S;
    h = conv(conv(h, width(v.channels, i), 1, `${p}enc_down${i}`, 'relu', trainable), width(v.channels, i), 3, `${p}enc_conv${i}`, 'relu', trainable);
  }
  h = resBlocks(h, v.blocks, width(v.channels, levels), `${p}enc_res`, trainable);
  const mean = tf.layers.conv2d({ filters: v.latent, kernelSize: 1, name: `${p}latent_mean`, trainable }).apply(h) as S;
  // Starts as a near-deterministic autoencoder (variance e^-6); the KL term, warmed up from 0, widens it.
  const logVar = tf.layers.conv2d({ filters: v.latent, kernelSize: 1, name: `${p}latent_logvar`, trainable, kernelInitializer: 'zeros', biasInitializer: tf.initializers.constant({ value: -6 }) }).apply(h) as S;
  return { mean, logVar };
}

/** Latent -> image features at 2^levels the latent's side -> 3 * out^2 channels before the shuffle. */
function decode(z: S, v: VaeShape, levels: number, outPhases: number, p: string, trainable: boolean): S {
  let h = conv(z, width(v.channels, levels), 3, `${p}dec_head`, 'relu', trainable);
  h = resBlocks(h, v.blocks, width(v.channels, levels), `${p}dec_res`, trainable);
  for (let i = levels; i >= 1; i--) {
    h = conv(h, 4 * width(v.channels, i - 1), 1, `${p}dec_up${i}`, 'linear', trainable);
    h = new PixelShuffle({ scale: 2, name: `${p}dec_up${i}_shuffle` }).apply(h) as S;
    h = conv(h, width(v.channels, i - 1), 3, `${p}dec_conv${i}`, 'relu', trainable);
  }
  return tf.layers.conv2d({ filters: 3 * outPhases, kernelSize: 3, padding: 'same', name: `${p}dec_tail`, trainable, kernelInitializer: tf.initializers.varianceScaling({ scale: 0.1 }) }).apply(h) as S;
}

function finish(input: S, tail: S, scale: number, name: string): tf.LayersModel {
  const out = scale === 1 ? tail : (tf.layers.add({ name: 'residual' }).apply([tail, new BicubicAnchor({ scale, name: 'anchor' }).apply(input) as S]) as S);
  return tf.model({ inputs: input, outputs: scale === 1 ? out : (new PixelShuffle({ scale, name: 'shuffle' }).apply(out) as S), name });
}

function buildVae(scale: number, o: ArchOptions): tf.LayersModel {
  const v = shapeOf(o);
  const levels = num(o, 'levels');
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  const { mean, logVar } = encode(input, v, levels, '', true);
  const z = new LatentSample({ name: 'latent_sample' }).apply([mean, logVar]) as S;
  return finish(input, decode(z, v, levels, scale * scale, '', true), scale, `vae_x${scale}`);
}

function buildMapping(scale: number, o: ArchOptions): tf.LayersModel {
  const v = shapeOf(o);
  const levelsIn = num(o, 'levels');
  const levelsOut = levelsIn + Math.log2(scale);
  const input = tf.input({ shape: [null, null, 3], name: 'lr' });
  const { mean } = encode(input, v, levelsIn, 'deg_', false);
  // The mapping: a residual stack on the latent, so at step 0 it is the identity plus a little.
  const m = conv(mean, num(o, 'mapChannels'), 3, 'map_head');
  const body = resBlocks(m, num(o, 'mapBlocks'), num(o, 'mapChannels'), 'map_res', true);
  const delta = tf.layers.conv2d({ filters: v.latent, kernelSize: 3, padding: 'same', name: 'map_tail', kernelInitializer: tf.initializers.varianceScaling({ scale: 0.1 }) }).apply(body) as S;
  const z = tf.layers.add({ name: 'map_add' }).apply([mean, delta]) as S;
  const tail = decode(z, v, levelsOut, 1, 'clean_', false);
  return tf.model({ inputs: input, outputs: tail, name: `vae_mapping_x${scale}` });
}

const vaeRadius = (o: ArchOptions) => {
  const l = num(o, 'levels');
  // Encoder and decoder: 3x3 convs at each level (2^i px each) and the res blocks at the bottom.
  return 2 * (1 + 2 ** l * (2 * num(o, 'blocks') + 1)) + 2 * (2 ** (l + 1) - 2) + 2 ** l;
};

registerArch({
  id: 'vae',
  description: 'Variational autoencoder: encoder to a Gaussian latent at 1/4 resolution, decoder with pixel shuffles (bicubic-anchored at x2/x4); the mean at inference',
  scales: [1, 2, 4],
  defaults: { channels: 32, latent: 16, levels: 2, blocks: 2 },
  sizeMultiple: (_scale, o) => 2 ** num(o, 'levels'),
  build: buildVae,
  receptiveRadius: vaeRadius,
});

registerArch({
  id: 'vae-mapping',
  description: "Latent translation: the degraded-photo VAE's encoder, a mapping network, the clean-photo VAE's decoder (only the mapping trains)",
  scales: [2],
  defaults: { channels: 32, latent: 16, levels: 2, blocks: 2, mapChannels: 64, mapBlocks: 3 },
  role: 'composite',
  sizeMultiple: (_scale, o) => 2 ** num(o, 'levels'),
  build: buildMapping,
  receptiveRadius: (o) => vaeRadius(o) * 2 + 4 * (2 * num(o, 'mapBlocks') + 2),
});
