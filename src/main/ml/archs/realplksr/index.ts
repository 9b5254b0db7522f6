// The architecture and its importer: one registration line in ../index.ts.
import './realplksr.js';
import './torch.js';
