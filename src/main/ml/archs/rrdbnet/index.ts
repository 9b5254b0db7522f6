// The architecture and its importer: one registration line in ../index.ts.
import './rrdbnet.js';
import './torch.js';
import './ncnn.js';
