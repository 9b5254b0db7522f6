/**
 * Loads a tfjs layers model whose weights cannot outgrow its file. tfjs builds every layer
 * (allocating its weights) from the topology before it reads a single weight, so a
 * model.json that claims a Conv2D of a million filters allocates gigabytes from a few KB of
 * JSON. Here every layer's weight initialisers are replaced, before the build, by zeros
 * bounded by the largest weight the file's manifest holds for that layer; the build then
 * refuses the first weight the file cannot fill. Because tfjs's own fast initialisation
 * (used in strict loads) ignores the topology's initialisers, the load is not strict, and
 * the exact match of weights and manifest that strict loading checks is checked here.
 * Runs wherever models are built (node and the engine page), so it imports only tfjs.
 */
import * as tf from '@tensorflow/tfjs';

/** Every initialiser key a built-in tfjs layer reads from its config. */
const INITIALIZER_KEYS = [
  'kernel_initializer',
  'bias_initializer',
  'alpha_initializer',
  'gamma_initializer',
  'beta_initializer',
  'moving_mean_initializer',
  'moving_variance_initializer',
  'depthwise_initializer',
  'pointwise_initializer',
  'embeddings_initializer',
  'recurrent_initializer',
] as const;

interface BoundedZerosConfig extends tf.serialization.ConfigDict {
  layer: string;
  limit: number;
  /** The initialiser the topology named, written back unchanged when the model is saved. */
  original: tf.serialization.ConfigDict | null;
}

const ZerosBase = tf.initializers.zeros().constructor as new () => { apply(shape: number[], dtype?: tf.DataType): tf.Tensor; getClassName(): string; getConfig(): tf.serialization.ConfigDict };

class BoundedZeros extends ZerosBase {
  static className = 'RestoraBoundedZeros';
  constructor(private readonly bound: BoundedZerosConfig) {
    super();
  }
  override apply(shape: number[], dtype?: tf.DataType): tf.Tensor {
    let n = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new Error(`layer ${this.bound.layer} asks for a weight of shape [${shape}]`);
      n *= d;
      if (n > this.bound.limit) break;
    }
    if (n > this.bound.limit) {
      throw new Error(`layer ${this.bound.layer} asks for a weight of shape [${shape}], more than the ${this.bound.limit} values the file holds for its largest weight`);
    }
    return tf.zeros(shape, dtype);
  }
  // Saved as the initialiser the topology named, so a loaded-and-saved model keeps its own.
  override getClassName(): string {
    return (this.bound.original?.className as string | undefined) ?? 'Zeros';
  }
  override getConfig(): tf.serialization.ConfigDict {
    return (this.bound.original?.config as tf.serialization.ConfigDict | undefined) ?? {};
  }
}
tf.serialization.registerClass(BoundedZeros as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

/** Deeper than any real topology; a hostile one is refused before it is walked. */
const MAX_TOPOLOGY_DEPTH = 64;

type Json = Record<string, unknown>;

/** The topology with every layer's initialisers bounded by the manifest (a copy). */
export function boundedTopology(topology: unknown, specs: readonly tf.io.WeightsManifestEntry[]): unknown {
  const largest = new Map<string, number>();
  for (const s of specs) {
    const n = Array.isArray(s.shape) ? s.shape.reduce((a, d) => a * (Number.isFinite(d) ? Math.max(0, d) : 0), 1) : 0;
    // "conv/kernel", or "outer/conv/kernel" in a nested model: every folder of the name is a layer it may belong to.
    const parts = String(s.name).split('/');
    for (const layer of parts.slice(0, -1)) largest.set(layer, Math.max(largest.get(layer) ?? 0, n));
  }
  const copy = structuredClone(topology);
  const stack: { value: unknown; depth: number }[] = [{ value: copy, depth: 0 }];
  while (stack.length) {
    const { value, depth } = stack.pop()!;
    if (depth > MAX_TOPOLOGY_DEPTH) throw new Error(`the topology is nested deeper than ${MAX_TOPOLOGY_DEPTH} levels`);
    if (Array.isArray(value)) {
      for (const v of value) if (v && typeof v === 'object') stack.push({ value: v, depth: depth + 1 });
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    const obj = value as Json;
    const config = obj.config as Json | undefined;
    if (typeof obj.class_name === 'string' && config && typeof config === 'object' && !Array.isArray(config) && typeof config.name === 'string') {
      const limit = largest.get(config.name) ?? 0;
      for (const key of INITIALIZER_KEYS) {
        const original = config[key];
        const named = original && typeof original === 'object' && typeof (original as Json).class_name === 'string' ? { className: (original as Json).class_name, config: (original as Json).config ?? {} } : null;
        config[key] = { class_name: BoundedZeros.className, config: { layer: config.name, limit, original: named } };
      }
    }
    for (const v of Object.values(obj)) if (v && typeof v === 'object') stack.push({ value: v, depth: depth + 1 });
  }
  return copy;
}

/**
 * tf.loadLayersModel over artifacts in memory, with each weight bounded by the manifest
 * before it is allocated, and the model's weights required to match the manifest exactly
 * (names and shapes). Throws a plain Error saying what did not fit.
 */
export async function loadBoundedLayersModel(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  const specs = artifacts.weightSpecs ?? [];
  const model = await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: boundedTopology(artifacts.modelTopology, specs) as tf.io.ModelArtifacts['modelTopology'] }), { strict: false });
  try {
    const inFile = new Map(specs.map((s) => [s.name, s.shape]));
    const weights = model.weights;
    if (weights.length !== inFile.size) throw new Error(`the model has ${weights.length} weights and the file ${inFile.size}`);
    for (const w of weights) {
      const shape = inFile.get(w.originalName);
      if (!shape) throw new Error(`weight ${w.originalName} is not in the file`);
      if (shape.length !== w.shape.length || shape.some((d, i) => d !== w.shape[i])) throw new Error(`weight ${w.originalName} is [${w.shape}] in the model and [${shape}] in the file`);
    }
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
