/**
 * CodeFormer import: the small fixture (scripts/face-fixtures/codeformer.py with Debian's
 * torch: seeded random weights saved as params_ema, PyTorch's output for w = 0.5 and 1.0)
 * reproduces PyTorch within 1e-3; every option is read off the file; the released
 * configuration builds with the released parameter count; a VQGAN alone is refused.
 *
 * The fixture uses 4 GroupNorm groups and 4 heads, which a state dict does not record:
 * the user path assumes the released file's 32 / 8, so the fixture is detected here with
 * those two overridden (and the user path refuses it, naming the group count).
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
import { detectCodeformer } from '../../src/main/ml/archs/codeformer/torch.js';
import { CODEFORMER_RELEASED } from '../../src/main/ml/archs/codeformer/codeformer.js';
import { buildArch, getTrainableArch } from '../../src/main/ml/archs/index.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, tmpDir, writeSafetensors, maxDiff } from '../helpers.js';

const FIX = path.join(ROOT, 'test/fixtures/face-import');
const FILE = path.join(FIX, 'codeformer-small.pth');
interface Config {
  img_size: number;
  nf: number;
  ch_mult: number[];
  res_blocks: number;
  attn_resolutions: number[];
  codebook_size: number;
  emb_dim: number;
  dim_embd: number;
  n_head: number;
  n_layers: number;
  connect_list: string[];
  gn_groups: number;
}
const cases = JSON.parse(fs.readFileSync(path.join(FIX, 'codeformer-cases.json'), 'utf8')) as {
  'codeformer-small.pth': { config: Config; S: number; w: number[]; parameters: number };
  real: { config: Config; parameters: number; keys: string[]; shapes: number[][] };
};
const small = cases['codeformer-small.pth'];
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

/** The fixture detected with its own group and head counts; `left` = the keys detection did not place. */
function detectFixture() {
  const sd = readStateDict(FILE);
  const detected = detectCodeformer(sd, FILE, { groups: small.config.gn_groups, heads: small.config.n_head });
  if (!detected) throw new Error('the CodeFormer fixture was not recognised');
  return { detected: { ...detected, task: 'face' as const }, left: [...sd.keys()] };
}

function buildFixture(): tf.LayersModel {
  return buildImportedModel(detectFixture().detected, FILE);
}

const io = new Float32Array(fs.readFileSync(path.join(FIX, 'codeformer-small.io.bin')).buffer.slice(0));
const n = S * S * 3;
const input = () => tf.tensor4d(io.subarray(0, n), [1, S, S, 3]);
const wanted = (i: number) => io.subarray(n * (i + 1), n * (i + 2));

describe('face model import (CodeFormer)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('reads every option off the file and places every tensor', () => {
    const { detected, left } = detectFixture();
    const c = small.config;
    expect(detected).toMatchObject({ arch: 'codeformer', scale: 1 });
    expect(detected.archOptions).toEqual({
      size: c.img_size,
      nf: c.nf,
      chMult: c.ch_mult.join(','),
      resBlocks: c.res_blocks,
      attnResolutions: c.attn_resolutions.join(','),
      codebookSize: c.codebook_size,
      embDim: c.emb_dim,
      dim: c.dim_embd,
      heads: c.n_head,
      layers: c.n_layers,
      connect: c.connect_list.join(','),
      groups: c.gn_groups,
    });
    expect(left).toEqual([]);
  });

  it('reads the released file\u2019s key list (shapes only) as the released configuration', () => {
    const { keys, shapes } = cases.real;
    const sd = new Map(keys.map((k, i) => [k, { shape: shapes[i]!, data: new Float32Array(0) }]));
    const detected = detectCodeformer(sd, 'codeformer.pth');
    expect(detected?.archOptions).toEqual(CODEFORMER_RELEASED);
    expect(detected?.layout).toBe('CodeFormer (512 px, 9 transformer layers, 1024 codes, fuses at 32, 64, 128, 256)');
    expect([...sd.keys()]).toEqual([]);
  });

  it.each(small.w.map((w, i) => [w, i] as const))('w = %s reproduces PyTorch within 1e-3', (w, i) => {
    const model = buildFixture();
    const x = input();
    const got = tf.tidy(() => (model.predict([x, tf.tensor2d([[w]])]) as tf.Tensor).dataSync());
    model.dispose();
    x.dispose();
    const want = wanted(i);
    expect(got.length).toBe(want.length);
    const d = maxDiff(got, want);
    console.log(`codeformer-small w=${w}: max |tfjs - PyTorch| ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-3);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.5);
  });

  it('takes one fidelity weight per face of a batch', () => {
    expect(maxDiff(wanted(0), wanted(1))).toBeGreaterThan(0.1); // w matters in the fixture
    const model = buildFixture();
    const x = input();
    const got = tf.tidy(() => (model.predict([tf.concat([x, x]), tf.tensor2d(small.w, [2, 1])]) as tf.Tensor).dataSync());
    model.dispose();
    x.dispose();
    expect(maxDiff(got.subarray(0, n), wanted(0))).toBeLessThan(1e-3);
    expect(maxDiff(got.subarray(n), wanted(1))).toBeLessThan(1e-3);
  });

  it('survives a save and load as a layers model (custom layers serialise)', async () => {
    const model = buildFixture();
    const x = input();
    const w = tf.tensor2d([[0.7]]);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const a = tf.tidy(() => (model.predict([x, w]) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (back.predict([x, w]) as tf.Tensor).dataSync());
    expect(maxDiff(a, b)).toBe(0);
    expect(back.inputLayers.map((l) => l.name)).toEqual(['face', 'fidelity']);
    model.dispose();
    back.dispose();
    tf.dispose([x, w]);
  });

  it('builds the released configuration: 94.1M parameters, a 512 px face and a fidelity weight in, 512 px out', () => {
    const model = buildArch('codeformer', 1, {});
    expect(model.countParams()).toBe(cases.real.parameters); // 94,112,707: every tensor of the released file, no more
    expect(model.inputs.map((t) => t.shape)).toEqual([
      [null, 512, 512, 3],
      [null, 1],
    ]);
    expect(model.outputs[0]!.shape).toEqual([null, 512, 512, 3]);
    model.dispose();
  });

  it('assumes the released file\u2019s 32 GroupNorm groups for a user import, and refuses a file they do not fit', () => {
    const err = refusal(() => detectSource(resolveImportSource(FILE) as Parameters<typeof detectSource>[0]));
    expect(err.message).toContain(FILE);
    expect(err.message).toMatch(/unsupported face model: .*CodeFormer-like, but 8 channels do not split into 32 GroupNorm groups/);
  });

  it('refuses a VQGAN alone (CodeFormer stage 1) as a face model without the transformer', () => {
    const file = path.join(tmpDir(), 'vqgan_code1024.safetensors');
    const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    writeSafetensors(file, {
      'encoder.blocks.0.weight': t([8, 3, 3, 3]),
      'encoder.blocks.0.bias': t([8]),
      'quantize.embedding.weight': t([16, 4]),
      'generator.blocks.0.weight': t([8, 4, 3, 3]),
      'generator.blocks.0.bias': t([8]),
    });
    const err = refusal(() => detectSource(resolveImportSource(file) as Parameters<typeof detectSource>[0]));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/unsupported face model: keys look like .*quantize\.embedding\.weight.* \(a VQGAN codebook without CodeFormer's transformer\)/);
  });

  it('is not trainable: a face restorer is imported, not trained here', () => {
    expect(() => getTrainableArch('codeformer')).toThrow(/face restorer/);
  });
});
