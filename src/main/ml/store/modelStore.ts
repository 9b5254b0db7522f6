/**
 * Models on disk: tfjs layers `model.json` + `weights.bin` + `card.json`.
 * tfjs's file:// handler lives in tfjs-node, which may be absent, so saving and
 * loading go through small IO handlers over node:fs here. Writes are atomic.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
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

/** A model folder's topology, weight specs and weights, read and checked; nothing is built. */
export function readModelArtifacts(dir: string): { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[]; weightData: Uint8Array } {
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
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData };
}

export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const a = readModelArtifacts(dir);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData.buffer as ArrayBuffer }));
  } catch (err) {
    throw new RestoraError('MODEL_INVALID', `Model in ${dir} does not load: ${(err as Error).message}`, dir);
  }
}

export { encodeNamedTensors, decodeNamedTensors, type NamedTensor } from './namedTensors.js';
