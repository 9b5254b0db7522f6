/** Exposes one typed client built from the shared contract; nothing else. */
import { contextBridge, ipcRenderer } from 'electron';
import { API_METHODS, IPC_CHANNEL_PREFIX, type ApiClient, type ApiResult } from '../shared/contract.js';

const client = Object.fromEntries(
  API_METHODS.map((method) => [
    method,
    async (req: unknown) => {
      const r = (await ipcRenderer.invoke(IPC_CHANNEL_PREFIX + method, req)) as ApiResult<unknown>;
      if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r.value;
    },
  ]),
) as ApiClient;

contextBridge.exposeInMainWorld('restora', client);
