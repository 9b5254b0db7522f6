// Importing this module registers every architecture and custom layer.
import './layers.js';
import './compact.js';
import './upsampler.js';
import './srresnet.js';
import './unet.js';
import './rrdbnet/index.js';
import './srvgg/index.js';
import './maskLayers.js';
import './vae.js';
import './gfpgan/index.js';
import './codeformer/index.js';
import './restoreformer/index.js';
import './span/index.js';
import './realplksr/index.js';
import './swinir/index.js';
import './dat/index.js';
export { stackUpsamplers } from './upsampler.js';
export * from './registry.js';
