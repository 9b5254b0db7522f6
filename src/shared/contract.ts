/**
 * Every call the UI can make, declared once: name -> request and response types.
 * The Electron IPC adapter, the preload client and (later) the HTTP server are
 * all generated over this map, so both sides are checked by the compiler.
 */
import type { BackendInfo, ModelSummary } from './api.js';

export interface ApiContract {
  'app.info': { req: Record<string, never>; res: { version: string; backend: BackendInfo } };
  'models.list': { req: Record<string, never>; res: ModelSummary[] };
}

export type ApiMethod = keyof ApiContract;
export const API_METHODS: readonly ApiMethod[] = ['app.info', 'models.list'];

export type ApiClient = {
  [M in ApiMethod]: (req: ApiContract[M]['req']) => Promise<ApiContract[M]['res']>;
};

export type ApiHandlers = ApiClient;

/** What crosses a transport: a result, or a typed error. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

export const IPC_CHANNEL_PREFIX = 'restora:';

export function isApiMethod(x: unknown): x is ApiMethod {
  return typeof x === 'string' && (API_METHODS as readonly string[]).includes(x);
}

/** Requests are plain objects with no prototype tricks; validated in main before use. */
export function isPlainRequest(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}
