// The architecture and its importer: one registration line in ../index.ts.
import './restoreformer.js';
import './torch.js';
