/**
 * The renderer's one typed client: Electron's preload bridge when present,
 * otherwise the same contract over HTTP + a WebSocket for events (web mode: the
 * session is the token in this origin's sessionStorage, never a cookie; see
 * src/main/server/httpServer.ts).
 */
import { API_METHODS, EVENTS_PATH, MEDIA_KEY_PARAM, MEDIA_SCHEME, SESSION_PATH, WS_EVENTS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../shared/methods';
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

const TOKEN_KEY = 'restora.token';
const NOT_SIGNED_IN = 'Not signed in: open the studio with the URL that `restora serve` printed (it ends in ?token=...).';

/**
 * Web mode's session. sessionStorage belongs to this origin (port included, unlike a cookie)
 * and this tab, and lives in memory. The entry URL's ?token= moves there and leaves the
 * address bar (and so the tab's history) at once.
 */
function sessionToken(): string | null {
  const entry = new URLSearchParams(location.search).get('token');
  if (entry) {
    sessionStorage.setItem(TOKEN_KEY, entry);
    history.replaceState(history.state, '', `${location.pathname}${location.hash}`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

let token: string | null = null;
/** Read-only key that <img> and download links carry (they cannot send a header). */
let mediaKey = '';

function authHeaders(): Record<string, string> {
  if (!token) throw new ApiError('UNAUTHORIZED', NOT_SIGNED_IN);
  return { authorization: `Bearer ${token}` };
}

async function checked<T>(res: Response): Promise<T> {
  if (res.status === 401) throw new ApiError('UNAUTHORIZED', NOT_SIGNED_IN);
  const r = (await res.json()) as ApiResult<T>;
  if (!r.ok) throw new ApiError(r.error.code, r.error.message);
  return r.value;
}

function httpBridge(): Bridge {
  token = sessionToken();
  const api = Object.fromEntries(
    API_METHODS.map((method) => [
      method,
      async (req: unknown) => {
        const res = await fetch(`/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authHeaders() },
          body: JSON.stringify(req ?? {}),
          credentials: 'omit',
        });
        return checked(res);
      },
    ]),
  ) as ApiClient;
  const listeners = new Set<(e: AppEvent) => void>();
  let socket: WebSocket | null = null;
  const connect = () => {
    if (!token) return;
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${EVENTS_PATH}`, [WS_EVENTS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`]);
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

/** Resolves when media URLs can be made (web mode: the media key is fetched once); mount after it. */
export const sessionReady: Promise<void> =
  electronBridge || !token
    ? Promise.resolve()
    : fetch(SESSION_PATH, { method: 'POST', headers: authHeaders(), credentials: 'omit' })
        .then((res) => checked<{ mediaKey: string }>(res))
        .then((v) => void (mediaKey = v.mediaKey))
        // A stale token (the server restarted with a new one): the API calls say what to do.
        .catch(() => undefined);

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
/** Web mode: a batch job's results as one zip, or its n-th file (the server streams them; see zipStream.ts). */
export function downloadUrl(jobId: number, n?: number): string {
  return `/download/job/${jobId}${n === undefined ? '.zip' : `/${n}`}?${new URLSearchParams({ [MEDIA_KEY_PARAM]: mediaKey }).toString()}`;
}

export function mediaUrl(mediaPath: string, version?: number): string {
  const q = new URLSearchParams();
  if (!electronBridge) q.set(MEDIA_KEY_PARAM, mediaKey);
  // A new version of the same media path (a mask saved again): a new URL, not the cached image.
  if (version !== undefined) q.set('v', String(version));
  const query = q.toString() ? `?${q.toString()}` : '';
  return electronBridge ? `${MEDIA_SCHEME}://app/${mediaPath}${query}` : `/media/${mediaPath}${query}`;
}

/** Web mode: sends one photo's bytes to the server, which stores it once (by content) and imports it. */
export async function uploadFile(projectId: number, file: File): Promise<ImportReport> {
  const res = await fetch(`/upload?projectId=${projectId}&name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    body: file,
    headers: { 'content-type': 'application/octet-stream', ...authHeaders() },
    credentials: 'omit',
  });
  return checked<ImportReport>(res);
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
