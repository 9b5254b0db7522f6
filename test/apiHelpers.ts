/** The studio's API as its front ends drive it in the integration tests (studioApi, teacherApi, recipeApi). */
import type { AppEvent } from '../src/shared/api.js';
import { parseRequest, type ApiContract, type ApiHandlers, type ApiMethod } from '../src/shared/contract.js';
import type { App } from '../src/main/app/createApp.js';

/** Calls a handler as the HTTP and IPC adapters do: the request parsed by the contract first. */
export function apiCaller(handlers: () => ApiHandlers) {
  return async function call<M extends ApiMethod>(method: M, req: ApiContract[M]['req']): Promise<ApiContract[M]['res']> {
    const parsed = parseRequest(method, req);
    if (!parsed.ok) throw new Error(parsed.message);
    return (handlers()[method] as (r: unknown) => Promise<ApiContract[M]['res']>)(parsed.value);
  };
}

/** The first event matching `pred`: among those `seen` so far, or the next the app emits. */
export function waitForEvent(app: App, seen: AppEvent[], pred: (e: AppEvent) => boolean, timeoutMs: number): Promise<AppEvent> {
  const found = seen.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('event not seen in time')), timeoutMs);
    const off = app.events.subscribe((e) => {
      if (pred(e)) {
        clearTimeout(t);
        off();
        resolve(e);
      }
    });
  });
}
