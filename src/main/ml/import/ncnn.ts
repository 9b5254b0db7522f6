/**
 * ncnn models (`.param` graph text + `.bin` weights), as Upscayl ships Real-ESRGAN.
 * The graph is parsed, bounded and its weights read here; each architecture's folder
 * recognises its own pattern (registerNcnnDetector: rrdbnet/ncnn.ts, srvgg/ncnn.ts) and maps
 * the convolutions, in graph order, to the canonical layers a PyTorch import gives.
 * Formats per ncnn's wiki ("param and model file structure").
 */
import { RestoraError } from '../../../shared/errors.js';
import { getArch, listNcnnDetectors, type DetectedModel } from '../archs/index.js';
import { ncnnParam, type NcnnGraph, type NcnnLayer } from '../archs/ncnnGraph.js';
import { readRegularFile } from '../store/safeFile.js';
import { halfToFloat, readModelFile, type RawTensor } from './stateDict.js';

/** Real-ESRGAN x4plus has 999 layers in a 117 KB .param: these leave ample room, and bound what a graph can cost. */
export const MAX_NCNN_LAYERS = 20_000;
export const MAX_NCNN_PARAM_BYTES = 16 * 1024 ** 2;

/** A .param file's bytes, refused over MAX_NCNN_PARAM_BYTES before reading. */
export function readNcnnParamFile(file: string): Uint8Array {
  return readRegularFile(file, MAX_NCNN_PARAM_BYTES, 'an ncnn .param file');
}

/** Layer types this importer understands (everything else is refused, named). */
const KNOWN = new Set(['Input', 'Convolution', 'ReLU', 'PReLU', 'Split', 'Concat', 'Eltwise', 'BinaryOp', 'Interp', 'PixelShuffle']);

export function parseNcnnParam(text: string, file: string): NcnnLayer[] {
  const bad = (why: string): never => {
    throw new RestoraError('MODEL_INVALID', `${file}: not a readable ncnn .param file (${why})`, file);
  };
  // Lines one at a time: the header's layer count is checked before the rest is split.
  let at = 0;
  const nextLine = (): string | undefined => {
    while (at < text.length) {
      let e = text.indexOf('\n', at);
      if (e < 0) e = text.length;
      const l = text.slice(at, e).trim();
      at = e + 1;
      if (l !== '') return l;
    }
    return undefined;
  };
  if (nextLine() !== '7767517') bad('the first line is not the magic number 7767517');
  const layerCount = Number((nextLine() ?? '').split(/\s+/)[0]);
  if (!Number.isSafeInteger(layerCount) || layerCount <= 0) bad(`it declares ${layerCount} layers`);
  if (layerCount > MAX_NCNN_LAYERS) bad(`it declares ${layerCount} layers, over the limit of ${MAX_NCNN_LAYERS}`);
  const layers: NcnnLayer[] = [];
  for (let line = nextLine(); line !== undefined; line = nextLine()) {
    if (layers.length === layerCount) bad(`it declares ${layerCount} layers and holds more`);
    const f = line.trim().split(/\s+/);
    const [type, name] = f;
    const nb = Number(f[2]);
    const nt = Number(f[3]);
    if (!type || !name || !Number.isInteger(nb) || !Number.isInteger(nt) || nb < 0 || nt < 0 || f.length < 4 + nb + nt) bad(`a malformed layer line: ${line.slice(0, 80)}`);
    const params = new Map<number, number | number[]>();
    for (const kv of f.slice(4 + nb + nt)) {
      const m = /^(-?\d+)=(.*)$/.exec(kv);
      if (!m) bad(`a malformed parameter "${kv}" in layer ${name}`);
      const id = Number(m![1]);
      if (id <= -23300) {
        // -233xx=n,v1,...,vn: the count must match what follows.
        const values = m![2]!.split(',').map(Number);
        if (values[0] !== values.length - 1 || values.some((v) => !Number.isFinite(v))) bad(`layer ${name}'s array parameter ${id} declares ${values[0]} values and gives ${values.length - 1}`);
        params.set(-23300 - id, values.slice(1));
      } else {
        params.set(id, Number(m![2]));
      }
    }
    layers.push({ type: type!, name: name!, bottoms: f.slice(4, 4 + nb), tops: f.slice(4 + nb, 4 + nb + nt), params });
  }
  if (layers.length !== layerCount) bad(`it declares ${layerCount} layers and holds ${layers.length}`);
  // The graph must be wired in order: each blob made once, by one layer, before a layer reads it.
  const made = new Set<string>();
  for (const l of layers) {
    for (const b of l.bottoms) if (!made.has(b)) bad(`layer ${l.name} reads blob ${b} before any layer makes it`);
    for (const t of l.tops) {
      if (made.has(t)) bad(`blob ${t} is made twice (again by layer ${l.name})`);
      made.add(t);
    }
  }
  const unknown = [...new Set(layers.filter((l) => !KNOWN.has(l.type)).map((l) => l.type))];
  if (unknown.length) {
    throw new RestoraError('UNSUPPORTED', `${file}: unsupported architecture: the graph uses layer types Restora does not import (${unknown.join(', ')})`, file);
  }
  return layers;
}

const p = ncnnParam;

/** Sizes that decide allocations must be positive whole numbers; refused by layer and name before the .bin is read. */
function checkSizes(layers: NcnnLayer[], file: string): void {
  const positive = (l: NcnnLayer, id: number, fallback: number, what: string) => {
    const v = p(l, id, fallback);
    if (!Number.isSafeInteger(v) || v <= 0) throw new RestoraError('MODEL_INVALID', `${file}: layer ${l.name} has ${what} ${v}: not a positive whole number`, file);
  };
  for (const l of layers) {
    if (l.type === 'Convolution') {
      positive(l, 0, 0, 'output channels');
      positive(l, 1, 0, 'kernel width');
      positive(l, 11, p(l, 1, 0), 'kernel height');
      positive(l, 6, 0, 'weight count');
    } else if (l.type === 'PReLU') {
      positive(l, 0, 1, 'slope count');
    } else if (l.type === 'PixelShuffle') {
      positive(l, 0, 1, 'upscale factor');
    }
  }
}

/** Reads the .bin blobs of each weighted layer, in order. ncnn's tag tells fp16 from fp32 conv weights. */
function readWeights(layers: NcnnLayer[], bin: Uint8Array, file: string): Map<string, RawTensor[]> {
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  let pos = 0;
  const short = (what: string): never => {
    throw new RestoraError('MODEL_INVALID', `${file}: the .bin is too short for its .param (it ends in ${what})`, file);
  };
  const raw = (n: number, shape: number[], what: string): RawTensor => {
    if (pos + 4 * n > bin.byteLength) short(what);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(pos + 4 * i, true);
    pos += 4 * n;
    return { shape, data };
  };
  const tagged = (n: number, shape: number[], what: string): RawTensor => {
    if (pos + 4 > bin.byteLength) short(what);
    const tag = view.getUint32(pos, true);
    pos += 4;
    if (tag === 0x01306b47) {
      if (pos + 2 * n > bin.byteLength) short(what);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(pos + 2 * i, true));
      pos += Math.ceil((2 * n) / 4) * 4;
      return { shape, data };
    }
    if (tag === 0 || tag === 0x0002c056) return raw(n, shape, what);
    throw new RestoraError('UNSUPPORTED', `${file}: ${what} is stored quantised (tag 0x${tag.toString(16)}); Restora imports fp32 and fp16 ncnn models`, file);
  };
  const out = new Map<string, RawTensor[]>();
  for (const l of layers) {
    if (l.type === 'Convolution') {
      const co = p(l, 0, 0);
      const kw = p(l, 1, 0);
      const kh = p(l, 11, kw);
      const size = p(l, 6, 0);
      const ci = size / (co * kw * kh);
      if (!Number.isInteger(ci) || ci <= 0) throw new RestoraError('MODEL_INVALID', `${file}: layer ${l.name} has ${size} weights, not a whole number of ${co}x${kh}x${kw} filters`, file);
      const w = tagged(size, [co, ci, kh, kw], `layer ${l.name}`);
      out.set(l.name, p(l, 5, 0) ? [w, raw(co, [co], `layer ${l.name}'s bias`)] : [w]);
    } else if (l.type === 'PReLU') {
      const n = p(l, 0, 1);
      out.set(l.name, [raw(n, [n], `layer ${l.name}`)]);
    }
  }
  if (pos !== bin.byteLength) throw new RestoraError('MODEL_INVALID', `${file}: the .bin holds ${bin.byteLength - pos} bytes more than its .param uses: not the pair of this graph`, file);
  return out;
}

/** Reads an ncnn .param/.bin pair (or their bytes, already read) and recognises its architecture among those registered. */
export function readNcnnModel(paramFile: string, binFile: string, [param, bin] = [readNcnnParamFile(paramFile), readModelFile(binFile)]): DetectedModel {
  if (param!.byteLength > MAX_NCNN_PARAM_BYTES) throw new RestoraError('MODEL_INVALID', `${paramFile}: over the ${MAX_NCNN_PARAM_BYTES / 1024 ** 2} MB limit for an ncnn .param file`, paramFile);
  const layers = parseNcnnParam(new TextDecoder('latin1').decode(param), paramFile);
  checkSizes(layers, paramFile);
  const graph: NcnnGraph = { file: paramFile, layers, weights: readWeights(layers, bin!, binFile) };
  for (const d of listNcnnDetectors()) {
    const found = d.detect(graph);
    if (found) return found;
  }
  const known = listNcnnDetectors().map((d) => getArch(d.arch).importName ?? d.arch);
  const counts = [...new Set(layers.map((l) => l.type))].map((t) => `${layers.filter((l) => l.type === t).length} ${t}`).join(', ');
  throw new RestoraError('UNSUPPORTED', `${paramFile}: unsupported architecture: the ncnn graph (${counts}) is none Restora imports from ncnn (${known.join('; ')})`, paramFile);
}
