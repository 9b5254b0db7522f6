// The architecture and its importer: one registration line in ../index.ts.
import './dat.js';
import './torch.js';
