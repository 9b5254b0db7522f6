import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import Database from 'better-sqlite3';
import { ROOT, tmpDir } from '../helpers.js';

let home = '';
let photos = '';
const restora = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, RESTORA_HOME: home, RESTORA_THREADS: '1' },
    encoding: 'utf8',
    timeout: 300_000,
  });
const tiny = ['--opt', 'channels=8', '--opt', 'blocks=1', '--steps', '20', '--batch', '2', '--patch', '16'];

beforeAll(async () => {
  home = tmpDir('restora-home-');
  photos = tmpDir('restora-photos-');
  fs.mkdirSync(path.join(photos, 'sub'));
  for (let i = 0; i < 5; i++) {
    await sharp({ create: { width: 96, height: 80, channels: 3, background: { r: 40 * i, g: 120, b: 200 - 30 * i }, noise: { type: 'gaussian', mean: 110, sigma: 40 } } })
      .blur(1.2)
      .png()
      .toFile(path.join(photos, i % 2 ? 'sub' : '', `p${i}.png`));
  }
  await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } }).png().toFile(path.join(photos, 'too-small.png'));
  fs.writeFileSync(path.join(photos, 'corrupt.jpg'), 'garbage');
});

describe('restora train (custom training from the CLI)', () => {
  it('trains on a folder with the old-photo preset and adds the model, with its card, to the library', () => {
    const r = restora(['train', '--data', photos, '--scale', '2', '--preset', 'old-photo', '--name', 'my-scans', ...tiny]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped .*too-small\.png: 10x10 is smaller than the 32px/);
    expect(r.stderr).toMatch(/skipped .*corrupt\.jpg/);
    const card = JSON.parse(fs.readFileSync(path.join(home, 'models', 'my-scans', 'card.json'), 'utf8'));
    expect(card).toMatchObject({ id: 'my-scans', scale: 2, degradation: 'old-photo', steps: 20, arch: 'compact' });
    expect(Number.isFinite(card.metrics.heldout.psnr)).toBe(true);
    const models = JSON.parse(restora(['models', '--json']).stdout) as { card: { id: string } }[];
    expect(models.map((m) => m.card.id)).toContain('my-scans');
    const db = new Database(path.join(home, 'restora.db'), { readonly: true });
    const points = db.prepare('SELECT step, val_psnr FROM metric_points ORDER BY step').all() as { step: number; val_psnr: number | null }[];
    expect(points.length).toBeGreaterThanOrEqual(2);
    expect(points.some((p) => p.val_psnr !== null)).toBe(true);
    expect((db.prepare('SELECT state FROM training_runs').get() as { state: string }).state).toBe('done');
    db.close();
  });

  it('refuses to overwrite a run without --resume, and --resume RUN continues it with its stored settings', () => {
    expect(restora(['train', '--data', photos, '--scale', '2', '--name', 'my-scans', ...tiny]).status).toBe(2);
    const r = restora(['train', '--resume', 'my-scans']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/model my-scans ->/);
    const missing = restora(['train', '--resume', 'no-such-run']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/No training run named "no-such-run"/);
  });

  it('a folder with no usable photos is a clear usage error', () => {
    const empty = tmpDir();
    fs.writeFileSync(path.join(empty, 'notes.txt'), 'x');
    const r = restora(['train', '--data', empty, '--scale', '2', '--name', 'nothing', ...tiny]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Need at least 2 usable photos/);
  });
});
