/**
 * The desktop app's WebGPU compute page: a hidden window, so models run on the user's own
 * GPU through Electron's Chromium. Pure decisions here; src/main/index.ts builds the window.
 */
import type { LaunchedPage, PageLauncher } from '../ml/engine/chromium.js';
import { SANDBOXED_PREFERENCES } from './security.js';

/** An in-memory session of its own: the studio's CSP and storage do not apply to it, and nothing of it is kept. */
export const COMPUTE_PARTITION = 'restora-compute';

/** Sandboxed, no preload (it talks to its worker over the token-guarded WebSocket only), never throttled while hidden. */
export function computeWebPreferences() {
  return {
    ...SANDBOXED_PREFERENCES,
    partition: COMPUTE_PARTITION,
    // A hidden window's timers are throttled by default; the engine's message loop must not be.
    backgroundThrottling: false,
  } as const;
}

/**
 * Command-line switches set before 'ready': Chromium enables WebGPU by default on Windows,
 * macOS and ChromeOS, but on Linux only behind these (as in the headless launcher).
 */
export function webgpuSwitches(platform: NodeJS.Platform): Array<{ name: string; value?: string }> {
  return platform === 'linux' ? [{ name: 'enable-unsafe-webgpu' }, { name: 'enable-features', value: 'Vulkan' }] : [];
}

/** The only pages a compute window may show: the engine's own server on loopback. */
export function isComputePageUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && u.hostname === '127.0.0.1' && u.port !== '';
  } catch {
    return false;
  }
}

/** What the launcher needs of a window; index.ts adapts a BrowserWindow to it. */
export interface HiddenWindow {
  load(url: string): Promise<void>;
  /** Called once with a reason when the renderer process dies or the window is closed. */
  onGone(listener: (reason: string) => void): void;
  destroy(): void;
}

/** A PageLauncher over hidden windows: `exited` resolves when the window's renderer goes away. */
export function windowPageLauncher(openWindow: () => HiddenWindow): PageLauncher {
  return async (url): Promise<LaunchedPage> => {
    if (!isComputePageUrl(url)) throw new Error(`refusing to open ${url} as the compute page`);
    const w = openWindow();
    let gone = false;
    const exited = new Promise<string>((resolve) =>
      w.onGone((reason) => {
        gone = true;
        resolve(reason);
      }),
    );
    try {
      await w.load(url);
    } catch (err) {
      if (!gone) w.destroy();
      throw new Error(`the compute window could not load: ${(err as Error).message}`);
    }
    return {
      exited,
      close: async () => {
        if (!gone) w.destroy();
      },
    };
  };
}
