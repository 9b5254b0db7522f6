/**
 * Restora's layering, enforced: a folder of src/main may import only folders below it, and
 * inside src/main/ml likewise. Type-only imports are free (they vanish at run time and are
 * how a lower layer names a higher one's shapes). Folders of the same layer import each
 * other freely; a file at the top of src/main or src/main/ml belongs to the layer named here.
 */
import path from 'node:path';

/** Lowest first. */
export const MAIN = ['base', 'db', 'imaging', 'degrade', 'ml', 'library', 'jobs', 'training', 'app', 'server', 'electron'];
const MAIN_FILES = { 'paths.ts': 'base', 'events.ts': 'base', 'workers.ts': 'base', 'index.ts': 'electron' };
export const ML = ['core', 'kernels', 'backend', 'archs', 'faces', 'store', 'import', 'infer', 'eval', 'learning', 'engine', 'train', 'worker'];
const ML_FILES = { 'backend.ts': 'backend' };

/** [scope, layer] of a file, or null outside src/main. */
export function layerOf(file) {
  const rel = path.relative(path.resolve('src/main'), file).split(path.sep);
  if (rel[0] === '..' || path.isAbsolute(rel.join('/'))) return null;
  if (rel.length === 1) return { main: MAIN_FILES[rel[0]] ?? 'base', ml: null };
  if (rel[0] !== 'ml') return { main: rel[0], ml: null };
  return { main: 'ml', ml: rel.length === 2 ? (ML_FILES[rel[1]] ?? 'backend') : rel[1] };
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports run downward through the layers of src/main and src/main/ml' },
    schema: [],
    messages: { upward: '{{from}} may not import {{to}}: layers run {{order}} (type-only imports are allowed)' },
  },
  create(context) {
    const file = context.filename;
    const me = layerOf(file);
    if (!me) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = layerOf(path.resolve(path.dirname(file), spec));
      if (!target) return;
      if (me.main !== target.main) {
        const [a, b] = [MAIN.indexOf(me.main), MAIN.indexOf(target.main)];
        if (a >= 0 && b > a) context.report({ node, messageId: 'upward', data: { from: me.main, to: target.main, order: MAIN.join(' → ') } });
        return;
      }
      if (me.ml && target.ml && me.ml !== target.ml) {
        const [a, b] = [ML.indexOf(me.ml), ML.indexOf(target.ml)];
        if (a >= 0 && b > a) context.report({ node, messageId: 'upward', data: { from: `ml/${me.ml}`, to: `ml/${target.ml}`, order: ML.map((l) => `ml/${l}`).join(' → ') } });
      }
    };
    return {
      ImportDeclaration(node) {
        if (node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'))) return;
        check(node, node.source.value);
      },
      ExportNamedDeclaration(node) {
        if (node.source && node.exportKind !== 'type') check(node, node.source.value);
      },
      ExportAllDeclaration(node) {
        if (node.exportKind !== 'type') check(node, node.source.value);
      },
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node, node.source.value);
      },
    };
  },
};

export default { rules: { layers: rule } };
