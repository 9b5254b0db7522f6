// Importing this module registers every architecture and custom layer.
import './layers.js';
import './compact.js';
import './upsampler.js';
import './srresnet.js';
import './unet.js';
import './rrdbnet.js';
import './srvgg.js';
import './maskLayers.js';
import './vae.js';
import './gfpgan/gfpgan.js';
import './codeformer/codeformer.js';
import './restoreformer/restoreformer.js';
import './span/span.js';
export { stackUpsamplers } from './upsampler.js';
export * from './registry.js';
