/** Child process of bench/run.ts: DAT-light x2 as released (DAT_light_x2.pth) against restora-x2; see bench/archBench.ts. */
import { benchArch } from './archBench.js';

await benchArch({
  arch: 'dat',
  label: 'DAT-light x2 (60 channels, 18 blocks, 8x32 windows, FFN x2, 3conv, pixelshuffledirect; random weights)',
  scale: 2,
  archOptions: { embedDim: 60, depths: '18', heads: '6', splitSize: '8,32', expansion: 2, resiConnection: '3conv', upsampler: 'pixelshuffledirect' },
  baseline: 'restora-x2',
  crop: 64,
  stopAfter: 2,
});
