// The architecture and its importer: one registration line in ../index.ts.
import './gfpgan.js';
import './torch.js';
