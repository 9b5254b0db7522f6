/**
 * Hostile traffic for the WebGPU page engine's port, which any local user can read from
 * `ps`: generated HTTP requests (odd paths and escapes, foreign Host headers, odd methods,
 * bodies, oversized headers), raw bytes that are not HTTP, sockets held open and dropped,
 * and WebSocket upgrades with wrong tokens, origins and paths. Every HTTP answer must be
 * a 2xx/4xx; the caller then checks that the engine still answers its own page.
 */
import net from 'node:net';
import { prng } from './hostileModelFiles.js';

export interface TrafficReport {
  /** HTTP answers by status (0: the server closed the connection without one). */
  statuses: Record<number, number>;
  /** Upgrades that were accepted (must stay 0: the page already holds the one client). */
  upgradesAccepted: number;
  /** Requests that got a 5xx or hung. */
  bad: string[];
}

const PATHS = [
  '/',
  '/compute.html',
  '/forward.html',
  '/%',
  '/%E0%A4%A',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/..%2f..%2fetc%2fpasswd',
  '/engine',
  '/compute%00.html',
  '//evil.example/',
  '/\\..\\..\\windows',
  '/compute.html?token=x',
  '/?%',
  `/${'a'.repeat(6000)}`,
  '/😀',
  '/compute.html#x',
  '*',
];
const HOSTS = (port: number) => [`127.0.0.1:${port}`, `localhost:${port}`, 'evil.example', '', `[::1]:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `${'x'.repeat(300)}:1`];
const METHODS = ['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH'];

/** One raw exchange: write `bytes`, collect what comes back until the server closes or `ms` pass. */
function raw(port: number, bytes: Buffer | string, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => (sock.destroy(), resolve(got));
    const timer = setTimeout(done, ms);
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.on('close', () => (clearTimeout(timer), resolve(got)));
    sock.on('error', () => undefined);
    sock.on('connect', () => sock.write(bytes));
  });
}

/** An HTTP request written by hand (Node's client refuses the odd paths), answered status or 0 when closed unanswered, -1 when it hung. */
async function request(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<number> {
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}${body ? `Content-Length: ${body.length}\r\n` : ''}Connection: close\r\n\r\n`;
  const t0 = performance.now();
  const answer = await raw(port, body ? Buffer.concat([Buffer.from(head), body]) : head, 5000);
  if (!answer && performance.now() - t0 >= 4900) return -1;
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

export async function hostilePageTraffic(port: number, seed: number, n: number): Promise<TrafficReport> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const report: TrafficReport = { statuses: {}, upgradesAccepted: 0, bad: [] };
  const note = (what: string, status: number) => {
    report.statuses[status] = (report.statuses[status] ?? 0) + 1;
    if (status < 0 || status >= 500) report.bad.push(`${what} -> ${status < 0 ? 'no answer in 5 s' : status}`);
  };
  for (let i = 0; i < n; i++) {
    const kind = pick(['http', 'http', 'http', 'upgrade', 'upgrade', 'bytes', 'held']);
    if (kind === 'http') {
      const method = pick(METHODS);
      const path = pick(PATHS);
      const headers: Record<string, string> = { host: pick(HOSTS(port)) };
      if (rnd() < 0.2) headers['x-big'] = 'y'.repeat(Math.floor(rnd() * 20_000));
      if (rnd() < 0.2) headers.cookie = 'restora_token=stolen';
      const body = method === 'POST' || method === 'PUT' ? Buffer.from(Array.from({ length: Math.floor(rnd() * 4096) }, () => Math.floor(rnd() * 256))) : undefined;
      note(`${method} ${path.slice(0, 40)} (Host ${headers.host!.slice(0, 30)})`, await request(port, method, path, headers, body));
    } else if (kind === 'upgrade') {
      // Handshakes the page might send, each with one thing wrong (or several).
      const token = pick(['', 'x', '%E0%A4%A', 'a'.repeat(48), '0'.repeat(48), 'a'.repeat(5000)]);
      const origin = pick([`http://127.0.0.1:${port}`, 'http://evil.example', 'null', '', `http://localhost:${port}`]);
      const path = pick([`/engine?token=${token}`, `/engine?token=${token}&token=${token}`, `/x?token=${token}`, '/engine', `/%E0%A4%A?token=${token}`]);
      const key = pick(['dGhlIHNhbXBsZSBub25jZQ==', '', '!!!']);
      const answer = await raw(
        port,
        `GET ${path} HTTP/1.1\r\nHost: ${pick(HOSTS(port))}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${pick(['13', '8', 'x'])}\r\n\r\n`,
        800,
      );
      if (answer.startsWith('HTTP/1.1 101')) report.upgradesAccepted++;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      note(`upgrade ${path.slice(0, 40)} from ${origin}`, status);
    } else if (kind === 'bytes') {
      const bytes = pick([
        () => Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 2048) }, () => Math.floor(rnd() * 256))),
        () => Buffer.from('GET /compute.html HTTP/1.1\r\nHost: 127.0.0.1\r\n' + 'X: y\r\n'.repeat(5000) + '\r\n'),
        () => Buffer.from('GET /%E0%A4%A HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: evil\r\n\r\n'),
        () => Buffer.from('POST /compute.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999999\r\n\r\nxx'),
        () => Buffer.from('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
        () => Buffer.from('\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003'), // a TLS hello
      ])();
      const answer = await raw(port, bytes, 800);
      note('raw bytes', Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0));
    } else {
      // Opened and held without a full request, then dropped.
      await raw(port, 'GET /compute.html HTTP/1.1\r\nHost: 127.0.0.1\r\n', 200);
      note('held', 0);
    }
  }
  return report;
}
