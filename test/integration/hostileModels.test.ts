/**
 * Hostile model files and folders (issue 24, items 3-6). Every file here is small: what
 * matters is what it CLAIMS (views of gigabytes, a zip entry that inflates 1000x, a
 * weight path out of its folder, millions of layers). Each must be refused with a
 * RestoraError naming the file and the reason, before the memory it claims is taken.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend.js';
import { readModelFile, readStateDict } from '../../src/main/ml/import/stateDict.js';
import { readNcnnModel } from '../../src/main/ml/import/ncnn.js';
import { unpickle } from '../../src/main/ml/import/pickle.js';
import { importModel, resolveImportSource } from '../../src/main/ml/import/importModel.js';
import type { ComputeHost } from '../../src/main/ml/worker/computeHost.js';
import { ModelLibrary } from '../../src/main/ml/store/modelLibrary.js';
import { loadLayersModel, readModelArtifacts, saveLayersModel } from '../../src/main/ml/store/modelStore.js';
import { RestoraError } from '../../src/shared/errors.js';
import { installTinyModel, tmpDir } from '../helpers.js';
import { cat, int, safetensors, torchZip } from '../hostileModelFiles.js';

function refusal(fn: () => unknown): RestoraError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a refusal').toBeInstanceOf(RestoraError);
  return err as RestoraError;
}

async function asyncRefusal(p: Promise<unknown>): Promise<RestoraError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(RestoraError);
  return err as RestoraError;
}

/** Runs `fn` and returns what it threw and how much ArrayBuffer memory it grew by meanwhile. */
function measured(fn: () => unknown): { err: RestoraError; grewMB: number } {
  const before = process.memoryUsage().arrayBuffers;
  const err = refusal(fn);
  return { err, grewMB: (process.memoryUsage().arrayBuffers - before) / 1024 ** 2 };
}

const MB = 1024 ** 2;

describe('hostile model files: memory is capped by what a file claims (item 3)', () => {
  it('refuses a small safetensors whose overlapping views would expand to 200 MB of floats', () => {
    const dir = tmpDir();
    const data = new Uint8Array(MB);
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) header[`body.${i}.weight`] = { dtype: 'F32', shape: [MB / 4], data_offsets: [0, MB] };
    const f = path.join(dir, 'views.safetensors');
    fs.writeFileSync(f, safetensors(header, data));
    const { err, grewMB } = measured(() => readStateDict(f));
    expect(err.message).toContain(f);
    expect(err.message).toMatch(/would expand to 200\.0 MB of float32 weights, over the limit of \d+(\.\d)? MB/);
    expect(grewMB).toBeLessThan(32);
  });

  it('refuses a pickle tensor of stride 0 that would repeat 16 bytes into 256 MB', () => {
    const dir = tmpDir();
    const f = path.join(dir, 'stride0.pth');
    fs.writeFileSync(f, torchZip([{ name: 'conv_first.weight', numel: 4, offset: 0, shape: [8192, 8192], stride: [0, 0] }], { '0': new Uint8Array(16) }));
    const { err, grewMB } = measured(() => readStateDict(f));
    expect(err.message).toContain(f);
    expect(err.message).toMatch(/conv_first\.weight has 67108864 elements but its storage holds 4/);
    expect(grewMB).toBeLessThan(32);
  });

  it('refuses a zip bomb (a 64 MB entry deflated to a few KB) before inflating it', () => {
    const dir = tmpDir();
    const f = path.join(dir, 'bomb.pth');
    const n = 16 * MB;
    fs.writeFileSync(f, torchZip([{ name: 'w', numel: n, offset: 0, shape: [n], stride: [1] }], { '0': new Uint8Array(4 * n) }, 6));
    expect(fs.statSync(f).size).toBeLessThan(MB);
    const { err, grewMB } = measured(() => readStateDict(f));
    expect(err.message).toContain(f);
    expect(err.message).toMatch(/zip entry archive\/data\/0 inflates to 64\.0 MB .* over the limit of \d+(\.\d)? MB/);
    expect(grewMB).toBeLessThan(32);
  });

  it('confines a Restora model folder\'s weight paths to the folder: no "..", no absolute path, no symlink out', async () => {
    const home = tmpDir();
    const dir = await installTinyModel(home);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const withPath = (p: string) => {
      manifest.weightsManifest[0]!.paths = [p];
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(manifest));
    };
    // A real weights file just outside the folder: today it is read as if it were the model's.
    fs.copyFileSync(path.join(dir, 'weights.bin'), path.join(home, 'models', 'outside.bin'));
    withPath('../outside.bin');
    expect(refusal(() => readModelArtifacts(dir)).message).toMatch(/weight path "\.\.\/outside\.bin" .*leaves the model folder/);
    withPath(path.join(home, 'models', 'outside.bin'));
    expect(refusal(() => readModelArtifacts(dir)).message).toMatch(/is absolute/);
    withPath('../../../../dev/zero');
    expect(refusal(() => readModelArtifacts(dir)).message).toMatch(/leaves the model folder/);
    fs.symlinkSync(path.join(home, 'models', 'outside.bin'), path.join(dir, 'linked.bin'));
    withPath('linked.bin');
    expect(refusal(() => readModelArtifacts(dir)).message).toMatch(/linked\.bin.*symbolic link out of the model folder/);
    withPath('weights.bin');
    expect(readModelArtifacts(dir).weightData.byteLength).toBe(fs.statSync(path.join(dir, 'weights.bin')).size);
  });

  it('refuses an ncnn .param declaring 3,000,000 layers from its header, without splitting the file', () => {
    const dir = tmpDir();
    const lines = ['7767517', '3000000 3000001', 'Input in 0 1 x0'];
    for (let i = 1; i < 200_000; i++) lines.push(`ReLU r${i} 1 1 x${i - 1} x${i}`);
    fs.writeFileSync(path.join(dir, 'many.param'), lines.join('\n'));
    fs.writeFileSync(path.join(dir, 'many.bin'), new Uint8Array(0));
    const t0 = performance.now();
    const err = refusal(() => readNcnnModel(path.join(dir, 'many.param'), path.join(dir, 'many.bin')));
    expect(err.message).toContain('many.param');
    expect(err.message).toMatch(/declares 3000000 layers, over the limit of \d+/);
    expect(performance.now() - t0).toBeLessThan(1000);
    // A header that understates its layers is refused at the first line past its count.
    lines[1] = '10 11';
    fs.writeFileSync(path.join(dir, 'many.param'), lines.join('\n'));
    expect(refusal(() => readNcnnModel(path.join(dir, 'many.param'), path.join(dir, 'many.bin'))).message).toMatch(/declares 10 layers and holds more/);
  });
});

describe('hostile model folders: the topology cannot claim more than the file holds (item 3)', () => {
  let home = '';
  let dir = '';
  beforeAll(async () => {
    home = tmpDir();
    dir = await installTinyModel(home, 'tiny');
  });
  type Layer = { class_name: string; config: Record<string, unknown> };
  const edited = (edit: (layers: Layer[], m: Record<string, unknown>) => void): string => {
    const copy = path.join(tmpDir(), 'edited');
    fs.cpSync(dir, copy, { recursive: true });
    const m = JSON.parse(fs.readFileSync(path.join(copy, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: Layer[] } } };
    edit(m.modelTopology.config.layers, m as unknown as Record<string, unknown>);
    fs.writeFileSync(path.join(copy, 'model.json'), JSON.stringify(m));
    return copy;
  };

  it('refuses a Conv2D that claims a million filters before its kernel is allocated', async () => {
    const copy = edited((layers) => {
      const conv = layers.find((l) => l.class_name === 'Conv2D')!;
      conv.config.filters = 1_000_000;
    });
    const before = process.memoryUsage().rss;
    const err = await asyncRefusal(loadLayersModel(copy));
    expect(err.message).toContain(copy);
    expect(err.message).toMatch(/asks for a weight of shape \[3,3,3,1000000\], more than the \d+ values the file holds/);
    // 3x3x3x1e6 floats would be 108 MB, and tfjs would build the bias too.
    expect((process.memoryUsage().rss - before) / MB).toBeLessThan(64);
  });

  it('refuses a manifest whose shapes do not add up to the weight file, and a weight missing from the file', async () => {
    const big = edited((_, m) => {
      const specs = (m.weightsManifest as { weights: { shape: number[] }[] }[])[0]!.weights;
      specs[0]!.shape = [65536, 65536];
    });
    expect(refusal(() => readModelArtifacts(big)).message).toMatch(/declares \d+ bytes of weights but the weight files hold \d+/);
    const odd = edited((_, m) => {
      (m.weightsManifest as { weights: { shape: unknown }[] }[])[0]!.weights[0]!.shape = [-1, 4];
    });
    expect(refusal(() => readModelArtifacts(odd)).message).toMatch(/has a shape or type tfjs cannot read/);
  });

  it('refuses a layer whose scale would blow the 16x16 import probe up to gigabytes', async () => {
    const scaled = edited((layers) => {
      layers.find((l) => 'scale' in l.config)!.config.scale = 65536;
    });
    expect((await asyncRefusal(loadLayersModel(scaled))).message).toMatch(/has scale 65536: expected a whole number from 1 to 16/);
  });

  it('keeps the initialisers the topology names when a loaded model is saved again', async () => {
    const m = await loadLayersModel(dir);
    const again = path.join(tmpDir(), 'again');
    await saveLayersModel(m, again);
    m.dispose();
    const layers = (f: string) => (JSON.parse(fs.readFileSync(path.join(f, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: Layer[] } } }).modelTopology.config.layers;
    expect(layers(again)).toEqual(layers(dir));
  });
});

describe('hostile pickles: integers and operation counts (items 3 and 4)', () => {
  it('refuses a pickle of millions of one-byte objects before they fill the heap', () => {
    const dir = tmpDir();
    const n = 1_200_000;
    // EMPTY_LIST then APPEND, over and over: each byte pair builds one more nested list.
    const body = new Uint8Array(1 + 2 * n);
    body[0] = 0x5d;
    for (let i = 0; i < n; i++) body.set([0x5d, 0x61], 1 + 2 * i);
    const f = path.join(dir, 'lists.pth');
    fs.writeFileSync(f, cat([0x80, 0x02], body, [0x2e]));
    const heap = process.memoryUsage().heapUsed;
    const err = refusal(() => readStateDict(f));
    expect(err.message).toContain(f);
    expect(err.message).toMatch(/more than 1000000 operations, over the limit/);
    expect((process.memoryUsage().heapUsed - heap) / MB).toBeLessThan(256);
  });

  it('refuses a 192 KB LONG4 integer at once, and reads long integers in linear time', () => {
    const dir = tmpDir();
    const n = 192 * 1024;
    const body = new Uint8Array(5 + n);
    body[0] = 0x8b; // LONG4
    new DataView(body.buffer).setUint32(1, n, true);
    body.fill(0x5a, 5);
    const f = path.join(dir, 'long.pth');
    fs.writeFileSync(f, cat([0x80, 0x02], body, [0x2e]));
    const t0 = performance.now();
    const err = refusal(() => readStateDict(f));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err.message).toContain(f);
    expect(err.message).toMatch(/an integer of 196608 bytes, over the limit of \d+ bytes/);
    // Within the limit, values are exact (negative, two's complement).
    const big = -(3n ** 500n);
    expect(unpickle(cat([0x80, 0x02], int(big), [0x2e]), { global: () => undefined, reduce: () => undefined, persistentLoad: () => undefined }, 'x').value).toBe(big);
  });
});

describe('hostile files: clear refusals, never a raw JS error (item 5)', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('refuses the global torch.%s as code, not a storage type', (name) => {
    const dir = tmpDir();
    const f = path.join(dir, `${name}.pth`);
    fs.writeFileSync(f, torchZip([{ name: 'w', storageType: name, numel: 1, offset: 0, shape: [1], stride: [1] }], { '0': new Uint8Array(4) }));
    const err = refusal(() => readStateDict(f));
    expect(err.message).toContain(f);
    expect(err.message).toContain(`refused: the checkpoint asks to run torch.${name}`);
  });

  it('refuses a negative pickle tensor offset and safetensors data_offsets [-4, 0]', () => {
    const dir = tmpDir();
    const f = path.join(dir, 'negative.pth');
    fs.writeFileSync(f, torchZip([{ name: 'w', numel: 4, offset: -4, shape: [2], stride: [1] }], { '0': new Uint8Array(16) }));
    expect(refusal(() => readStateDict(f)).message).toMatch(/negative\.pth: .*tensor w's offset is not a size/);
    const g = path.join(dir, 'negative.safetensors');
    fs.writeFileSync(g, safetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, new Uint8Array(8)));
    expect(refusal(() => readStateDict(g)).message).toMatch(/negative\.safetensors: .*tensor w has data_offsets \[-4,0\]/);
  });

  it('refuses shapes of 2^31 x 2^31 (pickle and safetensors) by their size', () => {
    const dir = tmpDir();
    const big = 2 ** 31;
    const f = path.join(dir, 'huge.pth');
    fs.writeFileSync(f, torchZip([{ name: 'w', numel: 1, offset: 0, shape: [big, big], stride: [0, 0] }], { '0': new Uint8Array(4) }));
    expect(refusal(() => readStateDict(f)).message).toMatch(/huge\.pth: .*tensor w has shape \[2147483648,2147483648\]: (more elements|a side longer) than/);
    const g = path.join(dir, 'huge.safetensors');
    fs.writeFileSync(g, safetensors({ w: { dtype: 'F32', shape: [big, big], data_offsets: [0, 4] } }, new Uint8Array(4)));
    expect(refusal(() => readStateDict(g)).message).toMatch(/huge\.safetensors: .*tensor w has shape \[2147483648,2147483648\]: (more elements|a side longer) than/);
  });

  it('refuses an ncnn array parameter whose count does not match its values', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'arr.param'), '7767517\n2 2\nInput in 0 1 x0\nPReLU p1 1 1 x0 x1 -23300=2147483648,1,2\n');
    fs.writeFileSync(path.join(dir, 'arr.bin'), new Uint8Array(64));
    expect(refusal(() => readNcnnModel(path.join(dir, 'arr.param'), path.join(dir, 'arr.bin'))).message).toMatch(/arr\.param: .*layer p1's array parameter -23300 declares 2147483648 values and gives 2/);
  });

  it('refuses an empty tensor with a side of 2^40 (found by the import fuzz: it reached an array of 9e12)', () => {
    const dir = tmpDir();
    const f = path.join(dir, 'empty.pth');
    fs.writeFileSync(f, torchZip([{ name: 'conv_first.weight', numel: 1, offset: 0, shape: [1_000_000, 2 ** 40, 65536, 0], stride: [1, 1, 1, 1] }], { '0': new Uint8Array(4) }));
    expect(refusal(() => readStateDict(f)).message).toMatch(/empty\.pth: tensor conv_first\.weight has shape \[1000000,1099511627776,65536,0\]: a side longer than/);
  });

  it('refuses an ncnn graph whose layer reads a blob before any layer makes it (found by the import fuzz)', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'loop.param'), '7767517\n2 2\nInput in 0 1 x0\nPReLU p1 1 1 x1 x1 0=3\n');
    fs.writeFileSync(path.join(dir, 'loop.bin'), new Uint8Array(12));
    expect(refusal(() => readNcnnModel(path.join(dir, 'loop.param'), path.join(dir, 'loop.bin'))).message).toMatch(/loop\.param: .*layer p1 reads blob x1 before any layer makes it/);
  });

  it('refuses negative ncnn layer sizes', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'neg.param'), '7767517\n2 2\nInput in 0 1 x0\nConvolution c1 1 1 x0 x1 0=-1 1=3 11=3 5=0 6=-27\n');
    fs.writeFileSync(path.join(dir, 'neg.bin'), new Uint8Array(64));
    expect(refusal(() => readNcnnModel(path.join(dir, 'neg.param'), path.join(dir, 'neg.bin'))).message).toMatch(/neg\.param: .*layer c1 has output channels -1/);
  });

  it('refuses a .bin that is a folder', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'pair.param'), '7767517\n1 1\nInput in 0 1 x0\n');
    fs.mkdirSync(path.join(dir, 'pair.bin'));
    expect(refusal(() => resolveImportSource(path.join(dir, 'pair.param'))).message).toMatch(/pair\.bin: not a regular file \(a folder\)/);
    expect(refusal(() => readNcnnModel(path.join(dir, 'pair.param'), path.join(dir, 'pair.bin'))).message).toMatch(/pair\.bin: not a regular file \(a folder\)/);
  });
});

describe('hostile model folders on import (item 6)', () => {
  let home: string;
  let deps: Parameters<typeof importModel>[0];
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    home = tmpDir();
    await installTinyModel(home, 'template');
    const userDir = path.join(home, 'user-models');
    // The probe the compute worker runs, in-process: load the folder (readModelArtifacts), count the params.
    const compute = {
      async probeModel(dir: string) {
        const m = await loadLayersModel(dir);
        const params = m.countParams();
        m.dispose();
        return { params, scale: 2 };
      },
    } as unknown as ComputeHost;
    deps = { models: new ModelLibrary(path.join(home, 'no-bundled'), userDir), compute, userDir };
  });
  const folder = (name: string) => {
    const dir = path.join(tmpDir(), name);
    fs.mkdirSync(dir);
    for (const f of ['model.json', 'weights.bin']) fs.copyFileSync(path.join(home, 'models', 'template', f), path.join(dir, f));
    return dir;
  };

  it('copies only the files the model needs: a 1 GB sparse extra file stays behind', async () => {
    const dir = folder('with-extra');
    const extra = path.join(dir, 'extra.bin');
    fs.closeSync(fs.openSync(extra, 'w'));
    fs.truncateSync(extra, 1024 ** 3); // sparse: claims 1 GB, uses no disk
    fs.mkdirSync(path.join(dir, 'junk'));
    const m = await importModel(deps, { path: dir });
    expect(fs.readdirSync(m.dir).sort()).toEqual(['card.json', 'model.json', 'weights.bin']);
    expect(m.card.params).toBeGreaterThan(0);
  });

  it('refuses a named pipe called model.pth at once instead of waiting for a writer', async () => {
    const dir = tmpDir();
    const fifo = path.join(dir, 'model.pth');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // Today's reader blocks until someone writes: a writer 5 s later lets that failure end.
    const writer = spawn('sh', ['-c', `sleep 5; echo x > '${fifo}'`], { stdio: 'ignore' });
    try {
      const t0 = performance.now();
      expect(refusal(() => resolveImportSource(fifo)).message).toMatch(/model\.pth: not a regular file \(a named pipe\)/);
      expect(refusal(() => resolveImportSource(dir)).message).toMatch(/model\.pth: not a regular file \(a named pipe\)/);
      expect(refusal(() => readModelFile(fifo)).message).toMatch(/model\.pth: not a regular file \(a named pipe\)/);
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      writer.kill();
    }
  });

  it('refuses a model folder whose files link out of it, and adds nothing', async () => {
    const outside = path.join(tmpDir(), 'secret.bin');
    const dir = folder('linked-out');
    fs.renameSync(path.join(dir, 'weights.bin'), outside);
    fs.symlinkSync(outside, path.join(dir, 'weights.bin'));
    const err = await asyncRefusal(importModel(deps, { path: dir }));
    expect(err.message).toMatch(/weights\.bin.*symbolic link out of the model folder/);
    expect(fs.existsSync(path.join(deps.userDir, 'linked-out'))).toBe(false);
    // A model.pth in a plain folder that links out of it is refused the same way.
    const plain = tmpDir();
    fs.symlinkSync(outside, path.join(plain, 'model.pth'));
    expect(refusal(() => resolveImportSource(plain)).message).toMatch(/model\.pth.*symbolic link out of the folder/);
  });
});
