/**
 * RestoreFormer++ import: the small fixture (scripts/face-fixtures/restoreformer.py with
 * Debian's torch: seeded random weights saved as the release is, a Lightning checkpoint
 * {'state_dict': {'vqvae.' + key: tensor}}, and PyTorch's output) reproduces PyTorch within
 * 1e-3; every option is read off the file; the released configuration builds with the
 * released parameter count; other variants are refused; CodeFormer and RestoreFormer++
 * files are never taken for each other.
 *
 * The fixture is 32 px with 4 GroupNorm groups and 2 heads, which a state dict does not
 * record: the user path assumes the released file's 512 / 32 / 4, so the fixture is
 * detected here with those overridden (and the user path refuses it, naming the group count).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { detectSource } from '../../src/main/ml/import/convert.js';
import { buildImportedModel } from '../../src/main/ml/import/buildModel.js';
import { resolveImportSource } from '../../src/main/ml/import/importModel.js';
import { readStateDict } from '../../src/main/ml/import/stateDict.js';
import { detectRestoreformer } from '../../src/main/ml/archs/restoreformer/torch.js';
import { RESTOREFORMER_RELEASED, restoreformerConfig, restoreformerKeys } from '../../src/main/ml/archs/restoreformer/restoreformer.js';
import { detectCodeformer } from '../../src/main/ml/archs/codeformer/torch.js';
import { buildArch, getTrainableArch } from '../../src/main/ml/archs/index.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, maxDiff } from '../helpers.js';

const FIX = path.join(ROOT, 'test/fixtures/face-import');
const FILE = path.join(FIX, 'restoreformer-small.pth');
interface Config {
  resolution: number;
  ch: number;
  ch_mult: number[];
  num_res_blocks: number;
  attn_resolutions: number[];
  ex_multi_scale_num: number;
  n_embed: number;
  embed_dim: number;
  z_channels: number;
  head_size: number;
  gn_groups: number;
}
interface Derived {
  decoderAttn: number[];
  encoderAttn: number[];
}
const cases = JSON.parse(fs.readFileSync(path.join(FIX, 'restoreformer-cases.json'), 'utf8')) as {
  'restoreformer-small.pth': { config: Config; S: number; parameters: number; derived: Derived; codes: number[] };
  real: { config: Config; parameters: number; derived: Derived; keys: string[]; shapes: number[][] };
};
const codeformerCases = JSON.parse(fs.readFileSync(path.join(FIX, 'codeformer-cases.json'), 'utf8')) as { real: { keys: string[]; shapes: number[][] } };
const small = cases['restoreformer-small.pth'];
const S = small.S;

function refusal(fn: () => unknown): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RestoraError);
  return err as Error;
}

const assumed = { size: S, groups: small.config.gn_groups, heads: small.config.head_size };

/** The fixture detected with its own size, group and head counts; `left` = the keys detection did not place. */
function detectFixture() {
  const sd = readStateDict(FILE);
  const detected = detectRestoreformer(sd, FILE, assumed);
  if (!detected) throw new Error('the RestoreFormer++ fixture was not recognised');
  return { detected: { ...detected, task: 'face' as const }, left: [...sd.keys()] };
}

function buildFixture(): tf.LayersModel {
  return buildImportedModel(detectFixture().detected, FILE);
}

/** A state dict of the given keys and shapes, no data (enough for detection). */
function shapesOnly(keys: string[], shapes: number[][], prefix = '') {
  return new Map(keys.map((k, i) => [prefix + k, { shape: shapes[i]!, data: new Float32Array(0) }]));
}
const realSd = (prefix = '') => shapesOnly(cases.real.keys, cases.real.shapes, prefix);

const io = new Float32Array(fs.readFileSync(path.join(FIX, 'restoreformer-small.io.bin')).buffer.slice(0));
const n = S * S * 3;
const input = () => tf.tensor4d(io.subarray(0, n), [1, S, S, 3]);
const wanted = io.subarray(n, 2 * n);

describe('face model import (RestoreFormer++)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('reads every option off the file and places every tensor', () => {
    const { detected, left } = detectFixture();
    const c = small.config;
    expect(detected).toMatchObject({ arch: 'restoreformer', scale: 1 });
    expect(detected.archOptions).toEqual({
      size: c.resolution,
      nf: c.ch,
      chMult: c.ch_mult.join(','),
      resBlocks: c.num_res_blocks,
      attnResolutions: small.derived.encoderAttn.join(','),
      decoderAttnResolutions: small.derived.decoderAttn.join(','),
      codebookSize: c.n_embed,
      embDim: c.embed_dim,
      zChannels: c.z_channels,
      heads: c.head_size,
      groups: c.gn_groups,
    });
    expect(left).toEqual([]);
  });

  it('reads the released file\u2019s key list (shapes only, with or without the vqvae. prefix) as the released configuration', () => {
    for (const prefix of ['vqvae.', '']) {
      const sd = realSd(prefix);
      // A full Lightning checkpoint may carry the training losses' networks next to the model.
      sd.set('loss.discriminator.main.0.weight', { shape: [64, 3, 4, 4], data: new Float32Array(0) });
      const detected = detectRestoreformer(sd, 'RestoreFormer++.ckpt');
      expect(detected?.archOptions).toEqual(RESTOREFORMER_RELEASED);
      expect(detected?.layout).toBe('RestoreFormer++ (512 px, 1024 codes, cross-attention at 16,32)');
      expect([...sd.keys()]).toEqual([]);
    }
  });

  it('lists the released configuration\u2019s tensors exactly as PyTorch does, in order', () => {
    const keys = restoreformerKeys(restoreformerConfig(RESTOREFORMER_RELEASED));
    expect(keys.map(([k]) => k)).toEqual(cases.real.keys);
    expect(keys.map(([, s]) => s)).toEqual(cases.real.shapes);
  });

  it('reproduces PyTorch within 1e-3', () => {
    const model = buildFixture();
    const x = input();
    const got = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    model.dispose();
    x.dispose();
    expect(got.length).toBe(wanted.length);
    const d = maxDiff(got, wanted);
    console.log(`restoreformer-small: max |tfjs - PyTorch| ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-3);
    expect(Math.max(...wanted) - Math.min(...wanted)).toBeGreaterThan(0.5);
  });

  it('restores each face of a batch on its own', () => {
    const model = buildFixture();
    const x = input();
    const got = tf.tidy(() => (model.predict(tf.concat([x, x.reverse(1)])) as tf.Tensor).dataSync());
    model.dispose();
    x.dispose();
    expect(maxDiff(got.subarray(0, n), wanted)).toBeLessThan(1e-3);
    expect(maxDiff(got.subarray(n), wanted)).toBeGreaterThan(0.01);
  });

  it('passes gradients through the quantiser to the input (straight through), none to the codebook', () => {
    const model = buildFixture();
    const x = input();
    const codebook = model.getLayer('quantize').trainableWeights[0]!.read() as tf.Variable;
    const { value, grads } = tf.variableGrads(() => (model.apply(x) as tf.Tensor).square().mean() as tf.Scalar, [codebook]);
    const dx = tf.grad((t: tf.Tensor) => (model.apply(t) as tf.Tensor).square().mean())(x);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(tf.abs(grads[codebook.name]!).max().dataSync()[0]).toBe(0);
    const g = dx.abs().max().dataSync()[0]!;
    expect(Number.isFinite(g) && g > 0).toBe(true);
    tf.dispose([value, dx, x, ...Object.values(grads)]);
    model.dispose();
  });

  it('survives a save and load as a layers model (custom layers serialise)', async () => {
    const model = buildFixture();
    const x = input();
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const a = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (back.predict(x) as tf.Tensor).dataSync());
    expect(maxDiff(a, b)).toBe(0);
    expect(back.inputLayers.map((l) => l.name)).toEqual(['face']);
    model.dispose();
    back.dispose();
    x.dispose();
  });

  it('builds the released configuration: every tensor of the released file, no more; a 512 px face in and out', () => {
    const model = buildArch('restoreformer', 1, {});
    expect(model.countParams()).toBe(cases.real.parameters); // 73,472,579
    expect(model.inputs.map((t) => t.shape)).toEqual([[null, 512, 512, 3]]);
    expect(model.outputs[0]!.shape).toEqual([null, 512, 512, 3]);
    model.dispose();
  });

  it('assumes the released file\u2019s 32 GroupNorm groups for a user import, and refuses a file they do not fit', () => {
    const err = refusal(() => detectSource(resolveImportSource(FILE) as Parameters<typeof detectSource>[0]));
    expect(err.message).toContain(FILE);
    expect(err.message).toMatch(/unsupported face model: .*RestoreFormer-like, but 8 channels do not split into 32 GroupNorm groups/);
  });

  it('refuses variants it does not know: attention at the latent only, extra or reshaped tensors', () => {
    const latentOnly = realSd('vqvae.');
    for (const k of [...latentOnly.keys()]) if (k.startsWith('vqvae.decoder.up.4.attn.')) latentOnly.delete(k);
    expect(refusal(() => detectRestoreformer(latentOnly, 'RestoreFormer.ckpt')).message).toMatch(
      /unsupported face model: .*RestoreFormer-like, but its decoder attends at the latent only .*Restora imports GFPGAN v1\.3 \/ v1\.4 \(the clean architecture\), CodeFormer and RestoreFormer\+\+\./,
    );
    const temb = realSd();
    temb.set('encoder.down.0.block.0.temb_proj.weight', { shape: [64, 512], data: new Float32Array(0) });
    expect(refusal(() => detectRestoreformer(temb, 'x.pth')).message).toMatch(/RestoreFormer-like, but encoder\.down\.0\.block\.0\.temb_proj\.weight has no place in RestoreFormer\+\+/);
    const reshaped = realSd();
    reshaped.set('decoder.up.4.attn.1.q.weight', { shape: [256, 256, 3, 3], data: new Float32Array(0) });
    expect(refusal(() => detectRestoreformer(reshaped, 'x.pth')).message).toMatch(/decoder\.up\.4\.attn\.1\.q\.weight has shape \[256,256,3,3\], the network of its other tensors needs \[256,256,1,1\]/);
    const rgba = realSd();
    rgba.set('encoder.conv_in.weight', { shape: [64, 4, 3, 3], data: new Float32Array(0) });
    expect(refusal(() => detectRestoreformer(rgba, 'x.pth')).message).toMatch(/it does not take and give RGB/);
  });

  it('never takes a CodeFormer file for RestoreFormer++ or the other way round', () => {
    const cf = codeformerCases.real;
    // The only key the two layouts share is the codebook's.
    expect(cf.keys.filter((k) => cases.real.keys.includes(k))).toEqual(['quantize.embedding.weight']);
    expect(detectRestoreformer(shapesOnly(cf.keys, cf.shapes), 'codeformer.pth')).toBeNull();
    expect(detectRestoreformer(readStateDict(path.join(FIX, 'codeformer-small.pth')), 'codeformer-small.pth')).toBeNull();
    for (const prefix of ['vqvae.', '']) expect(detectCodeformer(realSd(prefix), 'RestoreFormer++.ckpt')).toBeNull();
    expect(detectCodeformer(readStateDict(FILE), FILE)).toBeNull();
    // And through the importer: the fixture is refused as RestoreFormer-like (its groups), never as CodeFormer-like.
    const err = refusal(() => detectSource(resolveImportSource(FILE) as Parameters<typeof detectSource>[0]));
    expect(err.message).not.toMatch(/CodeFormer-like|VQGAN codebook/);
  });

  it('is not trainable: a face restorer is imported, not trained here', () => {
    expect(() => getTrainableArch('restoreformer')).toThrow(/face restorer/);
  });
});
