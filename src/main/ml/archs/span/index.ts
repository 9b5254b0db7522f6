// The architecture and its importer: one registration line in ../index.ts.
import './span.js';
import './torch.js';
