import { describe, expect, it } from 'vitest';
import { computeWebPreferences, isComputePageUrl, webgpuSwitches, windowPageLauncher, type HiddenWindow } from '../../src/main/electron/computeWindow.js';

function fakeWindow(loadError?: Error) {
  const state = { loaded: '', destroyed: 0, gone: undefined as ((r: string) => void) | undefined };
  const w: HiddenWindow = {
    load: async (url) => {
      if (loadError) throw loadError;
      state.loaded = url;
    },
    onGone: (l) => (state.gone = l),
    destroy: () => {
      state.destroyed += 1;
      state.gone?.('closed');
    },
  };
  return { w, state };
}

describe('the desktop compute window', () => {
  it('is sandboxed, has no preload, its own session, and is not throttled while hidden', () => {
    const p = computeWebPreferences();
    expect(p).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, backgroundThrottling: false });
    expect(p).not.toHaveProperty('preload');
    expect(p.partition).not.toMatch(/^persist:/);
  });

  it('unlocks WebGPU with switches on Linux only', () => {
    expect(webgpuSwitches('linux')).toEqual([{ name: 'enable-unsafe-webgpu' }, { name: 'enable-features', value: 'Vulkan' }]);
    expect(webgpuSwitches('win32')).toEqual([]);
    expect(webgpuSwitches('darwin')).toEqual([]);
  });

  it('shows only the engine page on loopback', () => {
    expect(isComputePageUrl('http://127.0.0.1:40123/?token=abc')).toBe(true);
    expect(isComputePageUrl('https://127.0.0.1:40123/')).toBe(false);
    expect(isComputePageUrl('http://evil.example:40123/')).toBe(false);
    expect(isComputePageUrl('file:///etc/passwd')).toBe(false);
    expect(isComputePageUrl('not a url')).toBe(false);
  });

  it('reports a crashed window as exited and closes a live one once', async () => {
    const { w, state } = fakeWindow();
    const page = await windowPageLauncher(() => w)('http://127.0.0.1:5000/');
    expect(state.loaded).toBe('http://127.0.0.1:5000/');
    state.gone!('render process gone: crashed');
    expect(await page.exited).toBe('render process gone: crashed');
    await page.close();
    expect(state.destroyed).toBe(0);

    const second = fakeWindow();
    const live = await windowPageLauncher(() => second.w)('http://127.0.0.1:5000/');
    await live.close();
    expect(second.state.destroyed).toBe(1);
    expect(await live.exited).toBe('closed');
  });

  it('destroys a window that cannot load and says so; refuses other URLs without opening one', async () => {
    const { w, state } = fakeWindow(new Error('ERR_CONNECTION_REFUSED'));
    await expect(windowPageLauncher(() => w)('http://127.0.0.1:5000/')).rejects.toThrow(/could not load: ERR_CONNECTION_REFUSED/);
    expect(state.destroyed).toBe(1);
    let opened = 0;
    await expect(windowPageLauncher(() => ((opened += 1), w))('http://example.com/')).rejects.toThrow(/refusing/);
    expect(opened).toBe(0);
  });
});
