/** Builds the Restora arch a detected model maps to and loads its weights (each arch maps its own: DetectedModel.loadInto). */
import type * as tf from '@tensorflow/tfjs';
import { buildArch } from '../archs/index.js';
import type { DetectedModel } from './detect.js';

export function buildImportedModel(m: DetectedModel, _file: string): tf.LayersModel {
  const model = buildArch(m.arch, m.scale, m.archOptions);
  try {
    m.loadInto(model);
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}
