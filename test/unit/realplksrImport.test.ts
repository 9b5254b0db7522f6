/**
 * RealPLKSR import: conformance with PyTorch (fixtures made by scripts/make-realplksr-fixtures.py
 * with Debian's torch: seeded random weights; GroupNorm and LayerNorm forms, with and without
 * EA, pixel shuffle at x1..x4 and DySample at x2 and x3), options read off the files, layouts
 * Restora does not know refused by name, gradients through every weight (the 17x17 kernels,
 * DySample's sampler), the tiling, and the released x4 model's parameter count.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { readStateDict } from '../../src/main/ml/import/stateDict.js';
import { detectArchitecture } from '../../src/main/ml/import/detect.js';
import { buildImportedModel } from '../../src/main/ml/import/buildModel.js';
import { buildArch, listDetectors, tilingFor, type ArchOptions } from '../../src/main/ml/archs/index.js';
import { detectRealPlksr } from '../../src/main/ml/archs/realplksr/torch.js';
import { DySampler } from '../../src/main/ml/archs/realplksr/layers.js';
import { REALPLKSR_MAX_CONTEXT, realPlksrRadius } from '../../src/main/ml/archs/realplksr/realplksr.js';
import { upscaleTiled } from '../../src/main/ml/infer/tiling.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, tmpDir, writeSafetensors, maxDiff } from '../helpers.js';

const FIX = path.join(ROOT, 'test/fixtures/realplksr');
interface Case {
  scale: number;
  options: ArchOptions;
  input: [number, number];
  output: [number, number];
  trunkSpread: number;
}
const fixtures = JSON.parse(fs.readFileSync(path.join(FIX, 'cases.json'), 'utf8')) as {
  cases: Record<string, Case>;
  releasedX4: { scale: number; options: ArchOptions; params: number };
};
const cases = fixtures.cases;

function readIo(file: string): Float32Array {
  return new Float32Array(fs.readFileSync(path.join(FIX, file)).buffer.slice(0));
}

function load(file: string): tf.LayersModel {
  const f = path.join(FIX, file);
  return buildImportedModel(detectArchitecture(readStateDict(f), f), f);
}

function fixtureInput(file: string): { x: tf.Tensor4D; want: Float32Array } {
  const [h, w] = cases[file]!.input;
  const io = readIo(file.replace(/\.(pth|safetensors)$/, '.io.bin'));
  return { x: tf.tensor4d(io.subarray(0, h * w * 3), [1, h, w, 3]), want: io.subarray(h * w * 3) };
}

function refusal(file: string, sdFile = path.join(FIX, file)): RestoraError {
  try {
    detectArchitecture(readStateDict(sdFile), sdFile);
  } catch (e) {
    expect(e).toBeInstanceOf(RestoraError);
    return e as RestoraError;
  }
  throw new Error(`${file} was not refused`);
}

/** The detector-facing file list of the other architectures' fixtures. */
function otherFixtures(): string[] {
  const dirs = ['span', 'import', 'face-import', 'swinir', 'dat'].map((d) => path.join(ROOT, 'test/fixtures', d)).filter((d) => fs.existsSync(d));
  return dirs.flatMap((d) =>
    fs
      .readdirSync(d)
      .filter((f) => /\.(pth|safetensors)$/.test(f) && f !== 'evil.pth')
      .map((f) => path.join(d, f)),
  );
}

describe('RealPLKSR import', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it.each(Object.keys(cases))('%s: options read off the file, output within 1e-3 of PyTorch', (file) => {
    const c = cases[file]!;
    const f = path.join(FIX, file);
    const detected = detectArchitecture(readStateDict(f), f);
    expect(detected.arch).toBe('realplksr');
    expect(detected.scale).toBe(c.scale);
    expect(detected.archOptions).toEqual(c.options);
    const model = buildImportedModel(detected, f);
    const { x, want } = fixtureInput(file);
    const got = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
    model.dispose();
    x.dispose();
    expect(got.length).toBe(c.output[0] * c.output[1] * 3);
    const d = maxDiff(got, want);
    console.log(`${file}: max |tfjs - PyTorch| ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-3);
    // The reference is not trivial: outputs spread well beyond the tolerance, and the trunk
    // (not only the repeated input) moves them.
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.3);
    expect(c.trunkSpread).toBeGreaterThan(0.3);
  });

  it('covers GroupNorm and LayerNorm, EA on and off, x1 to x4, DySample, .pth wrappers and safetensors', () => {
    const opts = Object.values(cases).map((c) => c.options);
    expect(new Set(opts.map((o) => o.layer_norm))).toEqual(new Set([true, false]));
    expect(new Set(opts.map((o) => o.use_ea))).toEqual(new Set([true, false]));
    expect(new Set(opts.map((o) => o.upsampler))).toEqual(new Set(['pixelshuffle', 'dysample']));
    expect(new Set(Object.values(cases).map((c) => c.scale))).toEqual(new Set([1, 2, 3, 4]));
    expect(opts.some((o) => o.kernel_size === 17) && opts.some((o) => Number(o.kernel_size) < 17)).toBe(true);
  });

  it('refuses a RealPLKSR-like file of another layout by name', () => {
    const err = refusal('realplksr-unknown-variant.pth');
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toContain('realplksr-unknown-variant.pth: looks like RealPLKSR, but its channel mixer ends in a 1x1 conv');
    expect(err.message).toMatch(/: unsupported$/);
  });

  it('refuses the original PLKSR (channe_mixer, no norm) and a file with a block missing its norm', () => {
    const sd = readStateDict(path.join(FIX, 'realplksr-x2.safetensors'));
    const rename = (k: string) => k.replace('.channel_mixer.', '.channe_mixer.');
    const plksr = Object.fromEntries([...sd].filter(([k]) => !k.includes('.layer_norm.')).map(([k, v]) => [rename(k), v]));
    const f1 = path.join(tmpDir(), 'plksr-x2.safetensors');
    writeSafetensors(f1, plksr);
    const e1 = refusal('plksr-x2.safetensors', f1);
    expect(e1.code).toBe('UNSUPPORTED');
    expect(e1.message).toContain('plksr-x2.safetensors: looks like RealPLKSR, but it is the original PLKSR');

    const gapped = Object.fromEntries([...sd].filter(([k]) => !k.startsWith('feats.2.layer_norm.')));
    const f2 = path.join(tmpDir(), 'gapped.safetensors');
    writeSafetensors(f2, gapped);
    const e2 = refusal('gapped.safetensors', f2);
    expect(e2.code).toBe('UNSUPPORTED');
    expect(e2.message).toContain('gapped.safetensors: looks like RealPLKSR, but its blocks differ: feats.2.layer_norm.weight is missing');
  });

  it("claims no other architecture's file, and no other detector claims a RealPLKSR file", () => {
    const others = otherFixtures();
    expect(others.length).toBeGreaterThan(10);
    for (const f of others) expect(detectRealPlksr(new Map(readStateDict(f)), f), f).toBeNull();
    for (const file of Object.keys(cases)) {
      const f = path.join(FIX, file);
      for (const d of listDetectors().filter((x) => x.arch !== 'realplksr')) {
        const sd = readStateDict(f);
        expect(d.detect(new Map(sd), f), `${d.arch} on ${file}`).toBeNull();
      }
    }
  });

  it('fine-tunes: every 17x17 kernel and DySample weight gets a finite, non-zero gradient', () => {
    for (const [file, names] of [
      ['realplksr-x4.pth', ['feats_1_lk_conv', 'feats_3_lk_conv', 'feats_2_norm', 'feats_0']],
      ['realplksr-x3-dysample.pth', ['feats_1_lk_conv', 'to_img_offset', 'to_img_scope', 'to_img_end_conv', 'feats_4']],
    ] as const) {
      const model = load(file);
      const { x } = fixtureInput(file);
      const vars = names.map((n) => model.getLayer(n).trainableWeights[0]!.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => (model.apply(x) as tf.Tensor).square().mean() as tf.Scalar, vars);
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      for (const v of vars) {
        const g = grads[v.name]!;
        const a = tf.abs(g);
        expect(tf.all(tf.isFinite(g)).dataSync()[0], v.name).toBe(1);
        expect(a.max().dataSync()[0], v.name).toBeGreaterThan(0);
        a.dispose();
      }
      tf.dispose([value, x, ...Object.values(grads)]);
      model.dispose();
    }
  });

  it("DySample's sampler has the gradient of its bilinear sampling (central differences)", () => {
    const layer = new DySampler({ scale: 2, groups: 2 });
    const [h, w, c, n] = [3, 4, 4, 2 * 2 * 4];
    const x = tf.randomUniform([1, h, w, c], -1, 1, 'float32', 1);
    // Offsets of up to a couple of pixels (crossing pixels and the border), away from the kinks at whole pixels.
    const off = tf.randomUniform([1, h, w, n], -5, 5, 'float32', 2);
    const scope = tf.randomUniform([1, h, w, n], -2, 2, 'float32', 3);
    const r = tf.randomNormal([1, 2 * h, 2 * w, c], 0, 1, 'float32', 4);
    const loss = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor) => (layer.apply([a, b, s]) as tf.Tensor).mul(r).sum() as tf.Scalar;
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, s: tf.Tensor) => loss(a, b, s))([x, off, scope]);
    const eps = 1e-3;
    let checked = 0;
    [x, off, scope].forEach((t, which) => {
      const base = t.dataSync();
      const g = grads[which]!.dataSync();
      for (let i = 0; i < base.length; i += 5) {
        const nudge = (d: number) => {
          const v = Float32Array.from(base);
          v[i] = v[i]! + d;
          const args = [x, off, scope];
          args[which] = tf.tensor(v, t.shape);
          const out = tf.tidy(() => loss(args[0]!, args[1]!, args[2]!).dataSync()[0]!);
          args[which]!.dispose();
          return out;
        };
        const numeric = (nudge(eps) - nudge(-eps)) / (2 * eps);
        expect(Math.abs(numeric - g[i]!), `input ${which}, element ${i}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(40);
    const dx = grads[0]!.abs().max().dataSync()[0]!;
    expect(dx).toBeGreaterThan(0);
    tf.dispose([x, off, scope, r, ...grads]);
  });

  it('survives a save and load as a layers model (custom layers serialise)', async () => {
    for (const file of ['realplksr-x4.pth', 'realplksr-x2-dysample.pth']) {
      const model = load(file);
      const { x } = fixtureInput(file);
      let saved: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
      const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
      const a = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
      const b = tf.tidy(() => (back.predict(x) as tf.Tensor).dataSync());
      expect(maxDiff(a, b)).toBe(0);
      model.dispose();
      back.dispose();
      x.dispose();
    }
  });

  it('tiles with the exact receptive field when it is small, capped context when it is not, no edge padding', async () => {
    const released = fixtures.releasedX4.options;
    // 3x3 head and tail, and per block two 3x3 mixer convs, the 17x17 (8) and EA's 3x3: 1 + 28 * 11 + 1.
    expect(realPlksrRadius(released)).toBe(310);
    const t = tilingFor({ arch: 'realplksr', scale: 4, archOptions: released });
    expect(t).toMatchObject({ overlap: REALPLKSR_MAX_CONTEXT + 2, multiple: 1, edgePad: 0 });
    expect(t.maxTile).toBeGreaterThanOrEqual(256);
    expect(t.maxTile).toBeLessThanOrEqual(512);
    // A LayerNorm model (no whole-input statistics) with a radius below the cap: tiles reproduce the whole image.
    const file = 'realplksr-x2.safetensors';
    const c = cases[file]!;
    const tiling = tilingFor({ arch: 'realplksr', scale: c.scale, archOptions: c.options });
    expect(tiling.overlap).toBe(realPlksrRadius(c.options) + 2);
    const model = load(file);
    const { x } = fixtureInput(file);
    const [h, w] = c.input;
    const rgb = Uint8Array.from(x.dataSync(), (v) => Math.round(v * 255));
    const opts = { scale: c.scale, overlap: tiling.overlap, multiple: 1, edgePad: 0, blend: 0 };
    const whole = await upscaleTiled(model, rgb, w, h, 255, { ...opts, tile: 64 });
    const tiled = await upscaleTiled(model, rgb, w, h, 255, { ...opts, tile: 8 });
    expect(maxDiff(whole, tiled)).toBeLessThanOrEqual(1);
    model.dispose();
    x.dispose();
  });

  it("builds the released x4 configuration with PyTorch's parameter count", () => {
    const { scale, options, params } = fixtures.releasedX4;
    expect(options).toMatchObject({ dim: 64, n_blocks: 28, kernel_size: 17, split_ratio: 0.25, use_ea: true, layer_norm: false });
    const model = buildArch('realplksr', scale, options);
    expect(model.countParams()).toBe(params);
    expect(params).toBe(7_389_680);
    model.dispose();
  });
});
