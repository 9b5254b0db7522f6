import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (works from src/ under tsx and from out/ when built). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'restora') return dir;
      } catch {
        // keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('restora package root not found');
    dir = up;
  }
}

export function bundledModelsDir(): string {
  return path.join(packageRoot(), 'resources', 'models');
}

/** Per-user data (models, runs, database): RESTORA_HOME or ~/.restora. */
export function dataHome(): string {
  return process.env.RESTORA_HOME ?? path.join(os.homedir(), '.restora');
}
