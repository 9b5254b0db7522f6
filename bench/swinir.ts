/** Child process of bench/run.ts: SwinIR-M classical x2 as released (the arch's defaults) against restora-x2; see bench/archBench.ts. */
import { getArch } from '../src/main/ml/archs/index.js';
import { benchArch } from './archBench.js';

await benchArch({
  arch: 'swinir',
  label: 'SwinIR-M classical x2 (180 channels, 6x6 layers, window 8; random weights)',
  scale: 2,
  archOptions: { ...getArch('swinir').defaults },
  baseline: 'restora-x2',
  crop: 64,
  stopAfter: 1,
});
