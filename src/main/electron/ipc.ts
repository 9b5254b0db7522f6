/**
 * Electron IPC adapter over the shared handler map. Every call is checked twice
 * before a handler runs: the sender must be one of the app's own frames, and the
 * payload must pass the method's zod schema; handlers only ever see parsed requests.
 */
import { API_METHODS, IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, parseRequest, type ApiContract, type ApiHandlers, type ApiMethod, type ApiResult, type AppEvent } from '../../shared/contract.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { isTrustedSender } from './security.js';

/** What we read from an IPC event (Electron's senderFrame is null once the frame is gone). */
export interface IpcEventLike {
  senderFrame: { url: string } | null;
}

/** The subset of ipcMain we use (so tests can pass a fake). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, payload: unknown) => Promise<unknown>): void;
}

/** Validates and runs one call; generic so the handler and its request type line up without casts. */
async function dispatch<M extends ApiMethod>(handlers: ApiHandlers, method: M, payload: unknown): Promise<ApiContract[M]['res']> {
  const parsed = parseRequest(method, payload);
  if (!parsed.ok) throw new RestoraError('USAGE', parsed.message);
  const handler: ApiHandlers[M] = handlers[method];
  return handler(parsed.value);
}

function toResult(err: unknown): ApiResult<never> {
  // Only our typed errors keep their code; anything else is an internal failure.
  const code = err instanceof RestoraError ? err.code : 'INTERNAL';
  return { ok: false, error: { code, message: errorMessage(err, 'studio') } };
}

export function registerIpc(ipc: IpcMainLike, handlers: ApiHandlers, devServerUrl?: string): void {
  for (const method of API_METHODS) {
    ipc.handle(IPC_CHANNEL_PREFIX + method, async (event, payload): Promise<ApiResult<unknown>> => {
      try {
        if (!event.senderFrame || !isTrustedSender(event.senderFrame.url, devServerUrl)) {
          throw new RestoraError('USAGE', `${method}: IPC from an untrusted frame`);
        }
        return { ok: true, value: await dispatch(handlers, method, payload) };
      } catch (err) {
        return toResult(err);
      }
    });
  }
}

/** What the event sink needs of a window (BrowserWindow fits; tests pass fakes). */
export interface EventTargetWindow {
  isDestroyed(): boolean;
  webContents: { isDestroyed(): boolean; send(channel: string, ...args: unknown[]): void };
}

export type EventSink = (event: AppEvent) => void;

/**
 * Forwards AppEvents to every open window on IPC_EVENT_CHANNEL. The window list is
 * read per event so windows opened later get events too; closed ones are skipped,
 * and a send that throws (window closing mid-send) never breaks the producer.
 */
export function createEventSink(windows: () => readonly EventTargetWindow[]): EventSink {
  return (event) => {
    for (const w of windows()) {
      if (w.isDestroyed() || w.webContents.isDestroyed()) continue;
      try {
        w.webContents.send(IPC_EVENT_CHANNEL, event);
      } catch {
        // The window went away between the check and the send; nothing to deliver to.
      }
    }
  };
}
