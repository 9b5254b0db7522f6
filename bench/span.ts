/**
 * Child process of bench/run.ts: SPAN x4 at its released size (48 features, input
 * normalisation: the arch's defaults) against restora-x4 on the same 160x120 crop, then its
 * memory and projected time on a 3000x2000 photo; see bench/archBench.ts.
 */
import { getArch } from '../src/main/ml/archs/index.js';
import { benchArch } from './archBench.js';

await benchArch({
  arch: 'span',
  label: 'SPAN x4, 48 features (random weights)',
  scale: 4,
  archOptions: { ...getArch('span').defaults },
  baseline: 'restora-x4',
  crop: 160,
  stopAfter: 2,
});
