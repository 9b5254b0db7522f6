#!/usr/bin/env node
// Runs the built CLI (out/node, made by `npm run build:node` at install time).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../out/node/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  process.stderr.write('restora: the CLI is not built yet; run `npm run build:node` in the restora folder.\n');
  process.exit(2);
}
await import(built.href);
