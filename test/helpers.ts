import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FloatImage } from '../src/main/imaging/imresize.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The evaluation sets live beside the checkout (never copied into the project). */
export const SHARED_DATA = process.env.RESTORA_SHARED_DATA ?? path.resolve(ROOT, '../shared/data');
export const HAVE_SET5 = fs.existsSync(path.join(SHARED_DATA, 'set5', 'LR_bicubic', 'X2'));
export const SET5_NAMES = ['baby', 'bird', 'butterfly', 'head', 'woman'];

/** Runs the CLI from source with RESTORA_HOME=home on one thread: exit code, stdout, stderr. */
export function runCli(home: string, args: string[], timeout = 120_000): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, RESTORA_HOME: home, RESTORA_THREADS: '1' },
    encoding: 'utf8',
    timeout,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export function tmpDir(prefix = 'restora-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Deterministic smooth-plus-texture test image, 0..255. */
export function synthImage(width: number, height: number, seed = 1): FloatImage {
  const data = new Float32Array(width * height * 3);
  let s = seed;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = 128 + 100 * Math.sin(x / 7 + seed) * Math.cos(y / 11);
      data[i + 1] = (x * 255) / width;
      data[i + 2] = Math.min(255, Math.max(0, 128 + 60 * Math.sin((x + y) / 3) + 20 * (rnd() - 0.5)));
    }
  }
  return { width, height, channels: 3, data };
}

export function toUint8(img: FloatImage): Uint8Array {
  return Uint8Array.from(img.data, (v) => Math.min(255, Math.max(0, Math.round(v))));
}

/** Saves a tiny untrained compact model (with card) as `<home>/models/<id>`; returns its folder. */
export async function installTinyModel(home: string, id = 'tiny-x2'): Promise<string> {
  const { initBackend } = await import('../src/main/ml/backend.js');
  const { buildArch } = await import('../src/main/ml/archs/index.js');
  const { saveLayersModel, writeCard } = await import('../src/main/ml/store/modelStore.js');
  await initBackend({ prefer: 'wasm', threads: 1 });
  const archOptions = { channels: 8, blocks: 1 };
  const m = buildArch('compact', 2, archOptions);
  const dir = path.join(home, 'models', id);
  await saveLayersModel(m, dir);
  writeCard(dir, { id, name: 'tiny', arch: 'compact', archOptions, scale: 2, params: m.countParams(), task: 'upscale' });
  m.dispose();
  return dir;
}

/** Writes a float32 .safetensors file from name -> [shape, data]. */
export function writeSafetensors(file: string, tensors: Record<string, { shape: number[]; data: Float32Array }>): void {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [k, t] of Object.entries(tensors)) {
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(file, Buffer.concat([len, h, ...Object.values(tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]));
}

/** Largest absolute difference between two arrays; arrays of different lengths fail the test. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`compared arrays differ in length: ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
