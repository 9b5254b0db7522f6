/**
 * Browser E2E in real Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), against `restora serve` started by the test itself.
 * One user journey through the studio: library import (with a file that is not an
 * image), Compare + upscale + slider, a batch export of a library selection, a tiny
 * training run with live charts, and the new model used in Compare.
 * Any console error or page error fails the run. Screenshots of every view go to
 * test-results/screenshots/. Set RESTORA_E2E_SKIP_BUILD=1 to reuse out/renderer.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { unzipSync } from 'fflate';
import { ROOT, synthImage, tmpDir, toUint8 } from '../helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`E2E skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

let server: ChildProcess;
let url = '';
let browser: Browser;
/** Points on the wizard's live loss chart at the end of the e2e run (Runs must show as many). */
/** The wizard's verdict on its tiny run (it decides whether Models offers the model as a default). */
let verdict = '';
let liveLossPoints = 0;
let page: Page;
const errors: string[] = [];
const artifacts = path.join(ROOT, 'test-results', 'screenshots');
const work = tmpDir('restora-e2e-');
const home = tmpDir('restora-home-');
const photos = path.join(work, 'photos');
const trainData = path.join(work, 'train');
const exportOut = path.join(work, 'exported');

async function writePng(file: string, w: number, h: number, seed: number): Promise<void> {
  await sharp(Buffer.from(toUint8(synthImage(w, h, seed))), { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(file);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

/** Library's "New project…" form, filled and sent. */
async function newProject(name: string): Promise<void> {
  await page.getByRole('button', { name: 'New project…' }).click();
  await page.getByLabel('New project name').fill(name);
  await page.getByRole('button', { name: 'Create project' }).click();
  // The project is made and chosen asynchronously: photos added before then would go to the one before.
  await expect.poll(() => page.getByTestId('project-select').evaluate((s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent ?? '')).toContain(name);
}

async function nav(label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
}

describe.skipIf(!HAVE_CHROMIUM)('web mode in Chromium', () => {
  beforeAll(async () => {
    // Always rebuild: a stale out/renderer would test old sources (a few seconds).
    if (process.env.RESTORA_E2E_SKIP_BUILD !== '1' || !fs.existsSync(path.join(ROOT, 'out', 'renderer', 'index.html'))) {
      const b = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
      if (b.status !== 0) throw new Error(`renderer build failed: ${b.stderr}`);
    }
    // 8 small photos and a text file that must be reported as skipped.
    fs.mkdirSync(photos, { recursive: true });
    for (let i = 0; i < 8; i++) await writePng(path.join(photos, `photo-${i + 1}.png`), 40 + 4 * i, 32 + 2 * i, i + 1);
    fs.writeFileSync(path.join(photos, 'notes.txt'), 'not an image\n');
    // Training photos, large enough for 16 px patches at x2 (32 px HR crops).
    fs.mkdirSync(trainData, { recursive: true });
    for (let i = 0; i < 6; i++) await writePng(path.join(trainData, `t${i}.png`), 96 + 8 * i, 96, 100 + i);

    server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), 'serve', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, RESTORA_HOME: home, RESTORA_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Restora UI: (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      server.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    fs.rmSync(artifacts, { recursive: true, force: true });
    fs.mkdirSync(artifacts, { recursive: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  }, 180_000);

  // On a failure, keep what the page showed (and any alert text) for the report.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return;
    const slug = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
    await page.screenshot({ path: path.join(artifacts, `FAILED-${slug}.png`) }).catch(() => undefined);
    const alerts = await page
      .locator('.alerts')
      .textContent()
      .catch(() => '');
    if (alerts?.trim()) console.warn(`alerts at failure: ${alerts}`);
    if (errors.length) console.warn(`console errors: ${errors.join('\n')}`);
  });

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    for (const d of [work, home]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('loads the studio over the token URL and shows the backend', async () => {
    await page.goto(url);
    await page.getByText(/Backend: (wasm|cpu|node|gpu) \(\d+ threads?\)/).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    // The session is in this origin's sessionStorage, not in a cookie (cookies ignore ports), and the token left the address bar.
    expect(page.url()).not.toContain('token=');
    expect(await page.context().cookies()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('creates a project and imports a folder; the text file is reported as skipped with a reason', async () => {
    await page.getByLabel('New project name').fill('E2E');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByLabel(/Folder or file paths to import/).fill(photos);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect
      .poll(() =>
        page
          .getByTestId('import-added')
          .textContent()
          .catch(() => ''),
      )
      .toContain('8 added');
    // Dropping paths (as text, the only way a sandboxed page sees them): the folder again
    // (all duplicates) and a text file, which is listed as skipped with the reason.
    const dt = await page.evaluateHandle(
      (text) => {
        const d = new DataTransfer();
        d.setData('text/plain', text);
        return d;
      },
      `${photos}\n${path.join(photos, 'notes.txt')}`,
    );
    await page.locator('.import').dispatchEvent('drop', { dataTransfer: dt });
    await expect
      .poll(() =>
        page
          .getByTestId('import-duplicates')
          .textContent()
          .catch(() => ''),
      )
      .toContain('8 duplicates');
    await expect(page.getByTestId('import-added').textContent()).resolves.toContain('0 added');
    await expect(page.getByTestId('import-failed').textContent()).resolves.toContain('1 skipped');
    await expect(page.getByTestId('import-failures').textContent()).resolves.toContain('notes.txt');
    const cells = page.getByRole('listbox', { name: 'Images' }).getByRole('option');
    await expect.poll(() => cells.count()).toBe(8);
    // Thumbnails actually decode.
    await expect.poll(() => page.$$eval('[role=option] img', (imgs) => imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 0).length)).toBe(8);
    await shot('library');
    expect(errors).toEqual([]);
  });

  it('opens an image in Compare, upscales it x2, and the slider moves the clip', async () => {
    await page.getByRole('option', { name: /^photo-1\.png/ }).click();
    await page.getByRole('heading', { name: 'Compare' }).waitFor();
    await page.getByTestId('model-select').selectOption('restora-x2');
    // From the keyboard: Enter on Upscale, and the focus is still there when the result comes.
    await page.getByTestId('upscale').focus();
    await page.keyboard.press('Enter');
    const after = page.getByTestId('after-img');
    await after.waitFor({ timeout: 60_000 });
    await expect.poll(() => after.evaluate((i) => (i as HTMLImageElement).naturalWidth), { timeout: 30_000 }).toBe(80);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('upscale');
    const clip = page.getByTestId('after-clip');
    const before = await clip.evaluate((e) => (e as HTMLElement).style.clipPath);
    expect(before).toContain('50%');
    await page.getByTestId('split').fill('20');
    await expect.poll(() => clip.evaluate((e) => (e as HTMLElement).style.clipPath)).toContain('20%');
    // Wheel over the viewer zooms.
    const zoom0 = await page.getByTestId('zoom').textContent();
    await page.getByRole('group', { name: /Image viewer/ }).hover();
    await page.mouse.wheel(0, 400);
    await expect.poll(() => page.getByTestId('zoom').textContent()).not.toBe(zoom0);
    await expect(page.getByTestId('export-result').getAttribute('href')).resolves.toMatch(/^\/media\/result\/\d+\?key=[A-Za-z0-9_-]+$/);
    await shot('compare');
    // Side by side: both panes share the zoom; the after image still loads.
    await page.getByLabel('Side by side').check();
    await expect.poll(() => page.locator('.viewer.side .pane').count()).toBe(2);
    await expect.poll(() => page.getByTestId('after-img').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(80);
    await shot('compare-side-by-side');
    await page.getByLabel('Slider').check();
    // Another photo, then this one again: its last result is shown without upscaling again.
    await nav('Library');
    await page.getByRole('option', { name: /^photo-2\.png/ }).click();
    await expect.poll(() => page.getByTestId('compare-image').textContent()).toContain('photo-2.png');
    await nav('Library');
    await page.getByRole('option', { name: /^photo-1\.png/ }).click();
    await expect.poll(() => page.getByTestId('compare-image').textContent()).toContain('photo-1.png');
    await expect.poll(() => page.getByTestId('after-img').evaluate((i) => (i as HTMLImageElement).naturalWidth), { timeout: 30_000 }).toBe(80);
    // Task-first: "Restore old photo" runs the old-photo model (the default for that task) at once.
    await page.getByTestId('task-restore').click();
    await expect.poll(() => page.getByTestId('model-select').inputValue()).toBe('restora-oldphoto-x2');
    await expect
      .poll(
        () =>
          page
            .getByRole('combobox', { name: 'Result shown' })
            .locator('option:checked')
            .textContent()
            .catch(() => ''),
        { timeout: 60_000 },
      )
      .toMatch(/^restora-oldphoto-x2/);
    await expect.poll(() => page.getByTestId('upscale').textContent()).toBe('Upscale');
    expect(errors).toEqual([]);
  });

  it('exports a library selection of 5 images to a folder', async () => {
    await nav('Library');
    const cells = page.getByRole('listbox', { name: 'Images' }).getByRole('option');
    await expect.poll(() => cells.count()).toBe(8);
    for (let i = 0; i < 5; i++) await cells.nth(i).click({ modifiers: ['Control'] });
    await expect(page.getByTestId('selection-count').textContent()).resolves.toContain('5 selected');
    // A task on the selection: Export opens with that task's model, explained in one line.
    await page.getByTestId('selection-restore').click();
    await page.getByRole('heading', { name: 'Export', exact: true }).waitFor();
    await expect(page.getByLabel(/Current library selection \(5 images\)/).isChecked()).resolves.toBe(true);
    await expect(page.getByTestId('model-select').inputValue()).resolves.toBe('restora-oldphoto-x2');
    await expect(page.getByTestId('model-line').textContent()).resolves.toMatch(/^Old scans and prints: .* · .*Set14[^:]*: \d+\.\d+ dB \(bicubic \d+\.\d+ dB\)/);
    await page.getByTestId('export-out').fill(exportOut);
    await page.getByTestId('model-select').selectOption('restora-x2');
    await page.getByTestId('export-start').click();
    const job = page.locator('[data-job-id]').first();
    await expect.poll(() => job.getByTestId('job-state').textContent(), { timeout: 90_000 }).toBe('done');
    await expect(job.getByTestId('job-counts').textContent()).resolves.toContain('5 / 5');
    const files = fs
      .readdirSync(exportOut, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.png'));
    expect(files).toHaveLength(5);
    // A job over paths with a file that is not an image: it fails alone, with its reason shown.
    const firstJob = await job.getAttribute('data-job-id');
    await page.getByLabel('Files or folders').check();
    await page.getByTestId('export-inputs').fill(`${path.join(photos, 'photo-6.png')}\n${path.join(photos, 'notes.txt')}`);
    await page.getByTestId('export-out').fill(path.join(work, 'exported-2'));
    await page.getByTestId('export-start').click();
    const job2 = page.locator('[data-job-id]').first();
    await expect.poll(() => job2.getAttribute('data-job-id')).not.toBe(firstJob);
    // One good file and one bad: the job is done, with the failure counted and listed (not "failed").
    await expect.poll(() => job2.getByTestId('job-state').textContent(), { timeout: 60_000 }).toBe('done, 1 failed');
    await expect.poll(() => job2.locator('details', { hasText: /\d+ failures?/ }).textContent()).toContain('notes.txt');
    expect(fs.existsSync(path.join(work, 'exported-2', 'photo-6.png'))).toBe(true);
    await shot('export');
    expect(errors).toEqual([]);
  });

  it('in the browser, a batch Restore needs no server path, repairs first, and its results come back as a zip or one by one', async () => {
    await nav('Library');
    const cells = page.getByRole('listbox', { name: 'Images' }).getByRole('option');
    await page.getByRole('button', { name: 'Clear selection' }).click();
    for (let i = 5; i < 8; i++) await cells.nth(i).click({ modifiers: ['Control'] });
    await page.getByTestId('selection-restore').click();
    await page.getByRole('heading', { name: 'Export', exact: true }).waitFor();
    // Restore repairs first, as the single-photo button does; the choice is shown.
    expect(await page.getByTestId('export-repair').inputValue()).toBe('auto');
    // A disabled Start says why.
    await page.getByLabel('Files or folders').check();
    expect(await page.getByTestId('export-start').isDisabled()).toBe(true);
    expect(await page.getByTestId('export-why').textContent()).toBe('Give at least one file or folder.');
    await page.getByLabel(/Current library selection/).check();
    expect(await page.getByTestId('export-why').count()).toBe(0);
    expect(await page.getByTestId('export-out').inputValue()).toBe('');
    const before = await page.locator('[data-job-id]').count();
    await page.getByTestId('export-start').click();
    await expect.poll(() => page.locator('[data-job-id]').count()).toBe(before + 1);
    const job = page.locator('[data-job-id]').first();
    await expect.poll(() => job.getByTestId('job-state').textContent(), { timeout: 120_000 }).toBe('done');
    expect(await job.textContent()).toContain('damage repaired first');
    expect(await job.locator('code').first().textContent()).toContain(path.join(home, 'exports'));
    // The zip, fetched as the link's click would (with the page's media key), streamed by the server.
    const href = (await job.getByTestId('job-download').getAttribute('href'))!;
    expect(await job.getByTestId('job-download').textContent()).toBe('Download 3 results (.zip)');
    const bytes = new Uint8Array(await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), href));
    const entries = unzipSync(bytes);
    expect(Object.keys(entries).sort()).toEqual(['photo-6.png', 'photo-7.png', 'photo-8.png']);
    expect((await sharp(Buffer.from(entries['photo-8.png']!)).metadata()).width).toBe(2 * (40 + 4 * 7));
    // One by one: the list of files, each a link to its own download.
    await job.getByText('Files one by one').click();
    await expect.poll(() => job.locator('details a').count()).toBe(3);
    const one = (await job.locator('details a').first().getAttribute('href'))!;
    const oneBytes = await page.evaluate(async (u) => (await (await fetch(u)).arrayBuffer()).byteLength, one);
    expect(oneBytes).toBe(entries[(await job.locator('details a').first().textContent())!]!.length);
    await shot('export-download');
    expect(errors).toEqual([]);
  });

  it('trains a tiny model through the wizard with live charts', async () => {
    await nav('Train');
    await page.getByTestId('train-dirs').fill(trainData);
    await page.getByLabel('Patch (LR px)').fill('16');
    await page.getByRole('button', { name: 'Inspect data' }).click();
    await expect(page.getByTestId('dataset-stats').textContent()).resolves.toMatch(/6\s*usable/);
    await page.getByTestId('wizard-next').click();
    // Degradation: the preview grid of pairs loads by itself.
    await page.getByTestId('preview-grid').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.$$eval('[data-testid=preview-grid] img', (imgs) => imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 0).length)).toBeGreaterThan(1);
    await shot('train-preview');
    // Another preset: the samples are rebuilt for it (new media), not left showing the old one.
    const firstSample = await page.locator('[data-testid=preview-grid] img').first().getAttribute('src');
    const preset = await page.getByTestId('preset').inputValue();
    await page.getByTestId('preset').selectOption(preset === 'jpeg' ? 'bicubic' : 'jpeg');
    await expect.poll(() => page.locator('[data-testid=preview-grid] img').first().getAttribute('src'), { timeout: 60_000 }).not.toBe(firstSample);
    await page.getByTestId('preset').selectOption(preset);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('arch').selectOption('compact');
    await page.getByTestId('arch-options').fill('channels=8\nblocks=1');
    await page.getByTestId('arch-options').blur();
    await expect.poll(() => page.getByTestId('estimate').textContent()).toMatch(/\d\s*parameters/);
    // Switching architecture drops the options the new one lacks: no false errors, an estimate at once.
    const alertsBefore = await page.locator('.alerts .alert.error').count();
    await page.getByTestId('arch').selectOption('srvgg');
    await expect.poll(() => page.getByTestId('arch-options').inputValue()).toBe('');
    await expect.poll(() => page.getByTestId('estimate').textContent()).toMatch(/\d\s*parameters/);
    expect(await page.locator('.alerts .alert.error').count()).toBe(alertsBefore);
    expect(await page.getByTestId('estimate-error').count()).toBe(0);
    await page.getByTestId('arch').selectOption('compact');
    await page.getByTestId('arch-options').fill('channels=8\nblocks=1');
    await page.getByTestId('arch-options').blur();
    await expect.poll(() => page.getByTestId('estimate').textContent()).toMatch(/\d\s*parameters/);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('model-name').fill('e2e-tiny');
    await page.getByTestId('steps').fill('20');
    await page.getByTestId('batch').fill('2');
    await page.getByTestId('patch').fill('16');
    // Timed on this machine before it starts: real steps of this model, batch and patch, then minutes for the plan.
    const timing = page.getByTestId('train-estimate');
    await expect.poll(() => timing.textContent(), { timeout: 60_000 }).toMatch(/Measured here: \d+\.\d+ s per step \(\d steps timed on wasm\), so\s+20 steps take (about|under)/);
    // Typed steps are kept; sizing the run to about 30 minutes here is one click away.
    await expect(page.getByTestId('steps-30min').textContent()).resolves.toMatch(/^Use [\d,]+ steps \(about 30 minutes here\)$/);
    await shot('train-estimate');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('start-training').click();
    // A mid-run picture when the run is slow enough to catch one (20 steps can finish first).
    await page
      .getByTestId('train-step')
      .waitFor({ timeout: 20_000 })
      .then(
        () => shot('train-run'),
        () => undefined,
      );
    // Live progress, then the result step with the card and the final curves.
    await page.getByTestId('try-in-compare').waitFor({ timeout: 120_000 });
    const loss = page.locator('[data-testid=chart-loss] path.line');
    await expect.poll(() => loss.getAttribute('data-points')).not.toBe('0');
    // A 20-step run logs every step: the live chart has all 20 points.
    await expect.poll(() => loss.getAttribute('data-points')).toBe('20');
    liveLossPoints = Number(await loss.getAttribute('data-points'));
    expect(((await loss.getAttribute('d')) ?? '').split('L').length).toBeGreaterThanOrEqual(2);
    // The result says plainly how the model does against bicubic on its held-out photos, drawn on the chart too.
    await expect
      .poll(
        () =>
          page
            .getByTestId('run-verdict')
            .textContent()
            .catch(() => ''),
        { timeout: 30_000 },
      )
      .toMatch(/^\s*(Worse than bicubic enlargement \(\d+\.\d+ dB\)|Held-out PSNR \d+\.\d+ dB: better than bicubic \(\d+\.\d+ dB\))/);
    verdict = (await page.getByTestId('run-verdict').textContent())!.trim();
    expect(await page.locator('.result path.line[data-series=bicubic]').count()).toBe(1);
    await shot('train-result');
    expect(errors).toEqual([]);
  });

  it('shows the new model in Models and the run in Runs, and upscales with it in Compare', async () => {
    const modelId = await page.locator('article[data-model-id]').first().getAttribute('data-model-id');
    expect(modelId).toBeTruthy();
    await nav('Runs');
    await expect.poll(() => page.locator('svg path.line').count()).toBeGreaterThan(0);
    // Runs shows the curve the live chart showed: the same logged points, read back from the store.
    await expect.poll(() => page.locator('[data-testid=runs-chart-loss] path.line').getAttribute('data-points')).toBe(String(liveLossPoints));
    await shot('runs');
    await nav('Models');
    await page.locator(`article[data-model-id="${modelId}"]`).waitFor();
    await page.locator('article[data-model-id="restora-x2"]').waitFor();
    const card = page.locator(`article[data-model-id="${modelId}"]`);
    const makeDefault = card.getByRole('button', { name: /Make default for upscale-x2/ });
    if (verdict.startsWith('Worse than')) {
      // A model worse than bicubic is not offered as a default, and the button says why.
      expect(await makeDefault.isDisabled()).toBe(true);
      expect(await makeDefault.getAttribute('title')).toMatch(/^Worse than bicubic enlargement/);
    } else {
      await makeDefault.click();
      await card.getByText('default for upscale-x2').waitFor();
    }
    await shot('models');
    await nav('Settings');
    await page.getByTestId('about-backend').waitFor();
    // Where models run: the CPU by default, said in words.
    await expect(page.getByTestId('compute').inputValue()).resolves.toBe('cpu');
    await expect.poll(() => page.getByTestId('about-compute').textContent()).toMatch(/^CPU: (wasm|cpu|tensorflow)/);
    await shot('settings');
    // Dark theme applies at once through the CSS variables, and keeps a "Run models on" choice not saved yet.
    await page.getByTestId('compute').selectOption('auto');
    await page.getByTestId('theme').selectOption('dark');
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await page.getByTestId('compute').inputValue()).toBe('auto');
    await page.getByTestId('compute').selectOption('cpu');
    await shot('settings-dark');
    await nav('Train');
    await page.getByTestId('try-in-compare').click();
    await page.getByRole('heading', { name: 'Compare' }).waitFor();
    await expect(page.getByTestId('model-select').inputValue()).resolves.toBe(modelId);
    await page.getByTestId('upscale').click();
    await expect.poll(() => page.locator('.tag.right').textContent(), { timeout: 60_000 }).toContain(modelId!);
    await expect.poll(() => page.getByTestId('after-img').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(80);
    await shot('compare-trained');
    // A user model can be deleted (two steps); bundled ones offer no delete.
    await nav('Models');
    await page.locator(`article[data-model-id="${modelId}"]`).getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: `Delete ${modelId}` }).click();
    await expect.poll(() => page.locator(`article[data-model-id="${modelId}"]`).count()).toBe(0);
    expect(
      await page
        .locator('article[data-model-id="restora-x2"]')
        .getByRole('button', { name: /Delete/ })
        .count(),
    ).toBe(0);
    expect(errors).toEqual([]);
  });

  it('imports a PyTorch model in Models (its card shows the source and licence), refuses a code-carrying pickle, and offers the model as "Start from" in the wizard', async () => {
    await nav('Models');
    const form = page.getByTestId('model-import');
    await form.getByLabel('Model file or folder').fill(path.join(ROOT, 'test', 'fixtures', 'import', 'srvgg-x4.pth'));
    await form.getByLabel('Name (optional)').fill('tiny-general');
    await form.getByLabel('Licence (optional)').fill('CC0 (test fixture)');
    await form.getByRole('button', { name: 'Import model' }).click();
    const card = page.locator('article[data-model-id="tiny-general"]');
    await card.waitFor({ timeout: 60_000 });
    const text = await card.textContent();
    expect(text).toMatch(/Imported from\s*SRVGGNetCompact\s*srvgg-x4\.pth · SHA-256 [0-9a-f]{16}/);
    expect(text).toMatch(/CC0 \(test fixture\)/);
    expect(text).toMatch(/MP\/s output on wasm/);
    await shot('models-imported');
    await form.getByLabel('Model file or folder').fill(path.join(ROOT, 'test', 'fixtures', 'import', 'evil.pth'));
    await form.getByRole('button', { name: 'Import model' }).click();
    await expect.poll(() => page.locator('.alerts').textContent()).toMatch(/evil\.pth: refused: the checkpoint asks to run posix\.system/);
    // Many model cards scroll inside the content pane; the app itself never moves off screen.
    expect(await page.locator('article[data-model-id]').count()).toBeGreaterThanOrEqual(4);
    await page.locator('#main').hover();
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, 2000);
    await expect.poll(() => page.locator('#main').evaluate((m) => m.scrollTop)).toBeGreaterThan(0);
    expect(await page.evaluate(() => [document.scrollingElement!.scrollTop, window.scrollY])).toEqual([0, 0]);
    const bar = await page.getByRole('contentinfo', { name: 'Status' }).boundingBox();
    expect(bar!.y + bar!.height).toBeLessThanOrEqual(await page.evaluate(() => window.innerHeight));
    await nav('Train');
    // The earlier run left the wizard on its result step.
    const another = page.getByRole('button', { name: 'Train another' });
    if (await another.count()) await another.click();
    await page.getByTestId('train-dirs').fill(trainData);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-next').click();
    const start = page.getByTestId('init-model');
    await start.selectOption('tiny-general');
    await expect(page.getByTestId('arch').inputValue()).resolves.toBe('srvgg');
    await expect(page.getByTestId('arch').isDisabled()).resolves.toBe(true);
    await page.getByTestId('init-note').waitFor();
    // The model chosen to start from is explained in one line: what it is, its speed here.
    await expect(page.getByTestId('init-model-line').textContent()).resolves.toMatch(/^Upscaling model \(srvgg, x4\)\. · \d+\.\d+ MP\/s output on wasm here/);
    await expect.poll(() => page.getByTestId('estimate').textContent()).toMatch(/\d\s*parameters/);
    await shot('train-start-from');
    await start.selectOption('');
    await expect(page.getByTestId('arch').isDisabled()).resolves.toBe(false);
    // The refused import is reported in the page, not as a console error.
    expect(errors.filter((e) => !/evil\.pth/.test(e))).toEqual([]);
    errors.length = 0;
  });

  it('keeps the library grid virtual: 2,000 images, a bounded number of cells, the last one reachable', async () => {
    const many = path.join(work, 'many');
    fs.mkdirSync(many);
    for (let i = 0; i < 2000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, k) => {
          const n = i + k;
          const px = Buffer.alloc(8 * 8 * 3, n % 251);
          px.writeUInt16LE(n, 0); // distinct content: the library dedupes by hash
          return sharp(px, { raw: { width: 8, height: 8, channels: 3 } })
            .png()
            .toFile(path.join(many, `m${String(n).padStart(4, '0')}.png`));
        }),
      );
    }
    await nav('Library');
    await newProject('Many');
    await page.getByLabel(/Folder or file paths to import/).fill(many);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    // The progress bar says how long is left once the first files are in.
    await expect
      .poll(
        () =>
          page
            .getByTestId('import-eta')
            .textContent()
            .catch(() => ''),
        { timeout: 30_000 },
      )
      .toMatch(/about \d+(s|m \d+s) left/);
    await expect
      .poll(
        () =>
          page
            .getByTestId('import-added')
            .textContent()
            .catch(() => ''),
        { timeout: 60_000 },
      )
      .toContain('2000 added');
    await expect.poll(() => page.getByTestId('library-total').textContent()).toContain('2,000');
    const grid = page.getByRole('listbox', { name: 'Images' });
    const cells = grid.getByRole('option');
    await cells.first().waitFor();
    expect(await cells.count()).toBeLessThan(80);
    await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(() => grid.getByRole('option', { name: /^m1999\.png/ }).count()).toBe(1);
    expect(await cells.count()).toBeLessThan(80);
    // Keyboard: End then Enter opens the last image in Compare.
    await grid.focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('compare-image').textContent()).toContain('m1999.png');
    expect(errors).toEqual([]);
  });

  it('selects a range with Shift-click (across pages not loaded yet) and everything with Ctrl+A', async () => {
    await nav('Library');
    const grid = page.getByRole('listbox', { name: 'Images' });
    const cells = grid.getByRole('option');
    await cells.first().waitFor();
    await cells.nth(0).click({ modifiers: ['Control'] });
    await cells.nth(4).click({ modifiers: ['Shift'] });
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toContain('5 selected');
    // From the first image to the last of 2,000: most of the range was never on screen.
    await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await grid.getByRole('option', { name: /^m1999\.png/ }).click({ modifiers: ['Shift'] });
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toContain('2000 selected');
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+A');
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toContain('2000 selected');
    // The page's text was not selected instead.
    expect(await page.evaluate(() => String(window.getSelection()))).toBe('');
    expect(errors).toEqual([]);
  });

  it('flags a photo damaged after a valid header with a badge and the reason, soon after import', async () => {
    const damaged = path.join(work, 'damaged');
    fs.mkdirSync(damaged);
    await writePng(path.join(damaged, 'fine.png'), 40, 32, 3);
    await writePng(path.join(damaged, 'whole.png'), 40, 32, 4);
    const bytes = fs.readFileSync(path.join(damaged, 'whole.png'));
    fs.writeFileSync(path.join(damaged, 'cut-short.png'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    fs.rmSync(path.join(damaged, 'whole.png'));
    await nav('Library');
    await newProject('Damaged');
    await page.getByLabel(/Folder or file paths to import/).fill(damaged);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect
      .poll(() =>
        page
          .getByTestId('import-added')
          .textContent()
          .catch(() => ''),
      )
      .toContain('2 added');
    const badge = page.getByRole('option', { name: /^cut-short\.png/ }).getByTestId('broken-badge');
    await badge.waitFor({ timeout: 30_000 });
    expect(await badge.getAttribute('title')).toMatch(/cut-short\.png: /);
    expect(
      await page
        .getByRole('option', { name: /^fine\.png/ })
        .getByTestId('broken-badge')
        .count(),
    ).toBe(0);
    await shot('library-broken');
    // Before the check lands, the grid may have asked for the damaged photo's thumbnail once (a 404).
    expect(errors.filter((e) => !/Failed to load resource: .*404/.test(e))).toEqual([]);
    errors.length = 0;
  });

  it('first use: the sample photo restored in two clicks, then photos chosen in the browser are uploaded', async () => {
    await nav('Library');
    // Earlier tests' notices (a refused model import) would cover the README's screenshots.
    const dismiss = page.getByRole('button', { name: /^Dismiss/ });
    while ((await dismiss.count()) > 0) await dismiss.first().click();
    await newProject('First use');
    await page.getByTestId('first-use').waitFor();
    await shot('first-use');
    await page.getByTestId('try-sample').click();
    const sample = page.getByRole('option', { name: /^coffee\.png/ });
    await sample.waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('first-use').count()).toBe(0);
    await sample.click();
    await page.getByTestId('task-restore').click();
    await expect
      .poll(
        () =>
          page
            .getByTestId('after-img')
            .evaluate((i) => (i as HTMLImageElement).naturalWidth)
            .catch(() => 0),
        { timeout: 120_000 },
      )
      .toBeGreaterThan(0);
    // Saving it needs no typed path either: Export result downloads it (into the browser's download folder).
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-result').click()]);
    const saved = path.join(work, 'downloads', download.suggestedFilename());
    await download.saveAs(saved);
    const meta = await sharp(saved).metadata();
    expect([meta.width, meta.height]).toEqual([1200, 800]); // the 600x400 sample, restored at x2
    await shot('first-use-restored');
    await nav('Library');
    await page.getByTestId('file-input').setInputFiles([path.join(photos, 'photo-3.png'), path.join(photos, 'photo-4.png'), path.join(photos, 'notes.txt')]);
    await expect
      .poll(() =>
        page
          .getByTestId('import-added')
          .textContent()
          .catch(() => ''),
      )
      .toContain('2 added');
    await expect(page.getByTestId('import-ignored').textContent()).resolves.toContain('1 non-image file');
    await expect.poll(() => page.getByRole('listbox', { name: 'Images' }).getByRole('option').count()).toBe(3);
    expect(errors).toEqual([]);
  });

  it('finds the damage of a photo, shows it over the photo, corrects it with the brush, and restores with that mask', async () => {
    await nav('Library');
    await page.getByRole('option', { name: /^coffee\.png/ }).click();
    await page.getByRole('heading', { name: 'Compare' }).waitFor();
    await page.getByTestId('find-damage').click();
    const count = page.getByTestId('mask-count');
    await expect.poll(() => count.textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/^[\d,]+ pixels marked \([\d.]+ % of the photo will be repaired\)$/);
    const found = Number((await count.textContent())!.split(' ')[0]!.replace(/\D/g, ''));
    const overlay = page.getByTestId('mask-overlay');
    await expect(overlay.evaluate((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height])).resolves.toEqual([600, 400]);
    await expect(page.getByTestId('repair-choice').inputValue()).resolves.toBe('mask');
    // Paint a stroke across the middle of the photo with the brush.
    await page.getByTestId('brush-add').check();
    const box = (await overlay.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 12 });
    await page.mouse.up();
    await expect.poll(() => count.textContent()).toMatch(/not saved/);
    // The photo did not move under the brush while painting (the bar must not re-wrap mid-stroke).
    expect(await overlay.boundingBox()).toEqual(box);
    const painted = Number((await count.textContent())!.split(' ')[0]!.replace(/\D/g, ''));
    expect(painted).toBeGreaterThan(found + 100);
    await shot('damage-mask');
    await page.getByTestId('save-mask').click();
    await expect.poll(() => count.textContent()).toMatch(new RegExp(`^${painted.toLocaleString('en-US')} pixels marked \\([\\d.]+ % of the photo will be repaired\\)$`));
    // The stored mask is the painted one: the photo's size, as many white pixels.
    const maskFile = fs.readdirSync(path.join(home, 'masks')).filter((f) => f.endsWith('.png') && !f.includes('.part'));
    expect(maskFile).toHaveLength(1);
    const { data, info } = await sharp(path.join(home, 'masks', maskFile[0]!))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([600, 400]);
    expect(Array.from(data).filter((v) => v >= 128).length).toBe(painted);
    // Erasing takes pixels away again (the layout must not have moved the photo since the stroke).
    expect(await overlay.boundingBox()).toEqual(box);
    await page.getByTestId('brush-erase').check();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.up();
    await expect.poll(async () => Number((await count.textContent())!.split(' ')[0]!.replace(/\D/g, ''))).toBeLessThan(painted);
    // Upscale with "Use my mask": the edited mask is saved first, then repaired and restored.
    await page.getByTestId('model-select').selectOption('restora-oldphoto-x2');
    await page.getByTestId('upscale').click();
    await expect
      .poll(
        () =>
          page
            .getByRole('combobox', { name: 'Result shown' })
            .locator('option:checked')
            .textContent()
            .catch(() => ''),
        { timeout: 120_000 },
      )
      .toMatch(/^restora-oldphoto-x2/);
    await expect.poll(() => count.textContent()).not.toMatch(/not saved/);
    const erased = Number((await count.textContent())!.split(' ')[0]!.replace(/\D/g, ''));
    const saved = await sharp(path.join(home, 'masks', maskFile[0]!))
      .greyscale()
      .raw()
      .toBuffer();
    expect(Array.from(saved).filter((v) => v >= 128).length).toBe(erased);
    expect(errors).toEqual([]);
  });

  it('keeps the repair to one photo and one task: a plain upscale never repairs, a photo without a mask offers none', async () => {
    // coffee.png is open, with the mask saved and used by the restore above.
    const choice = page.getByTestId('repair-choice');
    // The After pane's tag names the model of the result shown (the result picker appears only with two results).
    const shown = () =>
      page
        .locator('.tag.right')
        .textContent({ timeout: 1000 })
        .catch(() => '');
    expect(await choice.inputValue()).toBe('mask');
    await page.getByTestId('task-upscale-x2').click();
    await expect.poll(shown, { timeout: 120_000 }).toBe('After · restora-x2');
    expect(await choice.inputValue()).toBe('off');
    // The restore before it says what it repaired; the upscale says nothing of the kind.
    expect(
      await page
        .getByRole('combobox', { name: 'Result shown' })
        .locator('option', { hasText: /^restora-oldphoto-x2 \(repaired [\d,]+ px, my mask\)/ })
        .count(),
    ).toBe(1);
    // Another photo, without a mask: no repair chosen, "Use my mask" not offered, and a plain upscale works.
    await nav('Library');
    await page.getByRole('option', { name: /^photo-3\.png/ }).click();
    await page.getByRole('heading', { name: 'Compare' }).waitFor();
    await expect.poll(() => choice.inputValue()).toBe('off');
    expect(await choice.locator('option[value=mask]').isDisabled()).toBe(true);
    expect(await page.getByTestId('mask-count').count()).toBe(0);
    await page.getByTestId('task-upscale-x2').click();
    await expect.poll(shown, { timeout: 120_000 }).toBe('After · restora-x2');
    // One click for "restore and enlarge x4": the restore, then the x4 real-world model, four times the photo.
    await page.getByTestId('task-restore-x4').click();
    await expect.poll(shown, { timeout: 120_000 }).toBe('After · restora-oldphoto-x2+restora-clean-x4');
    const [w] = /(\d+)×(\d+)/
      .exec((await page.getByTestId('compare-image').textContent())!)!
      .slice(1)
      .map(Number);
    await expect.poll(() => page.getByTestId('after-img').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(w! * 4);
    // Back on coffee.png: its saved mask comes back with it, offered but not chosen.
    await nav('Library');
    await page.getByRole('option', { name: /^coffee\.png/ }).click();
    await page.getByRole('heading', { name: 'Compare' }).waitFor();
    await expect
      .poll(
        () =>
          page
            .getByTestId('mask-count')
            .textContent()
            .catch(() => ''),
        { timeout: 30_000 },
      )
      .toMatch(/^[\d,]+ pixels marked/);
    expect(await choice.locator('option[value=mask]').isDisabled()).toBe(false);
    expect(await choice.inputValue()).toBe('off');
    // A brush-wide dab is more than the repair can fill: the mask says so (and how wide) when the stroke ends.
    const tooWide = page.getByTestId('mask-too-wide');
    const wideBefore = await tooWide.count();
    await page.getByTestId('brush-add').check();
    await page.getByRole('slider', { name: 'Brush radius in photo pixels' }).fill('20');
    const box = (await page.getByTestId('mask-overlay').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.up();
    await expect.poll(() => tooWide.textContent().catch(() => '')).toMatch(/^\s*Part of the mask is \d+ px wide/);
    expect(Number(/is (\d+) px wide/.exec((await tooWide.textContent())!)![1])).toBeGreaterThanOrEqual(35);
    // Erasing the dab takes the warning away again (unless the found mask had a wide part of its own).
    await page.getByTestId('brush-erase').check();
    await page.getByRole('slider', { name: 'Brush radius in photo pixels' }).fill('24');
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.up();
    await expect.poll(() => tooWide.count()).toBe(wideBefore);
    expect(errors).toEqual([]);
  });

  it('trains from Library uploads in a browser: Inspect lists a broken one, the run is timed and sized to 30 minutes, Cancel asks first, Resume goes on', async () => {
    const broken = path.join(work, 'cut-upload.png');
    const whole = fs.readFileSync(path.join(trainData, 't0.png'));
    fs.writeFileSync(broken, whole.subarray(0, Math.floor(whole.length * 0.6)));
    await nav('Library');
    await newProject('Training set');
    await page.getByTestId('file-input').setInputFiles([...[0, 1, 2, 3, 4, 5].map((i) => path.join(trainData, `t${i}.png`)), broken]);
    await expect
      .poll(
        () =>
          page
            .getByTestId('import-added')
            .textContent()
            .catch(() => ''),
        { timeout: 30_000 },
      )
      .toContain('7 added');
    await expect.poll(() => page.getByRole('listbox', { name: 'Images' }).getByRole('option').count(), { timeout: 30_000 }).toBe(7);
    // Sort by Name sorts uploads by their own names (not by the hash folders they are kept in).
    await page.getByLabel('Sort by').selectOption('name');
    await expect.poll(() => page.getByRole('listbox', { name: 'Images' }).locator('.name').allTextContents()).toEqual(['cut-upload.png', 't0.png', 't1.png', 't2.png', 't3.png', 't4.png', 't5.png']);
    await nav('Train');
    const another = page.getByRole('button', { name: 'Train another' });
    if (await another.count()) await another.click();
    await page.getByRole('list', { name: 'Training steps' }).getByRole('button', { name: /Data/ }).click();
    await page.getByTestId('train-dirs').fill('');
    await page.getByTestId('train-project').selectOption({ label: 'Training set (7 photos)' });
    await page.getByLabel('Patch (LR px)').first().fill('16');
    await page.getByTestId('inspect-data').click();
    // Every photo is decoded: the one cut short is listed with its reason, and Preview just skips it.
    await expect
      .poll(() =>
        page
          .getByTestId('dataset-stats')
          .textContent()
          .catch(() => ''),
      )
      .toMatch(/6\s*usable.*1\s*skipped/s);
    expect(await page.getByTestId('dataset-stats').locator('details').textContent()).toMatch(/cut-upload\.png — .*cannot be decoded/);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('preview-grid').waitFor({ timeout: 60_000 });
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('arch').selectOption('compact');
    await page.getByTestId('arch-options').fill('channels=8\nblocks=1');
    await page.getByTestId('arch-options').blur();
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('model-name').fill('from-library');
    // Steps not typed: the measurement sizes the run to about 30 minutes on this machine, and says so.
    await expect.poll(() => page.getByTestId('train-estimate').textContent(), { timeout: 60_000 }).toMatch(/Steps are set so that this run takes about 30 minutes here\./);
    const sized = Number(await page.getByTestId('steps').inputValue());
    const perStep = Number(/([\d.]+) s per step/.exec((await page.getByTestId('train-estimate').textContent())!)![1]);
    expect(Math.abs((sized * perStep) / 60 - 30)).toBeLessThan(3);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('start-training').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('running');
    await page.getByTestId('train-step').waitFor({ timeout: 60_000 });
    // Cancel asks first; keeping on trains on.
    await page.getByTestId('run-cancel').click();
    await page.getByRole('button', { name: 'Keep training' }).click();
    expect(await page.getByTestId('run-state').textContent()).toBe('running');
    await page.getByTestId('run-cancel').click();
    await shot('train-cancel-confirm');
    await page.getByTestId('run-cancel-confirm').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('cancelled');
    const stoppedAt = Number((await page.getByTestId('train-step').textContent())!.split('/')[0]);
    // A cancelled run keeps its checkpoint: Resume takes it up again, from where it stopped.
    await page.getByTestId('run-resume').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('running');
    await expect.poll(async () => Number((await page.getByTestId('train-step').textContent())!.split('/')[0]), { timeout: 60_000 }).toBeGreaterThan(stoppedAt);
    // Then stopped for good (a 30-minute run is not waited for here); the CLI resumes it by its number too.
    await page.getByTestId('run-cancel').click();
    await page.getByTestId('run-cancel-confirm').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('cancelled');
    await nav('Runs');
    await expect.poll(() => page.getByText(/restora train --resume from-library/).count()).toBeGreaterThan(0);
    expect(await page.getByTestId('runs-resume').count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('restores faces: a face model imported in Models, Restore old photo with its Faces step, each face before and after, the strength live', async () => {
    await nav('Models');
    const form = page.getByTestId('model-import');
    await form.getByLabel('Model file or folder').fill(path.join(ROOT, 'test', 'fixtures', 'face-import', 'gfpgan-clean-64.pth'));
    await form.getByLabel('Name (optional)').fill('face64');
    await form.getByLabel('Licence (optional)').fill('test fixture (seeded random weights)');
    await form.getByRole('button', { name: 'Import model' }).click();
    await page.locator('article[data-model-id="face64"]').waitFor({ timeout: 60_000 });
    await nav('Library');
    await page.getByTestId('file-input').setInputFiles([path.join(ROOT, 'test', 'fixtures', 'faces', 'astronaut.jpg')]);
    const photo = page.getByRole('option', { name: /^astronaut\.jpg/ });
    await photo.waitFor({ timeout: 30_000 });
    await photo.click();
    await page.getByTestId('task-restore').click();
    await expect.poll(() => page.getByTestId('face-line').textContent(), { timeout: 120_000 }).toMatch(/1 face restored with face64/);
    expect(await page.getByTestId('face-model').inputValue()).toBe('face64');
    await expect.poll(() => page.getByTestId('face-strip').getByRole('listitem').count()).toBe(1);
    expect(await page.getByTestId('after-faces').evaluate((i) => (i as HTMLImageElement).style.opacity)).toBe('0.5');
    // The slider shows the strength live, then the result is blended again when it is let go.
    await page.getByTestId('face-strength').fill('1');
    await page.getByTestId('face-strength').dispatchEvent('change');
    expect(await page.getByTestId('after-faces').evaluate((i) => (i as HTMLImageElement).style.opacity)).toBe('1');
    await expect.poll(() => page.getByTestId('face-model').locator('option[value="face64"]').getAttribute('title')).toMatch(/GFPGAN: .* Licence: test fixture/);
    await shot('compare-faces');
    expect(errors).toEqual([]);
  });

  it('the same server gives nothing but the UI code without the token, and refuses a wrong one', async () => {
    const p = await browser.newPage();
    const res = await p.goto(url.replace(/\?token=.*/, ''));
    expect(res?.status()).toBe(200);
    await p
      .getByText(/Not signed in/)
      .first()
      .waitFor();
    expect((await p.goto(url.replace(/token=.*/, 'token=wrong')))?.status()).toBe(401);
    await p.close();
  });
});
