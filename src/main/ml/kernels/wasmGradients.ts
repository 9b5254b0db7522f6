/**
 * Gradient kernels the wasm backend lacks (Conv2DBackpropFilter) or runs slowly
 * (Conv2DBackpropInput is a scalar C++ loop there), rewritten onto XNNPACK's fast
 * paths: dx as a forward convolution, dW as matMuls (stride 1) or a forward
 * convolution (other strides). They call the backend's own kernel functions
 * directly, so no tensors are created on the engine and every intermediate buffer
 * is released here.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

type Backend = tf.KernelBackend & { disposeData(id: object): boolean };
const BACKEND = 'wasm';

function kernel(name: string): KernelFunc {
  const k = tf.getKernel(name, BACKEND);
  if (!k) throw new Error(`wasm backend has no ${name} kernel`);
  return k.kernelFunc;
}

function call(name: string, backend: Backend, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: object): TensorInfo {
  // Concat takes its inputs as an array; tfjs types every kernel's inputs as a map.
  return kernel(name)({ inputs: inputs as Record<string, TensorInfo>, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
}

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The parts of tfjs-backend-wasm (pinned 4.22) that a zero-copy view of a tensor needs. */
interface WasmBackendInternals {
  dataIdMap: { get(id: object): { id: number; memoryOffset: number } | undefined; delete(id: object): void };
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number): TensorInfo;
  wasm: { tfjs: { disposeData(id: number): void } };
}

function viewsSupported(backend: Backend): boolean {
  const b = backend as unknown as Partial<WasmBackendInternals>;
  return typeof b.makeOutput === 'function' && typeof b.dataIdMap?.get === 'function' && typeof b.wasm?.tfjs?.disposeData === 'function';
}

/**
 * A tensor over `shape` elements of `t`'s buffer starting `offset` floats in: no copy.
 * Only for reading inside one kernel; release it with releaseView, never with
 * disposeData (that would free memory the view does not own).
 */
function view(backend: Backend, t: TensorInfo, offset: number, shape: number[]): TensorInfo {
  const b = backend as unknown as WasmBackendInternals;
  return b.makeOutput(shape, 'float32', b.dataIdMap.get(t.dataId)!.memoryOffset + offset * 4);
}

function releaseView(backend: Backend, v: TensorInfo): void {
  const b = backend as unknown as WasmBackendInternals;
  // Unregisters the id (and any XNNPACK operator cached for it) without freeing memory.
  b.wasm.tfjs.disposeData(b.dataIdMap.get(v.dataId)!.id);
  b.dataIdMap.delete(v.dataId);
}

/**
 * Stride 1: dW[kh,kw,ci,co] = sum_q X[ci, q + kh*Wp + kw] * D[q, co], where X is the
 * padded input channel-major ([Ci, B*Hp*Wp], one zero channel appended) and D is dy
 * zero-padded on the bottom/right to the same Hp x Wp grid. A tap's shift is then only
 * an offset into X's buffer, so each tap is one matMul of a zero-copy view of X with D.
 * Where a shifted row runs into the next channel's row (or past the end, into the zero
 * channel), D is zero, so nothing leaks across. D is the matMul's weights for all taps,
 * so XNNPACK packs it once. Against the conv formulation below this avoids packing an
 * activation-sized filter per call (tfjs transposes a conv filter element by element).
 */
function conv2DBackpropFilterStride1(backend: Backend, x: TensorInfo, dy: TensorInfo, kh: number, kw: number, pad: { top: number; bottom: number; left: number; right: number }): TensorInfo {
  const [B, H, W, ci] = x.shape as [number, number, number, number];
  const [, oh, ow, co] = dy.shape as [number, number, number, number];
  const Hp = H + pad.top + pad.bottom;
  const Wp = W + pad.left + pad.right;
  const n = B * Hp * Wp;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
  try {
    const xp = keep(
      call(
        'PadV2',
        backend,
        { x },
        {
          paddings: [
            [0, 0],
            [pad.top, pad.bottom],
            [pad.left, pad.right],
            [0, 1],
          ],
          constantValue: 0,
        },
      ),
    );
    const X = keep(call('Transpose', backend, { x: xp }, { perm: [3, 0, 1, 2] }));
    const dp = keep(
      call(
        'PadV2',
        backend,
        { x: dy },
        {
          paddings: [
            [0, 0],
            [0, Hp - oh],
            [0, Wp - ow],
            [0, 0],
          ],
          constantValue: 0,
        },
      ),
    );
    const D = keep(call('Reshape', backend, { x: dp }, { shape: [1, n, co] }));
    const taps: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const a = view(backend, X, i * Wp + j, [1, ci, n]);
        try {
          taps.push(keep(call('BatchMatMul', backend, { a, b: D }, { transposeA: false, transposeB: false })));
        } finally {
          releaseView(backend, a);
        }
      }
    }
    const stacked = taps.length === 1 ? taps[0]! : keep(call('Concat', backend, taps, { axis: 0 }));
    return call('Reshape', backend, { x: stacked }, { shape: [kh, kw, ci, co] });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * dW[kh,kw,ci,co] = sum_{b,i,j} x[b, i*s + kh - pt, j*s + kw - pl, ci] * dy[b,i,j,co].
 * Stride 1 (every conv of the built-in architectures) goes to the matMul form above.
 * Otherwise treat Ci as the batch and B as the channel axis: conv2d(x^T [Ci,Hp,Wp,B],
 * dy^T [oh,ow,B,Co], dilation = stride) = [Ci, >=kh, >=kw, Co]; crop, transpose.
 */
function conv2DBackpropFilter(args: { inputs: Record<string, TensorInfo>; backend: Backend; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as Conv2DAttrs & { filterShape: [number, number, number, number] };
  const x = inputs.x!;
  const dy = inputs.dy!;
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter: NCHW is not supported on wasm');
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const { top, bottom, left, right } = padInfo;
  if (sh === 1 && sw === 1 && Math.min(top, bottom, left, right) >= 0 && x.dtype === 'float32' && viewsSupported(backend)) {
    return conv2DBackpropFilterStride1(backend, x, dy, kh, kw, padInfo);
  }
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
  try {
    let xp = x;
    if (top > 0 || bottom > 0 || left > 0 || right > 0) {
      xp = keep(
        call(
          'PadV2',
          backend,
          { x },
          {
            paddings: [
              [0, 0],
              [Math.max(0, top), Math.max(0, bottom)],
              [Math.max(0, left), Math.max(0, right)],
              [0, 0],
            ],
            constantValue: 0,
          },
        ),
      );
    }
    const xT = keep(call('Transpose', backend, { x: xp }, { perm: [3, 1, 2, 0] }));
    const dyT = keep(call('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }));
    const full = keep(call('Conv2D', backend, { x: xT, filter: dyT }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] }));
    let cropped = full;
    if (full.shape[1] !== kh || full.shape[2] !== kw) {
      cropped = keep(call('Slice', backend, { x: full }, { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] }));
    }
    return call('Transpose', backend, { x: cropped }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * For stride 1: dx = conv2d(dy padded by k-1-p, flip(W) with in/out swapped). Other strides
 * fall back to the backend's own kernel.
 */
function makeConv2DBackpropInput(fallback: KernelFunc): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: Backend; attrs: NamedAttrMap }) => {
    const { inputs, backend } = args;
    const attrs = args.attrs as unknown as Conv2DAttrs & { inputShape: [number, number, number, number] };
    const dy = inputs.dy!;
    const filter = inputs.filter!;
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
    const pt = kh - 1 - padInfo.top;
    const pb = kh - 1 - padInfo.bottom;
    const pl = kw - 1 - padInfo.left;
    const pr = kw - 1 - padInfo.right;
    if (sh !== 1 || sw !== 1 || attrs.dataFormat === 'NCHW' || Math.min(pt, pb, pl, pr) < 0) {
      return fallback(args as never);
    }
    const temps: TensorInfo[] = [];
    const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
    try {
      const flipped = keep(call('Reverse', backend, { x: filter }, { dims: [0, 1] }));
      const swapped = keep(call('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] }));
      // The conv pads dy itself (XNNPACK's implicit padding): no padded copy of dy.
      const pad = [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ];
      return call('Conv2D', backend, { x: dy, filter: swapped }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  }) as unknown as KernelFunc;
}

let registered = false;

/** Registers the kernels once; safe to call before or after the backend is set. */
export function registerWasmGradientKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('Conv2DBackpropFilter', BACKEND)) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: BACKEND,
      kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
    } satisfies KernelConfig);
  }
  const native = tf.getKernel('Conv2DBackpropInput', BACKEND);
  if (native) {
    tf.unregisterKernel('Conv2DBackpropInput', BACKEND);
    tf.registerKernel({
      kernelName: 'Conv2DBackpropInput',
      backendName: BACKEND,
      kernelFunc: makeConv2DBackpropInput(native.kernelFunc),
      setupFunc: native.setupFunc,
    } satisfies KernelConfig);
  }
}
