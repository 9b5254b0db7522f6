/**
 * Reading community model files into a plain state dict (name -> float32 tensor,
 * PyTorch's shapes): PyTorch `.pth`/`.pt` (zip since torch 1.6, and the legacy
 * stream format before it) and `.safetensors`. Nothing in a file is executed.
 */
import path from 'node:path';
import { RestoraError } from '../../../shared/errors.js';
import { PickleDict, unpickle, type PickleHooks } from './pickle.js';
import { MAX_MODEL_FILE_BYTES, readRegularFile, sizeText } from '../store/safeFile.js';
import { openZip } from './zip.js';

export interface RawTensor {
  /** PyTorch's shape (OIHW for conv weights). */
  shape: number[];
  data: Float32Array;
}
export type StateDict = Map<string, RawTensor>;

export { MAX_MODEL_FILE_BYTES };

/**
 * The float32 weights one file may expand to: 4 bytes per byte of the file (u8 data
 * becomes float32) plus 16 MB, at most 1 GB. Views that share or repeat storage (a
 * stride 0, 400 views of one buffer) claim more, and are refused before any copy.
 */
export const MAX_EXPANDED_BYTES = 1024 ** 3;
export function expansionLimit(fileBytes: number): number {
  return Math.min(MAX_EXPANDED_BYTES, 4 * fileBytes + 16 * 1024 ** 2);
}
const MAX_ELEMENTS = MAX_EXPANDED_BYTES / 4;

type DType = 'f32' | 'f16' | 'bf16' | 'f64' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';
const ELEMENT_BYTES: Record<DType, number> = { f32: 4, f16: 2, bf16: 2, f64: 8, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, bool: 1 };
// Maps, not objects: a name like "constructor" or "__proto__" must not be found on a prototype.
const TORCH_STORAGES = new Map<string, DType>(
  Object.entries({
    FloatStorage: 'f32',
    HalfStorage: 'f16',
    BFloat16Storage: 'bf16',
    DoubleStorage: 'f64',
    LongStorage: 'i64',
    IntStorage: 'i32',
    ShortStorage: 'i16',
    CharStorage: 'i8',
    ByteStorage: 'u8',
    BoolStorage: 'bool',
  } satisfies Record<string, DType>),
);
const SAFETENSORS_DTYPES = new Map<unknown, DType>(Object.entries({ F32: 'f32', F16: 'f16', BF16: 'bf16', F64: 'f64', I64: 'i64', I32: 'i32', I16: 'i16', I8: 'i8', U8: 'u8', BOOL: 'bool' } satisfies Record<string, DType>));

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Element i of a little-endian buffer of `dtype`, as a float. */
function reader(bytes: Uint8Array, dtype: DType): (i: number) => number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'f32':
      return (i) => v.getFloat32(i * 4, true);
    case 'f16':
      return (i) => halfToFloat(v.getUint16(i * 2, true));
    case 'bf16': {
      // bf16 is the top half of a float32.
      const scratch = new DataView(new ArrayBuffer(4));
      return (i) => {
        scratch.setUint32(0, v.getUint16(i * 2, true) << 16, true);
        return scratch.getFloat32(0, true);
      };
    }
    case 'f64':
      return (i) => v.getFloat64(i * 8, true);
    case 'i64':
      return (i) => Number(v.getBigInt64(i * 8, true));
    case 'i32':
      return (i) => v.getInt32(i * 4, true);
    case 'i16':
      return (i) => v.getInt16(i * 2, true);
    case 'i8':
      return (i) => v.getInt8(i);
    case 'u8':
    case 'bool':
      return (i) => v.getUint8(i);
  }
}

interface StorageRef {
  kind: 'storage';
  dtype: DType;
  key: string;
  numel: number;
  bytes?: Uint8Array;
}
interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

const ORDERED_DICT = Symbol('OrderedDict');
const REBUILD_TENSOR = Symbol('_rebuild_tensor');
const REBUILD_PARAMETER = Symbol('_rebuild_parameter');

function ints(v: unknown, what: string, file: string): number[] {
  if (!Array.isArray(v) || v.length > 16 || !v.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
    throw new RestoraError('MODEL_INVALID', `${file}: a tensor's ${what} is not a list of sizes`, file);
  }
  return v as number[];
}

function torchHooks(file: string, storages: Map<string, StorageRef>): PickleHooks {
  return {
    global(module, name) {
      if (module === 'collections' && name === 'OrderedDict') return ORDERED_DICT;
      if (module === 'torch._utils' && (name === '_rebuild_tensor_v2' || name === '_rebuild_tensor')) return REBUILD_TENSOR;
      if (module === 'torch._utils' && name === '_rebuild_parameter') return REBUILD_PARAMETER;
      const storage = module === 'torch' ? TORCH_STORAGES.get(name) : undefined;
      if (storage) return { storageType: storage };
      return undefined;
    },
    reduce(callable, args) {
      if (callable === ORDERED_DICT) return new PickleDict();
      if (callable === REBUILD_PARAMETER) return args[0];
      if (callable === REBUILD_TENSOR) {
        const storage = args[0] as StorageRef;
        if (storage?.kind !== 'storage') throw new RestoraError('MODEL_INVALID', `${file}: a tensor without storage`, file);
        // The offset is checked with the tensor's name, in plan().
        const offset = args[1] as number;
        return { kind: 'tensor', storage, offset, shape: ints(args[2], 'shape', file), stride: ints(args[3], 'stride', file) } satisfies TensorRef;
      }
      throw new RestoraError('MODEL_INVALID', `${file}: the checkpoint builds an object Restora does not read`, file);
    },
    persistentLoad(pid) {
      // ('storage', <storage type>, key, location, numel[, view metadata])
      const t = pid as unknown[];
      const type = (t?.[1] as { storageType?: DType } | undefined)?.storageType;
      if (!Array.isArray(t) || t[0] !== 'storage' || !type || (typeof t[2] !== 'string' && typeof t[2] !== 'number')) {
        throw new RestoraError('MODEL_INVALID', `${file}: an unknown persistent reference in the pickle`, file);
      }
      const key = String(t[2]);
      let s = storages.get(key);
      if (!s) {
        s = { kind: 'storage', dtype: type, key, numel: typeof t[4] === 'number' ? t[4] : -1 };
        storages.set(key, s);
      }
      return s;
    },
  };
}

/** Elements of `shape`, refused (named) past MAX_ELEMENTS without ever multiplying out an overflow. */
function numel(name: string, shape: number[], file: string): number {
  // An empty tensor still has no side over the limit: later steps (layouts, transposes) size arrays by single sides.
  if (shape.some((d) => d > MAX_ELEMENTS)) {
    throw new RestoraError('MODEL_INVALID', `${file}: tensor ${name} has shape [${shape}]: a side longer than Restora reads in one tensor (${MAX_ELEMENTS})`, file);
  }
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > MAX_ELEMENTS) {
      throw new RestoraError('MODEL_INVALID', `${file}: tensor ${name} has shape [${shape}]: more elements than Restora reads in one tensor (${MAX_ELEMENTS})`, file);
    }
  }
  return n;
}

/** Refuses a state dict whose float32 copies would take more than its file allows, before any is made. */
function checkExpansion(totalElements: number, fileBytes: number, file: string): void {
  const limit = expansionLimit(fileBytes);
  if (totalElements * 4 > limit) {
    throw new RestoraError(
      'MODEL_INVALID',
      `${file}: its tensors would expand to ${sizeText(totalElements * 4)} of float32 weights, over the limit of ${sizeText(limit)} for a ${sizeText(fileBytes)} file (views that share or repeat their data?)`,
      file,
    );
  }
}

/** Checks one view against its storage: offset, strides and every element it reads lie inside the data. */
function plan(name: string, t: TensorRef, file: string): number {
  const bytes = t.storage.bytes;
  if (!bytes) throw new RestoraError('MODEL_INVALID', `${file}: the data of tensor ${name} is missing (truncated file?)`, file);
  if (!Number.isSafeInteger(t.offset) || t.offset < 0) throw new RestoraError('MODEL_INVALID', `${file}: tensor ${name}'s offset is not a size (${String(t.offset)})`, file);
  if (t.stride.length !== t.shape.length) throw new RestoraError('MODEL_INVALID', `${file}: tensor ${name} has ${t.shape.length} sizes and ${t.stride.length} strides`, file);
  const available = Math.floor(bytes.byteLength / ELEMENT_BYTES[t.storage.dtype]);
  const n = numel(name, t.shape, file);
  if (n === 0) return 0;
  // A view may not hold more elements than its storage: only a stride 0 or overlapping strides could, repeating data.
  if (n > available) throw new RestoraError('MODEL_INVALID', `${file}: tensor ${name} has ${n} elements but its storage holds ${available}: a view that repeats its data (stride 0?) is not read`, file);
  // The furthest element this view reads (each term < available * 2^53 would not be exact: checked in steps).
  let last = t.offset;
  for (let i = 0; i < t.shape.length; i++) {
    last += (t.shape[i]! - 1) * t.stride[i]!;
    if (!Number.isSafeInteger(last) || last >= available) {
      throw new RestoraError('MODEL_INVALID', `${file}: tensor ${name} reads past its data (${available} elements): the file is truncated or corrupt`, file);
    }
  }
  return n;
}

function materialise(t: TensorRef, n: number): RawTensor {
  const get = reader(t.storage.bytes!, t.storage.dtype);
  const out = new Float32Array(n);
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let src = t.offset;
    for (let d = 0; d < rank; d++) src += idx[d]! * t.stride[d]!;
    out[i] = get(src);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < t.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape: [...t.shape], data: out };
}

/** Checkpoints wrap the weights: {params_ema: ...} (Real-ESRGAN), {params}, {state_dict}, {model}... */
const WRAPPERS = ['params_ema', 'params', 'state_dict', 'model_state_dict', 'model', 'net', 'netG', 'generator', 'g'];

function collectTensors(root: unknown, file: string): Map<string, TensorRef> {
  let obj = root;
  for (;;) {
    if (!(obj instanceof Map)) throw new RestoraError('MODEL_INVALID', `${file}: holds no state dict (its top level is not a dict of tensors)`, file);
    const hasTensors = [...obj.values()].some((v) => (v as TensorRef)?.kind === 'tensor');
    const wrapper = hasTensors ? undefined : WRAPPERS.find((k) => obj instanceof Map && obj.get(k) instanceof Map);
    if (!wrapper) break;
    obj = obj.get(wrapper);
  }
  const out = new Map<string, TensorRef>();
  for (const [k, v] of obj as Map<unknown, unknown>) {
    if ((v as TensorRef)?.kind === 'tensor' && typeof k === 'string') out.set(k.startsWith('module.') ? k.slice(7) : k, v as TensorRef);
  }
  if (out.size === 0) throw new RestoraError('MODEL_INVALID', `${file}: holds no tensors`, file);
  return out;
}

/** Every view is checked, and the float32 total bounded by the file's size, before the first copy. */
function toStateDict(refs: Map<string, TensorRef>, fileBytes: number, file: string): StateDict {
  const sizes = new Map<string, number>();
  let total = 0;
  for (const [k, t] of refs) {
    const n = plan(k, t, file);
    sizes.set(k, n);
    total += n;
  }
  checkExpansion(total, fileBytes, file);
  const sd: StateDict = new Map();
  for (const [k, t] of refs) sd.set(k, materialise(t, sizes.get(k)!));
  return sd;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** Legacy torch.save streams start with a pickled magic number (LONG1, 10 bytes). */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function readTorchZip(buf: Uint8Array, file: string): StateDict {
  // Entries are read only when needed, and inflated only within the archive's budget.
  const zip = openZip(buf, file, MAX_MODEL_FILE_BYTES);
  const pkl = zip.names().find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new RestoraError('MODEL_INVALID', `${file}: a zip file without data.pkl is not a PyTorch checkpoint`, file);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = zip.read(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order).trim() !== 'little') {
    throw new RestoraError('MODEL_INVALID', `${file}: big-endian checkpoints are not supported`, file);
  }
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(zip.read(pkl)!, torchHooks(file, storages), file);
  const refs = collectTensors(value, file);
  for (const s of storages.values()) s.bytes = zip.read(`${prefix}data/${s.key}`);
  return toStateDict(refs, buf.byteLength, file);
}

function readTorchLegacy(buf: Uint8Array, file: string): StateDict {
  const noHooks: PickleHooks = {
    global: () => undefined,
    reduce: () => undefined,
    persistentLoad: () => undefined,
  };
  const magic = unpickle(buf, noHooks, file);
  if (magic.value !== LEGACY_MAGIC) throw new RestoraError('MODEL_INVALID', `${file}: not a PyTorch checkpoint (no zip archive, no legacy magic number)`, file);
  const protocol = unpickle(buf, noHooks, file, magic.end);
  const sysInfo = unpickle(buf, noHooks, file, protocol.end);
  const little = sysInfo.value instanceof Map ? sysInfo.value.get('little_endian') : true;
  if (little === false) throw new RestoraError('MODEL_INVALID', `${file}: big-endian checkpoints are not supported`, file);
  const storages = new Map<string, StorageRef>();
  const main = unpickle(buf, torchHooks(file, storages), file, sysInfo.end);
  const keys = unpickle(buf, noHooks, file, main.end);
  if (!Array.isArray(keys.value)) throw new RestoraError('MODEL_INVALID', `${file}: the storage list is missing`, file);
  let pos = keys.end;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const key of keys.value as unknown[]) {
    const s = storages.get(String(key));
    if (!s) throw new RestoraError('MODEL_INVALID', `${file}: data for an unknown storage ${String(key)}`, file);
    if (pos + 8 > buf.byteLength) throw new RestoraError('MODEL_INVALID', `${file}: the tensor data is truncated`, file);
    const numel = Number(view.getBigInt64(pos, true));
    const len = numel * ELEMENT_BYTES[s.dtype];
    pos += 8;
    if (numel < 0 || pos + len > buf.byteLength) throw new RestoraError('MODEL_INVALID', `${file}: the tensor data is truncated`, file);
    s.bytes = buf.subarray(pos, pos + len);
    pos += len;
  }
  return toStateDict(collectTensors(main.value, file), buf.byteLength, file);
}

export function readSafetensors(buf: Uint8Array, file: string): StateDict {
  const bad = (why: string): never => {
    throw new RestoraError('MODEL_INVALID', `${file}: not a readable .safetensors file (${why})`, file);
  };
  if (buf.byteLength < 8) bad('too short');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = Number(view.getBigUint64(0, true));
  if (hlen > buf.byteLength - 8 || hlen > 100 * 1024 * 1024) bad('the header is longer than the file');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + hlen)));
  } catch {
    return bad('the header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return bad('the header is not a JSON object');
  const data = buf.subarray(8 + hlen);
  // Every tensor's byte range is checked, and the float32 total bounded, before the first copy.
  const planned: { name: string; dtype: DType; shape: number[]; n: number; b: number; e: number }[] = [];
  let total = 0;
  for (const [name, t] of Object.entries(header as Record<string, { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null>)) {
    if (name === '__metadata__') continue;
    const dtype = SAFETENSORS_DTYPES.get(t?.dtype);
    if (!dtype) return bad(`tensor ${name} has dtype ${String(t?.dtype)}`);
    const shape = ints(t?.shape, 'shape', file);
    const n = numel(name, shape, file);
    const offsets = t?.data_offsets;
    const [b, e] = Array.isArray(offsets) ? (offsets as unknown[]) : [];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !Number.isSafeInteger(b) || !Number.isSafeInteger(e) || (b as number) < 0 || (e as number) < (b as number)) {
      return bad(`tensor ${name} has data_offsets ${JSON.stringify(offsets)}: not a byte range of the data`);
    }
    if ((e as number) > data.byteLength) bad(`tensor ${name} points outside the data (truncated file?)`);
    if ((e as number) - (b as number) !== n * ELEMENT_BYTES[dtype]) bad(`tensor ${name} has ${(e as number) - (b as number)} bytes for ${n} elements of ${String(t?.dtype)}`);
    planned.push({ name, dtype, shape, n, b: b as number, e: e as number });
    total += n;
  }
  checkExpansion(total, buf.byteLength, file);
  const sd: StateDict = new Map();
  for (const { name, dtype, shape, n, b, e } of planned) {
    const get = reader(data.subarray(b, e), dtype);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = get(i);
    sd.set(name.startsWith('module.') ? name.slice(7) : name, { shape, data: out });
  }
  if (sd.size === 0) bad('it holds no tensors');
  return sd;
}

/** A model file's bytes: only a regular file (never a pipe, device or folder), refused over MAX_MODEL_FILE_BYTES before reading. */
export function readModelFile(file: string): Uint8Array {
  return readRegularFile(file, MAX_MODEL_FILE_BYTES);
}

/** Reads a PyTorch or safetensors file (or its bytes, already read) into a state dict; refuses big, truncated or code-carrying files. */
export function readStateDict(file: string, buf: Uint8Array = readModelFile(file)): StateDict {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.safetensors') return readSafetensors(buf, file);
  if (ZIP_MAGIC.every((b, i) => buf[i] === b)) return readTorchZip(buf, file);
  if (buf[0] === 0x80) return readTorchLegacy(buf, file);
  throw new RestoraError('MODEL_INVALID', `${file}: not a PyTorch checkpoint or .safetensors file`, file);
}
