/**
 * Writers for PyTorch-style checkpoints (zip and legacy pickle streams), safetensors and
 * ncnn pairs, and a generator of hostile model files built from them: valid small models
 * mutated by a seeded PRNG into files that claim too much (huge shapes, stride-0 and
 * overlapping views, zip bombs, millions of layers, escaping weight paths), lie about
 * themselves, or are simply corrupt. Used by the hostile-model tests, the import fuzz test
 * and the soak.
 */
import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { readStateDict } from '../src/main/ml/import/stateDict.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'import');

// ---- a tiny pickle writer (protocol 2), enough for PyTorch-style state dicts ----

const enc = new TextEncoder();
export const cat = (...parts: (Uint8Array | number[])[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
export const str = (s: string) => {
  const b = enc.encode(s);
  return b.length < 256 ? cat([0x8c, b.length], b) : cat([0x58], u32(b.length), b); // SHORT_BINUNICODE / BINUNICODE
};
const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
/** LONG1: little-endian two's complement, any size up to 255 bytes. */
export const int = (v: number | bigint) => {
  let x = BigInt(v);
  const bytes: number[] = [];
  for (;;) {
    bytes.push(Number(x & 0xffn));
    x >>= 8n;
    const sign = bytes[bytes.length - 1]! & 0x80;
    if ((x === 0n && !sign) || (x === -1n && sign)) break;
  }
  return cat([0x8a, bytes.length], bytes);
};
const MARK = [0x28];
const TUPLE = [0x74];
export const tuple = (...items: Uint8Array[]) => cat(MARK, ...items, TUPLE);
export const global = (module: string, name: string) => cat([0x63], enc.encode(`${module}\n${name}\n`));
const NONE = [0x4e];
const dict = (entries: [Uint8Array, Uint8Array][]) => cat([0x7d], ...entries.map(([k, v]) => cat(k, v, [0x73]))); // EMPTY_DICT, SETITEM each
const pickled = (...body: Uint8Array[]) => cat([0x80, 0x02], ...body, [0x2e]);

export interface FakeTensor {
  name: string;
  storageKey?: string;
  storageType?: string;
  numel: number | bigint;
  offset: number | bigint;
  shape: (number | bigint)[];
  stride: (number | bigint)[];
}

/** The state dict {name: _rebuild_tensor_v2(storage, offset, shape, stride)}; legacy streams add a view-metadata None to the storage id. */
function stateDictBody(tensors: FakeTensor[], legacy = false): Uint8Array {
  return dict(
    tensors.map((t) => [
      str(t.name),
      cat(
        global('torch._utils', '_rebuild_tensor_v2'),
        tuple(
          cat(tuple(str('storage'), global('torch', t.storageType ?? 'FloatStorage'), str(t.storageKey ?? '0'), str('cpu'), int(t.numel), ...(legacy ? [new Uint8Array(NONE)] : [])), [0x51]), // BINPERSID
          int(t.offset),
          tuple(...t.shape.map(int)),
          tuple(...t.stride.map(int)),
        ),
        [0x52], // REDUCE
      ),
    ]),
  );
}

/** data.pkl of a state dict. */
export function statePickle(tensors: FakeTensor[]): Uint8Array {
  return pickled(stateDictBody(tensors));
}

/** A torch.save-style zip: archive/data.pkl + archive/data/<key>, stored (level 0) unless told. */
export function torchZip(tensors: FakeTensor[], storages: Record<string, Uint8Array>, level: 0 | 6 = 0, pickle = statePickle(tensors)): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = { 'archive/data.pkl': [pickle, { level: 0 }] };
  for (const [k, v] of Object.entries(storages)) files[`archive/data/${k}`] = [v, { level }];
  return zipSync(files);
}

/** A legacy (pre-1.6) torch.save stream: magic, protocol, sys info, the state dict, the storage keys, then each storage as int64 numel + bytes. */
export function torchLegacy(tensors: FakeTensor[], storages: Record<string, Uint8Array>): Uint8Array {
  const sysInfo = dict([
    [str('protocol_version'), int(1001)],
    [str('little_endian'), new Uint8Array([0x88])], // NEWTRUE
  ]);
  const keys = Object.keys(storages);
  const data = keys.map((k) => {
    const numel = new Uint8Array(8);
    new DataView(numel.buffer).setBigInt64(0, BigInt(storages[k]!.byteLength / 4), true);
    return cat(numel, storages[k]!);
  });
  return cat(
    pickled(int(0x1950a86a20f9469cfc6cn)),
    pickled(int(1001)),
    pickled(sysInfo),
    pickled(stateDictBody(tensors, true)),
    pickled(cat([0x5d, 0x28], ...keys.map(str), [0x65])), // EMPTY_LIST, MARK, ..., APPENDS
    ...data,
  );
}

export function safetensors(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const h = enc.encode(JSON.stringify(header));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  return cat(len, h, data);
}

// ---- the generator ----

export type HostileFormat = 'pth' | 'legacy' | 'safetensors' | 'ncnn' | 'folder';
export const HOSTILE_FORMATS: readonly HostileFormat[] = ['pth', 'legacy', 'safetensors', 'ncnn', 'folder'];

export interface HostileCase {
  format: HostileFormat;
  /** What was done to the valid model, for the failure message. */
  kind: string;
  /** The file (or, for a model folder, the folder) to import. */
  path: string;
}

/** mulberry32: the same files on every run, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rnd = () => number;
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const HUGE_DIMS = [2 ** 31, 2 ** 40, 2 ** 53, 65536, 1e6, -1, -(2 ** 31), 0];
const HOSTILE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '../../etc/passwd', '', 'x'.repeat(300), '😀.weight', 'body.0.weight\u0000'];

/**
 * Byte-level damage any format can take: flips, a cut, garbage appended, a zeroed or repeated
 * range, at a place drawn from `regions` (the file's structure: headers, the pickle, the zip
 * directory; flips in raw weights only make another valid model, which is slow to import and
 * tests nothing).
 */
function damageBytes(buf: Uint8Array, rnd: Rnd, regions: [number, number][] = [[0, buf.length]]): { kind: string; bytes: Uint8Array } {
  const out = new Uint8Array(buf);
  const [lo, hi] = pick(rnd, regions);
  const place = () => Math.min(buf.length - 1, lo + Math.floor(rnd() * Math.max(1, hi - lo)));
  const at = place();
  switch (pick(rnd, ['flip', 'flip', 'truncate', 'append', 'zero', 'repeat'] as const)) {
    case 'flip': {
      const n = 1 + Math.floor(rnd() * 16);
      for (let i = 0; i < n; i++) {
        const p = place();
        out[p] = (out[p] ?? 0) ^ (1 << Math.floor(rnd() * 8));
      }
      return { kind: `${n} bits flipped`, bytes: out };
    }
    case 'truncate':
      return { kind: `cut at byte ${at}`, bytes: out.subarray(0, at) };
    case 'append':
      return {
        kind: 'garbage appended',
        bytes: cat(
          out,
          Array.from({ length: 1 + Math.floor(rnd() * 4096) }, () => Math.floor(rnd() * 256)),
        ),
      };
    case 'zero': {
      const n = Math.floor(rnd() * 512);
      out.fill(0, at, at + n);
      return { kind: `${n} bytes zeroed at ${at}`, bytes: out };
    }
    case 'repeat': {
      const n = 1 + Math.floor(rnd() * 256);
      return { kind: `${n} bytes repeated at ${at}`, bytes: cat(out.subarray(0, at + n), out.subarray(at)) };
    }
  }
}

interface BaseModel {
  tensors: FakeTensor[];
  storages: Record<string, Uint8Array>;
}

/** The valid starting point for the checkpoint formats: a small SRVGG (compact) x4 from the import fixtures. */
function baseModel(): BaseModel {
  const sd = readStateDict(path.join(FIXTURES, 'srvgg-x4.pth'));
  const tensors: FakeTensor[] = [];
  const storages: Record<string, Uint8Array> = {};
  for (const [name, t] of sd) {
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    tensors.push({ name, storageKey: name, numel: t.data.length, offset: 0, shape: [...t.shape], stride });
    storages[name] = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  }
  return { tensors, storages };
}

/** A structural lie told by a checkpoint (pth or legacy): what it claims is far from what it holds. */
function lieInCheckpoint(format: 'pth' | 'legacy', base: BaseModel, rnd: Rnd): { kind: string; tensors: FakeTensor[]; storages: Record<string, Uint8Array>; bomb?: boolean; pickle?: Uint8Array } {
  const tensors = base.tensors.map((t) => ({ ...t, shape: [...t.shape], stride: [...t.stride] }));
  const storages = { ...base.storages };
  const t = pick(rnd, tensors);
  switch (pick(rnd, ['shape', 'stride', 'offset', 'numel', 'type', 'views', 'missing', 'name', 'bomb', 'deep', 'code', 'long'] as const)) {
    case 'shape':
      t.shape = t.shape.map(() => pick(rnd, HUGE_DIMS));
      t.stride = t.shape.map(() => 1);
      return { kind: `${t.name} claims shape [${t.shape}]`, tensors, storages };
    case 'stride':
      t.stride = t.stride.map(() => pick(rnd, [0, -1, 2 ** 31, 2 ** 40]));
      t.shape = t.shape.map((d) => pick(rnd, [d, 4096, 65536]));
      return { kind: `${t.name} has stride [${t.stride}] over shape [${t.shape}]`, tensors, storages };
    case 'offset':
      t.offset = pick(rnd, [-4, -(2 ** 40), 2 ** 31, 2 ** 53, Number(t.numel)]);
      return { kind: `${t.name} starts at ${t.offset}`, tensors, storages };
    case 'numel':
      t.numel = pick(rnd, [2n ** 40n, -1, 0, 2 ** 31]);
      return { kind: `${t.name}'s storage claims ${t.numel} elements`, tensors, storages };
    case 'type':
      t.storageType = pick(rnd, ['constructor', '__proto__', 'toString', 'ComplexFloatStorage', 'NopeStorage', 'BFloat16Storage', 'HalfStorage', 'LongStorage']);
      return { kind: `${t.name} is a ${t.storageType}`, tensors, storages };
    case 'views': {
      // Every tensor is a full-size view of one shared storage: a few KB of data, repeated per view.
      const n = 200 + Math.floor(rnd() * 800);
      const shared = new Uint8Array(1024 * 1024);
      const views: FakeTensor[] = Array.from({ length: n }, (_, i) => ({ name: `body.${i}.weight`, storageKey: 'shared', numel: shared.byteLength / 4, offset: 0, shape: [shared.byteLength / 4], stride: [1] }));
      return { kind: `${n} overlapping 1 MB views of one storage`, tensors: views, storages: { shared } };
    }
    case 'missing':
      delete storages[t.storageKey!];
      return { kind: `${t.name}'s storage is missing`, tensors, storages };
    case 'name':
      t.name = pick(rnd, HOSTILE_NAMES);
      return { kind: `a tensor named ${JSON.stringify(t.name.slice(0, 20))}`, tensors, storages };
    case 'bomb': {
      // A legacy stream stores its data raw: a "bomb" is just a big file, so it gets a view bomb instead.
      if (format === 'legacy') return lieInCheckpoint(format, base, () => 0.45);
      const n = pick(rnd, [16, 64, 256]) * 1024 * 1024;
      return { kind: `a ${n >> 20} MB storage of zeros (deflated)`, tensors: [{ name: 'w', storageKey: 'w', numel: n / 4, offset: 0, shape: [n / 4], stride: [1] }], storages: { w: new Uint8Array(n) }, bomb: true };
    }
    case 'deep': {
      // Nested tuples, deeper than any recursion should go.
      const depth = pick(rnd, [1000, 100_000, 400_000]);
      const body = new Uint8Array(depth + 1);
      body.fill(0x28, 0, depth); // MARK, MARK, ...
      body[depth] = 0x29; // EMPTY_TUPLE
      return { kind: `${depth} nested marks`, tensors, storages, pickle: pickled(body) };
    }
    case 'code':
      return { kind: 'asks to run os.system', tensors, storages, pickle: pickled(global('os', 'system'), tuple(str('touch /tmp/restora-pwned')), new Uint8Array([0x52])) };
    case 'long': {
      const n = pick(rnd, [4096, 192 * 1024, 4 * 1024 * 1024]);
      const body = new Uint8Array(5 + n);
      body[0] = 0x8b; // LONG4
      new DataView(body.buffer).setUint32(1, n, true);
      body.fill(0x5a, 5);
      return { kind: `an integer of ${n} bytes`, tensors, storages, pickle: pickled(body) };
    }
  }
}

function checkpoint(format: 'pth' | 'legacy', base: BaseModel, rnd: Rnd): { kind: string; bytes: Uint8Array } {
  if (rnd() < 0.2) {
    const valid = format === 'pth' ? torchZip(base.tensors, base.storages) : torchLegacy(base.tensors, base.storages);
    // The pickle (first in both layouts) and, for a zip, its central directory at the end.
    const pickleEnd = format === 'pth' ? 64 + statePickle(base.tensors).length : valid.length - Object.values(base.storages).reduce((n, b) => n + 8 + b.length, 0);
    return damageBytes(
      valid,
      rnd,
      format === 'pth'
        ? [
            [0, pickleEnd],
            [valid.length - 2048, valid.length],
          ]
        : [[0, pickleEnd]],
    );
  }
  const lie = lieInCheckpoint(format, base, rnd);
  if (format === 'pth') return { kind: lie.kind, bytes: torchZip(lie.tensors, lie.storages, lie.bomb ? 6 : 0, lie.pickle) };
  if (lie.pickle) return { kind: lie.kind, bytes: cat(pickled(int(0x1950a86a20f9469cfc6cn)), pickled(int(1001)), pickled(dict([])), lie.pickle) };
  return { kind: lie.kind, bytes: torchLegacy(lie.tensors, lie.storages) };
}

function safetensorsFile(base: BaseModel, rnd: Rnd): { kind: string; bytes: Uint8Array } {
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of base.tensors) {
    const b = base.storages[t.name]!;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + b.byteLength] };
    chunks.push(b);
    offset += b.byteLength;
  }
  const data = cat(...chunks);
  if (rnd() < 0.2) {
    const file = safetensors(header, data);
    return damageBytes(file, rnd, [[0, file.length - data.length]]);
  }
  const name = pick(rnd, base.tensors).name;
  const entry = header[name] as { dtype: unknown; shape: unknown; data_offsets: unknown };
  switch (pick(rnd, ['shape', 'offsets', 'dtype', 'views', 'many', 'header-length', 'not-json', 'not-object', 'metadata', 'name'] as const)) {
    case 'shape':
      entry.shape = pick(rnd, [[2 ** 31, 2 ** 31], [-1, 4], [1.5], 'big', [2 ** 53], Array(1000).fill(2), [[1]], null]);
      return { kind: `${name} claims shape ${JSON.stringify(entry.shape).slice(0, 40)}`, bytes: safetensors(header, data) };
    case 'offsets':
      entry.data_offsets = pick(rnd, [[-4, 0], [0, 2 ** 53], [100, 4], [0, data.byteLength + 4], [0.5, 4.5], 'x', [0], null]);
      return { kind: `${name} has data_offsets ${JSON.stringify(entry.data_offsets)}`, bytes: safetensors(header, data) };
    case 'dtype':
      entry.dtype = pick(rnd, ['F64', 'I64', 'BOOL', 'C64', 'constructor', '__proto__', 7, null]);
      return { kind: `${name} has dtype ${JSON.stringify(entry.dtype)}`, bytes: safetensors(header, data) };
    case 'views': {
      const n = 200 + Math.floor(rnd() * 800);
      const h: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) h[`body.${i}.weight`] = { dtype: 'F32', shape: [262144], data_offsets: [0, 1048576] };
      return { kind: `${n} overlapping 1 MB views`, bytes: safetensors(h, new Uint8Array(1048576)) };
    }
    case 'many': {
      const n = pick(rnd, [10_000, 100_000]);
      const h: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) h[`t${i}`] = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
      return { kind: `${n} one-float tensors`, bytes: safetensors(h, new Uint8Array(4)) };
    }
    case 'header-length': {
      const bytes = safetensors(header, data);
      new DataView(bytes.buffer).setBigUint64(0, pick(rnd, [2n ** 63n, 2n ** 40n, BigInt(bytes.length), 0n]), true);
      return { kind: 'a header length past the file', bytes };
    }
    case 'not-json': {
      const h = enc.encode(`{"${name}": {"dtype": "F32", "shape": [`);
      const len = new Uint8Array(8);
      new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
      return { kind: 'a header cut mid-JSON', bytes: cat(len, h, data) };
    }
    case 'not-object': {
      const h = enc.encode(pick(rnd, ['[1,2,3]', '"x"', 'null', '7', JSON.stringify([header])]));
      const len = new Uint8Array(8);
      new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
      return { kind: 'a header that is not an object', bytes: cat(len, h, data) };
    }
    case 'metadata':
      header.__metadata__ = pick(rnd, [null, 7, { format: 'pt', nested: { deep: [1, 2] } }, 'x'.repeat(100_000)]);
      return { kind: 'odd __metadata__', bytes: safetensors(header, data) };
    case 'name': {
      const hostile = pick(rnd, HOSTILE_NAMES);
      const h = JSON.stringify(header).replace(JSON.stringify(name), JSON.stringify(hostile));
      return { kind: `a tensor named ${JSON.stringify(hostile.slice(0, 20))}`, bytes: safetensors(JSON.parse(h) as Record<string, unknown>, data) };
    }
  }
}

const NCNN_PARAM = fs.readFileSync(path.join(FIXTURES, 'srvgg-x4-ncnn.param'), 'utf8');
const NCNN_BIN = new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'srvgg-x4-ncnn.bin')));

function ncnnPair(rnd: Rnd): { kind: string; param: Uint8Array | string; bin: Uint8Array } {
  const r = rnd();
  if (r < 0.1) {
    const d = damageBytes(enc.encode(NCNN_PARAM), rnd);
    return { kind: `.param ${d.kind}`, param: d.bytes, bin: NCNN_BIN };
  }
  if (r < 0.15) {
    // The .bin's structure is its length and each layer's 4-byte tag: cuts and insertions shift them.
    const d = damageBytes(NCNN_BIN, rnd);
    if (/flipped|zeroed/.test(d.kind)) return { kind: `.bin cut at ${d.bytes.length >> 1}`, param: NCNN_PARAM, bin: NCNN_BIN.subarray(0, NCNN_BIN.length >> 1) };
    return { kind: `.bin ${d.kind}`, param: NCNN_PARAM, bin: d.bytes };
  }
  const lines = NCNN_PARAM.trim().split('\n');
  const li = 2 + Math.floor(rnd() * (lines.length - 2));
  const fields = lines[li]!.trim().split(/\s+/);
  switch (pick(rnd, ['magic', 'counts', 'value', 'key', 'array', 'type', 'blobs', 'layers', 'long-line', 'cycle'] as const)) {
    case 'magic':
      lines[0] = pick(rnd, ['7767518', '', 'x', '-1', '77675170000000000000']);
      return { kind: `magic ${lines[0]}`, param: lines.join('\n'), bin: NCNN_BIN };
    case 'counts':
      lines[1] = pick(rnd, ['3000000 3000001', '-1 -1', '0 0', '14', '1e9 2', '14 15 16', '99999999999999999999 1']);
      return { kind: `layer and blob counts "${lines[1]}"`, param: lines.join('\n'), bin: NCNN_BIN };
    case 'value': {
      const v = pick(rnd, ['-1', '2147483647', '1e30', 'nan', '0', '-2147483648', '3.5', '', 'x']);
      const k = pick(rnd, ['0', '1', '4', '5', '6', '11']);
      fields.push(`${k}=${v}`);
      lines[li] = fields.join(' ');
      return { kind: `${fields[1]} param ${k}=${v}`, param: lines.join('\n'), bin: NCNN_BIN };
    }
    case 'key': {
      // ncnn ignores keys a layer does not read (99999 imports): most here are malformed.
      const k = pick(rnd, ['99999', '-99999', '2147483648', '-23399', '__proto__', 'constructor', '1.5', '0x10', '', '=']);
      fields.push(`${k}=1`);
      lines[li] = fields.join(' ');
      return { kind: `${fields[1]} param key ${k}`, param: lines.join('\n'), bin: NCNN_BIN };
    }
    case 'array': {
      const n = pick(rnd, [-5, 0, 1_000_000, 2 ** 31, 3]);
      fields.push(`-23300=${n},1,2`);
      lines[li] = fields.join(' ');
      return { kind: `${fields[1]} array param of ${n}`, param: lines.join('\n'), bin: NCNN_BIN };
    }
    case 'type':
      fields[0] = pick(rnd, ['Nope', 'constructor', '__proto__', 'Convolution3D', 'MemoryData', 'Python', 'x'.repeat(1000)]);
      lines[li] = fields.join(' ');
      return { kind: `layer type ${fields[0]!.slice(0, 20)}`, param: lines.join('\n'), bin: NCNN_BIN };
    case 'blobs':
      fields[2] = pick(rnd, ['-1', '1000000', '0', 'x']);
      lines[li] = fields.join(' ');
      return { kind: `${fields[1]} takes ${fields[2]} inputs`, param: lines.join('\n'), bin: NCNN_BIN };
    case 'layers': {
      const n = pick(rnd, [20_001, 200_000]);
      const many = ['7767517', `${n} ${n + 1}`, 'Input in 0 1 x0 0=3'];
      for (let i = 1; i < n; i++) many.push(`ReLU r${i} 1 1 x${i - 1} x${i}`);
      return { kind: `${n} layers`, param: many.join('\n'), bin: NCNN_BIN };
    }
    case 'long-line':
      lines[li] = `${lines[li]} ${pick(rnd, ['7=1 ', '7=x ', '-23307=1,1 '] as const).repeat(pick(rnd, [10_000, 1_000_000]))}`;
      return { kind: `${fields[1]} with a very long line`, param: lines.join('\n'), bin: NCNN_BIN };
    case 'cycle':
      // A layer that reads the blob it writes.
      fields[4] = fields[5] ?? fields[4]!;
      lines[li] = fields.join(' ');
      return { kind: `${fields[1]} reads its own output`, param: lines.join('\n'), bin: NCNN_BIN };
  }
}

/** model.json of a Restora model folder, mutated. `template` holds a valid model.json and weights.bin. */
function folderCase(template: string, rnd: Rnd): { kind: string; modelJson: string; weights: Uint8Array } {
  const json = fs.readFileSync(path.join(template, 'model.json'), 'utf8');
  const weights = new Uint8Array(fs.readFileSync(path.join(template, 'weights.bin')));
  if (rnd() < 0.2) {
    const d = damageBytes(enc.encode(json), rnd);
    return { kind: `model.json ${d.kind}`, modelJson: new TextDecoder().decode(d.bytes), weights };
  }
  if (rnd() < 0.15) {
    const d = damageBytes(weights, rnd);
    return { kind: `weights.bin ${d.kind}`, modelJson: json, weights: d.bytes };
  }
  type Spec = { name: string; shape: unknown; dtype: unknown };
  const m = JSON.parse(json) as { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }; weightsManifest: { paths: unknown[]; weights: Spec[] }[] };
  const specs = m.weightsManifest[0]!.weights;
  const spec = pick(rnd, specs);
  const layers = m.modelTopology.config.layers;
  const layer = pick(rnd, layers);
  switch (pick(rnd, ['path', 'spec-shape', 'spec-dtype', 'filters', 'kernel', 'scale', 'class', 'topology', 'manifest', 'deep'] as const)) {
    case 'path':
      m.weightsManifest[0]!.paths = [pick(rnd, ['../../../../dev/zero', '/dev/zero', '/etc/passwd', '../weights.bin', 'missing.bin', '', '.', 7, 'weights.bin\u0000x'])];
      return { kind: `weight path ${JSON.stringify(m.weightsManifest[0]!.paths[0])}`, modelJson: JSON.stringify(m), weights };
    case 'spec-shape':
      spec.shape = pick(rnd, [[2 ** 31, 2 ** 31], [65536, 65536], [-1], [1.5], 'x', null, Array(500).fill(2)]);
      return { kind: `${spec.name} claims shape ${JSON.stringify(spec.shape).slice(0, 40)}`, modelJson: JSON.stringify(m), weights };
    case 'spec-dtype':
      spec.dtype = pick(rnd, ['string', 'complex64', 'int32', 'bool', 'constructor', 7]);
      return { kind: `${spec.name} is ${JSON.stringify(spec.dtype)}`, modelJson: JSON.stringify(m), weights };
    case 'filters':
      // A layer that claims a huge output: building it alone would allocate the kernel.
      layer.config.filters = pick(rnd, [1e6, 2 ** 31, -1, 0, 1.5, 65536]);
      layer.config.units = layer.config.filters;
      return { kind: `layer ${layer.class_name} with ${String(layer.config.filters)} filters`, modelJson: JSON.stringify(m), weights };
    case 'kernel':
      layer.config.kernel_size = pick(rnd, [[4096, 4096], [-1, -1], [0, 0], 3e9, 'x']);
      return { kind: `layer ${layer.class_name} with kernel ${JSON.stringify(layer.config.kernel_size)}`, modelJson: JSON.stringify(m), weights };
    case 'scale': {
      // Weightless layers that grow the picture: the 16x16 probe run must not become gigabytes.
      const grower = layers.find((l) => 'scale' in l.config) ?? layer;
      const scale = pick(rnd, [1024, 4096, 65536, 2 ** 31, -2, 0.001]);
      if (rnd() < 0.5) {
        // The same place in the graph, as tfjs's own upsampling layer.
        grower.class_name = 'UpSampling2D';
        grower.config = { name: grower.config.name, size: [scale, scale], interpolation: 'nearest', data_format: 'channels_last' };
      } else grower.config.scale = scale;
      return { kind: `layer ${grower.class_name} with scale ${scale}`, modelJson: JSON.stringify(m), weights };
    }
    case 'class':
      layer.class_name = pick(rnd, ['Lambda', 'Nope', '__proto__', 'constructor', 'Function', 'TensorFlowOpLayer']);
      return { kind: `a layer of class ${layer.class_name}`, modelJson: JSON.stringify(m), weights };
    case 'topology':
      (m as { modelTopology: unknown }).modelTopology = pick(rnd, [null, 7, 'x', [], { class_name: 'Sequential', config: { layers: 'x' } }, { class_name: 'Model', config: {} }]);
      return { kind: `topology ${JSON.stringify((m as { modelTopology: unknown }).modelTopology)}`, modelJson: JSON.stringify(m), weights };
    case 'manifest':
      (m as { weightsManifest: unknown }).weightsManifest = pick(rnd, [null, [], 'x', [{ paths: [], weights: [] }], [{ paths: ['weights.bin'], weights: specs.slice(1) }], [{ paths: ['weights.bin'], weights: [...specs, ...specs] }]]);
      return { kind: 'a mangled weights manifest', modelJson: JSON.stringify(m), weights };
    case 'deep': {
      const depth = pick(rnd, [1000, 100_000]);
      return { kind: `${depth} nested arrays in model.json`, modelJson: `${'['.repeat(depth)}${']'.repeat(depth)}`, weights };
    }
  }
}

/**
 * Writes `perFormat` hostile models of each format under `dir` and returns them. `template`
 * is a valid Restora model folder (model.json + weights.bin) to mutate for the folder format.
 */
export function writeHostileModels(dir: string, perFormat: number, seed: number, template: string, formats: readonly HostileFormat[] = HOSTILE_FORMATS): HostileCase[] {
  const rnd = prng(seed);
  const base = baseModel();
  const cases: HostileCase[] = [];
  for (const format of formats) {
    for (let i = 0; i < perFormat; i++) {
      const stem = `${format}-${String(i).padStart(3, '0')}`;
      if (format === 'pth' || format === 'legacy' || format === 'safetensors') {
        const { kind, bytes } = format === 'safetensors' ? safetensorsFile(base, rnd) : checkpoint(format, base, rnd);
        const p = path.join(dir, `${stem}.${format === 'safetensors' ? 'safetensors' : 'pth'}`);
        fs.writeFileSync(p, bytes);
        cases.push({ format, kind, path: p });
      } else if (format === 'ncnn') {
        const { kind, param, bin } = ncnnPair(rnd);
        const p = path.join(dir, `${stem}.param`);
        fs.writeFileSync(p, param);
        fs.writeFileSync(path.join(dir, `${stem}.bin`), bin);
        cases.push({ format, kind, path: p });
      } else {
        const { kind, modelJson, weights } = folderCase(template, rnd);
        const p = path.join(dir, stem);
        fs.mkdirSync(p);
        fs.writeFileSync(path.join(p, 'model.json'), modelJson);
        fs.writeFileSync(path.join(p, 'weights.bin'), weights);
        cases.push({ format, kind, path: p });
      }
    }
  }
  return cases;
}
