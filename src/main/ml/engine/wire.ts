/**
 * Binary framing for engine messages over a WebSocket: a JSON header in which
 * typed arrays are replaced by references, followed by their bytes. Float
 * tiles and weights cross as raw bytes, not as JSON numbers.
 *
 * Frame: u32 header length | header JSON | blob 0 | blob 1 | ...
 */
type Blob = Float32Array | Int32Array | Uint8Array;
const KINDS = { f32: Float32Array, i32: Int32Array, u8: Uint8Array } as const;
type Kind = keyof typeof KINDS;

function kindOf(v: unknown): Kind | null {
  if (v instanceof Float32Array) return 'f32';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Uint8Array) return 'u8';
  return null;
}

export function encodeFrame(message: unknown): Uint8Array {
  const blobs: Blob[] = [];
  const header = JSON.stringify(message, function (this: unknown, _key, value: unknown) {
    const kind = kindOf(value);
    if (!kind) return value;
    blobs.push(value as Blob);
    return { $blob: blobs.length - 1, kind, length: (value as Blob).length };
  });
  const head = new TextEncoder().encode(header);
  // Blobs start on 4-byte boundaries so they can be viewed as Float32Array without copying.
  let size = 4 + head.byteLength;
  const offsets: number[] = [];
  for (const b of blobs) {
    size = Math.ceil(size / 4) * 4;
    offsets.push(size);
    size += b.byteLength;
  }
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, head.byteLength, true);
  out.set(head, 4);
  blobs.forEach((b, i) => out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), offsets[i]));
  return out;
}

export function decodeFrame<T>(frame: Uint8Array): T {
  if (frame.byteLength < 4) throw new Error('engine frame too short');
  // Copy to an aligned buffer of our own (a WebSocket frame may sit at any offset of a shared pool).
  const buf = new Uint8Array(frame.byteLength);
  buf.set(frame);
  const headLen = new DataView(buf.buffer).getUint32(0, true);
  if (4 + headLen > buf.byteLength) throw new Error('engine frame header runs past the frame');
  let pos = 4 + headLen;
  const blobs: { kind: Kind; length: number }[] = [];
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(4, 4 + headLen)), (_key, value: unknown) => {
    if (value && typeof value === 'object' && '$blob' in value) {
      const ref = value as { $blob: number; kind: Kind; length: number };
      blobs[ref.$blob] = ref;
      return ref; // replaced below, once the order of blobs is known
    }
    return value;
  }) as unknown;
  const arrays = blobs.map((ref) => {
    const Ctor = KINDS[ref.kind];
    if (!Ctor) throw new Error(`engine frame has an unknown array kind ${String(ref.kind)}`);
    pos = Math.ceil(pos / 4) * 4;
    const bytes = ref.length * Ctor.BYTES_PER_ELEMENT;
    if (pos + bytes > buf.byteLength) throw new Error('engine frame blob runs past the frame');
    const arr = new Ctor(buf.buffer, pos, ref.length);
    pos += bytes;
    return arr;
  });
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') {
      if ('$blob' in v) return arrays[(v as { $blob: number }).$blob];
      for (const [k, x] of Object.entries(v)) (v as Record<string, unknown>)[k] = resolve(x);
    }
    return v;
  };
  return resolve(header) as T;
}
