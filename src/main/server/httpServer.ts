/**
 * The API over HTTP on 127.0.0.1, for the browser UI (web mode) and E2E tests.
 * Guarded by a random token, a Host check (loopback names only: DNS rebinding) and an
 * Origin check (the page's own origin, also through an SSH port forward). A thin adapter
 * over the same handler map as Electron IPC. One bad request, stream or frame never takes
 * the server down.
 *
 * The session lives in no cookie: cookies ignore ports, so any other server on 127.0.0.1
 * the browser visits would receive it. The token is a Bearer header; the page keeps it in
 * its origin's sessionStorage (scheme + host + port: no other port can read it), taking it
 * from the entry URL `/?token=` (the only place `?token=` is looked at) and taking it out
 * of the address bar. The events socket gets it as a subprotocol; <img> and download links
 * carry a media key derived from the token that reads media and nothing else.
 * The page (the UI's code, no data) loads without the token, so a reload works; every
 * route with data needs it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { EVENTS_PATH, isApiMethod, parseRequest, type ApiHandlers, type ApiResult, type AppEvent } from '../../shared/contract.js';
import { MEDIA_KEY_PARAM, SESSION_PATH, WS_EVENTS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../shared/methods.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { MAX_ZIP_BYTES, streamZip } from './zipStream.js';

export interface ServerOptions {
  port?: number;
  token?: string;
  /** Built renderer (index.html + assets); optional. */
  staticDir?: string;
  maxBodyBytes?: number;
  /** AppEvents to push to every connected page over the WebSocket at /events. */
  events?: { subscribe(listener: (e: AppEvent) => void): () => void };
  /** POST /upload?projectId=N&name=FILE with the photo's bytes as the body (web mode has no file paths). */
  upload?: UploadHandler;
  /** Serves /media/<path> (thumbnails, images, results, previews) by id, never by file path. */
  media?: { resolve(mediaPath: string): Promise<string | null> };
  /** A batch job's finished outputs, served as /download/job/<id>.zip and /download/job/<id>/<n> (web mode has no folder to open). */
  downloads?: { jobOutputs(jobId: number): { name: string; file: string }[] | null };
}

/** Stores one uploaded photo; `maxBytes` (default 2 GiB) refuses a larger declared body before it is read. */
export interface UploadHandler {
  (query: { projectId: number; name: string }, body: AsyncIterable<Buffer>): Promise<unknown>;
  maxBytes?: number;
}

/** A file name's limit on every common file system, in bytes (not characters). */
const MAX_NAME_BYTES = 255;

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

function bearer(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

/** The token a browser's WebSocket offers as a subprotocol (it cannot set headers). */
function protocolToken(req: http.IncomingMessage): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return offered.find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX))?.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
}

/** Read-only key for media URLs: derived from the token, so it needs no state and dies with it. */
export function mediaKeyOf(token: string): string {
  return crypto.createHmac('sha256', token).update('restora-media').digest('base64url').slice(0, 32);
}

/** Headers of every answer: no framing by another page (clickjacking), no sniffing. */
const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
} as const;

/** Names a browser uses for this machine; any other Host header is a rebinding attempt. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The Host header names loopback (any port: an SSH forward may use another one). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  try {
    return LOOPBACK_HOSTS.has(new URL(`http://${host}`).hostname);
  } catch {
    return false;
  }
}

/** No Origin (a script, a navigation) or exactly the origin the page was served under. */
export function isOwnOrigin(origin: string | undefined, host: string | undefined): boolean {
  return origin === undefined || (isLoopbackHost(host) && origin.toLowerCase() === `http://${host!.toLowerCase()}`);
}

/** decodeURIComponent that reports a malformed escape as null instead of throwing. */
function decoded(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

export async function startServer(handlers: ApiHandlers, o: ServerOptions = {}): Promise<RunningServer> {
  const token = o.token ?? crypto.randomBytes(24).toString('base64url');
  const mediaKey = mediaKeyOf(token);
  const maxBody = o.maxBodyBytes ?? 1 << 20;
  const maxUpload = o.upload?.maxBytes ?? 2 * 1024 ** 3;
  let origin = '';

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.headersSent) return void res.destroy();
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { ...BASE_HEADERS, 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...headers });
    res.end(text);
  };

  /**
   * RPC style: a domain error (bad file, unknown model...) is a delivered answer, like over IPC;
   * only a malformed request (400) or a crash (500) is an HTTP error.
   */
  const sendError = (res: http.ServerResponse, err: unknown) => {
    const code = err instanceof RestoraError ? err.code : 'INTERNAL';
    return send(res, code === 'INTERNAL' ? 500 : 200, { ok: false, error: { code, message: errorMessage(err, 'studio') } });
  };

  /**
   * Streams a file: opened and checked first (a folder or a vanished file is a 404, not a
   * crash after the headers), and the descriptor freed when the client goes away mid-way.
   */
  const sendFile = async (res: http.ServerResponse, file: string, headers: Record<string, string>) => {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch {
      return send(res, 404, 'not found');
    }
    const st = await handle.stat().catch(() => null);
    if (!st?.isFile()) {
      await handle.close();
      return send(res, 404, 'not found');
    }
    res.writeHead(200, { ...BASE_HEADERS, ...headers, 'content-length': String(st.size) });
    pipeline(handle.createReadStream(), res, (err) => {
      if (err && !res.destroyed) res.destroy();
    });
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const host = req.headers.host;
      if (!isLoopbackHost(host)) return send(res, 403, 'forbidden host');
      // Only our own page may call us from a browser.
      if (!isOwnOrigin(req.headers.origin, host)) return send(res, 403, 'forbidden origin');
      const url = new URL(req.url ?? '/', origin);
      const given = bearer(req);
      const authed = given !== undefined && safeEqual(given, token);
      // A declared body over the route's limit is refused before a byte of it is read.
      const declared = Number(req.headers['content-length'] ?? 0);
      const tooLarge = (limit: number, code: string) => {
        res.setHeader('connection', 'close');
        return send(res, 413, { ok: false, error: { code, message: `the request body of ${declared} bytes is over the limit of ${limit} bytes` } });
      };

      if (url.pathname.startsWith('/api/')) {
        if (!authed) return send(res, 401, 'unauthorized');
        if (req.method !== 'POST') return send(res, 405, 'use POST');
        const method = url.pathname.slice(5);
        if (!isApiMethod(method)) return send(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `no API method ${method}` } } satisfies ApiResult<never>);
        if (declared > maxBody) return tooLarge(maxBody, 'USAGE');
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
          return send(res, 200, { ok: true, value } satisfies ApiResult<unknown>);
        } catch (err) {
          return sendError(res, err);
        }
      }

      if (url.pathname === SESSION_PATH) {
        if (!authed) return send(res, 401, 'unauthorized');
        if (req.method !== 'POST') return send(res, 405, 'use POST');
        return send(res, 200, { ok: true, value: { mediaKey } });
      }

      if (url.pathname === '/upload' && o.upload) {
        if (!authed) return send(res, 401, 'unauthorized');
        if (req.method !== 'POST') return send(res, 405, 'use POST');
        if (declared > maxUpload) return tooLarge(maxUpload, 'IMAGE_TOO_LARGE');
        const projectId = Number(url.searchParams.get('projectId'));
        const name = url.searchParams.get('name') ?? '';
        if (!Number.isSafeInteger(projectId) || projectId < 1 || !name) {
          return send(res, 400, { ok: false, error: { code: 'USAGE', message: 'upload needs ?projectId=N&name=FILE' } });
        }
        if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
          return send(res, 400, { ok: false, error: { code: 'USAGE', message: `the file name is ${Buffer.byteLength(name, 'utf8')} bytes long; rename it to at most ${MAX_NAME_BYTES} bytes and upload it again` } });
        }
        try {
          return send(res, 200, { ok: true, value: await o.upload({ projectId, name }, req) });
        } catch (err) {
          // The rest of a refused body is not read: close the connection rather than drain it.
          res.setHeader('connection', 'close');
          return sendError(res, err);
        }
      }

      if (req.method === 'GET' && url.pathname.startsWith('/media/') && o.media) {
        const key = url.searchParams.get(MEDIA_KEY_PARAM);
        if (!authed && !(key !== null && safeEqual(key, mediaKey))) return send(res, 401, 'unauthorized');
        const mediaPath = decoded(url.pathname.slice('/media/'.length));
        if (mediaPath === null) return send(res, 400, 'malformed escape in the path');
        const file = await o.media.resolve(mediaPath);
        if (!file) return send(res, 404, 'not found');
        return sendFile(res, file, { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'cache-control': 'private, max-age=60', 'x-content-type-options': 'nosniff' });
      }

      const download = req.method === 'GET' && o.downloads ? /^\/download\/job\/(\d{1,12})(?:\.zip|\/(\d{1,9}))$/.exec(url.pathname) : null;
      if (download) {
        const key = url.searchParams.get(MEDIA_KEY_PARAM);
        if (!authed && !(key !== null && safeEqual(key, mediaKey))) return send(res, 401, 'unauthorized');
        const outputs = o.downloads!.jobOutputs(Number(download[1]));
        if (!outputs) return send(res, 404, 'no such job');
        const attachment = (name: string) => `attachment; filename="${name.replace(/[^\w.-]+/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;
        if (download[2] !== undefined) {
          const one = outputs[Number(download[2])];
          if (!one) return send(res, 404, 'no such output');
          const name = path.basename(one.name);
          return sendFile(res, one.file, { 'content-type': TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream', 'content-disposition': attachment(name), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        }
        const sizes = outputs.map((f) => ({ ...f, bytes: fs.statSync(f.file, { throwIfNoEntry: false })?.size }));
        const present = sizes.filter((f) => f.bytes !== undefined);
        const total = present.reduce((n, f) => n + f.bytes!, 0);
        if (total > MAX_ZIP_BYTES) return send(res, 413, `job ${download[1]}'s outputs take ${(total / 1024 ** 3).toFixed(1)} GB, over the 4 GB a zip can hold here: download them one by one`);
        res.writeHead(200, { ...BASE_HEADERS, 'content-type': 'application/zip', 'content-disposition': attachment(`restora-job-${download[1]}.zip`), 'cache-control': 'no-store' });
        try {
          await streamZip(res, present);
        } catch {
          // A file vanished or the client left mid-way: the archive is cut short.
          res.destroy();
        }
        return;
      }

      // Routes with data that this server does not offer (or not by this method): never the page.
      if (url.pathname === EVENTS_PATH || url.pathname === '/upload' || url.pathname.startsWith('/media/') || url.pathname.startsWith('/download/')) return send(res, authed ? 404 : 401, authed ? 'not found' : 'unauthorized');
      if (req.method !== 'GET' || !o.staticDir) return send(res, authed ? 404 : 401, authed ? 'not found' : 'unauthorized');
      if (url.searchParams.has('token')) {
        // Only the entry URL carries the token, to the page itself (it moves it into its
        // sessionStorage); anywhere else it is a mistake or a probe. Nothing redirects.
        const t = url.searchParams.get('token') ?? '';
        if (url.pathname !== '/' || url.searchParams.size !== 1) return send(res, 400, 'the token goes only in the entry URL: /?token=...');
        if (!safeEqual(t, token)) return send(res, 401, 'unauthorized');
      }
      const rel = url.pathname === '/' ? 'index.html' : decoded(url.pathname.slice(1));
      if (rel === null) return send(res, 400, 'malformed escape in the path');
      const file = path.resolve(o.staticDir, rel);
      if (!file.startsWith(path.resolve(o.staticDir) + path.sep)) return send(res, 404, 'not found');
      // No referrer: the entry URL's token never leaves in a Referer header.
      return sendFile(res, file, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    })().catch((err) => send(res, 500, { ok: false, error: { code: 'INTERNAL', message: errorMessage(err, 'studio') } }));
  });
  // A malformed request line or a reset connection: answer 400 where a socket is left, never throw.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  origin = `http://127.0.0.1:${port}`;

  // Events: a WebSocket at /events, with the same token, Host and Origin checks as the API.
  // A browser offers [WS_EVENTS_PROTOCOL, token protocol]: the answer names only the first.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024, handleProtocols: (offered) => (offered.has(WS_EVENTS_PROTOCOL) ? WS_EVENTS_PROTOCOL : false) });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    // A reset during the handshake must not become an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', origin);
    const given = bearer(req) ?? protocolToken(req);
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== EVENTS_PATH) return refuse('404 Not Found');
    if (!isLoopbackHost(req.headers.host) || !isOwnOrigin(req.headers.origin, req.headers.host)) return refuse('403 Forbidden');
    if (!given || !safeEqual(given, token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      // Invalid UTF-8, an oversized or malformed frame: ws closes that socket and reports it here.
      ws.on('error', () => ws.terminate());
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
