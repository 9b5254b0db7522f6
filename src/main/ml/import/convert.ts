/**
 * Turns a community model file into a Restora model folder (tfjs layers model +
 * card). Runs in the compute worker: it builds the network, checks it on a test
 * input and times it on this machine. Writes only into `outDir`.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelCard, ModelFormat } from '../../../shared/api.js';
import { RestoraError } from '../../../shared/errors.js';
import { activeBackend } from '../backend.js';
import { saveLayersModel, writeCard } from '../store/modelStore.js';
import { buildImportedModel } from './buildModel.js';
import { detectArchitecture, type DetectedModel } from './detect.js';
import { readNcnnModel, readNcnnParamFile } from './ncnn.js';
import { readModelFile, readStateDict } from './stateDict.js';

export interface ImportSource {
  format: Exclude<ModelFormat, 'restora'>;
  /** The weights file first; ncnn: [.param, .bin]. */
  files: string[];
}

export interface ImportMeta {
  id: string;
  name: string;
  license?: string;
}

/** A model's inputs for image x: a face model with a fidelity input (CodeFormer) gets w = 0.5 beside it. */
function probeInputs(model: tf.LayersModel, x: tf.Tensor): tf.Tensor | tf.Tensor[] {
  return model.inputs.length === 2 ? [x, tf.fill([x.shape[0]!, 1], 0.5)] : x;
}

/** Output MP/s on a 128x128 input (one warm-up run first: the first call compiles kernels). */
export function measureSpeed(model: tf.LayersModel, scale: number, side = 128): number {
  const x = tf.randomUniform([1, side, side, 3]) as tf.Tensor4D;
  // The values are read outside tidy: tidy walks a returned typed array element by element.
  const run = () => {
    const y = tf.tidy(() => model.predict(probeInputs(model, x)) as tf.Tensor);
    y.dataSync();
    y.dispose();
  };
  try {
    run();
    const t0 = performance.now();
    run();
    const s = (performance.now() - t0) / 1000;
    return (side * scale) ** 2 / 1e6 / s;
  } finally {
    x.dispose();
  }
}

/** The source's files, each bounded before reading (an ncnn .param far below the weights' limit). */
export function readSourceFiles(src: ImportSource): Uint8Array[] {
  return src.files.map((f, i) => (src.format === 'ncnn' && i === 0 ? readNcnnParamFile(f) : readModelFile(f)));
}

/** Reads the source's files once (bounded by MAX_MODEL_FILE_BYTES) and recognises the model in them. */
export function detectSource(src: ImportSource, bytes: Uint8Array[] = readSourceFiles(src)): DetectedModel {
  const main = src.files[0]!;
  return src.format === 'ncnn' ? readNcnnModel(main, src.files[1]!, [bytes[0]!, bytes[1]!]) : detectArchitecture(readStateDict(main, bytes[0]), main);
}

export async function convertModel(src: ImportSource, outDir: string, meta: ImportMeta): Promise<ModelCard> {
  let bytes: Uint8Array[] | null = readSourceFiles(src);
  const files = src.files.map((f, i) => ({ name: path.basename(f), sha256: crypto.createHash('sha256').update(bytes![i]!).digest('hex'), bytes: bytes![i]!.byteLength }));
  const detected = detectSource(src, bytes);
  bytes = null; // up to a GB of raw file: let it go before the network is built
  const file = src.files[0]!;
  const model = buildImportedModel(detected, file);
  const face = detected.task === 'face';
  try {
    // A test input must come out RGB, `scale` times larger, and finite (a face model: a face crop of its own size).
    const side = face ? Number(detected.archOptions.size) : 16;
    const ok = tf.tidy(() => {
      const y = model.predict(probeInputs(model, tf.fill([1, side, side, 3], 0.5))) as tf.Tensor;
      return y.shape.join() === [1, side * detected.scale, side * detected.scale, 3].join() && y.isFinite().all().dataSync()[0] === 1;
    });
    if (!ok) throw new RestoraError('MODEL_INVALID', `${file}: the converted network does not map an image to a finite x${detected.scale} image`, file);
    const mpPerSec = measureSpeed(model, detected.scale, face ? side : 128);
    const backend = activeBackend();
    await saveLayersModel(model, outDir);
    const card: ModelCard = {
      id: meta.id,
      name: meta.name,
      arch: detected.arch,
      archOptions: detected.archOptions,
      scale: detected.scale,
      params: model.countParams(),
      task: face ? 'face' : 'upscale',
      date: new Date().toISOString().slice(0, 10),
      source: {
        format: src.format,
        layout: detected.layout,
        files,
      },
      license: meta.license ?? 'not given at import: check the licence of the source file before sharing its outputs or the model',
      speed: {
        outputMpPerSec: Math.round(mpPerSec * 1000) / 1000,
        backend: backend?.id ?? tf.getBackend(),
        threads: backend?.threads ?? 1,
        input: face ? `${side}x${side}` : '128x128',
        date: new Date().toISOString(),
      },
      notes: `Imported from ${src.files.map((f) => path.basename(f)).join(' + ')} (${detected.layout}).`,
    };
    writeCard(outDir, card);
    return card;
  } finally {
    model.dispose();
  }
}
