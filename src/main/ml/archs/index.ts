// Importing this module registers every architecture and custom layer.
import './layers.js';
import './compact.js';
export * from './registry.js';
