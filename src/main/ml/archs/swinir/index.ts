// The architecture and its importer: one registration line in ../index.ts.
import './layers.js';
import './swinir.js';
import './torch.js';
