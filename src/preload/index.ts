/** Exposes one typed client built from the shared contract, the event stream and dropped files' paths; nothing else. */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { API_METHODS, IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL } from '../shared/methods.js';
import type { ApiClient, ApiResult, AppEvent } from '../shared/contract.js';

const api = Object.fromEntries(
  API_METHODS.map((method) => [
    method,
    async (req: unknown) => {
      const r = (await ipcRenderer.invoke(IPC_CHANNEL_PREFIX + method, req ?? {})) as ApiResult<unknown>;
      if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r.value;
    },
  ]),
) as ApiClient;

function onEvent(listener: (e: AppEvent) => void): () => void {
  const wrapped = (_: IpcRendererEvent, e: AppEvent) => listener(e);
  ipcRenderer.on(IPC_EVENT_CHANNEL, wrapped);
  return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, wrapped);
}

/** The real path of a dropped file (sandboxed pages cannot see it; Electron's webUtils can). */
function pathForFile(file: File): string {
  return webUtils.getPathForFile(file);
}

contextBridge.exposeInMainWorld('restora', { api, onEvent, pathForFile });
