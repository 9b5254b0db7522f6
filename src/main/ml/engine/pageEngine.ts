/**
 * The Node side of the WebGPU engine: serves the compute page on 127.0.0.1,
 * opens it (headless Chromium, or the desktop app's hidden window), and relays
 * engine requests over a token-guarded WebSocket, one at a time.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { packageRoot } from '../../paths.js';
import { RestoraError } from '../../../shared/errors.js';
import { chromiumLauncher, type LaunchedPage, type PageLauncher } from './chromium.js';
import { decodeFrame, encodeFrame } from './wire.js';
import type { AdapterInfo, Engine, EngineInfo, EngineReply, EngineRequest } from './protocol.js';

type FromPage = { type: 'ready'; info: EngineInfo } | { type: 'unavailable'; reason: string } | { type: 'lost'; reason: string } | { type: 'reply'; id: number; reply: EngineReply } | { type: 'error'; id: number; message: string };

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };

export function computePageDir(): string {
  return path.join(packageRoot(), 'out', 'compute');
}

/**
 * The largest frame the page may send: a predicted tile (1024 px at x4 is 200 MB of
 * float32) or a training state (weights, Adam moments and EMA of a large net). Far below
 * the 1 GB the socket used to allow.
 */
export const MAX_PAGE_FRAME = 384 * 1024 * 1024;

export interface PageServer {
  server: http.Server;
  /** Emits 'connection' at most once: for the first client that proved itself. */
  wss: WebSocketServer;
  port: number;
}

/** Only loopback names: a DNS-rebound name reaching 127.0.0.1 gets nothing. */
function loopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}` || h === `[::1]:${port}`;
}

/** The request's path, percent-decoded; null when it is malformed (bad escapes, NUL). */
function decodedPath(raw: string | undefined): string | null {
  try {
    const p = decodeURIComponent(new URL(raw ?? '/', 'http://127.0.0.1').pathname);
    return p.includes('\0') ? null : p;
  } catch {
    return null;
  }
}

function servePageFile(dir: string, port: number, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (!loopbackHost(req.headers.host, port)) {
    res.writeHead(403).end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const pathname = decodedPath(req.url);
  if (pathname === null) {
    res.writeHead(400).end();
    return;
  }
  const file = path.resolve(dir, `.${pathname}`);
  const stat = file.startsWith(dir + path.sep) ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
  if (!stat?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  if (req.method === 'HEAD') res.end();
  else
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
}

/**
 * Serves the compute page from `dir` on 127.0.0.1 and its engine socket at /engine.
 * Every input is untrusted (the port is visible to any local user): a bad request is
 * answered 4xx and never throws out of a handler, which would kill the compute worker.
 * The socket takes one client: the first with the token, from the page's own origin.
 */
export async function startPageServer(dir: string, token: string, { maxPayload = MAX_PAGE_FRAME }: { maxPayload?: number } = {}): Promise<PageServer> {
  let port = 0;
  let taken = false;
  const server = http.createServer((req, res) => {
    try {
      servePageFile(dir, port, req, res);
    } catch {
      if (res.headersSent) res.destroy();
      else res.writeHead(500).end();
    }
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  const expected = Buffer.from(token);
  server.on('upgrade', (req: http.IncomingMessage, sock: Duplex, head: Buffer) => {
    sock.on('error', () => undefined);
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://127.0.0.1');
      } catch {
        sock.destroy();
        return;
      }
      const given = Buffer.from(url.searchParams.get('token') ?? '');
      const ok = !taken && loopbackHost(req.headers.host, port) && req.headers.origin === `http://127.0.0.1:${port}` && url.pathname === '/engine' && given.length === expected.length && crypto.timingSafeEqual(given, expected);
      if (!ok) {
        sock.destroy();
        return;
      }
      taken = true;
      wss.handleUpgrade(req, sock, head, (ws) => {
        // An oversized or malformed frame closes this client; unheard, its 'error' would kill the worker.
        ws.on('error', () => undefined);
        wss.emit('connection', ws);
      });
    } catch {
      sock.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
  return { server, wss, port };
}

export interface PageEngineOptions {
  launcher?: PageLauncher;
  /** How long the page may take to load and find an adapter. */
  startTimeoutMs?: number;
}

export class PageEngine implements Engine {
  private readonly pending = new Map<number, { resolve(r: EngineReply): void; reject(e: unknown): void }>();
  private nextId = 1;
  private dead: string | null = null;

  private constructor(
    readonly info: EngineInfo,
    private readonly socket: WebSocket,
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    private readonly page: LaunchedPage,
  ) {}

  /** Starts the page and waits for its adapter; throws BACKEND_UNAVAILABLE with the reason when there is none. */
  static async start(opts: PageEngineOptions = {}): Promise<PageEngine> {
    const dir = computePageDir();
    if (!fs.existsSync(path.join(dir, 'compute.html'))) {
      throw new RestoraError('BACKEND_UNAVAILABLE', `webgpu: the compute page is not built (${dir}); run \`npm run build\``);
    }
    const token = crypto.randomBytes(24).toString('hex');
    const { server, wss, port } = await startPageServer(dir, token);
    const cleanup = async (page?: LaunchedPage) => {
      await page?.close();
      wss.close();
      server.close();
    };
    let page: LaunchedPage;
    try {
      page = await (opts.launcher ?? chromiumLauncher)(`http://127.0.0.1:${port}/compute.html#engine=${port}&token=${token}`);
    } catch (err) {
      await cleanup();
      throw err;
    }
    try {
      const { socket, info } = await new Promise<{ socket: WebSocket; info: EngineInfo }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new RestoraError('BACKEND_UNAVAILABLE', `webgpu: the compute page did not start within ${(opts.startTimeoutMs ?? 60000) / 1000} s`)), opts.startTimeoutMs ?? 60000);
        void page.exited.then((why) => reject(new RestoraError('BACKEND_UNAVAILABLE', `webgpu: ${why}`)));
        wss.once('connection', (ws: WebSocket) => {
          ws.on('error', () => undefined);
          ws.once('message', (data: Buffer) => {
            clearTimeout(timer);
            let m: FromPage;
            try {
              m = decodeFrame<FromPage>(new Uint8Array(data));
            } catch (err) {
              ws.terminate();
              reject(new RestoraError('BACKEND_UNAVAILABLE', `webgpu: the compute page sent a malformed frame (${(err as Error).message})`));
              return;
            }
            if (m?.type === 'ready' && m.info && typeof m.info === 'object') resolve({ socket: ws, info: m.info });
            else {
              ws.terminate();
              reject(new RestoraError('BACKEND_UNAVAILABLE', `webgpu: ${m?.type === 'unavailable' ? String(m.reason) : `unexpected first message '${String(m?.type)}'`}`));
            }
          });
        });
      });
      const engine = new PageEngine(info, socket, server, wss, page);
      engine.listen();
      return engine;
    } catch (err) {
      await cleanup(page);
      throw err;
    }
  }

  private listen(): void {
    this.socket.on('message', (data: Buffer) => {
      let m: FromPage;
      try {
        m = decodeFrame<FromPage>(new Uint8Array(data));
      } catch (err) {
        this.fail(`the compute page sent a malformed frame (${(err as Error).message})`);
        this.socket.terminate();
        return;
      }
      if (!m || typeof m !== 'object') {
        this.fail('the compute page sent a frame that is not a message');
        this.socket.terminate();
        return;
      }
      if (m.type === 'lost') this.fail(`the GPU device was lost (${m.reason})`);
      else if (m.type === 'reply' || m.type === 'error') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.type === 'reply') p?.resolve(m.reply);
        else p?.reject(gpuError(String(m.message)));
      }
    });
    this.socket.on('close', () => this.fail('the compute page closed its connection'));
    void this.page.exited.then((why) => this.fail(why));
  }

  private fail(why: string): void {
    if (this.dead) return;
    this.dead = why;
    const err = new RestoraError('BACKEND_LOST', `webgpu: ${why}`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Why the engine cannot answer any more, or null while it can. */
  get lostReason(): string | null {
    return this.dead;
  }

  call(request: EngineRequest): Promise<EngineReply> {
    if (this.dead) return Promise.reject(new RestoraError('BACKEND_LOST', `webgpu: ${this.dead}`));
    const id = this.nextId++;
    return new Promise<EngineReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(encodeFrame({ id, request }), (err) => {
        if (err) {
          this.pending.delete(id);
          reject(new RestoraError('BACKEND_LOST', `webgpu: could not reach the compute page (${err.message})`));
        }
      });
    });
  }

  async close(): Promise<void> {
    this.fail('closed');
    this.socket.close();
    await this.page.close();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Errors from the page in Restora's terms: GPU memory exhaustion gets its own code and advice. */
function gpuError(message: string): RestoraError {
  if (/out of memory|OutOfMemory|allocation failed|exceeds the max|maxBufferSize|maxStorageBufferBindingSize/i.test(message)) {
    return new RestoraError('GPU_OUT_OF_MEMORY', `webgpu: the GPU ran out of memory (${message}); use a smaller tile or batch`);
  }
  // A tile or batch beyond the adapter's buffer or dispatch limits: the same remedy.
  if (/exceeds WebGPU limits|exceeds.*limit/i.test(message)) {
    return new RestoraError('GPU_OUT_OF_MEMORY', `webgpu: the work is too large for this GPU's limits (${message}); use a smaller tile or batch`);
  }
  return new RestoraError('INTERNAL', `webgpu: ${message}`);
}

/** Starts the compute page only to read its adapter, then closes it: for `restora info` and Settings. */
export async function probeWebGpu(opts: PageEngineOptions = {}): Promise<{ adapter?: AdapterInfo; userAgent?: string; unavailable?: string }> {
  try {
    const engine = await PageEngine.start({ startTimeoutMs: 30000, ...opts });
    await engine.close();
    return { ...(engine.info.adapter ? { adapter: engine.info.adapter } : {}), ...(engine.info.userAgent ? { userAgent: engine.info.userAgent } : {}) };
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
}
