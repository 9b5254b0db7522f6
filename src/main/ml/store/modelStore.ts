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
import { loadBoundedLayersModel } from './boundedLoad.js';
import { confinedFile, insideFolder, MAX_MODEL_FILE_BYTES, readRegularFile, sizeText, statRegular } from './safeFile.js';
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

/** model.json is topology and a manifest: far below this. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 ** 2;

type ModelJson = { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };

/**
 * A model folder's model.json and the weight files it names, checked before any weight is
 * read: each path relative and inside the folder (no "..", no absolute path, no link out),
 * each a regular file, all together within MAX_MODEL_FILE_BYTES.
 */
export function modelFolderFiles(dir: string): { json: ModelJson; specs: tf.io.WeightsManifestEntry[]; weights: { rel: string; abs: string; bytes: number }[] } {
  const jsonPath = insideFolder(dir, path.join(dir, 'model.json'), 'the model folder');
  let json: ModelJson;
  try {
    json = JSON.parse(new TextDecoder().decode(readRegularFile(jsonPath, MAX_MODEL_JSON_BYTES, 'a model.json')));
  } catch (err) {
    if (err instanceof RestoraError) throw err;
    throw new RestoraError('MODEL_INVALID', `Cannot read model ${jsonPath}: ${(err as Error).message}`, jsonPath);
  }
  const groups = json?.weightsManifest ?? [];
  if (!Array.isArray(groups) || !groups.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))) {
    throw new RestoraError('MODEL_INVALID', `${jsonPath}: weightsManifest is not a list of {paths, weights}`, jsonPath);
  }
  const weights: { rel: string; abs: string; bytes: number }[] = [];
  let total = 0;
  for (const group of groups) {
    for (const rel of group.paths) {
      const abs = confinedFile(dir, rel, 'weight path');
      const bytes = statRegular(abs).size;
      total += bytes;
      if (total > MAX_MODEL_FILE_BYTES) throw new RestoraError('MODEL_INVALID', `${dir}: its weight files take over the ${sizeText(MAX_MODEL_FILE_BYTES, true)} limit for a model`, dir);
      weights.push({ rel, abs, bytes });
    }
  }
  const specs = groups.flatMap((g) => g.weights);
  // What the manifest says the weights are must be exactly what the files hold.
  let declared = 0;
  for (const s of specs) {
    const bytesEach = s?.quantization ? QUANTIZED_BYTES[String(s.quantization.dtype)] : WEIGHT_BYTES[String(s?.dtype ?? 'float32')];
    if (typeof s?.name !== 'string' || !Array.isArray(s.shape) || !s.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || !bytesEach) {
      throw new RestoraError('MODEL_INVALID', `${jsonPath}: weight ${JSON.stringify(s?.name ?? null)?.slice(0, 80)} has a shape or type tfjs cannot read (${JSON.stringify({ shape: s?.shape, dtype: s?.dtype }).slice(0, 120)})`, jsonPath);
    }
    declared += s.shape.reduce((a, d) => a * d, 1) * bytesEach;
    if (declared > total) break;
  }
  if (declared !== total) throw new RestoraError('MODEL_INVALID', `${jsonPath}: its weights manifest declares ${declared} bytes of weights but the weight files hold ${total}`, jsonPath);
  return { json, specs, weights };
}

const WEIGHT_BYTES: Record<string, number> = { float32: 4, int32: 4 };
const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** A model folder's topology, weight specs and weights, read and checked; nothing is built. */
export function readModelArtifacts(dir: string): { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[]; weightData: Uint8Array } {
  const { json, specs, weights } = modelFolderFiles(dir);
  const weightData = new Uint8Array(weights.reduce((n, w) => n + w.bytes, 0));
  let off = 0;
  for (const w of weights) {
    const b = readRegularFile(w.abs, w.bytes, 'this weight file (it grew while being read)');
    if (b.byteLength !== w.bytes) throw new RestoraError('MODEL_INVALID', `${w.abs}: it changed while being read`, w.abs);
    weightData.set(b, off);
    off += b.byteLength;
  }
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData };
}

export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const a = readModelArtifacts(dir);
  try {
    return await loadBoundedLayersModel({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData.buffer as ArrayBuffer });
  } catch (err) {
    throw new RestoraError('MODEL_INVALID', `Model in ${dir} does not load: ${(err as Error).message}`, dir);
  }
}

export { encodeNamedTensors, decodeNamedTensors, type NamedTensor } from '../core/namedTensors.js';
