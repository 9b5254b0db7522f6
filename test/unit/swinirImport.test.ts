/**
 * SwinIR import: conformance with PyTorch (fixtures made by scripts/make-swinir-fixtures.py
 * with Debian's torch: SwinIR written from the paper with the released key names, seeded
 * random weights, tiny configs), options read off the files, a side no multiple of the window
 * padded by reflection as the reference pads, a SwinIR-like layout Restora does not know
 * refused by name, gradients for fine-tuning, the tiling, and the released model's size.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { readStateDict } from '../../src/main/ml/import/stateDict.js';
import { detectArchitecture } from '../../src/main/ml/import/detect.js';
import { buildImportedModel } from '../../src/main/ml/import/buildModel.js';
import { buildArch, listDetectors, tilingFor } from '../../src/main/ml/archs/index.js';
import { detectSwinir } from '../../src/main/ml/archs/swinir/torch.js';
import { relativePositionIndex, shiftMask } from '../../src/main/ml/archs/swinir/layers.js';
import { upscaleTiled } from '../../src/main/ml/infer/tiling.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, maxDiff } from '../helpers.js';

const FIX = path.join(ROOT, 'test/fixtures/swinir');
interface Io {
  input: [number, number];
  output: [number, number];
}
interface Case extends Io {
  scale: number;
  wrapper: string;
  options: Record<string, number | string | boolean>;
  padded?: Io;
}
const meta = JSON.parse(fs.readFileSync(path.join(FIX, 'cases.json'), 'utf8')) as { cases: Record<string, Case>; releasedClassicalX2Params: number };
const cases = meta.cases;

function readIo(stem: string, io: Io): { x: Float32Array; y: Float32Array } {
  const all = new Float32Array(fs.readFileSync(path.join(FIX, `${stem}.io.bin`)).buffer.slice(0));
  const n = io.input[0] * io.input[1] * 3;
  return { x: all.subarray(0, n), y: all.subarray(n) };
}

const stemOf = (file: string) => file.replace(/\.(pth|safetensors)$/, '');

function load(file: string): tf.LayersModel {
  const f = path.join(FIX, file);
  return buildImportedModel(detectArchitecture(readStateDict(f), f), f);
}

function predict(model: tf.LayersModel, x: Float32Array, [h, w]: [number, number]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [1, h, w, 3])) as tf.Tensor).dataSync() as Float32Array);
}

function refusal(f: string): RestoraError {
  try {
    detectArchitecture(readStateDict(f), f);
  } catch (e) {
    return e as RestoraError;
  }
  throw new Error(`${f} was not refused`);
}

describe('SwinIR import', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('covers classical (x2, x3), lightweight, real-world 3conv x4 and x1 models, and one input no multiple of the window', () => {
    const opts = Object.values(cases).map((c) => `${String(c.options.upsampler)}/${String(c.options.resiConnection)}/x${c.scale}`);
    expect(opts).toEqual(expect.arrayContaining(['pixelshuffle/1conv/x2', 'pixelshuffle/1conv/x3', 'pixelshuffledirect/1conv/x4', 'nearest+conv/3conv/x4', 'none/1conv/x1']));
    expect(new Set(Object.values(cases).map((c) => c.wrapper))).toEqual(new Set(['params', 'params_ema', 'none']));
    expect(Object.keys(cases).some((f) => f.endsWith('.safetensors'))).toBe(true);
    const padded = Object.values(cases).find((c) => c.padded)!;
    expect(padded.padded!.input.some((s) => s % Number(padded.options.window) !== 0)).toBe(true);
  });

  it.each(Object.keys(cases))('%s: options read off the file, output within 1e-3 of PyTorch', (file) => {
    const c = cases[file]!;
    const f = path.join(FIX, file);
    const detected = detectArchitecture(readStateDict(f), f);
    expect(detected.arch).toBe('swinir');
    expect(detected.scale).toBe(c.scale);
    expect(detected.archOptions).toEqual(c.options);
    const model = buildImportedModel(detected, f);
    const { x, y } = readIo(stemOf(file), c);
    const got = predict(model, x, c.input);
    model.dispose();
    expect(got.length).toBe(c.output[0] * c.output[1] * 3);
    const diff = maxDiff(got, y);
    console.log(`${file}: max |tfjs - PyTorch| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-3);
    // The reference is not trivial: outputs spread well beyond the tolerance.
    expect(Math.max(...y) - Math.min(...y)).toBeGreaterThan(0.3);
  });

  it("a side no multiple of the window: tiled with the arch's multiple and reflect padding, one tile over the image, as PyTorch pads and crops", async () => {
    const file = Object.keys(cases).find((f) => cases[f]!.padded)!;
    const c = cases[file]!;
    const io = c.padded!;
    const { x, y } = readIo(`${stemOf(file)}.padded`, io);
    const [h, w] = io.input;
    const tiling = tilingFor({ arch: 'swinir', scale: c.scale, archOptions: c.options });
    expect(tiling).toMatchObject({ multiple: c.options.window, padMode: 'reflect', edgePad: 0 });
    const model = load(file);
    // The input holds k / 65535 exactly: 16-bit pixels in, 16-bit pixels out.
    const src = Uint16Array.from(x, (v) => Math.round(v * 65535));
    const run = async (padMode: 'reflect' | 'symmetric') => {
      const out = await upscaleTiled(model, src, w, h, 65535, { scale: c.scale, tile: Math.max(h, w), overlap: tiling.overlap, multiple: tiling.multiple, padMode, edgePad: tiling.edgePad });
      return Float32Array.from(out, (v) => v / 65535);
    };
    const want = Float32Array.from(y, (v) => Math.min(1, Math.max(0, v)));
    const reflect = await run('reflect');
    const symmetric = await run('symmetric');
    // The model pads by itself too (a whole image of any size, or the importer's 16x16 probe).
    const whole = Float32Array.from(predict(model, x, io.input), (v) => Math.min(1, Math.max(0, v)));
    model.dispose();
    expect(maxDiff(reflect, want)).toBeLessThan(1e-3);
    expect(maxDiff(whole, want)).toBeLessThan(1e-3);
    // The pad mode matters: the edge-repeating one gives another output.
    expect(maxDiff(symmetric, want)).toBeGreaterThan(1e-2);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.3);
  });

  it('reads img_range 255 for the window-7 JPEG models (no weight holds it); at 1.0 the output differs', () => {
    const file = 'swinir-jpeg-x1.pth';
    const c = cases[file]!;
    expect(c.options).toMatchObject({ window: 7, imgRange: 255, upsampler: 'none' });
    const f = path.join(FIX, file);
    const detected = detectArchitecture(readStateDict(f), f);
    const wrong = buildImportedModel({ ...detected, archOptions: { ...detected.archOptions, imgRange: 1 } }, f);
    const { x, y } = readIo(stemOf(file), c);
    const got = predict(wrong, x, c.input);
    wrong.dispose();
    expect(maxDiff(got, y)).toBeGreaterThan(1e-2);
    // Every other release: the reference default, 1.0.
    for (const [k, other] of Object.entries(cases)) if (k !== file) expect(other.options.imgRange, k).toBe(1);
  });

  it('refuses a SwinIR-like file of another layout by name', () => {
    const err = refusal(path.join(FIX, 'swinir-unknown-ape.pth'));
    expect(err).toBeInstanceOf(RestoraError);
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toContain('swinir-unknown-ape.pth: looks like SwinIR, but it adds an absolute position embedding');
    expect(err.message).toMatch(/: unsupported$/);
  });

  it("claims no other architecture's files, and no other detector claims SwinIR's; HAT's look-alike keys are left alone", () => {
    // Every other fixture model of the project (RRDBNet, SRVGG, SPAN, the face restorers, and whatever arrives beside them).
    const fixtures = path.join(ROOT, 'test/fixtures');
    const others = fs
      .readdirSync(fixtures)
      .filter((d) => d !== 'swinir' && fs.statSync(path.join(fixtures, d)).isDirectory())
      .flatMap((d) =>
        fs
          .readdirSync(path.join(fixtures, d))
          .filter((f) => /\.(pth|pt|ckpt|safetensors)$/.test(f))
          .map((f) => path.join(fixtures, d, f)),
      );
    expect(others.length).toBeGreaterThan(10);
    let read = 0;
    for (const f of others) {
      let sd: ReturnType<typeof readStateDict>;
      try {
        sd = readStateDict(f);
      } catch {
        continue; // not a readable state dict (the corrupt-file fixtures)
      }
      read++;
      expect(detectSwinir(sd, f), f).toBeNull();
    }
    expect(read).toBeGreaterThan(10);
    for (const file of Object.keys(cases)) {
      const f = path.join(FIX, file);
      for (const d of listDetectors().filter((x) => x.arch !== 'swinir')) expect(d.detect(readStateDict(f), f), `${d.arch} on ${file}`).toBeNull();
    }
    // HAT keeps SwinIR's block names but adds its own attention and conv blocks.
    const hat = readStateDict(path.join(FIX, 'swinir-classical-x2.pth'));
    hat.set('relative_position_index_SA', { shape: [16, 16], data: new Float32Array(256) });
    expect(detectSwinir(hat, 'hat.pth')).toBeNull();
  });

  it('computes the relative position index and the shift mask as the reference stores them', () => {
    // The classical x2 file keeps both buffers (the mask for its 8x8 training patch).
    const sd = readStateDict(path.join(FIX, 'swinir-classical-x2.pth'));
    const index = sd.get('layers.0.residual_group.blocks.1.attn.relative_position_index')!;
    expect(maxDiff(relativePositionIndex(4), index.data)).toBe(0);
    const stored = sd.get('layers.0.residual_group.blocks.1.attn_mask')!;
    expect(stored.shape).toEqual([4, 16, 16]);
    const { kinds, of } = shiftMask(8, 8, 4, 2);
    const ours = new Float32Array(4 * 256);
    of.forEach((k, i) => ours.set(kinds.subarray(k * 256, (k + 1) * 256), i * 256));
    expect(maxDiff(ours, stored.data)).toBe(0);
  });

  it('fine-tunes: one step sends finite, non-zero gradients to the bias table and the qkv weights', () => {
    const model = load('swinir-classical-x2.pth');
    const c = cases['swinir-classical-x2.pth']!;
    const { x, y } = readIo('swinir-classical-x2', c);
    const { grads, value } = tf.tidy(() => {
      const xt = tf.tensor4d(x, [1, ...c.input, 3]);
      const target = tf.tensor4d(y, [1, ...c.output, 3]).add(0.05);
      return tf.variableGrads(() => tf.losses.meanSquaredError(target, model.apply(xt, { training: true }) as tf.Tensor) as tf.Scalar);
    });
    const check = (pattern: RegExp) => {
      const names = Object.keys(grads).filter((n) => pattern.test(n));
      expect(names.length, String(pattern)).toBeGreaterThan(0);
      for (const n of names) {
        const g = grads[n]!.dataSync();
        expect(g.every(Number.isFinite), n).toBe(true);
        expect(Math.max(...g.map(Math.abs)), n).toBeGreaterThan(0);
      }
    };
    check(/relative_position_bias_table/);
    check(/qkv_kernel/);
    check(/conv_first/);
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    model.dispose();
  });

  it('saves and loads as an ordinary layers model', async () => {
    const model = load('swinir-realworld-x4.pth');
    const c = cases['swinir-realworld-x4.pth']!;
    const { x } = readIo('swinir-realworld-x4', c);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(maxDiff(predict(loaded, x, c.input), predict(model, x, c.input))).toBe(0);
    loaded.dispose();
    model.dispose();
  });

  it('tiles on the window grid with reflect padding, two windows of context, tiles sized by the attention scores', () => {
    const released = tilingFor({ arch: 'swinir', scale: 2, archOptions: {} });
    expect(released).toMatchObject({ overlap: 18, multiple: 8, padMode: 'reflect', edgePad: 0 });
    // 6 heads x 64 window pixels of scores per pixel beside the MLP's 360: ~3.7 kB a pixel, ~190 px tiles.
    expect(released.maxTile % 8).toBe(0);
    expect(released.maxTile).toBeGreaterThanOrEqual(160);
    expect(released.maxTile).toBeLessThanOrEqual(224);
    expect(tilingFor({ arch: 'swinir', scale: 1, archOptions: cases['swinir-jpeg-x1.pth']!.options })).toMatchObject({ overlap: 16, multiple: 7, padMode: 'reflect' });
  });

  it("builds the released classical x2 model with PyTorch's parameter count", () => {
    const model = buildArch('swinir', 2);
    expect(model.countParams()).toBe(meta.releasedClassicalX2Params);
    model.dispose();
  });
});
