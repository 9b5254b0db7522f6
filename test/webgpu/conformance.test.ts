/**
 * The WebGPU engine against the CPU engines, on Chromium's SwiftShader adapter in CI
 * (the user's GPU in the desktop app): forward outputs within 1e-3 of wasm for every
 * architecture, gradients within 1e-3 relative of the cpu backend, 20 seeded training
 * steps on the wasm loss curve within 1 %, no tensor or GPU buffer growth over 200
 * steps, and a lost device that fails the call with a clear error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/ml/backend.js';
import { LocalEngine } from '../../src/main/ml/engine/localEngine.js';
import { PageEngine } from '../../src/main/ml/engine/pageEngine.js';
import { GLOBAL_STATS } from '../../src/main/ml/core/conditioning.js';
import type { EngineRequest } from '../../src/main/ml/engine/protocol.js';
import { ARCH_CASES, HAVE_CHROMIUM, call, relativeError, seededArray, seededModel } from './helpers.js';

describe.skipIf(!HAVE_CHROMIUM)('WebGPU engine on Chromium', () => {
  let gpu: PageEngine;

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    gpu = await PageEngine.start();
  }, 120_000);

  afterAll(async () => {
    await gpu?.close();
  });

  it('finds an adapter and says what it is', () => {
    expect(gpu.info.backend).toBe('webgpu');
    expect(gpu.info.adapter?.vendor.length).toBeGreaterThan(0);
    expect(gpu.info.adapter?.maxBufferSize).toBeGreaterThan(0);
  });

  it.each(ARCH_CASES)('forward: $arch x$scale $options within 1e-3 of wasm', async ({ arch, scale, options }) => {
    await tf.setBackend('wasm');
    const local = new LocalEngine();
    const load = await seededModel('fwd', arch, scale, options);
    const loaded = await call(local, load, 'loaded');
    await call(gpu, load, 'loaded');
    // Multiples of 8: upsampler2x's encoder halves the size three times.
    const h = 16;
    const w = 8;
    const stats = loaded.conditioned ? seededArray(GLOBAL_STATS, 5) : null;
    // A large maxValue keeps six decimals through the engine's rounding.
    const req: EngineRequest = { op: 'predict', model: 'fwd', x: seededArray(h * w * 3, 3), height: h, width: w, padH: 0, padW: 0, stats, maxValue: 1e6 };
    const a = (await call(local, req, 'predicted')).y as Float32Array;
    const b = (await call(gpu, req, 'predicted')).y as Float32Array;
    expect(b.length).toBe(h * w * scale * scale * 3);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!) / 1e6);
    expect(max).toBeLessThan(1e-3);
    // Not a vacuous match: the outputs vary (seeded nets start near-flat; rrdbnet's 0.1-scaled init
    // spans ~1e-3), and the error is small beside that variation too.
    const range = (Math.max(...a) - Math.min(...a)) / 1e6;
    expect(range).toBeGreaterThan(1e-4);
    expect(max / range).toBeLessThan(1e-2);
    await call(local, { op: 'dispose', model: 'fwd' }, 'done');
    await call(gpu, { op: 'dispose', model: 'fwd' }, 'done');
  });

  it.each(ARCH_CASES)('gradients: $arch x$scale $options dx and dW within 1e-3 relative of the cpu backend', async ({ arch, scale, options }) => {
    await tf.setBackend('cpu');
    try {
      const cpu = new LocalEngine();
      const load = await seededModel('grad', arch, scale, options);
      const loaded = await call(cpu, load, 'loaded');
      await call(gpu, load, 'loaded');
      const batch = 2;
      const patch = 8;
      const hp = patch * scale;
      const req: EngineRequest = {
        op: 'gradients',
        model: 'grad',
        loss: 'mse',
        batch,
        patch,
        scale,
        x: seededArray(batch * patch * patch * 3, 11),
        y: seededArray(batch * hp * hp * 3, 13),
        stats: loaded.conditioned ? seededArray(batch * GLOBAL_STATS, 17) : null,
      };
      const ref = await call(cpu, req, 'gradients');
      const got = await call(gpu, req, 'gradients');
      expect(relativeError(got.dx as Float32Array, ref.dx as Float32Array)).toBeLessThan(1e-3);
      const refW = ref.dw as { name: string; data: Float32Array }[];
      const gotW = got.dw as { name: string; data: Float32Array }[];
      expect(gotW.map((g) => g.name)).toEqual(refW.map((g) => g.name));
      // A bias ahead of a batch norm has a true gradient of zero (the norm removes it); its float noise
      // is judged against 1 % of the model's largest gradient instead of against itself.
      const largest = Math.max(...refW.map((r) => r.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
      const worst = refW.map((r, i) => ({ name: r.name, err: relativeError(gotW[i]!.data, r.data, 1e-2 * largest) })).sort((p, q) => q.err - p.err)[0]!;
      expect(worst.err, worst.name).toBeLessThan(1e-3);
      await call(gpu, { op: 'dispose', model: 'grad' }, 'done');
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('20 seeded training steps follow the wasm loss curve within 1 %', async () => {
    await tf.setBackend('wasm');
    const local = new LocalEngine();
    const losses: number[][] = [];
    for (const engine of [local, gpu]) {
      await call(engine, await seededModel('train', 'compact', 2, {}), 'loaded');
      await call(engine, { op: 'trainInit', model: 'train', setup: { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, loss: 'l1', ema: 0.99 } }, 'done');
      const curve: number[] = [];
      for (let step = 0; step < 20; step++) {
        const x = seededArray(2 * 12 * 12 * 3, 100 + step);
        // A target the net can learn: a smooth function of the input's position.
        const y = seededArray(2 * 24 * 24 * 3, 200 + step, 0.3, 0.5);
        const r = await call(engine, { op: 'trainStep', model: 'train', lr: 2e-3, weightDecay: 0, batch: 2, patch: 12, scale: 2, x, y, stats: null }, 'stepped');
        curve.push(r.loss as number);
      }
      losses.push(curve);
    }
    const [wasm, webgpu] = losses as [number[], number[]];
    for (let i = 0; i < 20; i++) expect(Math.abs(webgpu[i]! - wasm[i]!) / wasm[i]!, `step ${i}`).toBeLessThan(0.01);
    // It trained: the loss fell.
    expect(wasm[19]!).toBeLessThan(wasm[0]! * 0.9);
    // The state comes back for checkpoints: weights, Adam's moments and the EMA shadow.
    const state = await call(gpu, { op: 'state', model: 'train' }, 'state');
    expect((state.weights as Uint8Array).byteLength).toBeGreaterThan(100_000);
    expect((state.optimizer as Uint8Array).byteLength).toBeGreaterThan(2 * 100_000);
    expect((state.ema as Uint8Array).byteLength).toBeGreaterThan(100_000);
  });

  it('200 training steps leak no tensors and no GPU buffers', async () => {
    // A small net: 200 steps of the default one take a minute on SwiftShader.
    await call(gpu, await seededModel('leak', 'srvgg', 2, { features: 8, convs: 2 }), 'loaded');
    await call(gpu, { op: 'trainInit', model: 'leak', setup: { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, loss: 'charbonnier', ema: 0.999 } }, 'done');
    const step = (i: number) => call(gpu, { op: 'trainStep', model: 'leak', lr: 1e-3, weightDecay: 1e-4, batch: 2, patch: 8, scale: 2, x: seededArray(2 * 8 * 8 * 3, i), y: seededArray(2 * 16 * 16 * 3, i + 1), stats: null }, 'stepped');
    for (let i = 0; i < 20; i++) await step(i);
    const before = (await call(gpu, { op: 'memory' }, 'memory')).memory as { numTensors: number; numBytes: number; gpuBytesAllocated?: number };
    for (let i = 20; i < 200; i++) await step(i);
    const after = (await call(gpu, { op: 'memory' }, 'memory')).memory as typeof before;
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(before.gpuBytesAllocated).toBeGreaterThan(0);
    expect(after.gpuBytesAllocated).toBe(before.gpuBytesAllocated);
    await call(gpu, { op: 'dispose', model: 'leak' }, 'done');
  });
});

describe.skipIf(!HAVE_CHROMIUM)('WebGPU faults', () => {
  it('a lost device fails the next call with BACKEND_LOST and the reason', async () => {
    const gpu = await PageEngine.start();
    try {
      await call(gpu, await seededModel('m', 'compact', 2, {}), 'loaded');
      await gpu.call({ op: 'loseDevice' });
      const req: EngineRequest = { op: 'predict', model: 'm', x: seededArray(8 * 8 * 3, 1), height: 8, width: 8, padH: 0, padW: 0, stats: null, maxValue: 255 };
      await expect(gpu.call(req)).rejects.toMatchObject({ code: 'BACKEND_LOST', message: expect.stringMatching(/GPU device was lost.*destroyed/) });
      expect(gpu.lostReason).toMatch(/destroyed/);
    } finally {
      await gpu.close();
    }
  });

  it('a tile too large for the GPU fails with GPU_OUT_OF_MEMORY and a remedy; the engine goes on', async () => {
    const gpu = await PageEngine.start();
    try {
      await call(gpu, await seededModel('m', 'compact', 2, {}), 'loaded');
      const tile = (n: number): EngineRequest => ({ op: 'predict', model: 'm', x: seededArray(n * n * 3, 1), height: n, width: n, padH: 0, padW: 0, stats: null, maxValue: 255 });
      await expect(gpu.call(tile(2048))).rejects.toMatchObject({ code: 'GPU_OUT_OF_MEMORY', message: expect.stringMatching(/smaller tile/) });
      const ok = (await call(gpu, tile(16), 'predicted')).y as Float32Array;
      expect(ok.length).toBe(32 * 32 * 3);
    } finally {
      await gpu.close();
    }
  });

  it('no Chromium: a clear BACKEND_UNAVAILABLE, nothing left running', async () => {
    const saved = process.env.RESTORA_CHROMIUM;
    process.env.RESTORA_CHROMIUM = '/nonexistent/chromium';
    try {
      await expect(PageEngine.start()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/Chromium or Chrome/) });
    } finally {
      if (saved === undefined) delete process.env.RESTORA_CHROMIUM;
      else process.env.RESTORA_CHROMIUM = saved;
    }
  });

  it('a page that finds no adapter says so', async () => {
    // Chromium without WebGPU unlocked exposes no adapter on this machine: the reason comes back.
    const { chromiumLauncher } = await import('../../src/main/ml/engine/chromium.js');
    const noGpu = (url: string) => chromiumLauncher(url, { unlockWebGpu: false });
    await expect(PageEngine.start({ launcher: noGpu, startTimeoutMs: 60_000 })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/webgpu: .*(adapter|navigator\.gpu)/) });
  });
});
