/**
 * Browser E2E in real Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), against `restora serve` started by the test itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { ROOT, tmpDir } from '../helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`E2E skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

let server: ChildProcess;
let url = '';
let browser: Browser;
const artifacts = path.join(ROOT, 'test-results', 'screenshots');

describe.skipIf(!HAVE_CHROMIUM)('web mode in Chromium', () => {
  beforeAll(async () => {
    if (!fs.existsSync(path.join(ROOT, 'out', 'renderer', 'index.html'))) {
      const b = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
      if (b.status !== 0) throw new Error(`renderer build failed: ${b.stderr}`);
    }
    server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), 'serve', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, RESTORA_HOME: tmpDir('restora-home-'), RESTORA_THREADS: '1' },
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
    fs.mkdirSync(artifacts, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGINT');
  });

  it('loads the studio over the token URL, talks to the API, with no console errors', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByText(/Backend: (wasm|cpu|node|gpu)/).waitFor({ timeout: 60_000 });
    await expect(page.getByRole('heading', { name: 'Models' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(artifacts, 'home.png') });
    expect(errors).toEqual([]);
  });

  it('the same server refuses the page without the token', async () => {
    const page = await browser.newPage();
    const res = await page.goto(url.replace(/\?token=.*/, ''));
    expect(res?.status()).toBe(401);
  });
});
