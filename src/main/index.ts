/**
 * Electron main process: the only file (with src/main/electron) that imports
 * 'electron'. It builds the app's services, opens one hardened window and wires
 * IPC to the shared handler map. Compute runs in the worker thread.
 */
import path from 'node:path';
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { createApp } from './app/createApp.js';
import { createHandlers } from './app/handlers.js';
import { registerIpc } from './electron/ipc.js';
import { CONTENT_SECURITY_POLICY, secureWebPreferences } from './electron/security.js';

if (!app.requestSingleInstanceLock()) app.quit();

const devServerUrl = process.env.ELECTRON_RENDERER_URL;
let win: BrowserWindow | null = null;

function createWindow(): void {
  win = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'Restora',
    webPreferences: secureWebPreferences(path.join(import.meta.dirname, '../preload/index.mjs')),
  });
  win.once('ready-to-show', () => win?.show());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(path.join(import.meta.dirname, '../renderer/index.html'));
}

app.on('second-instance', () => {
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault());
  });
  const services = createApp();
  registerIpc(ipcMain, createHandlers(services), devServerUrl);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => {
    void services.close();
    if (process.platform !== 'darwin') app.quit();
  });
  void shell; // reserved for "open output folder"
});
