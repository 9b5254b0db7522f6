import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { renderName } from '../../src/main/jobs/batchJob.js';
import { installTinyModel, ROOT, tmpDir } from '../helpers.js';

let home = '';
let inputs = '';
const CLI = ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts')];
const env = () => ({ ...process.env, RESTORA_HOME: home, RESTORA_THREADS: '1' });

function batch(out: string, extra: string[] = []) {
  return spawnSync(process.execPath, [...CLI, 'batch', inputs, '--out', out, '--model', 'tiny-x2', '--recursive', ...extra], { cwd: ROOT, env: env(), encoding: 'utf8' });
}

function outputs(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.png'))
        .sort()
    : [];
}

beforeAll(async () => {
  home = tmpDir('restora-home-');
  await installTinyModel(home);
  inputs = tmpDir('restora-in-');
  for (let i = 0; i < 100; i++) {
    const sub = path.join(inputs, `roll-${i % 4}`);
    fs.mkdirSync(sub, { recursive: true });
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 13) % 256 }, noise: { type: 'gaussian', mean: 100, sigma: 20 } } })
      .png()
      .toFile(path.join(sub, `scan ${String(i).padStart(3, '0')}.png`));
  }
});

describe('resumable batch export', () => {
  it('survives three SIGKILLs: every output once, decodable, identical to a clean run, job reports 100 done', async () => {
    const clean = tmpDir('restora-clean-');
    const cleanRun = batch(clean);
    expect(cleanRun.status, cleanRun.stderr).toBe(0);
    expect(outputs(clean)).toHaveLength(100);

    const out = tmpDir('restora-out-');
    const killPoints = [15, 45, 75].map((p) => p + Math.floor(Math.random() * 10));
    for (const at of killPoints) {
      const child = spawn(process.execPath, [...CLI, 'batch', inputs, '--out', out, '--model', 'tiny-x2', '--recursive'], { cwd: ROOT, env: env(), stdio: 'ignore' });
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (outputs(out).length >= at || child.exitCode !== null) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve();
          }
        }, 20);
      });
      await new Promise((r) => child.once('exit', r));
    }
    const final = batch(out);
    expect(final.status, final.stderr).toBe(0);
    expect(final.stderr).toMatch(/Resuming job/);
    const files = outputs(out);
    expect(files).toEqual(outputs(clean));
    expect(
      fs
        .readdirSync(out, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.part')),
    ).toEqual([]);
    for (const f of files) {
      const a = await sharp(path.join(out, f)).raw().toBuffer();
      const b = await sharp(path.join(clean, f)).raw().toBuffer();
      expect(a.equals(b), f).toBe(true);
    }
    const jobs = spawnSync(process.execPath, [...CLI, 'jobs', '--json'], { cwd: ROOT, env: env(), encoding: 'utf8' });
    const list = JSON.parse(jobs.stdout) as { spec: { outDir: string }; done: number; total: number; state: string }[];
    const job = list.find((j) => path.resolve(j.spec.outDir) === path.resolve(out))!;
    expect(job).toMatchObject({ done: 100, total: 100, state: 'done' });
  });

  it('mirrors subfolders, applies the name template, and a rerun redoes nothing', () => {
    const out = tmpDir();
    const r = batch(out, ['--name', '{name}-{model}-x{scale}']);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, 'roll-1', 'scan 001-tiny-x2-x2.png'))).toBe(true);
    const mtime = fs.statSync(path.join(out, 'roll-1', 'scan 001-tiny-x2-x2.png')).mtimeMs;
    const again = batch(out, ['--name', '{name}-{model}-x{scale}']);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/100 of 100 done/);
    expect(fs.statSync(path.join(out, 'roll-1', 'scan 001-tiny-x2-x2.png')).mtimeMs).toBe(mtime);
  });

  it('renders names safely', () => {
    expect(renderName('{name}_{scale}x', '/a/b/photo.jpg', 'm', 4, 'png')).toBe('photo_4x.png');
    expect(() => renderName('../{name}', '/a/photo.jpg', 'm', 2, 'png')).toThrow(/invalid file name/);
  });
});
