// The architecture and its importer: one registration line in ../index.ts.
import './codeformer.js';
import './torch.js';
