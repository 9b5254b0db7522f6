/**
 * Electron main process: with src/main/electron, the only code that imports
 * 'electron'. It stays thin: every decision (CSP, preferences, trusted senders,
 * payload validation, media URLs, window state, menu) is a pure, unit-tested
 * module in ./electron; this file only wires them to Electron's objects.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, screen, session, shell, type WebContents } from 'electron';
import { MEDIA_SCHEME } from '../shared/contract.js';
import { errorMessage } from '../shared/errors.js';
import { createApp, type App } from './app/createApp.js';
import { createHandlers } from './app/handlers.js';
import { APP_NAME, appIconPath } from './electron/appIdentity.js';
import { COMPUTE_PARTITION, computeWebPreferences, webgpuSwitches, windowPageLauncher, type HiddenWindow } from './electron/computeWindow.js';
import { createEventSink, registerIpc } from './electron/ipc.js';
import { createMediaHandler } from './electron/mediaProtocol.js';
import { buildMenuTemplate, type MenuCommand } from './electron/menu.js';
import { createOpenPath } from './electron/openPath.js';
import { openDialogOptions } from './electron/pickPaths.js';
import { CONTENT_SECURITY_POLICY, isAppPageUrl, MEDIA_SCHEME_PRIVILEGES, secureWebPreferences } from './electron/security.js';
import { loadWindowState, MIN_WINDOW, saveWindowState, trackWindowState, type Rect } from './electron/windowState.js';

const devServerUrl = process.env.ELECTRON_RENDERER_URL;
const isDev = !app.isPackaged;
const rendererFile = path.join(import.meta.dirname, '../renderer/index.html');
/** The one page the app shows; navigations and redirects anywhere else are refused. */
const entryUrl = devServerUrl ?? pathToFileURL(rendererFile).toString();

let win: BrowserWindow | null = null;
/** Hidden windows that host the WebGPU compute page; never shown, never sent app events. */
const computeWindows = new Set<BrowserWindow>();
const studioWindows = () => BrowserWindow.getAllWindows().filter((w) => !computeWindows.has(w));

/** A hidden compute window for the compute or a training worker (they ask through the main thread). */
function openComputeWindow(): HiddenWindow {
  const w = new BrowserWindow({ show: false, width: 64, height: 64, skipTaskbar: true, title: 'Restora compute', webPreferences: computeWebPreferences() });
  computeWindows.add(w);
  w.on('closed', () => computeWindows.delete(w));
  return {
    load: (url) => w.loadURL(url),
    onGone: (listener) => {
      w.webContents.on('render-process-gone', (_e, details) => listener(`the compute window's renderer ended (${details.reason})`));
      w.on('closed', () => listener('the compute window was closed'));
    },
    destroy: () => {
      if (!w.isDestroyed()) w.destroy();
    },
  };
}

/** Applied to every webContents (windows, devtools, anything created later). */
function hardenContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  // will-navigate never fires for our own loadURL/loadFile, so every one is hostile.
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-frame-navigate', (e) => {
    if (!isAppPageUrl(e.url, entryUrl)) e.preventDefault();
  });
  contents.on('will-redirect', (e) => {
    if (!isAppPageUrl(e.url, entryUrl)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

/** Work areas with the primary display first (the default window is centred on it). */
function workAreas(): Rect[] {
  const primary = screen.getPrimaryDisplay();
  return [primary, ...screen.getAllDisplays().filter((d) => d.id !== primary.id)].map((d) => d.workArea);
}

function createWindow(services: App): BrowserWindow {
  const state = loadWindowState(services.home, workAreas());
  const w = new BrowserWindow({
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : { center: true }),
    width: state.width,
    height: state.height,
    minWidth: MIN_WINDOW.width,
    minHeight: MIN_WINDOW.height,
    show: false,
    title: APP_NAME,
    icon: appIconPath(import.meta.dirname),
    webPreferences: secureWebPreferences(path.join(import.meta.dirname, '../preload/index.mjs')),
  });
  if (state.maximized) w.maximize();
  trackWindowState(w, (s) => saveWindowState(services.home, s), {
    onError: (err) => console.error(`Could not save the window position: ${errorMessage(err)}`),
  });
  w.once('ready-to-show', () => w.show());
  w.on('closed', () => {
    if (win === w) win = null;
    // Hidden compute windows keep 'window-all-closed' from firing: quit when the last studio window goes.
    if (studioWindows().length === 0 && process.platform !== 'darwin') app.quit();
  });
  if (devServerUrl) void w.loadURL(devServerUrl);
  else void w.loadFile(rendererFile);
  return w;
}

let appServices: App | null = null;

function sendMenuCommand(cmd: MenuCommand): void {
  appServices?.events.publish({ type: 'menu', ...cmd });
}

async function importFolder(): Promise<void> {
  const options = { title: 'Import folder', properties: ['openDirectory', 'multiSelections'] as Array<'openDirectory' | 'multiSelections'> };
  const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  if (!r.canceled && r.filePaths.length > 0) sendMenuCommand({ command: 'import-folder', paths: r.filePaths });
}

function installMenu(): void {
  app.setAboutPanelOptions({ applicationName: APP_NAME, applicationVersion: app.getVersion() });
  const template = buildMenuTemplate({
    appName: 'Restora',
    isDev,
    platform: process.platform,
    actions: {
      importFolder: () => void importFolder().catch((err: unknown) => console.error(`Import folder: ${errorMessage(err)}`)),
      exportImages: () => sendMenuCommand({ command: 'export' }),
      showAbout: () => app.showAboutPanel(),
    },
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function start(): void {
  app.setName(APP_NAME);
  // Both must happen before 'ready': the scheme's privileges, and sandboxing every renderer.
  protocol.registerSchemesAsPrivileged([{ scheme: MEDIA_SCHEME, privileges: MEDIA_SCHEME_PRIVILEGES }]);
  app.enableSandbox();
  for (const sw of webgpuSwitches(process.platform)) app.commandLine.appendSwitch(sw.name, sw.value);

  app.on('web-contents-created', (_e, contents) => hardenContents(contents));
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  void app.whenReady().then(() => {
    const ses = session.defaultSession;
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    });
    // The app needs no camera, notifications, clipboard reads or the like: refuse them all.
    ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    ses.setPermissionCheckHandler(() => false);
    const computeSession = session.fromPartition(COMPUTE_PARTITION);
    computeSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    computeSession.setPermissionCheckHandler(() => false);

    const services = createApp({ pageLauncher: windowPageLauncher(openComputeWindow) });
    appServices = services;
    services.events.subscribe(createEventSink(studioWindows));
    protocol.handle(
      MEDIA_SCHEME,
      createMediaHandler(
        (p) => services.media.resolve(p),
        (file) => net.fetch(pathToFileURL(file).toString()),
      ),
    );
    const openPath = createOpenPath((p) => shell.openPath(p));
    const pickPaths = async (kind: 'files' | 'folder'): Promise<string[]> => {
      const options = openDialogOptions(kind);
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled ? [] : r.filePaths;
    };
    registerIpc(ipcMain, createHandlers(services, { openPath, pickPaths, transport: 'electron' }), devServerUrl);

    installMenu();
    win = createWindow(services);
    app.on('activate', () => {
      if (studioWindows().length === 0) win = createWindow(services);
    });
    app.on('window-all-closed', () => {
      if (process.platform !== 'darwin') app.quit();
    });
    // Close the store and the worker once, when the app really quits (macOS keeps running without windows).
    let closed = false;
    app.on('will-quit', (e) => {
      if (closed) return;
      e.preventDefault();
      void services
        .close()
        .catch((err: unknown) => console.error(`Shutdown: ${errorMessage(err)}`))
        .finally(() => {
          closed = true;
          app.quit();
        });
    });
  });
}

if (app.requestSingleInstanceLock()) start();
else app.quit();
