/**
 * Child process of bench/run.ts: RealPLKSR x4 as released (dim 64, 28 blocks, 17x17 over 16
 * channels, EA, GroupNorm: the arch's defaults) against restora-x4; see bench/archBench.ts.
 * It takes 0.4 ms (idle) to 2 ms (busy machine) per LR pixel on two wasm threads: a 96 px
 * crop keeps its timed runs under a minute, and one tile of the big photo is a few minutes.
 */
import { getArch } from '../src/main/ml/archs/index.js';
import { benchArch } from './archBench.js';

await benchArch({
  arch: 'realplksr',
  label: 'RealPLKSR x4, dim 64, 28 blocks, 17x17, EA, GroupNorm (random weights)',
  scale: 4,
  archOptions: { ...getArch('realplksr').defaults },
  baseline: 'restora-x4',
  crop: 96,
  stopAfter: 1,
});
