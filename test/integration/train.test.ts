import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import Database from 'better-sqlite3';
import { ROOT, tmpDir } from '../helpers.js';
import { createApp } from '../../src/main/app/createApp.js';

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
  await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } })
    .png()
    .toFile(path.join(photos, 'too-small.png'));
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
    // The studio shows runs by number ("Run 1"): --resume takes that too.
    const db = new Database(path.join(home, 'restora.db'), { readonly: true });
    const { id } = db.prepare("SELECT id FROM training_runs WHERE name = 'my-scans'").get() as { id: number };
    db.close();
    const byNumber = restora(['train', '--resume', String(id)]);
    expect(byNumber.status, byNumber.stderr).toBe(0);
    expect(byNumber.stderr).toMatch(/model my-scans ->/);
    const missing = restora(['train', '--resume', 'no-such-run']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/No training run named or numbered "no-such-run"/);
    expect(restora(['train', '--resume', '999']).stderr).toMatch(/No training run named or numbered "999"/);
  });

  it('a folder with no usable photos is a clear usage error', () => {
    const empty = tmpDir();
    fs.writeFileSync(path.join(empty, 'notes.txt'), 'x');
    const r = restora(['train', '--data', empty, '--scale', '2', '--name', 'nothing', ...tiny]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Need at least 2 usable photos/);
  });
});

describe('restora train --init (fine-tune an imported community model)', () => {
  it('imports a PyTorch SRVGGNetCompact, fine-tunes it with the realistic preset and the GAN stage, and the card records the lineage', () => {
    const fixture = path.join(ROOT, 'test', 'fixtures', 'import', 'srvgg-x4.pth');
    const imported = restora(['models', 'import', fixture, '--name', 'tiny-general-x4', '--license', 'CC0 (test fixture)']);
    expect(imported.status, imported.stderr).toBe(0);
    const r = restora(['train', '--data', photos, '--preset', 'realistic', '--name', 'my-general-x4', '--init', 'tiny-general-x4', '--steps', '6', '--batch', '2', '--patch', '16', '--gan']);
    expect(r.status, r.stderr).toBe(0);
    const card = JSON.parse(fs.readFileSync(path.join(home, 'models', 'my-general-x4', 'card.json'), 'utf8'));
    expect(card).toMatchObject({ arch: 'srvgg', scale: 4, archOptions: { features: 8, convs: 3 }, steps: 9, degradation: 'realistic' });
    expect(card.lineage).toEqual([{ id: 'tiny-general-x4', name: 'tiny-general-x4', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(card.notes).toMatch(/fine-tuned from tiny-general-x4.*GAN stage 3 steps/);
    expect(card.license).toMatch(/derived from tiny-general-x4: CC0/);
    const db = new Database(path.join(home, 'restora.db'), { readonly: true });
    const run = db.prepare("SELECT id FROM training_runs WHERE name = 'my-general-x4'").get() as { id: number };
    expect((db.prepare('SELECT COUNT(*) AS n FROM metric_points WHERE run_id = ?').get(run.id) as { n: number }).n).toBeGreaterThan(0);
    db.close();
  });

  it('refuses a scale or architecture that does not match the starting model', () => {
    const wrongScale = restora(['train', '--data', photos, '--scale', '2', '--name', 'nope-x2', '--init', 'tiny-general-x4', '--steps', '2']);
    expect(wrongScale.status).toBe(2);
    expect(wrongScale.stderr).toMatch(/start model tiny-general-x4 upscales x4; this run is x2\. Use --scale 4, or another --init/);
    const wrongArch = restora(['train', '--data', photos, '--arch', 'compact', '--name', 'nope-arch', '--init', 'tiny-general-x4', '--steps', '2']);
    expect(wrongArch.status).toBe(2);
    expect(wrongArch.stderr).toMatch(/is a srvgg model; this run's architecture is compact\. Leave --arch out/);
    expect(restora(['train', '--data', photos, '--name', 'nope-missing', '--init', 'no-such-model']).status).toBe(2);
  });

  it('VAE: --arch vae stores reconstruction and KL with every point; a KL weight below 0 or not a number is a usage error', () => {
    const vae = ['--opt', 'channels=4', '--opt', 'latent=2', '--opt', 'blocks=1', '--steps', '8', '--batch', '2', '--patch', '16'];
    const r = restora(['train', '--data', photos, '--scale', '2', '--preset', 'old-photo', '--arch', 'vae', '--name', 'my-vae', '--kl-weight', '0.01', ...vae]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recon \d+\.\d+ KL \d+\.\d+/);
    const db = new Database(path.join(home, 'restora.db'), { readonly: true });
    const run = db.prepare("SELECT id, config_json FROM training_runs WHERE name = 'my-vae'").get() as { id: number; config_json: string };
    expect(JSON.parse(run.config_json)).toMatchObject({ arch: 'vae', klWeight: 0.01 });
    const points = db.prepare('SELECT recon, kl, loss FROM metric_points WHERE run_id = ?').all(run.id) as { recon: number; kl: number; loss: number }[];
    expect(points.length).toBe(8);
    for (const p of points) {
      expect(p.kl).toBeGreaterThan(0);
      expect(p.recon).toBeGreaterThan(0);
    }
    db.close();
    for (const bad of ['--kl-weight=-1', '--kl-weight=abc']) {
      const u = restora(['train', '--data', photos, '--scale', '2', '--arch', 'vae', '--name', 'bad-vae', bad, ...vae]);
      expect(u.status).toBe(2);
      expect(u.stderr).toMatch(/--kl-weight must be a number in \[0, 10\]/);
    }
    expect(fs.existsSync(path.join(home, 'runs', 'bad-vae'))).toBe(false);
  });

  it('the VAE latent recipe trains its three stages in order, each resumable, and is done when run again', async () => {
    const args = ['train', '--recipe', 'vae-latent', '--data', photos, '--name', 'latent', '--opt', 'channels=4', '--opt', 'latent=2', '--opt', 'blocks=1', '--steps', '4', '--batch', '2', '--patch', '16'];
    const r = restora(args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/stage clean \(latent-clean\): starting[\s\S]*stage degraded \(latent-degraded\): starting[\s\S]*stage mapping \(latent\): starting/);
    const card = (id: string) => JSON.parse(fs.readFileSync(path.join(home, 'models', id, 'card.json'), 'utf8'));
    expect(card('latent-clean')).toMatchObject({ arch: 'vae', scale: 1, archOptions: { levels: 3 } });
    expect(card('latent-degraded')).toMatchObject({ arch: 'vae', scale: 1, archOptions: { levels: 2 } });
    expect(card('latent')).toMatchObject({ arch: 'vae-mapping', scale: 2 });
    const again = restora(args);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr.match(/done, its model is installed/g)).toHaveLength(3);
    // The mapping stage started without its two VAEs (here the degraded-photo one is gone) is refused before anything is written.
    fs.rmSync(path.join(home, 'models', 'latent-degraded'), { recursive: true });
    const app = createApp({ home, backend: 'wasm', threads: 1 });
    try {
      const training = await app.training();
      await expect(
        training.train({ name: 'latent', dataDirs: [photos], scale: 2, preset: 'old-photo', arch: 'vae-mapping', archOptions: { channels: 4, latent: 2, blocks: 1 }, latentStage: 'mapping', steps: 2, batch: 2, patch: 16, resume: false }),
      ).rejects.toThrow(/needs its two VAEs, and the degraded-photo VAE "latent-degraded" is not trained yet/);
    } finally {
      await app.close();
    }
    const alone = restora(['train', '--data', photos, '--scale', '2', '--arch', 'vae-mapping', '--name', 'alone', '--steps', '2']);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toMatch(/vae-mapping is the last stage of the VAE latent recipe/);
  });
});
