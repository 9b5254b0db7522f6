/**
 * Models on disk: tfjs layers `model.json` + `weights.bin` + `card.json`.
 * tfjs's file:// handler lives in tfjs-node, which may be absent, so saving and
 * loading go through small IO handlers over node:fs here. Writes are atomic.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
type NamedTensor = { name: string; tensor: tf.Tensor };
import { RestoraError } from '../../../shared/errors.js';
import '../archs/index.js';
import { writeFileAtomic } from '../../imaging/atomic.js';
export { readCard, writeCard } from './modelCard.js';

export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      writeFileAtomic(path.join(dir, 'weights.bin'), weights);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
}

export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = path.join(dir, 'model.json');
  let json: {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    throw new RestoraError('MODEL_INVALID', `Cannot read model ${jsonPath}: ${(err as Error).message}`, jsonPath);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    weightData.set(b, off);
    off += b.byteLength;
  }
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer }),
    );
  } catch (err) {
    throw new RestoraError('MODEL_INVALID', `Model in ${dir} does not load: ${(err as Error).message}`, dir);
  }
}

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
