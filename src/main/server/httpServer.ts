/**
 * The API over HTTP on 127.0.0.1, for the browser UI (web mode) and E2E tests.
 * Guarded by a random token (Bearer header, or ?token= once, which sets a
 * SameSite=Strict HttpOnly cookie for the page's own assets) and an Origin check.
 * A thin adapter over the same handler map as Electron IPC.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { EVENTS_PATH, isApiMethod, parseRequest, type ApiHandlers, type ApiResult, type AppEvent } from '../../shared/contract.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';

export interface ServerOptions {
  port?: number;
  token?: string;
  /** Built renderer (index.html + assets); optional. */
  staticDir?: string;
  maxBodyBytes?: number;
  /** AppEvents to push to every connected page over the WebSocket at /events. */
  events?: { subscribe(listener: (e: AppEvent) => void): () => void };
  /** Serves /media/<path> (thumbnails, images, results, previews) by id, never by file path. */
  media?: { resolve(mediaPath: string): Promise<string | null> };
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.json': 'application/json',
};

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  const m = /(?:^|;\s*)restora_token=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
  return m?.[1];
}

export async function startServer(handlers: ApiHandlers, o: ServerOptions = {}): Promise<RunningServer> {
  const token = o.token ?? crypto.randomBytes(24).toString('base64url');
  const maxBody = o.maxBodyBytes ?? 1 << 20;
  let origin = '';

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      // Only our own page may call us from a browser.
      if (req.headers.origin && req.headers.origin !== origin) return send(res, 403, 'forbidden origin');
      const given = (req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined) ?? url.searchParams.get('token') ?? cookieToken(req);
      if (!given || !safeEqual(given, token)) return send(res, 401, 'unauthorized');
      const setCookie: Record<string, string> = url.searchParams.has('token') ? { 'set-cookie': `restora_token=${token}; HttpOnly; SameSite=Strict; Path=/` } : {};

      if (url.pathname.startsWith('/api/')) {
        if (req.method !== 'POST') return send(res, 405, 'use POST');
        const method = url.pathname.slice(5);
        if (!isApiMethod(method)) return send(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `no API method ${method}` } } satisfies ApiResult<never>);
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of req) {
          size += (c as Buffer).length;
          if (size > maxBody) return send(res, 413, { ok: false, error: { code: 'USAGE', message: 'request too large' } });
          chunks.push(c as Buffer);
        }
        let payload: unknown;
        try {
          payload = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        } catch {
          return send(res, 400, { ok: false, error: { code: 'USAGE', message: 'body is not JSON' } });
        }
        const parsed = parseRequest(method, payload);
        if (!parsed.ok) return send(res, 400, { ok: false, error: { code: 'USAGE', message: parsed.message } });
        try {
          const value = await (handlers[method] as (r: unknown) => Promise<unknown>)(parsed.value);
          return send(res, 200, { ok: true, value } satisfies ApiResult<unknown>, setCookie);
        } catch (err) {
          const code = err instanceof RestoraError ? err.code : 'INTERNAL';
          // RPC style: a domain error (bad file, unknown model...) is a delivered answer, like over IPC;
          // only a malformed request (400, above) or a crash (500) is an HTTP error.
          return send(res, code === 'INTERNAL' ? 500 : 200, { ok: false, error: { code, message: errorMessage(err) } });
        }
      }

      if (req.method === 'GET' && url.pathname.startsWith('/media/') && o.media) {
        const file = await o.media.resolve(decodeURIComponent(url.pathname.slice('/media/'.length)));
        if (!file) return send(res, 404, 'not found');
        res.writeHead(200, { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'cache-control': 'private, max-age=60', 'x-content-type-options': 'nosniff' });
        fs.createReadStream(file).pipe(res);
        return;
      }

      if (req.method !== 'GET' || !o.staticDir) return send(res, 404, 'not found');
      const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
      const file = path.resolve(o.staticDir, rel);
      if (!file.startsWith(path.resolve(o.staticDir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return send(res, 404, 'not found');
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...setCookie });
      fs.createReadStream(file).pipe(res);
    })().catch((err) => send(res, 500, { ok: false, error: { code: 'INTERNAL', message: errorMessage(err) } }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  origin = `http://127.0.0.1:${port}`;

  // Events: a WebSocket at /events, with the same token and origin checks as the API.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    const given = url.searchParams.get('token') ?? cookieToken(req);
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== EVENTS_PATH) return refuse('404 Not Found');
    if (req.headers.origin && req.headers.origin !== origin) return refuse('403 Forbidden');
    if (!given || !safeEqual(given, token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', () => ws.close(1003, 'events are one-way'));
    });
  });
  const unsubscribe = o.events?.subscribe((e) => {
    const text = JSON.stringify(e);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  return {
    url: `${origin}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe?.();
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
