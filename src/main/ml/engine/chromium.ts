/**
 * Starts a headless Chromium on the compute page. Debian's Chromium exposes
 * WebGPU through the machine's Vulkan driver (SwiftShader when there is no GPU)
 * once WebGPU is unlocked; the page is served on 127.0.0.1, a secure context.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackendId, ComputeChoice } from '../../../shared/api.js';
import { RestoraError } from '../../../shared/errors.js';

export interface LaunchedPage {
  /** Resolves with a reason when the page's process ends (crash, kill). */
  readonly exited: Promise<string>;
  close(): Promise<void>;
}

/** Opens the compute page at `url`: headless Chromium by default, a hidden window in the desktop app. */
export type PageLauncher = (url: string) => Promise<LaunchedPage>;

/** Whether models should run on WebGPU in a Chromium page: asked for directly, or through RESTORA_BACKEND. */
export function webgpuChosen(asked?: BackendId): boolean {
  return asked === 'webgpu' || (!asked && process.env.RESTORA_BACKEND === 'webgpu');
}

/** Where models run: a --backend flag or RESTORA_BACKEND wins over the Settings choice. */
export function effectiveCompute(asked: BackendId | undefined, setting: ComputeChoice | undefined): ComputeChoice {
  if (webgpuChosen(asked)) return 'webgpu';
  if (asked || process.env.RESTORA_BACKEND) return 'cpu';
  return setting ?? 'cpu';
}

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
];

/** RESTORA_CHROMIUM, or the first Chromium/Chrome found in the usual places; null if none. */
export function findChromium(): string | null {
  const env = process.env.RESTORA_CHROMIUM;
  if (env) return fs.existsSync(env) ? env : null;
  return CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
}

export interface ChromiumOptions {
  /** false launches Chromium as it ships, without the switches that unlock WebGPU (the tests' "no adapter" case). */
  unlockWebGpu?: boolean;
}

/**
 * Chromium's sandbox stays on wherever it can run. As root Chromium refuses to start
 * with it (containers, CI), and RESTORA_CHROMIUM_NO_SANDBOX=1 turns it off where the OS
 * has no usable sandbox (no unprivileged user namespaces and no setuid helper).
 */
export function sandboxFlags(uid: number | null = process.getuid?.() ?? null, env: NodeJS.ProcessEnv = process.env): string[] {
  return uid === 0 || env.RESTORA_CHROMIUM_NO_SANDBOX === '1' ? ['--no-sandbox'] : [];
}

export async function chromiumLauncher(url: string, { unlockWebGpu = true }: ChromiumOptions = {}): Promise<LaunchedPage> {
  const exe = findChromium();
  if (!exe) {
    throw new RestoraError('BACKEND_UNAVAILABLE', 'webgpu needs Chromium or Chrome (none found; install chromium or set RESTORA_CHROMIUM to its path), or the desktop app');
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-gpu-'));
  // Any local user can read a command line: it names only a page in the private (0700) profile,
  // which forwards to the real address with its token in the fragment (never sent to a server).
  const start = path.join(profile, 'start.html');
  fs.writeFileSync(start, `<!doctype html><meta charset="utf-8"><script>location.replace(${JSON.stringify(url).replace(/</g, '\\u003c')})</script>`, { mode: 0o600 });
  const args = [
    '--headless=new',
    ...sandboxFlags(),
    ...(unlockWebGpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--ignore-gpu-blocklist'] : ['--disable-gpu']),
    // Nothing but the page: no sync, updates, first-run UI or background connections (the machine may be offline).
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--disable-extensions',
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    `--user-data-dir=${profile}`,
    pathToFileURL(start).href,
  ];
  const child = spawn(exe, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<string>((resolve) => {
    child.on('error', (err) => resolve(`${exe} did not start: ${err.message}`));
    child.on('exit', (code, signal) => {
      // Headless Chromium logs harmless D-Bus complaints on machines without a session bus; keep only the rest.
      const tail = code
        ? stderr
            .split('\n')
            .filter((l) => l.trim() && !/dbus/i.test(l))
            .slice(-3)
            .join(' | ')
        : '';
      const hint = /no usable sandbox/i.test(stderr) ? ' (this system has no usable Chromium sandbox; set RESTORA_CHROMIUM_NO_SANDBOX=1 to run without it)' : '';
      resolve(`${path.basename(exe)} exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ''}${hint}`);
    });
  });
  // Chromium's helper processes may still be writing into the profile for a moment after it exits.
  void exited.then(() => fs.promises.rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => undefined));
  return {
    exited,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killTimer);
      }
    },
  };
}
