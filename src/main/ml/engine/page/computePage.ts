/**
 * The compute page: a hidden Chromium renderer (headless Chromium from the CLI and
 * the server, a hidden window in the desktop app) that runs the compute engine on
 * WebGPU and answers the compute worker over a WebSocket. The page's address
 * carries the socket's port and a one-time token in its fragment (#engine=PORT&token=T):
 * a fragment is never sent to a server, and the launcher keeps it off command lines.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { EngineCore } from '../engineCore.js';
import { registerBatchNormGradient } from '../../kernels/batchNormGrad.js';
import { registerResizeNearestGradient } from '../../kernels/resizeNearestGrad.js';
import { decodeFrame, encodeFrame } from '../wire.js';
import type { AdapterInfo, EngineInfo, EngineRequest } from '../protocol.js';

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  isFallbackAdapter?: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}
interface WebGpuBackendLike {
  device: { destroy(): void; lost: Promise<{ reason: string; message: string }> };
}

const params = new URLSearchParams(location.hash.slice(1));
// Out of the address bar and history once read.
history.replaceState(null, '', location.pathname);
const socket = new WebSocket(`ws://127.0.0.1:${params.get('engine')}/engine?token=${encodeURIComponent(params.get('token') ?? '')}`);
socket.binaryType = 'arraybuffer';
const send = (m: unknown) => socket.send(encodeFrame(m));

async function adapterInfo(): Promise<AdapterInfo | null> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(o?: object): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const i = adapter.info ?? {};
  const architecture = i.architecture ?? '';
  return {
    vendor: i.vendor ?? '',
    architecture,
    device: i.device ?? '',
    description: i.description ?? '',
    fallback: Boolean(adapter.isFallbackAdapter) || architecture === 'swiftshader',
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

async function start(): Promise<void> {
  const adapter = await adapterInfo();
  if (!adapter) {
    send({ type: 'unavailable', reason: 'navigator.gpu' in navigator ? 'Chromium found no WebGPU adapter' : 'this Chromium has no WebGPU (navigator.gpu is missing)' });
    return;
  }
  tf.enableProdMode();
  registerBatchNormGradient();
  registerResizeNearestGradient();
  if (!(await tf.setBackend('webgpu'))) {
    send({ type: 'unavailable', reason: 'tfjs could not start its webgpu backend on this adapter' });
    return;
  }
  await tf.ready();
  const backend = tf.backend() as unknown as WebGpuBackendLike;
  const info: EngineInfo = { backend: 'webgpu', adapter, userAgent: navigator.userAgent };
  const engine = new EngineCore(
    () => info,
    () => backend.device.destroy(),
  );
  void backend.device.lost.then((l) => send({ type: 'lost', reason: `${l.reason || 'unknown'}: ${l.message}` }));
  let queue = Promise.resolve();
  socket.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
    queue = queue.then(async () => {
      const { id, request } = decodeFrame<{ id: number; request: EngineRequest }>(new Uint8Array(ev.data));
      try {
        send({ type: 'reply', id, reply: await engine.handle(request) });
      } catch (err) {
        send({ type: 'error', id, message: (err as Error)?.message ?? String(err) });
      }
    });
  };
  send({ type: 'ready', info });
}

// Without its worker the page has nothing to do: closing the window ends a headless Chromium started for it.
socket.onclose = () => window.close();

socket.onopen = () => {
  start().catch((err: unknown) => send({ type: 'unavailable', reason: (err as Error)?.message ?? String(err) }));
};
