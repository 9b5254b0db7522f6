/**
 * The training wizard's "Learn from a stronger model" in real Chromium, against
 * `restora serve`: pick a teacher of the run's scale, measure its cost, train, and the
 * model's card names its teacher; a teacher costing over an hour must be accepted first.
 * Set RESTORA_E2E_SKIP_BUILD=1 to reuse out/renderer.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { initBackend } from '../../src/main/ml/backend.js';
import { saveLayersModel, writeCard } from '../../src/main/ml/store/modelStore.js';
import { buildSeeded } from '../../src/main/ml/train/trainer.js';
import { ROOT, synthImage, tmpDir, toUint8 } from '../helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);

let server: ChildProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];
const home = tmpDir('restora-home-');
const photos = tmpDir('restora-photos-');
const artifacts = path.join(ROOT, 'test-results', 'screenshots');

async function installTeacher(id: string, archOptions: Record<string, number>): Promise<void> {
  const m = buildSeeded({ arch: 'compact', scale: 2, archOptions, seed: 7 });
  const dir = path.join(home, 'models', id);
  await saveLayersModel(m, dir);
  writeCard(dir, { id, name: id, arch: 'compact', archOptions, scale: 2, params: m.countParams(), task: 'upscale', license: 'BSD-3-Clause' });
  m.dispose();
}

describe.skipIf(!HAVE_CHROMIUM)('Learn from a stronger model (wizard)', () => {
  beforeAll(async () => {
    if (process.env.RESTORA_E2E_SKIP_BUILD !== '1' || !fs.existsSync(path.join(ROOT, 'out', 'renderer', 'index.html'))) {
      const b = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
      if (b.status !== 0) throw new Error(`renderer build failed: ${b.stderr}`);
    }
    await initBackend({ prefer: 'wasm', threads: 1 });
    await installTeacher('tiny-teacher', { channels: 4, blocks: 1 });
    // About 3.8 GFLOP per region: 100,000 regions take hours on any CPU.
    await installTeacher('slow-teacher', { channels: 64, blocks: 8 });
    for (let i = 0; i < 3; i++)
      await sharp(toUint8(synthImage(96, 96, i + 1)), { raw: { width: 96, height: 96, channels: 3 } })
        .png()
        .toFile(path.join(photos, `p${i}.png`));
    server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), 'serve', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, RESTORA_HOME: home, RESTORA_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Restora UI: (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      server.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    fs.mkdirSync(artifacts, { recursive: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(url);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    for (const d of [home, photos]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('picks a teacher of the run scale, shows its measured cost, trains, and the card names the teacher', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Train', exact: true }).click();
    await page.getByTestId('train-dirs').fill(photos);
    await page.getByLabel('Patch (LR px)').fill('16');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('mode-teacher').check();
    // Only upscaling models of x2: the tiny teachers and the bundled x2 ones, never the damage nets or x4.
    const offered = await page.getByTestId('teacher').locator('option').allTextContents();
    expect(offered.join('\n')).toMatch(/tiny-teacher/);
    expect(offered.join('\n')).not.toMatch(/restora-scratch-detect|restora-inpaint|restora-x4/);
    await page.getByTestId('teacher').selectOption('tiny-teacher');
    await expect.poll(() => page.getByTestId('teacher-inputs').inputValue()).toBe('none');
    // The photos as they are: no degraded pairs to preview.
    expect(await page.getByTestId('preview-grid').count()).toBe(0);
    await page.getByTestId('teacher-regions').fill('3');
    // The run cannot go on before the cost is measured.
    expect(await page.getByTestId('wizard-next').isDisabled()).toBe(true);
    await page.getByTestId('measure-teacher').click();
    await expect.poll(() => page.getByTestId('teacher-estimate').textContent(), { timeout: 60_000 }).toMatch(/per region \(wasm\).*4\s*regions to compute/s);
    await page.screenshot({ path: path.join(artifacts, 'train-teacher.png') });
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('arch').selectOption('compact');
    await page.getByTestId('arch-options').fill('channels=4\nblocks=1');
    await page.getByTestId('arch-options').blur();
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('model-name').fill('e2e-student');
    await page.getByTestId('steps').fill('4');
    await page.getByTestId('batch').fill('2');
    await page.getByTestId('patch').fill('16');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('start-training').click();
    await page.getByTestId('try-in-compare').waitFor({ timeout: 120_000 });
    await expect.poll(() => page.getByTestId('card-teacher').textContent()).toMatch(/tiny-teacher \(x2\) · BSD-3-Clause.*3 regions of 64 px; inputs: the photos themselves/s);
    expect(errors).toEqual([]);
  });

  it('a teacher costing over an hour must be accepted before the run can go on', async () => {
    await page.getByRole('button', { name: 'Train another' }).click();
    await page.getByTestId('train-dirs').fill(photos);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('mode-teacher').check();
    await page.getByTestId('teacher').selectOption('slow-teacher');
    await page.getByTestId('teacher-regions').fill('100000');
    await page.getByTestId('measure-teacher').click();
    await page.getByTestId('teacher-confirm').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('teacher-estimate').textContent()).toMatch(/\d+h \d+m\s*teacher time/);
    expect(await page.getByTestId('wizard-next').isDisabled()).toBe(true);
    await page.getByTestId('teacher-confirm').check();
    await page.screenshot({ path: path.join(artifacts, 'train-teacher-confirm.png') });
    expect(await page.getByTestId('wizard-next').isDisabled()).toBe(false);
    // Changing the plan drops the measurement and the acceptance with it.
    await page.getByTestId('teacher-regions').fill('50000');
    expect(await page.getByTestId('wizard-next').isDisabled()).toBe(true);
    expect(await page.getByTestId('teacher-estimate').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
