/**
 * The renderer's one typed client: Electron's preload bridge when present,
 * otherwise the same contract over HTTP + a WebSocket for events (web mode; the
 * token cookie rides along on both).
 */
import { API_METHODS, EVENTS_PATH, MEDIA_SCHEME } from '../../shared/methods';
import type { ApiClient, ApiResult, AppEvent } from '../../shared/contract';
import type { ImportReport } from '../../shared/api';

/** What the preload exposes as window.restora (see src/preload/index.ts). */
export interface Bridge {
  api: ApiClient;
  onEvent(listener: (e: AppEvent) => void): () => void;
  /** Desktop only: where a dropped file lives. */
  pathForFile?(file: File): string;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function httpBridge(): Bridge {
  const api = Object.fromEntries(
    API_METHODS.map((method) => [
      method,
      async (req: unknown) => {
        const res = await fetch(`/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(req ?? {}),
          credentials: 'same-origin',
        });
        const r = (await res.json()) as ApiResult<unknown>;
        if (!r.ok) throw new ApiError(r.error.code, r.error.message);
        return r.value;
      },
    ]),
  ) as ApiClient;
  const listeners = new Set<(e: AppEvent) => void>();
  let socket: WebSocket | null = null;
  const connect = () => {
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${EVENTS_PATH}`);
    socket.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as AppEvent;
      for (const l of listeners) l(e);
    };
    // Reconnect after a server restart; events missed meanwhile are re-read through the API.
    socket.onclose = () => setTimeout(connect, 1000);
  };
  return {
    api,
    onEvent(listener) {
      listeners.add(listener);
      if (!socket) connect();
      return () => listeners.delete(listener);
    },
  };
}

const electronBridge = (window as unknown as { restora?: Bridge }).restora;
const bridge: Bridge = electronBridge ?? httpBridge();

export const api: ApiClient = bridge.api;
export const onEvent = bridge.onEvent;
export const isElectron = Boolean(electronBridge);

/** Paths of dropped files and folders, where the platform can tell (the desktop app); else []. */
export function droppedPaths(files: FileList): string[] {
  const get = electronBridge?.pathForFile;
  if (!get) return [];
  return Array.from(files, (f) => get(f)).filter((p) => p.length > 0);
}

/** URL of a media path (thumb/1, image/1, result/3, preview/...) for <img src>. */
export function mediaUrl(mediaPath: string): string {
  return electronBridge ? `${MEDIA_SCHEME}://app/${mediaPath}` : `/media/${mediaPath}`;
}

/** Web mode: sends one photo's bytes to the server, which stores it once (by content) and imports it. */
export async function uploadFile(projectId: number, file: File): Promise<ImportReport> {
  const res = await fetch(`/upload?projectId=${projectId}&name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    body: file,
    headers: { 'content-type': 'application/octet-stream' },
    credentials: 'same-origin',
  });
  const r = (await res.json()) as ApiResult<ImportReport>;
  if (!r.ok) throw new ApiError(r.error.code, r.error.message);
  return r.value;
}

/** Files of a browser drop, folders included (read through the entries API, recursively). */
export async function filesFromDrop(dt: DataTransfer): Promise<File[]> {
  const entries = Array.from(dt.items ?? [])
    .map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null))
    .filter((e): e is FileSystemEntry => e !== null);
  if (!entries.length) return Array.from(dt.files);
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      out.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in batches until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}
