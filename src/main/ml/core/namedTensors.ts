/** Named tensors (optimizer state, EMA shadows) as one JSON header + binary blob; no file system, so it runs in a browser too. */
import * as tf from '@tensorflow/tfjs';

export type NamedTensor = { name: string; tensor: tf.Tensor };

/** Serialises named tensors (optimizer state) to one JSON header + binary blob. */
export async function encodeNamedTensors(named: NamedTensor[]): Promise<Uint8Array> {
  const specs: { name: string; shape: number[]; dtype: string; bytes: number }[] = [];
  const parts: Uint8Array[] = [];
  for (const { name, tensor } of named) {
    const data = (await tensor.data()) as Float32Array | Int32Array;
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    specs.push({ name, shape: tensor.shape, dtype: tensor.dtype, bytes: bytes.byteLength });
    parts.push(bytes);
  }
  const header = new TextEncoder().encode(JSON.stringify(specs));
  const out = new Uint8Array(4 + header.byteLength + parts.reduce((n, p) => n + p.byteLength, 0));
  new DataView(out.buffer).setUint32(0, header.byteLength, true);
  out.set(header, 4);
  let off = 4 + header.byteLength;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

export function decodeNamedTensors(buf: Uint8Array): NamedTensor[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = view.getUint32(0, true);
  const specs = JSON.parse(new TextDecoder().decode(buf.subarray(4, 4 + hlen))) as {
    name: string;
    shape: number[];
    dtype: 'float32' | 'int32';
    bytes: number;
  }[];
  let off = 4 + hlen;
  return specs.map((s) => {
    const bytes = buf.slice(off, off + s.bytes);
    off += s.bytes;
    const arr = s.dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    return { name: s.name, tensor: tf.tensor(arr, s.shape, s.dtype) };
  });
}
