/**
 * restora train --out DIR: a model trained from DATA/train and DATA/val into a folder with
 * its card, as the bundled models are made; --task detect|inpaint trains the damage nets.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from '../helpers.js';

let home = '';
let data = '';
const restora = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, RESTORA_HOME: home, RESTORA_THREADS: '1' },
    encoding: 'utf8',
    timeout: 300_000,
  });
const tinyUnet = ['--opt', 'channels=4', '--opt', 'midBlocks=1', '--batch', '2', '--patch', '16', '--context', '32', '--backend', 'wasm', '--threads', '1'];

beforeAll(async () => {
  home = tmpDir('restora-home-');
  data = tmpDir('restora-photos-');
  for (const sub of ['train', 'val']) fs.mkdirSync(path.join(data, sub));
  for (let i = 0; i < 4; i++) {
    await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 40 * i, g: 120, b: 200 - 30 * i }, noise: { type: 'gaussian', mean: 110, sigma: 40 } } })
      .blur(1.2)
      .png()
      .toFile(path.join(data, i < 3 ? 'train' : 'val', `p${i}.png`));
  }
});

describe('restora train --out (into a folder, the damage nets included)', () => {
  it('--task detect trains the scratch detector and writes the model with its card', () => {
    const out = path.join(tmpDir(), 'detect');
    const run = path.join(tmpDir(), 'run');
    const r = restora(['train', '--task', 'detect', '--data', data, '--name', 'tiny-detect', '--out', out, '--run', run, '--steps', '3', '--prior-steps', '10', '--license', 'CC0 (test)', '--data-source', 'the test photos', ...tinyUnet]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/val IoU \d\.\d{4}/);
    expect(r.stderr).toContain(`wrote ${out}`);
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(true);
    const card = JSON.parse(fs.readFileSync(path.join(out, 'card.json'), 'utf8'));
    expect(card).toMatchObject({ id: 'tiny-detect', arch: 'unet', archOptions: { channels: 4, midBlocks: 1, head: 'mask' }, scale: 1, task: 'detect-damage', steps: 13, license: 'CC0 (test)', trainingData: '3 photos from the test photos' });
    expect(Number.isFinite(card.scores['heldout-val-damaged'].iou)).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8'))).toHaveLength(3);
    expect(fs.existsSync(path.join(run, 'checkpoint', 'state.json'))).toBe(true);
    // Into a folder, not the library.
    expect(fs.existsSync(path.join(home, 'models', 'tiny-detect'))).toBe(false);
  });

  it('--until stops with the checkpoint and writes nothing; run again it finishes (inpaint)', () => {
    const out = path.join(tmpDir(), 'inpaint');
    const args = ['train', '--task', 'inpaint', '--data', data, '--name', 'tiny-inpaint', '--out', out, '--steps', '2', ...tinyUnet];
    const first = restora([...args, '--until', '1']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/stopped at step 1 \(--until\)/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(path.join(home, 'runs', 'tiny-inpaint', 'checkpoint', 'state.json'))).toBe(true);
    const second = restora(args);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/step 1\/2/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'card.json'), 'utf8'))).toMatchObject({ task: 'inpaint', archOptions: { head: 'inpaint' }, steps: 2 });
  });

  it('refuses what does not fit: no train/ and val/, a damage net that is not a unet at x1, folder flags without --out', () => {
    const flat = tmpDir();
    const noSplit = restora(['train', '--task', 'detect', '--data', flat, '--name', 'x', '--out', path.join(flat, 'o'), ...tinyUnet]);
    expect(noSplit.status).toBe(2);
    expect(noSplit.stderr).toMatch(/has no train\/ folder/);
    const compact = restora(['train', '--task', 'detect', '--arch', 'compact', '--data', data, '--name', 'x', '--out', path.join(flat, 'o'), '--steps', '1']);
    expect(compact.status).toBe(2);
    expect(compact.stderr).toMatch(/damage nets \(task detect\) are unets at scale 1/);
    const noOut = restora(['train', '--data', data, '--scale', '2', '--name', 'x', '--until', '3']);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/--until goes with --out DIR/);
  });
});
