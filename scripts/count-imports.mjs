#!/usr/bin/env node
/**
 * Counts what the structure step is about, over src/main's runtime imports (type-only
 * imports left out, as the lint rule leaves them): imports that run upward through the
 * layers of eslint-rules/layers.js, import cycles between files (strongly connected
 * components of more than one file), and the largest files. Run: node scripts/count-imports.mjs [ROOT]
 */
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? '.');
process.chdir(root);
const { MAIN, ML, layerOf } = await import(path.join(root, 'eslint-rules', 'layers.js')).catch(async () => import(new URL('../eslint-rules/layers.js', import.meta.url)));

const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.ts$/.test(e.name)) files.push(path.resolve(p));
  }
})('src/main');

// Runtime imports: `import ... from` without `import type`, `export ... from`, `import('...')`;
// `all` also keeps the type-only ones (a cycle through types still ties files together).
const edges = new Map();
const all = new Map();
const importRe = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
for (const f of files) {
  const src = fs.readFileSync(f, 'utf8');
  const out = new Set();
  const any = new Set();
  for (const m of src.matchAll(importRe)) {
    const spec = m[4] ?? m[5];
    const t = path.resolve(path.dirname(f), spec).replace(/\.js$/, '.ts');
    if (!fs.existsSync(t)) continue;
    any.add(t);
    if (m[2]) continue;
    if (
      m[3] &&
      /^\{[^}]*\}$/.test(m[3].trim()) &&
      m[3]
        .replace(/[{}]/g, '')
        .split(',')
        .every((s) => s.trim() === '' || s.trim().startsWith('type '))
    )
      continue;
    out.add(t);
  }
  edges.set(f, out);
  all.set(f, any);
}

const upward = [];
for (const [f, ts] of edges) {
  const a = layerOf(f);
  for (const t of ts) {
    const b = layerOf(t);
    if (!a || !b) continue;
    if (a.main !== b.main) {
      if (MAIN.indexOf(b.main) > MAIN.indexOf(a.main) && MAIN.indexOf(a.main) >= 0) upward.push(`${path.relative(root, f)} -> ${path.relative(root, t)}`);
    } else if (a.ml && b.ml && a.ml !== b.ml && ML.indexOf(b.ml) > ML.indexOf(a.ml) && ML.indexOf(a.ml) >= 0) {
      upward.push(`${path.relative(root, f)} -> ${path.relative(root, t)}`);
    }
  }
}

/** Tarjan's strongly connected components of more than one file. */
function cyclesOf(graph) {
  let index = 0;
  const stack = [];
  const info = new Map();
  const cycles = [];
  function strong(v) {
    info.set(v, { index, low: index, on: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!info.has(w)) {
        strong(w);
        info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
      } else if (info.get(w).on) info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
    }
    if (info.get(v).low === info.get(v).index) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        info.get(w).on = false;
        comp.push(path.relative(root, w));
      } while (w !== v);
      if (comp.length > 1) cycles.push(comp.sort());
    }
  }
  for (const f of files) if (!info.has(f)) strong(f);
  return cycles;
}
const cycles = cyclesOf(edges);
const typeCycles = cyclesOf(all);

const everything = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(ts|vue)$/.test(e.name)) everything.push(path.resolve(p));
  }
})('src');
const largest = everything
  .map((f) => [path.relative(root, f), fs.readFileSync(f, 'utf8').split('\n').length])
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8);
console.log(JSON.stringify({ files: files.length, upwardImports: upward.length, upward, cycles: cycles.length, cycleFiles: cycles, cyclesWithTypeImports: typeCycles.length, typeCycleFiles: typeCycles, largestFiles: largest }, null, 2));
