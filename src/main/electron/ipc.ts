/** Electron IPC adapter over the shared handler map; validates every payload. */
import { API_METHODS, IPC_CHANNEL_PREFIX, isPlainRequest, type ApiHandlers, type ApiResult } from '../../shared/contract.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { isTrustedSender } from './security.js';

/** The subset of ipcMain we use (so tests can pass a fake). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, payload: unknown) => Promise<unknown>): void;
}

export function registerIpc(ipc: IpcMainLike, handlers: ApiHandlers, devServerUrl?: string): void {
  for (const method of API_METHODS) {
    ipc.handle(IPC_CHANNEL_PREFIX + method, async (event, payload): Promise<ApiResult<unknown>> => {
      try {
        if (!event.senderFrame || !isTrustedSender(event.senderFrame.url, devServerUrl)) {
          throw new RestoraError('USAGE', 'IPC from an untrusted frame');
        }
        if (!isPlainRequest(payload)) throw new RestoraError('USAGE', `${method}: payload must be an object`);
        const handler = handlers[method] as (req: unknown) => Promise<unknown>;
        return { ok: true, value: await handler(payload) };
      } catch (err) {
        const code = err instanceof RestoraError ? err.code : 'INTERNAL';
        return { ok: false, error: { code, message: errorMessage(err) } };
      }
    });
  }
}
