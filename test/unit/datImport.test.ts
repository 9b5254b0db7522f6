/**
 * DAT import: conformance with PyTorch (fixtures made by scripts/make-dat-fixtures.py with
 * Debian's torch: DAT written from the paper and the released layout, seeded random weights,
 * tiny configs of the DAT / DAT-S / DAT-2 / DAT-light kinds), options read off the files, the
 * reference's internal padding for sizes off the window grid, a DAT-like layout Restora does
 * not know refused by name, gradients through the attention for fine-tuning, the tiling, and
 * the released DAT x2's parameter count.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { readStateDict } from '../../src/main/ml/import/stateDict.js';
import { detectArchitecture } from '../../src/main/ml/import/detect.js';
import { buildImportedModel } from '../../src/main/ml/import/buildModel.js';
import { buildArch, getArch, listDetectors, tilingFor } from '../../src/main/ml/archs/index.js';
import { detectDat } from '../../src/main/ml/archs/dat/torch.js';
import { localRunner, upscaleTiled } from '../../src/main/ml/infer/tiling.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, maxDiff } from '../helpers.js';

const FIX = path.join(ROOT, 'test/fixtures/dat');
interface Case {
  scale: number;
  archOptions: Record<string, number | string | boolean>;
  wrapper: string;
  dtype: 'f16' | 'f32';
  input: [number, number];
  output: [number, number];
  odd?: { input: [number, number]; output: [number, number] };
}
const all = JSON.parse(fs.readFileSync(path.join(FIX, 'cases.json'), 'utf8')) as Record<string, Case> & { released: { params: number } };
const { released, ...cases } = all as Record<string, unknown>;
const files = Object.keys(cases);
const RELEASED = { embedDim: 180, depths: '6,6,6,6,6,6', heads: '6,6,6,6,6,6', splitSize: '8,32', expansion: 4, qkvBias: true, resiConnection: '1conv', upsampler: 'pixelshuffle', features: 64, imgRange: 1 };

function readIo(file: string): Float32Array {
  return new Float32Array(fs.readFileSync(path.join(FIX, file)).buffer.slice(0));
}

function load(file: string): tf.LayersModel {
  const f = path.join(FIX, file);
  return buildImportedModel(detectArchitecture(readStateDict(f), f), f);
}

function predict(model: tf.LayersModel, x: Float32Array, h: number, w: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [1, h, w, 3])) as tf.Tensor).dataSync() as Float32Array);
}

describe('DAT import', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it.each(files)('%s: options read off the file, output within 1e-3 of PyTorch', (file) => {
    const c = cases[file] as Case;
    const f = path.join(FIX, file);
    const detected = detectArchitecture(readStateDict(f), f);
    expect(detected.arch).toBe('dat');
    expect(detected.scale).toBe(c.scale);
    expect(detected.archOptions).toEqual(c.archOptions);
    const model = buildImportedModel(detected, f);
    const io = readIo(file.replace(/\.(pth|safetensors)$/, '.io.bin'));
    const [h, w] = c.input;
    const got = predict(model, io.subarray(0, h * w * 3), h, w);
    model.dispose();
    const want = io.subarray(h * w * 3);
    expect(got.length).toBe(c.output[0] * c.output[1] * 3);
    expect(maxDiff(got, want)).toBeLessThan(1e-3);
    // The reference is not trivial: outputs spread well beyond the tolerance.
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.3);
  });

  it('pads q/k/v inside each block as the reference does, so sizes off the window grid match PyTorch too', () => {
    const odd = files.filter((f) => (cases[f] as Case).odd);
    expect(odd.length).toBeGreaterThanOrEqual(2);
    for (const file of odd) {
      const c = (cases[file] as Case).odd!;
      const [h, w] = c.input;
      const io = readIo(file.replace(/\.(pth|safetensors)$/, '.odd.io.bin'));
      const model = load(file);
      const got = predict(model, io.subarray(0, h * w * 3), h, w);
      model.dispose();
      expect(maxDiff(got, io.subarray(h * w * 3)), file).toBeLessThan(1e-3);
    }
  });

  it('runs a batch: each image of two gets its own PyTorch output (shifted-window masks per image)', () => {
    const file = 'dat-sq-x2.pth';
    const c = cases[file] as Case;
    const [h, w] = c.input;
    const io = readIo('dat-sq-x2.io.bin');
    const x = io.subarray(0, h * w * 3);
    const flipped = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) flipped[i] = 1 - x[i]!;
    const model = load(file);
    const got = tf.tidy(() => (model.predict(tf.tensor4d([...x, ...flipped], [2, h, w, 3])) as tf.Tensor).dataSync() as Float32Array);
    const alone = predict(model, flipped, h, w);
    model.dispose();
    const n = c.output[0] * c.output[1] * 3;
    expect(maxDiff(got.subarray(0, n), io.subarray(h * w * 3))).toBeLessThan(1e-3);
    expect(maxDiff(got.subarray(n), alone)).toBeLessThan(1e-4);
  });

  it('a photo off the window grid in one tile runs as PyTorch runs it: tiles are not padded, the model pads q/k/v as the reference does', async () => {
    // dat-x2 at 13x21 (windows 4x8 and 8x4: the grid is 8).
    const file = 'dat-x2.pth';
    const c = (cases[file] as Case).odd!;
    const [h, w] = c.input;
    const io = readIo('dat-x2.odd.io.bin');
    const model = load(file);
    const tiling = tilingFor({ arch: 'dat', scale: 2, archOptions: (cases[file] as Case).archOptions });
    expect([tiling.multiple, tiling.padMode]).toEqual([8, 'inside']);
    const seen: number[][] = [];
    const runner = localRunner(model);
    const u16 = Uint16Array.from(io.subarray(0, h * w * 3), (v) => Math.round(Math.min(1, Math.max(0, v)) * 65535));
    const got = await upscaleTiled(async (t) => (seen.push([t.height, t.width, t.padH, t.padW]), runner(t)), u16, w, h, 65535, { ...tiling, scale: 2, tile: 32 });
    model.dispose();
    expect(seen).toEqual([[13, 21, 0, 0]]);
    // The tiler rounds to 16 bits and clips to 0..1; PyTorch's output clipped the same way.
    const want = Float32Array.from(io.subarray(h * w * 3), (v) => Math.round(Math.min(1, Math.max(0, v)) * 65535));
    expect(maxDiff(Float32Array.from(got), want) / 65535).toBeLessThan(1e-3);
  });

  it('reads split_size off rpe_biases; without it, off the window size in relative_position_index, else assumes the released 8x32 and says so', () => {
    const sd = readStateDict(path.join(FIX, 'dat-light-x3.pth'));
    const without = (re: RegExp) => new Map([...sd].filter(([k]) => !re.test(k)));
    // 4x8 windows (32 pixels): no released config of that size to fall back on.
    expect(() => detectDat(without(/rpe_biases$/), 'light.pth')).toThrow(/light\.pth: looks like DAT, but its windows have 32 pixels and no rpe_biases to say their sides: unsupported/);
    // Neither buffer: the released 8x32 is assumed (the weights do not depend on the window size).
    const assumed = detectDat(without(/(rpe_biases|relative_position_index)$/), 'light.pth')!;
    expect(assumed.archOptions.splitSize).toBe('8,32');
    expect(assumed.layout).toContain('split size 8x32 assumed');
    // A relative_position_index that is not DAT's is refused.
    const bad = new Map(sd);
    const key = 'layers.0.blocks.0.attn.attns.1.relative_position_index';
    const idx = bad.get(key)!;
    bad.set(key, { shape: idx.shape, data: idx.data.map((v, i) => (i === 5 ? v + 1 : v)) });
    expect(() => detectDat(bad, 'light.pth')).toThrow(/relative_position_index is not DAT's for 8x4 windows/);
  });

  it('refuses a DAT-like file of another layout by name', () => {
    const f = path.join(FIX, 'dat-unknown-variant.pth');
    let err: unknown;
    try {
      detectArchitecture(readStateDict(f), f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RestoraError);
    expect((err as RestoraError).code).toBe('UNSUPPORTED');
    expect((err as Error).message).toContain('dat-unknown-variant.pth: looks like DAT, but its upsampler has conv_up1');
    expect((err as Error).message).toMatch(/: unsupported$/);
  });

  it("claims no other architecture's files, and theirs claim none of its", () => {
    const others = ['span/span-x2.safetensors', 'import/rrdb-x4.pth', 'import/srvgg-x4.pth', 'face-import/codeformer-small.pth', 'swinir/swinir-classical-x2.pth', 'realplksr/realplksr-x2.safetensors'];
    for (const rel of others) {
      const f = path.join(ROOT, 'test/fixtures', rel);
      if (!fs.existsSync(f)) continue;
      expect(detectDat(new Map(readStateDict(f)), f), rel).toBeNull();
    }
    // Every detector before DAT's passes over each DAT file (detectArchitecture above found 'dat').
    expect(listDetectors().map((d) => d.arch)).toContain('dat');
    for (const file of files) {
      const f = path.join(FIX, file);
      for (const d of listDetectors().filter((x) => x.arch !== 'dat')) {
        let claimed: unknown = null;
        try {
          claimed = d.detect(new Map(readStateDict(f)), f);
        } catch (e) {
          claimed = e;
        }
        expect(claimed, `${d.arch} on ${file}`).toBeNull();
      }
    }
  });

  it('gives finite, non-zero gradients to the position-bias MLP and qkv (fine-tuning), and saves and loads as a layers model', async () => {
    // 64 channels: the position MLP is 2 wide (below 64 its LayerNorm makes the bias a constant, with no gradient).
    const opts = { embedDim: 64, depths: '2,1', heads: '4,4', splitSize: '4,8', expansion: 2, resiConnection: '3conv', upsampler: 'pixelshuffledirect' };
    const model = buildArch('dat', 2, opts);
    // Random weights big enough that the position bias changes the attention.
    for (const l of model.layers) {
      if (l.weights.length === 0) continue;
      l.setWeights(l.getWeights().map((w, i) => tf.tidy(() => (w.shape.length > 1 ? tf.randomNormal(w.shape, 0, 1 / Math.sqrt(w.shape[w.shape.length - 2]!), 'float32', 40 + i) : w.clone()))));
    }
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 3);
    const target = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 4);
    const { value, grads } = tf.variableGrads(() => tf.losses.absoluteDifference(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    const find = (re: RegExp) => {
      const k = Object.keys(grads).find((n) => re.test(n));
      expect(k, String(re)).toBeDefined();
      return grads[k!]!;
    };
    const checks = [
      /layers_1_blocks_0_attn\/attns_0_pos_proj_kernel/,
      /layers_0_blocks_0_attn\/attns_1_pos1_kernel/,
      /layers_0_blocks_0_attn\/qkv_kernel/,
      /layers_0_blocks_1_attn\/qkv_kernel/,
      /layers_0_blocks_1_attn\/temperature/,
      /layers_0_blocks_0_ffn\/conv_kernel/,
      /layers_0_blocks_0_attn\/dwconv_kernel/,
    ];
    for (const re of checks) {
      const g = find(re).dataSync();
      expect(g.every(Number.isFinite), String(re)).toBe(true);
      expect(Math.max(...g.map(Math.abs)), String(re)).toBeGreaterThan(0);
    }
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);

    // One fit step moves the weights.
    const before = model.getLayer('layers_0_blocks_0_attn').getWeights()[0]!.dataSync().slice();
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanAbsoluteError' });
    await model.fit(x, target, { epochs: 1, batchSize: 1, verbose: 0 });
    expect(maxDiff(model.getLayer('layers_0_blocks_0_attn').getWeights()[0]!.dataSync(), before)).toBeGreaterThan(0);

    // Saved and loaded through tfjs serialization, the same network.
    const saved: tf.io.ModelArtifacts[] = [];
    await model.save(tf.io.withSaveHandler(async (a) => (saved.push(a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const back = await tf.loadLayersModel(tf.io.fromMemory(saved[0]!));
    const probe = tf.randomUniform([1, 12, 20, 3], 0, 1, 'float32', 5);
    const a = (model.predict(probe) as tf.Tensor).dataSync();
    const b = (back.predict(probe) as tf.Tensor).dataSync();
    expect(maxDiff(a, b)).toBeLessThan(1e-6);
    tf.dispose([x, target, probe]);
    model.dispose();
    back.dispose();
  });

  it('tiles on the window grid, padded by reflection, one long window side of context, tile from attention memory', () => {
    const t = tilingFor({ arch: 'dat', scale: 2, archOptions: RELEASED });
    // 8x32 windows: a grid of 32, overlap 30 + 2 = 32; scores 3 x 256 floats a pixel beside qkv 540: 128 px tiles.
    expect(t).toEqual({ overlap: 32, multiple: 32, padMode: 'inside', edgePad: 0, maxTile: 128 });
    const light = tilingFor({ arch: 'dat', scale: 2, archOptions: { ...RELEASED, embedDim: 60, depths: '18', heads: '6', expansion: 2, resiConnection: '3conv', upsampler: 'pixelshuffledirect' } });
    expect(light).toMatchObject({ overlap: 32, multiple: 32, maxTile: 160 });
    const small = tilingFor({ arch: 'dat', scale: 4, archOptions: { ...RELEASED, splitSize: '8,16', expansion: 2 } });
    expect(small).toMatchObject({ overlap: 16, multiple: 16 });
    // A tile's score tensor with its context (overlap + fade band on the grid) stays near 200 MB.
    const side = t.maxTile + 2 * (32 + 32);
    expect((side * side * 3 * 256 * 4) / 2 ** 20).toBeLessThan(260);
  });

  it("builds the released DAT x2 with PyTorch's parameter count", () => {
    expect(getArch('dat').defaults).toEqual(RELEASED);
    const m = buildArch('dat', 2, RELEASED);
    expect(m.countParams()).toBe((released as { params: number }).params);
    m.dispose();
  });
});
