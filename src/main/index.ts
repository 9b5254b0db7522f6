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
import { createEventSink, registerIpc } from './electron/ipc.js';
import { createMediaHandler } from './electron/mediaProtocol.js';
import { buildMenuTemplate, type MenuCommand } from './electron/menu.js';
import { createOpenPath } from './electron/openPath.js';
import { CONTENT_SECURITY_POLICY, isAppPageUrl, MEDIA_SCHEME_PRIVILEGES, secureWebPreferences } from './electron/security.js';
import { loadWindowState, MIN_WINDOW, saveWindowState, trackWindowState, type Rect } from './electron/windowState.js';

const devServerUrl = process.env.ELECTRON_RENDERER_URL;
const isDev = !app.isPackaged;
const rendererFile = path.join(import.meta.dirname, '../renderer/index.html');
/** The one page the app shows; navigations and redirects anywhere else are refused. */
const entryUrl = devServerUrl ?? pathToFileURL(rendererFile).toString();

let win: BrowserWindow | null = null;

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
    title: 'Restora',
    webPreferences: secureWebPreferences(path.join(import.meta.dirname, '../preload/index.mjs')),
  });
  if (state.maximized) w.maximize();
  trackWindowState(w, (s) => saveWindowState(services.home, s), {
    onError: (err) => console.error(`Could not save the window position: ${errorMessage(err)}`),
  });
  w.once('ready-to-show', () => w.show());
  w.on('closed', () => {
    if (win === w) win = null;
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
  app.setAboutPanelOptions({ applicationName: 'Restora', applicationVersion: app.getVersion() });
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
  // Both must happen before 'ready': the scheme's privileges, and sandboxing every renderer.
  protocol.registerSchemesAsPrivileged([{ scheme: MEDIA_SCHEME, privileges: MEDIA_SCHEME_PRIVILEGES }]);
  app.enableSandbox();

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

    const services = createApp();
    appServices = services;
    services.events.subscribe(createEventSink(() => BrowserWindow.getAllWindows()));
    protocol.handle(MEDIA_SCHEME, createMediaHandler((p) => services.media.resolve(p), (file) => net.fetch(pathToFileURL(file).toString())));
    const openPath = createOpenPath((p) => shell.openPath(p));
    registerIpc(ipcMain, createHandlers(services, { openPath, transport: 'electron' }), devServerUrl);

    installMenu();
    win = createWindow(services);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) win = createWindow(services);
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
