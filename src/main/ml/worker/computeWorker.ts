/**
 * The compute worker thread: owns the tfjs backend and loaded models, runs
 * inference requests one at a time, reports progress, honours cancellation.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import { activeBackend, initBackend } from '../backend.js';
import { effectiveCompute } from '../engine/chromium.js';
import { LocalEngine } from '../engine/localEngine.js';
import { PageEngine } from '../engine/pageEngine.js';
import { openComputeEngine } from '../engine/openEngine.js';
import { parentLauncher } from '../engine/pageRelay.js';
import { engineLimits, engineRunnerFor, loadOnEngine, type EngineModel } from '../engine/engineModels.js';
import { expectReply, type Engine } from '../engine/protocol.js';
import type { PageLauncher } from '../engine/chromium.js';
import { DEFAULT_FACE_FIDELITY, type BackendInfo, type ComputeChoice } from '../../../shared/api.js';
import { loadLayersModel, readCard } from '../store/modelStore.js';
import * as tfjs from '@tensorflow/tfjs';
import { buildArch, listArchs, tilingFor, type Tiling } from '../archs/index.js';
import { upscaleFile, type FacePlan, type FacesFn, type RepairFn, type RepairPlan } from '../infer/upscaleFile.js';
import { detectFaces } from '../faces/faceDetector.js';
import { restoreFaces } from '../faces/faceStep.js';
import { decodeImage } from '../../imaging/io.js';
import { detectDamage, inpaintDamage, type DamageNet } from '../infer/damage.js';
import { countMarked, readMask, writeMask } from '../../imaging/masks.js';
import type { TileRunner } from '../infer/tiling.js';
import { convertModel } from '../import/convert.js';
import { GLOBAL_STATS, runModel } from '../core/conditioning.js';
import type { FromWorker, ToWorker, WorkerInit } from './workerProtocol.js';
import { RestoraError } from '../../../shared/errors.js';

if (!parentPort) throw new Error('computeWorker must run in a worker thread');
const port = parentPort;
const init = (workerData ?? {}) as WorkerInit;
interface LoadedModel extends Tiling {
  model: EngineModel;
  restores: boolean;
}
/** Models loaded on the current engine with their tiling needs, read from disk once per model folder. */
const models = new Map<string, LoadedModel>();
const send = (m: FromWorker) => port.postMessage(m);

/**
 * Where models run: the WebGPU page when asked for and available, else this thread.
 * An unavailable or lost GPU is said (fallbackReason), never silent.
 */
let engine: Engine | null = null;
let fallbackReason: string | undefined;
/** The Settings choice; a --backend flag or RESTORA_BACKEND wins over it. */
let computeChoice: ComputeChoice = init.compute ?? 'cpu';
/** 'auto' looks for a GPU once (a Chromium start), not before every job. */
let autoSettled = false;

async function currentEngine(): Promise<Engine> {
  if (engine instanceof PageEngine && engine.lostReason) {
    // The device went away (driver reset, page crash): the next job starts a fresh page.
    engine = null;
    autoSettled = false;
    models.clear();
  }
  if (engine) return engine;
  const choice = effectiveCompute(init.backend, computeChoice);
  if (choice === 'webgpu' || (choice === 'auto' && !autoSettled)) {
    autoSettled = choice === 'auto';
    try {
      const opened = await openComputeEngine(choice, pageLauncher ? { launcher: pageLauncher } : {});
      fallbackReason = opened.note;
      if (opened.engine) return (engine = opened.engine);
    } catch (err) {
      fallbackReason = `${(err as Error).message}; using ${activeBackend()?.id ?? 'wasm'}`;
    }
  }
  engine = new LocalEngine();
  return engine;
}

/** Settings changed where models run: the next job (and this info) uses the new choice. */
async function useCompute(choice: ComputeChoice): Promise<void> {
  computeChoice = choice;
  autoSettled = false;
  fallbackReason = undefined;
  await engine?.close();
  engine = null;
  models.clear();
}

/** In the desktop app the page is a hidden window the main thread opens; it is asked for one by message. */
const relay = init.pageHost === 'parent' ? parentLauncher(send) : null;
const pageLauncher: PageLauncher | null = relay?.launcher ?? null;

async function model(dir: string): Promise<LoadedModel> {
  const e = await currentEngine();
  let m = models.get(dir);
  if (!m || m.model.engine !== e) {
    const card = readCard(dir);
    m = { model: await loadOnEngine(e, dir), ...tilingFor(card, engineLimits(e)), restores: card.task === 'restore' };
    models.set(dir, m);
  }
  return m;
}

async function backendInfo(): Promise<BackendInfo> {
  const local = await initBackend({
    ...(init.backend ? { prefer: init.backend } : {}),
    ...(init.threads ? { threads: init.threads } : {}),
  });
  const e = await currentEngine();
  const reason = fallbackReason ?? local.fallbackReason;
  return { ...local, compute: { backend: e.info.backend, ...(e.info.adapter ? { adapter: e.info.adapter } : {}) }, ...(reason ? { fallbackReason: reason } : {}) };
}

/** Params and scale of a model folder, by running a 16x16 input through it. */
/** Values any one layer may output for the 16x16 probe: a real x4 net's widest layer holds well under 1M. */
const MAX_PROBE_ACTIVATION = 16 * 1024 ** 2;

/**
 * Every layer's output for the 16x16 probe, worked out symbolically (tfjs's shape inference,
 * nothing allocated), so a topology whose weightless layers blow the image up to gigabytes
 * (an UpSampling2D of size 4096) is refused before it runs.
 */
function checkProbeSizes(net: tf.LayersModel, dir: string): void {
  const inputs = net.inputs.map((t, i) => tfjs.input({ batchShape: i === 0 ? [1, 16, 16, 3] : [1, ...t.shape.slice(1).map((d) => d ?? 1)] }));
  try {
    net.apply(inputs.length === 1 ? inputs[0]! : inputs);
  } catch (err) {
    throw new RestoraError('MODEL_INVALID', `${dir}: the model cannot take a 16x16 RGB image (${(err as Error).message})`, dir);
  }
  for (const layer of net.layers) {
    const node = layer.inboundNodes[layer.inboundNodes.length - 1];
    const shapes = (node ? (Array.isArray(node.outputShapes[0]) || node.outputShapes.length === 0 ? node.outputShapes : [node.outputShapes]) : []) as (number | null)[][];
    for (const shape of shapes) {
      const n = shape.reduce<number>((a, d) => a * (d ?? 1), 1);
      if (!(n <= MAX_PROBE_ACTIVATION)) {
        throw new RestoraError('MODEL_INVALID', `${dir}: layer ${layer.name} turns a 16x16 image into [${shape}], over the limit of ${MAX_PROBE_ACTIVATION} values for one layer`, dir);
      }
    }
  }
}

async function probeModel(dir: string): Promise<{ params: number; scale: number }> {
  let net: tf.LayersModel;
  try {
    net = await loadLayersModel(dir);
  } catch (err) {
    throw new RestoraError('MODEL_INVALID', `${dir}: not a loadable tfjs layers model (${(err as Error).message})`, dir);
  }
  try {
    checkProbeSizes(net, dir);
    let shape: number[];
    try {
      shape = tfjs.tidy(() => runModel(net, tfjs.zeros([1, 16, 16, 3]) as tf.Tensor4D, new Float32Array(GLOBAL_STATS)).shape);
    } catch (err) {
      throw new RestoraError('MODEL_INVALID', `${dir}: the model fails on a 16x16 test image (${(err as Error).message})`, dir);
    }
    if (shape.length !== 4 || shape[3] !== 3 || shape[1] !== shape[2] || !shape[1] || shape[1] % 16 !== 0) {
      throw new RestoraError('MODEL_INVALID', `${dir}: maps a 16x16 RGB image to ${shape.join('x')}; expected an RGB image N times larger`, dir);
    }
    return { params: net.countParams(), scale: shape[1] / 16 };
  } finally {
    net.dispose();
  }
}

/**
 * The damage nets run here, on this thread's backend: they are small, and their inputs are
 * not the engine's RGB tiles. Kept loaded (like the engine's models) until shutdown; a
 * change of where models run does not touch them.
 */
const damageNets = new Map<string, DamageNet>();
async function damageNet(dir: string): Promise<DamageNet> {
  let n = damageNets.get(dir);
  if (!n) damageNets.set(dir, (n = { model: await loadLayersModel(dir), card: readCard(dir) }));
  return n;
}

/**
 * Face models run where the upscalers run (this thread, or the WebGPU page), on whole crops
 * (no tiles). One is kept loaded: a released face model is 300-360 MB of weights.
 */
let faceDir: string | null = null;
async function faceModel(dir: string): Promise<{ model: EngineModel; side: number }> {
  const card = readCard(dir);
  if (card.task !== 'face')
    throw new RestoraError(
      'USAGE',
      `${card.id} is not a face model (it is ${card.task === 'upscale' || card.task === 'restore' ? `an x${card.scale} ${card.task} model` : `a ${card.task} net`}); pick a face model imported from GFPGAN, CodeFormer or RestoreFormer++.`,
      dir,
    );
  const other = faceDir !== null && faceDir !== dir ? models.get(faceDir) : undefined;
  if (other) {
    models.delete(faceDir!);
    await other.model.engine.call({ op: 'dispose', model: other.model.key }).catch(() => undefined);
  }
  faceDir = dir;
  const side = Number(card.archOptions.size ?? 512);
  return { model: (await model(dir)).model, side };
}

/** The face step of one photo: detect in the repaired input, restore each face, paste it at the output's scale. */
async function facesFor(plan: FacePlan): Promise<FacesFn> {
  const { model: net, side } = await faceModel(plan.modelDir);
  // CodeFormer takes its fidelity w as the model's second input.
  const extra = net.conditioned ? Float32Array.of(plan.fidelity ?? DEFAULT_FACE_FIDELITY) : null;
  // 16-bit steps out, then back to 0..1: the engine rounds what it returns.
  const levels = 65535;
  const run = async (crop: Float32Array) => {
    const { y } = expectReply(await net.engine.call({ op: 'predict', model: net.key, x: crop, height: side, width: side, padH: 0, padW: 0, stats: extra, maxValue: levels }), 'predicted');
    return y.map((v) => v / levels);
  };
  return async (input, output, scale, maxValue, isCancelled) => {
    let rgb8: Uint8Array;
    if (maxValue === 255) rgb8 = input.rgb as Uint8Array;
    else rgb8 = Uint8Array.from(input.rgb, (v) => Math.round((v * 255) / maxValue));
    const faces = await detectFaces(rgb8, input.width, input.height);
    return restoreFaces(input, output, scale, maxValue, faces, run, { side, strength: plan.strength, ...(isCancelled ? { isCancelled } : {}) });
  };
}

/** The repair step of one photo: the user's mask or the detector's, then the inpainter. */
async function repairFor(plan: RepairPlan, input: string, tile: number): Promise<RepairFn> {
  const detector = plan.maskFile ? null : plan.detectorDir ? await damageNet(plan.detectorDir) : null;
  if (!plan.maskFile && !detector) throw new RestoraError('USAGE', 'The repair step needs a mask file or the scratch detector.');
  const inpainter = await damageNet(plan.inpainterDir);
  return async (rgb, width, height, maxValue, isCancelled) => {
    const mask = plan.maskFile ? await readMask(plan.maskFile, width, height, input) : await detectDamage(detector!, rgb, width, height, maxValue, tile, isCancelled);
    if (plan.maskOut) await writeMask(mask, width, height, plan.maskOut);
    const repaired = countMarked(mask);
    if (repaired === 0) return { rgb, repaired };
    return { rgb: await inpaintDamage(inpainter, rgb, width, height, maxValue, mask, tile, isCancelled), repaired };
  };
}

/** The model step skipped: each tile comes back as it went in. */
const identityRunner: TileRunner = async ({ x, height, width, maxValue }) => {
  const out = new Float32Array(height * width * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(x[i]! * maxValue);
  return out;
};

let queue: Promise<void> = Promise.resolve();

async function handle(msg: Exclude<ToWorker, { type: 'pageExited' }>): Promise<void> {
  try {
    if (msg.type === 'shutdown') {
      await engine?.close();
      engine = null;
      models.clear();
      for (const n of damageNets.values()) n.model.dispose();
      damageNets.clear();
      send({ type: 'closed', id: msg.id });
      return;
    }
    if (msg.type === 'useCompute') await useCompute(msg.compute);
    const info = await backendInfo();
    if (msg.type === 'info' || msg.type === 'useCompute') {
      send({ type: 'info', id: msg.id, info });
      return;
    }
    if (msg.type === 'memory') {
      const reply = expectReply(await (await currentEngine()).call({ op: 'memory' }), 'memory');
      send({ type: 'memory', id: msg.id, numTensors: reply.memory.numTensors });
      return;
    }
    if (msg.type === 'archs') {
      send({ type: 'archs', id: msg.id, archs: listArchs().map((a) => ({ id: a.id, description: a.description, scales: [...a.scales], defaults: { ...a.defaults }, trainable: (a.role ?? 'generator') === 'generator' })) });
      return;
    }
    if (msg.type === 'describeArch') {
      const net = buildArch(msg.arch, msg.scale, msg.archOptions);
      send({ type: 'described', id: msg.id, params: net.countParams(), scale: msg.scale });
      net.dispose();
      return;
    }
    if (msg.type === 'probeModel') {
      send({ type: 'described', id: msg.id, ...(await probeModel(msg.modelDir)) });
      return;
    }
    if (msg.type === 'detectDamage') {
      const img = await decodeImage(msg.input);
      // Find damage in the studio: marks a person reviews before any repair, so the card's looser review rule.
      const mask = await detectDamage(await damageNet(msg.detectorDir), img.rgb, img.width, img.height, img.maxValue, msg.tile, undefined, 'review');
      await writeMask(mask, img.width, img.height, msg.maskOut);
      send({ type: 'detected', id: msg.id, width: img.width, height: img.height, damaged: countMarked(mask) });
      return;
    }
    if (msg.type === 'importModel') {
      send({ type: 'imported', id: msg.id, card: await convertModel(msg.source, msg.outDir, msg.meta) });
      return;
    }
    const flag = new Int32Array(msg.cancel);
    const repair = msg.request.repair ? await repairFor(msg.request.repair, msg.request.input, msg.request.tile) : undefined;
    const faces = msg.request.faces ? await facesFor(msg.request.faces) : undefined;
    const hooks = {
      ...(faces ? { faces } : {}),
      onProgress: (done: number, total: number) => send({ type: 'progress', id: msg.id, done, total }),
      isCancelled: () => Atomics.load(flag, 0) !== 0,
      ...(repair ? { repair } : {}),
    };
    if (msg.modelDir === null) {
      if (!repair || msg.request.scale !== 1) throw new RestoraError('USAGE', "Without a model there is only the repair step, at the photo's own size.");
      send({ type: 'upscaled', id: msg.id, result: await upscaleFile(() => identityRunner, { ...msg.request, keepColours: false }, hooks) });
      return;
    }
    const m = await model(msg.modelDir);
    const request = {
      ...msg.request,
      maxTile: m.maxTile,
      overlap: Math.max(msg.request.overlap, m.overlap),
      multiple: m.multiple,
      padMode: m.padMode,
      edgePad: m.edgePad,
      // Restoration models keep the photo's own colours unless asked otherwise.
      keepColours: msg.request.keepColours ?? m.restores,
      // Restoration models stretch contrast and blew out whites on real prints: guard them by default.
      keepHighlights: msg.request.keepHighlights ?? m.restores,
    };
    const result = await upscaleFile((rgb, w, h, max) => engineRunnerFor(m.model, rgb, w, h, max), request, hooks);
    send({ type: 'upscaled', id: msg.id, result });
  } catch (err) {
    const e = err instanceof RestoraError ? err : new RestoraError('INTERNAL', (err as Error)?.message ?? String(err));
    send({ type: 'error', id: msg.id, error: { code: e.code, message: e.message, ...(e.file ? { file: e.file } : {}), ...(e.hint ? { hint: e.hint } : {}) } });
  }
}

port.on('message', (msg: ToWorker) => {
  // Page events from the desktop app's window answer no request: handle them at once.
  if (msg.type === 'pageExited') {
    relay?.onExited(msg);
    return;
  }
  queue = queue.then(() => handle(msg));
});
