// The architecture and its importer: one registration line in ../index.ts.
import './srvgg.js';
import './torch.js';
import './ncnn.js';
