/**
 * The optimizers a run can use, built and restored in one place for the trainer and the
 * compute engine: Adam (and AdamW, Adam plus decoupled decay applied by the step) and SGD
 * with momentum, plain or Nesterov's (tf.train.momentum: v = m v + g; w -= lr v, or
 * w -= lr (g + m v) with Nesterov; momentum 0 is plain SGD).
 */
import * as tf from '@tensorflow/tfjs';

export type OptimizerKind = 'adam' | 'adamw' | 'sgd';

export interface OptimizerSpec {
  kind: OptimizerKind;
  /** SGD's momentum (default 0.9). */
  momentum?: number;
  /** SGD: Nesterov's accelerated gradient (default off). */
  nesterov?: boolean;
}

/** Adam's constants in every Restora run. */
export const ADAM = { beta1: 0.9, beta2: 0.99, epsilon: 1e-8 } as const;

export function createOptimizer(spec: OptimizerSpec, lr: number): tf.Optimizer {
  if (spec.kind === 'sgd') return tf.train.momentum(lr, spec.momentum ?? 0.9, spec.nesterov ?? false);
  return tf.train.adam(lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
}

/** The learning rate of the next step (the schedule moves it every step). */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  // By class name: tfjs optimizers answer instanceof by duck typing (an Adam "is" a MomentumOptimizer).
  if (opt.getClassName() === 'Momentum') (opt as tf.MomentumOptimizer).setLearningRate(lr);
  else (opt as unknown as { learningRate: number }).learningRate = lr;
}

/**
 * Puts saved optimizer state back, exactly: SGD's velocities as saved; Adam's moments as
 * saved plus its running beta powers, which tfjs does not save, recomputed from the step count.
 */
export async function restoreOptimizer(opt: tf.Optimizer, named: { name: string; tensor: tf.Tensor }[]): Promise<void> {
  await opt.setWeights(named);
  if (opt.getClassName() !== 'Adam') return;
  const o = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable; beta1: number; beta2: number; iterations: number };
  const b1 = Math.fround(o.beta1);
  const b2 = Math.fround(o.beta2);
  let a1 = b1;
  let a2 = b2;
  for (let i = 0; i < o.iterations; i++) {
    a1 = Math.fround(a1 * b1);
    a2 = Math.fround(a2 * b2);
  }
  tf.tidy(() => {
    o.accBeta1.assign(tf.scalar(a1));
    o.accBeta2.assign(tf.scalar(a2));
  });
}
