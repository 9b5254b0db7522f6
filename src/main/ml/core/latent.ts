/**
 * The two pieces a variational autoencoder trains with (Kingma & Welling 2014), kept apart
 * from any architecture so they can be checked against closed forms: the KL divergence of
 * the encoder's diagonal Gaussian from the unit Gaussian, and the reparameterised sample
 * through which the reconstruction loss reaches the encoder.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * KL(N(mean, exp(logVar)) || N(0, 1)), summed over the latent dimensions of each sample and
 * averaged over the batch (axis 0): -0.5 * sum(1 + logVar - mean^2 - exp(logVar)).
 */
export function klToUnitGaussian(mean: tf.Tensor, logVar: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const perElement = tf.sub(tf.add(tf.square(mean), tf.exp(logVar)), tf.add(logVar, 1));
    const axes = mean.shape.map((_, i) => i).slice(1);
    return tf.mean(tf.mul(0.5, axes.length ? tf.sum(perElement, axes) : perElement)) as tf.Scalar;
  });
}

/** z = mean + exp(logVar / 2) * eps, with eps ~ N(0, 1) given by the caller (seeded, so runs replay). */
export function reparameterise(mean: tf.Tensor, logVar: tf.Tensor, eps: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)));
}
