/**
 * SPAN import: conformance with PyTorch (fixtures made by scripts/make-span-fixtures.py with
 * Debian's torch: seeded random weights, the reference's eval behaviour: Conv3XC branches
 * fused on every forward, in-place SiLU), options read off the files, and a SPAN-like
 * layout Restora does not know refused by name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { readStateDict } from '../../src/main/ml/import/stateDict.js';
import { detectArchitecture } from '../../src/main/ml/import/detect.js';
import { buildImportedModel } from '../../src/main/ml/import/buildModel.js';
import { fuseConv3xc } from '../../src/main/ml/archs/span/torch.js';
import { tilingFor } from '../../src/main/ml/archs/index.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, tmpDir, writeSafetensors, maxDiff } from '../helpers.js';

const FIX = path.join(ROOT, 'test/fixtures/span');
const cases = JSON.parse(fs.readFileSync(path.join(FIX, 'cases.json'), 'utf8')) as Record<string, { scale: number; features: number; norm: boolean; evalConv: 'fused' | 'stale'; input: [number, number]; output: [number, number] }>;

function readIo(file: string): Float32Array {
  return new Float32Array(fs.readFileSync(path.join(FIX, file)).buffer.slice(0));
}

function run(file: string, sdFile = path.join(FIX, file)): { got: Float32Array; want: Float32Array } {
  const c = cases[file]!;
  const io = readIo(file.replace(/\.(pth|safetensors)$/, '.io.bin'));
  const [h, w] = c.input;
  const model = buildImportedModel(detectArchitecture(readStateDict(sdFile), sdFile), sdFile);
  const got = tf.tidy(() => (model.predict(tf.tensor4d(io.subarray(0, h * w * 3), [1, h, w, 3])) as tf.Tensor).dataSync() as Float32Array);
  model.dispose();
  return { got, want: io.subarray(h * w * 3) };
}

describe('SPAN import', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it.each(Object.keys(cases))('%s: options read off the file, output within 1e-3 of PyTorch', (file) => {
    const c = cases[file]!;
    const f = path.join(FIX, file);
    const detected = detectArchitecture(readStateDict(f), f);
    expect(detected.arch).toBe('span');
    expect(detected.scale).toBe(c.scale);
    expect(detected.archOptions).toEqual({ features: c.features, norm: c.norm });
    const { got, want } = run(file);
    expect(got.length).toBe(c.output[0] * c.output[1] * 3);
    expect(maxDiff(got, want)).toBeLessThan(1e-3);
    // The reference is not trivial: outputs spread well beyond the tolerance.
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.5);
  });

  it("feeds block 6's in-place-SiLU output, not its raw conv, into the final concatenation", () => {
    const { got, want } = run('span-x4.pth');
    const raw = readIo('span-x4.raw-block6.bin');
    expect(maxDiff(got, want)).toBeLessThan(1e-3);
    // A forward using the raw conv there is measurably different.
    expect(maxDiff(raw, want)).toBeGreaterThan(1e-2);
    expect(maxDiff(got, raw)).toBeGreaterThan(1e-2);
  });

  it('fuses the Conv3XC branches as the reference does: a stale eval_conv is ignored, a fused-only file loads its eval_conv', () => {
    expect(cases['span-x3.pth']!.evalConv).toBe('stale'); // and span-x3 matches PyTorch above
    // span-x2 stores the fused kernels: with its branches removed, the eval_conv weights give the same output.
    const sd = readStateDict(path.join(FIX, 'span-x2.safetensors'));
    const fusedOnly = Object.fromEntries([...sd].filter(([k]) => !/\.(sk|conv\.\d)\.(weight|bias)$/.test(k)));
    expect(Object.keys(fusedOnly).some((k) => k.endsWith('eval_conv.weight'))).toBe(true);
    const f = path.join(tmpDir(), 'span-x2.safetensors');
    writeSafetensors(f, fusedOnly);
    const { got, want } = run('span-x2.safetensors', f);
    expect(maxDiff(got, want)).toBeLessThan(1e-3);
    // And the TS fusion agrees with the kernel PyTorch stored for one Conv3XC.
    const t = (k: string) => sd.get(`block_2.c1_r.${k}`)!;
    const fused = fuseConv3xc(t('sk.weight'), t('sk.bias'), t('conv.0.weight'), t('conv.0.bias'), t('conv.1.weight'), t('conv.1.bias'), t('conv.2.weight'), t('conv.2.bias'));
    expect(maxDiff(fused.weight.data, t('eval_conv.weight').data)).toBeLessThan(1e-5);
    expect(maxDiff(fused.bias.data, t('eval_conv.bias').data)).toBeLessThan(1e-5);
  });

  it('refuses a SPAN-like file of another layout by name', () => {
    const f = path.join(FIX, 'span-unknown-variant.pth');
    let err: unknown;
    try {
      detectArchitecture(readStateDict(f), f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RestoraError);
    expect((err as RestoraError).code).toBe('UNSUPPORTED');
    expect((err as Error).message).toContain('span-unknown-variant.pth: looks like SPAN, but it has 5 blocks');
    expect((err as Error).message).toMatch(/: unsupported$/);
  });

  it('tiles with the exact receptive field: 21 LR pixels (+2 margin), no edge padding', () => {
    expect(tilingFor({ arch: 'span', scale: 4, archOptions: { features: 48, norm: true } })).toMatchObject({ overlap: 23, multiple: 1, edgePad: 0 });
  });
});
