/**
 * The renderer's one typed client: Electron's preload bridge when present,
 * otherwise the same contract over HTTP (web mode; the token cookie rides along).
 */
import { API_METHODS, type ApiClient, type ApiResult } from '../../shared/contract';

function httpClient(): ApiClient {
  return Object.fromEntries(
    API_METHODS.map((method) => [
      method,
      async (req: unknown) => {
        const res = await fetch(`/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(req),
          credentials: 'same-origin',
        });
        const r = (await res.json()) as ApiResult<unknown>;
        if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
        return r.value;
      },
    ]),
  ) as ApiClient;
}

export const api: ApiClient = (window as unknown as { restora?: ApiClient }).restora ?? httpClient();
