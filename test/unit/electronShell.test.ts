/**
 * The Electron shell's decisions, tested in plain Node: everything here lives in
 * src/main/electron as pure modules (no 'electron' import), and index.ts only wires
 * them up, so these tests cover the hardening without the Electron binary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEventSink, registerIpc, type EventTargetWindow, type IpcEventLike, type IpcMainLike } from '../../src/main/electron/ipc.js';
import { createMediaHandler, mediaRequestToPath, parseMediaUrl } from '../../src/main/electron/mediaProtocol.js';
import { ACCELERATORS, buildMenuTemplate, flattenMenu, type MenuActions } from '../../src/main/electron/menu.js';
import { createOpenPath } from '../../src/main/electron/openPath.js';
import { CONTENT_SECURITY_POLICY, MEDIA_SCHEME_PRIVILEGES, isAppPageUrl, isTrustedSender, secureWebPreferences } from '../../src/main/electron/security.js';
import { DEFAULT_WINDOW, MIN_WINDOW, WINDOW_STATE_FILE, defaultWindowState, loadWindowState, saveWindowState, trackWindowState, validateWindowState, type Rect, type TrackedWindow } from '../../src/main/electron/windowState.js';
import { API_METHODS, IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, type ApiHandlers, type AppEvent } from '../../src/shared/contract.js';
import { RestoraError } from '../../src/shared/errors.js';
import { ROOT, tmpDir } from '../helpers.js';

type Listener = Parameters<IpcMainLike['handle']>[1];

function fakeIpc() {
  const channels = new Map<string, Listener>();
  return { ipc: { handle: (c: string, l: Listener) => void channels.set(c, l) } satisfies IpcMainLike, channels };
}

/** A full handler map whose every method records what it was given. */
function recordingHandlers() {
  const calls: { method: string; req: unknown }[] = [];
  const handlers = Object.fromEntries(
    API_METHODS.map((m) => [
      m,
      async (req: unknown) => {
        calls.push({ method: m, req });
        if (m === 'app.info') return { version: '0', home: '/h', backend: { id: 'cpu', tfName: 'cpu', threads: 1, tfjsVersion: 'x', skipped: [] } };
        if (m === 'models.delete') throw new RestoraError('NOT_FOUND', 'no such model');
        if (m === 'models.list') throw new Error('boom');
        return { echoed: req };
      },
    ]),
  ) as unknown as ApiHandlers;
  return { handlers, calls };
}

const APP_FRAME: IpcEventLike = { senderFrame: { url: 'file:///opt/restora/out/renderer/index.html' } };

function setup() {
  const { ipc, channels } = fakeIpc();
  const { handlers, calls } = recordingHandlers();
  registerIpc(ipc, handlers);
  const call = (method: string, payload: unknown, event: IpcEventLike = APP_FRAME) => channels.get(IPC_CHANNEL_PREFIX + method)!(event, payload);
  return { channels, calls, call };
}

describe('window hardening', () => {
  it('webPreferences isolate and sandbox the renderer', () => {
    const p = secureWebPreferences('/x/preload.mjs');
    expect(p).toEqual(
      expect.objectContaining({
        preload: '/x/preload.mjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
      }),
    );
  });

  it('CSP allows only the app itself and its media scheme', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v]),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('img-src')).toContain('restora-media:');
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*|https?:/);
    expect(directives.get('script-src')).not.toContain("'unsafe-inline'");
  });

  it('the media scheme gets only the privileges it needs', () => {
    expect(MEDIA_SCHEME_PRIVILEGES).toEqual({ standard: true, secure: true, supportFetchAPI: true });
  });

  it('trusts IPC only from the app pages, comparing origins', () => {
    expect(isTrustedSender('file:///app/index.html')).toBe(true);
    expect(isTrustedSender('https://evil.example/')).toBe(false);
    expect(isTrustedSender('not a url')).toBe(false);
    expect(isTrustedSender('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isTrustedSender('http://localhost:5173/#/library', 'http://localhost:5173/')).toBe(true);
    expect(isTrustedSender('http://localhost:51730/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedSender('http://localhost:5173.evil.example/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedSender('http://localhost:5173/')).toBe(false);
  });

  it('navigation and redirects may only reach the entry page', () => {
    const entry = 'file:///opt/restora/out/renderer/index.html';
    expect(isAppPageUrl('file:///opt/restora/out/renderer/index.html#/compare', entry)).toBe(true);
    expect(isAppPageUrl('file:///etc/passwd', entry)).toBe(false);
    expect(isAppPageUrl('https://evil.example/', entry)).toBe(false);
    expect(isAppPageUrl('http://localhost:5173/x', 'http://localhost:5173')).toBe(true);
    expect(isAppPageUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
  });
});

describe('IPC adapter', () => {
  it('registers one channel per contract method and answers typed results', async () => {
    const { channels, call, calls } = setup();
    expect([...channels.keys()].sort()).toEqual(API_METHODS.map((m) => IPC_CHANNEL_PREFIX + m).sort());
    expect(await call('app.info', {})).toMatchObject({ ok: true, value: { version: '0' } });
    expect(calls).toEqual([{ method: 'app.info', req: {} }]);
  });

  it('hands handlers the parsed request, defaults applied', async () => {
    const { call, calls } = setup();
    expect(await call('library.import', { projectId: 3, paths: ['/photos'] })).toMatchObject({ ok: true });
    expect(calls[0]!.req).toEqual({ projectId: 3, paths: ['/photos'], recursive: true });
  });

  it('maps handler errors to typed results (RestoraError keeps its code, others are INTERNAL)', async () => {
    const { call } = setup();
    expect(await call('models.delete', { id: 'x' })).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'no such model' } });
    expect(await call('models.list', {})).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'boom' } });
  });

  const polluted = JSON.parse('{"id": 1, "__proto__": {"isAdmin": true}}') as unknown;
  const malformed: [string, string, unknown][] = [
    ['null', 'library.get', null],
    ['a string', 'library.get', 'x'],
    ['a number', 'library.get', 42],
    ['an array', 'library.get', [{ id: 1 }]],
    ['undefined', 'library.get', undefined],
    ['a missing field', 'library.get', {}],
    ['a wrong type', 'library.get', { id: '1' }],
    ['a negative id', 'library.get', { id: -1 }],
    ['a fractional id', 'library.get', { id: 1.5 }],
    ['an extra field', 'library.get', { id: 1, extra: true }],
    ['an own __proto__ key', 'library.get', polluted],
    ['a foreign prototype', 'library.get', Object.assign(Object.create({ inherited: 1 }) as object, { id: 1 })],
    ['a null prototype', 'library.get', Object.assign(Object.create(null) as object, { id: 1 })],
    ['an extra field on an empty request', 'app.info', { x: 1 }],
    ['a wrong enum', 'jobs.start', { outDir: '/out', format: 'exe' }],
    ['an empty path list', 'library.import', { projectId: 1, paths: [] }],
    ['a bad model name', 'training.start', { name: '../evil', dataDirs: ['/d'], scale: 2, preset: 'bicubic', arch: 'a' }],
  ];
  it.each(malformed)('refuses %s with a USAGE error, never calling the handler', async (_what, method, payload) => {
    const { call, calls } = setup();
    const r = await call(method, payload);
    expect(r).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect((r as { error: { message: string } }).error.message).toMatch(new RegExp(`^${method.replace('.', '\\.')}: `));
    expect(calls).toHaveLength(0);
  });

  it('names the offending field in the message', async () => {
    const { call } = setup();
    expect(await call('library.get', { id: 'x' })).toMatchObject({ error: { message: expect.stringContaining('id:') } });
  });

  it('refuses untrusted or vanished frames before looking at the payload', async () => {
    const { call, calls } = setup();
    for (const event of [{ senderFrame: { url: 'https://evil.example/' } }, { senderFrame: { url: 'http://localhost:5173/' } }, { senderFrame: null }]) {
      expect(await call('app.info', {}, event)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('untrusted') } });
    }
    expect(calls).toHaveLength(0);
  });

  it('trusts the dev server only when it is the one configured', async () => {
    const { ipc, channels } = fakeIpc();
    registerIpc(ipc, recordingHandlers().handlers, 'http://localhost:5173');
    const h = channels.get(IPC_CHANNEL_PREFIX + 'app.info')!;
    expect(await h({ senderFrame: { url: 'http://localhost:5173/' } }, {})).toMatchObject({ ok: true });
    expect(await h({ senderFrame: { url: 'http://localhost:5174/' } }, {})).toMatchObject({ ok: false });
  });
});

describe('event sink', () => {
  function fakeWindow(opts: { destroyed?: boolean; throws?: boolean } = {}) {
    const sent: [string, unknown[]][] = [];
    const w: EventTargetWindow = {
      isDestroyed: () => Boolean(opts.destroyed),
      webContents: {
        isDestroyed: () => false,
        send: (channel, ...args) => {
          if (opts.throws) throw new Error('gone');
          sent.push([channel, args]);
        },
      },
    };
    return { w, sent };
  }

  it('forwards each event to every live window on the event channel', () => {
    const a = fakeWindow();
    const b = fakeWindow();
    const dead = fakeWindow({ destroyed: true });
    const broken = fakeWindow({ throws: true });
    const windows = [a.w, dead.w, broken.w];
    const emit = createEventSink(() => windows);
    const e: AppEvent = { type: 'upscale.progress', taskId: 't', done: 1, total: 4 };
    emit(e);
    windows.push(b.w); // opened later: gets later events
    emit({ ...e, done: 2 });
    expect(a.sent).toEqual([
      [IPC_EVENT_CHANNEL, [e]],
      [IPC_EVENT_CHANNEL, [{ ...e, done: 2 }]],
    ]);
    expect(b.sent).toEqual([[IPC_EVENT_CHANNEL, [{ ...e, done: 2 }]]]);
    expect(dead.sent).toEqual([]);
  });
});

describe('media protocol guard', () => {
  const files: Record<string, string> = {
    'thumb/1': '/data/thumbs/1.webp',
    'image/42': '/photos/a.jpg',
    'result/7': '/data/results/7.png',
    'preview/0123456789abcdef/3-lr.png': '/tmp/previews/0123456789abcdef/3-lr.png',
    'preview/0123456789abcdef/12-hr.png': '/tmp/previews/0123456789abcdef/12-hr.png',
  };
  const asked: string[] = [];
  const resolve = (p: string) => (asked.push(p), files[p] ?? null);
  beforeEach(() => void (asked.length = 0));

  it.each(Object.entries(files))('resolves restora-media://app/%s', (mediaPath, file) => {
    expect(mediaRequestToPath(`restora-media://app/${mediaPath}`, resolve)).toBe(file);
    expect(asked).toEqual([mediaPath]);
  });

  it('answers null for a valid path the resolver does not know, and for a relative answer', () => {
    expect(mediaRequestToPath('restora-media://app/thumb/999', resolve)).toBeNull();
    expect(mediaRequestToPath('restora-media://app/thumb/1', () => 'relative/1.webp')).toBeNull();
  });

  const hostile = [
    'restora-media://app/../../etc/passwd',
    'restora-media://app/thumb/../../../etc/passwd',
    'restora-media://app/thumb/1/../2',
    'restora-media://app/image/../thumb/1',
    'restora-media://app/thumb/./1',
    'restora-media://app/%2e%2e/%2e%2e/etc/passwd',
    'restora-media://app/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    'restora-media://app/thumb%2F1',
    'restora-media://app/thumb%2f1',
    'restora-media://app/%74humb/1',
    'restora-media://app/thumb/%31',
    'restora-media://app/thumb/1%00.png',
    'restora-media://app/thumb/%',
    'restora-media://app/thumb\\1',
    'restora-media://app\\thumb\\1',
    'restora-media://app/thumb\\..\\..\\etc\\passwd',
    'restora-media://app//etc/passwd',
    'restora-media://app/C:/Windows/win.ini',
    'restora-media:///etc/passwd',
    'restora-media:/etc/passwd',
    'restora-media:app/thumb/1',
    'restora-media://evil/thumb/1',
    'restora-media://APP/thumb/1',
    'restora-media://app.evil.example/thumb/1',
    'restora-media://app:80/thumb/1',
    'restora-media://user:pw@app/thumb/1',
    'restora-media://app/thumb/1?',
    'restora-media://app/thumb/1?x=../../etc/passwd',
    'restora-media://app/thumb/1?/../../x',
    'restora-media://app/thumb/1#frag',
    'restora-media://app/thumb/1/',
    'restora-media://app/thumb/',
    'restora-media://app/',
    'restora-media://app',
    'file:///etc/passwd',
    'https://app/thumb/1',
    'http://app/thumb/1',
    'restora-mediax://app/thumb/1',
    'RESTORA-MEDIA://app/thumb/1x',
    'restora-media://app/thumb/1234567890123',
    `restora-media://app/thumb/${'9'.repeat(5000)}`,
    'restora-media://app/thumb/-1',
    'restora-media://app/thumb/1e3',
    'restora-media://app/thumb/0x10',
    'restora-media://app/thumbs/1',
    'restora-media://app/Thumb/1',
    'restora-media://app/preview/0123456789ABCDEF/3-lr.png',
    'restora-media://app/preview/0123456789abcdeg/3-lr.png',
    'restora-media://app/preview/0123456789abcde/3-lr.png',
    'restora-media://app/preview/0123456789abcdef0/3-lr.png',
    'restora-media://app/preview/../../../etc/3-lr.png',
    'restora-media://app/preview/0123456789abcdef/1234-lr.png',
    'restora-media://app/preview/0123456789abcdef/3-xx.png',
    'restora-media://app/preview/0123456789abcdef/3-lr.png.exe',
    'restora-media://app/preview/0123456789abcdef/3-lr.jpg',
    'restora-media://app/preview/0123456789abcdef/../../x/3-lr.png',
    '',
    'not a url',
  ];
  it.each(hostile)('refuses %s without asking the resolver', (url) => {
    expect(parseMediaUrl(url)).toBeNull();
    expect(mediaRequestToPath(url, resolve)).toBeNull();
    expect(asked).toEqual([]);
  });

  it("the handler takes the app's async resolver and refuses what it throws on", async () => {
    const handler = createMediaHandler(
      async (p) => {
        if (p === 'thumb/2') throw new Error('db closed');
        return files[p] ?? null;
      },
      async (file) => new Response(file),
    );
    const ok = await handler({ url: 'restora-media://app/result/7', method: 'GET' });
    expect(await ok.text()).toBe('/data/results/7.png');
    expect((await handler({ url: 'restora-media://app/thumb/2', method: 'GET' })).status).toBe(404);
    expect((await handler({ url: 'restora-media://app/thumb/%2e%2e', method: 'HEAD' })).status).toBe(404);
  });

  it('the handler answers 404 for refusals and failures, 405 for writes, and the file otherwise', async () => {
    const fetched: string[] = [];
    const handler = createMediaHandler(resolve, async (file) => {
      fetched.push(file);
      if (file === '/photos/a.jpg') throw new Error('ENOENT');
      return new Response('pixels', { status: 200 });
    });
    const get = (url: string, method = 'GET') => handler({ url, method });
    const ok = await get('restora-media://app/thumb/1');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('pixels');
    expect((await get('restora-media://app/../etc/passwd')).status).toBe(404);
    expect((await get('restora-media://app/thumb/999')).status).toBe(404);
    expect((await get('restora-media://app/image/42')).status).toBe(404); // vanished file
    expect((await get('restora-media://app/thumb/1', 'POST')).status).toBe(405);
    expect(fetched).toEqual(['/data/thumbs/1.webp', '/photos/a.jpg']);
  });
});

describe('window state', () => {
  const primary: Rect = { x: 0, y: 0, width: 1920, height: 1040 };
  const second: Rect = { x: 1920, y: 0, width: 2560, height: 1400 };
  const displays = [primary, second];
  const centred = { x: (1920 - 1280) / 2, y: (1040 - 820) / 2, width: 1280, height: 820, maximized: false };
  let dir = '';
  beforeEach(() => void (dir = tmpDir('restora-winstate-')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('defaults to a centred window that fits the primary display', () => {
    expect(defaultWindowState(displays)).toEqual(centred);
    expect(defaultWindowState([{ x: 0, y: 0, width: 1024, height: 700 }])).toEqual({ x: 0, y: 0, width: 1024, height: 700, maximized: false });
    expect(defaultWindowState([])).toEqual({ ...DEFAULT_WINDOW, maximized: false });
  });

  it('keeps a valid saved state, on any display', () => {
    const onSecond = { x: 2000, y: 100, width: 1600, height: 1000, maximized: true };
    expect(validateWindowState(onSecond, displays)).toEqual(onSecond);
    expect(validateWindowState({ x: 10.4, y: 20.6, width: 900.2, height: 700, maximized: false }, displays)).toEqual({ x: 10, y: 21, width: 900, height: 700, maximized: false });
  });

  it('raises sizes below the minimum', () => {
    expect(validateWindowState({ x: 0, y: 0, width: 100, height: 50, maximized: false }, displays)).toMatchObject(MIN_WINDOW);
  });

  it.each([
    ['off every display', { x: 10_000, y: 10_000, width: 1280, height: 820, maximized: false }],
    ['above the screen', { x: 100, y: -5000, width: 1280, height: 820, maximized: false }],
    ['only a sliver visible', { x: -1270, y: 0, width: 1280, height: 820, maximized: false }],
    ['on a display that is gone', { x: -2500, y: 0, width: 1280, height: 820, maximized: false }],
  ])('falls back to the centred default when %s', (_what, saved) => {
    expect(validateWindowState(saved, displays)).toEqual(centred);
  });

  it.each([
    ['null', null],
    ['an array', [0, 0, 1280, 820]],
    ['a string', 'big'],
    ['strings for numbers', { x: '0', y: '0', width: '1280', height: '820' }],
    ['NaN-like values', { x: 0, y: 0, width: null, height: 820 }],
    ['infinite sizes', { x: 0, y: 0, width: Infinity, height: 820 }],
    ['absurd sizes', { x: 0, y: 0, width: 1e9, height: 1e9 }],
    ['negative sizes', { x: 0, y: 0, width: -1280, height: 820 }],
    ['a missing position', { width: 1280, height: 820 }],
  ])('falls back to the default for %s', (_what, saved) => {
    expect(validateWindowState(saved, displays)).toEqual(centred);
  });

  it('loads the default for a missing, empty, truncated or garbage file', () => {
    const file = path.join(dir, WINDOW_STATE_FILE);
    expect(loadWindowState(dir, displays)).toEqual(centred);
    for (const text of ['', '{"x": 1, "y":', '\u0000\u0001garbage', '[]', '12', '{"x":1e999,"y":0,"width":1280,"height":820}']) {
      fs.writeFileSync(file, text);
      expect(loadWindowState(dir, displays)).toEqual(centred);
    }
    fs.writeFileSync(file, JSON.stringify({ x: 50_000, y: 50_000, width: 1280, height: 820, maximized: false }));
    expect(loadWindowState(dir, displays)).toEqual(centred);
  });

  it('saves atomically and loads back what it saved', () => {
    const nested = path.join(dir, 'not', 'yet');
    const s = { x: 100, y: 80, width: 1400, height: 900, maximized: true };
    saveWindowState(nested, s);
    expect(loadWindowState(nested, displays)).toEqual(s);
    expect(fs.readdirSync(nested)).toEqual([WINDOW_STATE_FILE]); // no temp file left behind
  });

  describe('tracking', () => {
    beforeEach(() => void vi.useFakeTimers());
    afterEach(() => void vi.useRealTimers());

    function fakeTrackedWindow() {
      const listeners = new Map<string, (() => void)[]>();
      const state = { bounds: { x: 10, y: 20, width: 1000, height: 700 }, maximized: false, minimized: false, fullScreen: false };
      const w: TrackedWindow = {
        on: (event, l) => void listeners.set(event, [...(listeners.get(event) ?? []), l]),
        isMaximized: () => state.maximized,
        isMinimized: () => state.minimized,
        isFullScreen: () => state.fullScreen,
        getNormalBounds: () => ({ ...state.bounds }),
      };
      const fire = (event: string) => listeners.get(event)?.forEach((l) => l());
      return { w, state, fire };
    }

    it('debounces saves on move/resize and saves at once on close', () => {
      const { w, state, fire } = fakeTrackedWindow();
      const saved: unknown[] = [];
      trackWindowState(w, (s) => void saved.push(s), { delayMs: 500 });
      for (let i = 0; i < 20; i++) {
        state.bounds.x = 10 + i;
        fire('move');
        vi.advanceTimersByTime(100);
      }
      expect(saved).toEqual([]);
      vi.advanceTimersByTime(500);
      expect(saved).toEqual([{ x: 29, y: 20, width: 1000, height: 700, maximized: false }]);
      state.bounds.width = 1200;
      fire('resize');
      state.maximized = true;
      fire('close');
      expect(saved).toHaveLength(2);
      expect(saved[1]).toEqual({ x: 29, y: 20, width: 1200, height: 700, maximized: true });
      vi.advanceTimersByTime(1000);
      expect(saved).toHaveLength(2); // the pending save was folded into the close
    });

    it('keeps the last state while minimized or full screen, and reports save errors', () => {
      const { w, state, fire } = fakeTrackedWindow();
      const errors: unknown[] = [];
      const saved: unknown[] = [];
      let fail = false;
      trackWindowState(
        w,
        (s) => {
          if (fail) throw new Error('disk full');
          saved.push(s);
        },
        { delayMs: 10, onError: (e) => void errors.push(e) },
      );
      state.minimized = true;
      fire('close');
      state.minimized = false;
      state.fullScreen = true;
      fire('resize');
      vi.advanceTimersByTime(50);
      expect(saved).toEqual([]);
      state.fullScreen = false;
      fail = true;
      expect(() => fire('close')).not.toThrow();
      expect(errors).toHaveLength(1);
    });
  });
});

describe('application menu', () => {
  const actions = (): MenuActions & { log: string[] } => {
    const log: string[] = [];
    return { log, importFolder: () => void log.push('import'), exportImages: () => void log.push('export'), showAbout: () => void log.push('about') };
  };
  const build = (isDev: boolean, platform: NodeJS.Platform = 'linux', a = actions()) => buildMenuTemplate({ appName: 'Restora', isDev, platform, actions: a });
  const roles = (isDev: boolean, platform: NodeJS.Platform = 'linux') => flattenMenu(build(isDev, platform)).flatMap((i) => (i.role ? [i.role] : []));

  it('has File, Edit, View, Window and Help, and the app menu on macOS', () => {
    expect(build(false).map((m) => m.label)).toEqual(['File', 'Edit', 'View', 'Window', 'Help']);
    expect(build(false, 'darwin').map((m) => m.label)).toEqual(['Restora', 'File', 'Edit', 'View', 'Window', 'Help']);
  });

  it('binds the accelerators and calls the actions', () => {
    const a = actions();
    const items = flattenMenu(build(false, 'linux', a));
    const byLabel = (l: string) => items.find((i) => i.label === l)!;
    expect(byLabel('Import Folder…').accelerator).toBe('CmdOrCtrl+O');
    expect(byLabel('Export…').accelerator).toBe('CmdOrCtrl+E');
    expect(ACCELERATORS).toEqual({ importFolder: 'CmdOrCtrl+O', exportImages: 'CmdOrCtrl+E' });
    byLabel('Import Folder…').click!();
    byLabel('Export…').click!();
    byLabel('About Restora').click!();
    expect(a.log).toEqual(['import', 'export', 'about']);
    const accelerators = items.flatMap((i) => (i.accelerator ? [i.accelerator] : []));
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });

  it('has the standard edit, zoom and full-screen roles and a quit', () => {
    const r = roles(false);
    for (const role of ['undo', 'redo', 'cut', 'copy', 'paste', 'delete', 'selectAll', 'resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen', 'minimize', 'quit']) {
      expect(r).toContain(role);
    }
    expect(roles(false, 'darwin')).toContain('appMenu'); // quit lives there on macOS
    expect(roles(false, 'darwin')).not.toContain('quit');
  });

  it('offers reload and devtools only in development', () => {
    for (const platform of ['linux', 'win32', 'darwin'] as const) {
      expect(roles(false, platform)).not.toEqual(expect.arrayContaining(['reload']));
      for (const dev of ['reload', 'forceReload', 'toggleDevTools']) {
        expect(roles(false, platform)).not.toContain(dev);
        expect(roles(true, platform)).toContain(dev);
      }
    }
  });
});

describe('app.openPath guard', () => {
  const stat = async (p: string) => {
    if (p.includes('missing')) throw new Error('ENOENT');
    const dir = !path.extname(p);
    return { isDirectory: () => dir, isFile: () => !dir };
  };

  it('opens folders and image files only', async () => {
    const opened: string[] = [];
    const open = createOpenPath(async (p) => (opened.push(p), ''), stat);
    await open('/out/exports');
    await open('/out/exports/a.PNG');
    await expect(open('/out/run.exe')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(open('/home/u/.bashrc.sh')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(open('/usr/share/applications/x.desktop')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(open('relative/dir')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(open('/missing/dir')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(opened).toEqual(['/out/exports', '/out/exports/a.PNG']);
  });

  it('turns the shell’s error string into a typed error', async () => {
    const open = createOpenPath(async () => 'no application is registered', stat);
    await expect(open('/out/exports')).rejects.toThrow(/no application is registered/);
  });
});

describe('boundaries', () => {
  it('only the shell entry points import electron', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && /from 'electron'/.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
      }
    };
    walk(path.join(ROOT, 'src'));
    // src/main/electron/* stays pure (testable here), so only these two touch Electron.
    expect(offenders.sort()).toEqual(['src/main/index.ts', 'src/preload/index.ts']);
  });
});
