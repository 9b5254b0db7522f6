/**
 * Model import: conformance with PyTorch for every supported layout (fixtures made by
 * scripts/make-import-fixtures.py with Debian's torch: seeded random weights and
 * PyTorch's own output on a test input), and every kind of bad file refused by name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { readStateDict } from '../../src/main/ml/import/stateDict.js';
import { detectArchitecture } from '../../src/main/ml/import/detect.js';
import { readNcnnModel } from '../../src/main/ml/import/ncnn.js';
import { buildImportedModel } from '../../src/main/ml/import/buildModel.js';
import { torchShuffleOrder } from '../../src/main/ml/archs/torchWeights.js';
import { resolveImportSource } from '../../src/main/ml/import/importModel.js';
import { detectSource } from '../../src/main/ml/import/convert.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, tmpDir, writeSafetensors } from '../helpers.js';

const FIX = path.join(ROOT, 'test/fixtures/import');
const cases = JSON.parse(fs.readFileSync(path.join(FIX, 'cases.json'), 'utf8')) as Record<string, { arch: string; scale: number; input: [number, number]; output: [number, number]; nf: number; nb?: number; gc?: number; numConv?: number }>;

function expectRefusal(fn: () => unknown, file: string, reason: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RestoraError);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(reason);
}

describe('model import', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it.each(Object.keys(cases))('%s reproduces PyTorch within 1e-3', (file) => {
    const c = cases[file]!;
    const source = resolveImportSource(path.join(FIX, file));
    const detected = detectSource(source as Parameters<typeof detectSource>[0]);
    expect(detected.arch).toBe(c.arch);
    expect(detected.scale).toBe(c.scale);
    expect(detected.archOptions.features).toBe(c.nf);
    if (c.nb !== undefined) expect(detected.archOptions).toMatchObject({ blocks: c.nb, growth: c.gc });
    if (c.numConv !== undefined) expect(detected.archOptions.convs).toBe(c.numConv);
    const io = new Float32Array(fs.readFileSync(path.join(FIX, file.replace(/\.(pth|safetensors|param)$/, '.io.bin'))).buffer.slice(0));
    const [h, w] = c.input;
    const model = buildImportedModel(detected, file);
    const got = tf.tidy(() => (model.predict(tf.tensor4d(io.subarray(0, h * w * 3), [1, h, w, 3])) as tf.Tensor).dataSync());
    model.dispose();
    const want = io.subarray(h * w * 3);
    expect(got.length).toBe(c.output[0] * c.output[1] * 3);
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
    expect(maxDiff).toBeLessThan(1e-3);
    // The reference is not trivial: outputs spread well beyond the tolerance.
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.5);
  });

  it('orders pixel-shuffle channels as PyTorch does (colour-major) when mapping to phase-major', () => {
    // r=2, 3 colours: Restora channel (i*2+j)*3+c holds PyTorch channel c*4+i*2+j.
    expect(torchShuffleOrder(3, 2)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  });

  it('refuses a pickle that asks to run code, before building anything', () => {
    expectRefusal(() => readStateDict(path.join(FIX, 'evil.pth')), 'evil.pth', /refused: the checkpoint asks to run posix\.system/);
  });

  it('refuses a truncated .pth and a truncated .safetensors', () => {
    const dir = tmpDir();
    for (const name of ['rrdb-x4.pth', 'rrdb-x2.safetensors', 'esrgan-old-x4.pth']) {
      const buf = fs.readFileSync(path.join(FIX, name));
      const cut = path.join(dir, name);
      fs.writeFileSync(cut, buf.subarray(0, Math.floor(buf.length * 0.6)));
      expectRefusal(() => detectArchitecture(readStateDict(cut), cut), cut, /truncated|damaged/);
    }
  });

  it('names an unsupported architecture by what its keys look like', () => {
    const f = path.join(FIX, 'unknown-arch.pth');
    expectRefusal(() => detectArchitecture(readStateDict(f), f), 'unknown-arch.pth', /unsupported architecture: keys look like 0\.weight, 0\.bias/);
  });

  it('refuses a state dict with a missing key or a mis-shaped tensor', () => {
    const dir = tmpDir();
    const sd = readStateDict(path.join(FIX, 'rrdb-x2.safetensors'));
    const missing = Object.fromEntries([...sd].filter(([k]) => k !== 'body.0.rdb2.conv3.weight'));
    const f1 = path.join(dir, 'missing.safetensors');
    writeSafetensors(f1, missing);
    expectRefusal(() => detectArchitecture(readStateDict(f1), f1), f1, /missing tensor body\.0\.rdb2\.conv3\.weight/);
    const reshaped = Object.fromEntries(sd);
    reshaped['conv_hr.weight'] = { shape: [8, 8, 1, 9], data: reshaped['conv_hr.weight']!.data };
    const f2 = path.join(dir, 'misshaped.safetensors');
    writeSafetensors(f2, reshaped);
    expectRefusal(() => buildImportedModel(detectArchitecture(readStateDict(f2), f2), f2), f2, /conv_hr has shape \[8,8,1,9\]/);
  });

  it('refuses an ncnn graph with unknown layers and a .bin too short for its .param', () => {
    const dir = tmpDir();
    const param = fs.readFileSync(path.join(FIX, 'srvgg-x4-ncnn.param'), 'utf8');
    fs.writeFileSync(path.join(dir, 'odd.param'), param.replace('PixelShuffle', 'DeformableConv2D'));
    fs.copyFileSync(path.join(FIX, 'srvgg-x4-ncnn.bin'), path.join(dir, 'odd.bin'));
    expectRefusal(() => readNcnnModel(path.join(dir, 'odd.param'), path.join(dir, 'odd.bin')), 'odd.param', /layer types Restora does not import \(DeformableConv2D\)/);
    fs.writeFileSync(path.join(dir, 'short.param'), param);
    const bin = fs.readFileSync(path.join(FIX, 'srvgg-x4-ncnn.bin'));
    fs.writeFileSync(path.join(dir, 'short.bin'), bin.subarray(0, bin.length - 100));
    expectRefusal(() => readNcnnModel(path.join(dir, 'short.param'), path.join(dir, 'short.bin')), 'short.bin', /too short for its \.param/);
  });

  it('refuses a 2 GB file without reading it, and files that are not models', () => {
    const dir = tmpDir();
    const big = path.join(dir, 'huge.pth');
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, 2 * 1024 ** 3); // sparse: no disk used
    expectRefusal(() => readStateDict(big), 'huge.pth', /2\.0 GB is over the 1 GB limit/);
    const txt = path.join(dir, 'notes.txt');
    fs.writeFileSync(txt, 'hello');
    expectRefusal(() => resolveImportSource(txt), 'notes.txt', /not a model file Restora imports/);
    const lone = path.join(dir, 'lonely.param');
    fs.writeFileSync(lone, '7767517\n');
    expectRefusal(() => resolveImportSource(lone), 'lonely.param', /needs its pair lonely\.bin/);
    const junk = path.join(dir, 'junk.pth');
    fs.writeFileSync(junk, Buffer.from('not a checkpoint at all'));
    expectRefusal(() => readStateDict(junk), 'junk.pth', /not a PyTorch checkpoint/);
  });
});
