/**
 * Exponential moving average of a model's weights (Polyak averaging, as BasicSR's
 * `model_ema`): a shadow copy of the same architecture whose variables hold
 * ema = decay * ema + (1 - decay) * w after every step. The shadow is a real
 * LayersModel, so validation and export just use it.
 */
import * as tf from '@tensorflow/tfjs';
import { decodeNamedTensors, encodeNamedTensors } from './namedTensors.js';

export class WeightEma {
  private constructor(
    readonly model: tf.LayersModel,
    private readonly source: tf.LayersModel,
    readonly decay: number,
  ) {}

  /** `shadow` must be a fresh model of the same architecture as `source`; it is owned from now on. */
  static create(source: tf.LayersModel, shadow: tf.LayersModel, decay: number): WeightEma {
    const ema = new WeightEma(shadow, source, decay);
    ema.copyFromSource();
    return ema;
  }

  private get pairs(): [tf.Variable, tf.Variable][] {
    const src = this.source.weights;
    const dst = this.model.weights;
    if (src.length !== dst.length) throw new Error(`EMA shadow has ${dst.length} weights, the model ${src.length}`);
    return dst.map((d, i) => [d.read() as tf.Variable, src[i]!.read() as tf.Variable]);
  }

  /** Starts the average at the model's current weights (new run, or a checkpoint saved without EMA). */
  copyFromSource(): void {
    tf.tidy(() => {
      for (const [e, w] of this.pairs) e.assign(w.clone());
    });
  }

  update(): void {
    const d = this.decay;
    tf.tidy(() => {
      // All weights, BN moving statistics included, so the shadow is a consistent model.
      for (const [e, w] of this.pairs) e.assign(e.mul(d).add(w.mul(1 - d)));
    });
  }

  async encode(): Promise<Uint8Array> {
    return encodeNamedTensors(this.model.weights.map((w, i) => ({ name: `${i}:${w.originalName}`, tensor: w.read() })));
  }

  /** Restores from `encode()` output; weights are matched by position. */
  restore(buf: Uint8Array): void {
    const named = decodeNamedTensors(buf);
    try {
      this.model.setWeights(named.map((n) => n.tensor));
    } finally {
      for (const n of named) n.tensor.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
