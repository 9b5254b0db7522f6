/**
 * Copies the README tour's screenshots from the browser tests' output
 * (test-results/screenshots, written by test/e2e/webmode.test.ts) into docs/screenshots,
 * as JPEG to keep the repository small. Run `npx vitest run test/e2e` first.
 *   npx tsx scripts/update-screenshots.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { packageRoot } from '../src/main/paths.js';

const TOUR = ['first-use', 'first-use-restored', 'export', 'export-download', 'train-preview', 'train-estimate', 'train-result'];
const from = path.join(packageRoot(), 'test-results', 'screenshots');
const to = path.join(packageRoot(), 'docs', 'screenshots');
fs.mkdirSync(to, { recursive: true });
for (const name of TOUR) {
  const src = path.join(from, `${name}.png`);
  if (!fs.existsSync(src)) throw new Error(`${src} is missing: run the browser tests first (npx vitest run test/e2e)`);
  await sharp(src)
    .jpeg({ quality: 82, mozjpeg: true })
    .toFile(path.join(to, `${name}.jpg`));
}
console.log(`wrote ${TOUR.length} screenshots to ${to}`);
