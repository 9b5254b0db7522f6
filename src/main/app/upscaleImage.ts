/**
 * Upscales one library image for the Compare view: the result is a PNG in the
 * data folder, recorded in the image's history (status 'restored'), scored
 * against a reference when one sits beside it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_FACE_FIDELITY, DEFAULT_FACE_STRENGTH, type FaceChoice, type FaceResult, type OutputFormat, type UpscaleImageResult } from '../../shared/api.js';
import { damageNetDirs, pipelineRequest, repairPlanFor } from '../ml/infer/pipeline.js';
import type { RepairPlan } from '../ml/infer/upscaleFile.js';
import { libraryMaskFile } from './damageMasks.js';
import { RestoraError } from '../../shared/errors.js';
import sharp from 'sharp';
import { decodeRgbFloat } from '../imaging/decode.js';
import { decodeImage, encodeImage, probeImage, uprightSize } from '../imaging/io.js';
import { faceSideFile } from './media.js';
import { crop } from '../imaging/imresize.js';
import { measure } from '../ml/eval/metrics.js';
import type { App } from './createApp.js';

/**
 * A ground-truth image for `input`, if the user keeps one next to it: the same
 * name in a sibling folder called HR (…/LR/x.png -> …/HR/x.png), or the same name
 * with _LR replaced by _HR in the same folder.
 */
export function findReference(input: string): string | null {
  const dir = path.dirname(input);
  const base = path.basename(input);
  const candidates = [path.join(dir, '..', 'HR', base), path.join(dir, '..', 'hr', base)];
  if (/_LR(\.[^.]+)$/.test(base)) candidates.push(path.join(dir, base.replace(/_LR(\.[^.]+)$/, '_HR$1')));
  return candidates.find((c) => fs.existsSync(c) && path.resolve(c) !== path.resolve(input)) ?? null;
}

/** The repair step of a studio upscale: the detector's mask, the photo's saved mask, or none. */
function repairPlan(app: App, imageId: number, repair: 'auto' | 'off' | 'mask'): RepairPlan | null {
  if (repair === 'off') return null;
  const maskFile = repair === 'mask' ? libraryMaskFile(app, imageId) : undefined;
  if (maskFile === null) throw new RestoraError('NOT_FOUND', `Image ${imageId} has no saved damage mask: find the damage (or paint it) and save the mask first.`);
  return repairPlanFor(damageNetDirs(app.models), maskFile);
}

export async function upscaleLibraryImage(
  app: App,
  imageId: number,
  modelId: string | undefined,
  output: { tile: number; format: OutputFormat; quality: number; keepColours?: boolean; levels?: boolean; repair?: 'auto' | 'off' | 'mask'; faces?: FaceChoice },
  signal: AbortSignal,
  onProgress: (done: number, total: number) => void,
  /** A second model run on the first one's result brought back to the photo's size ("Restore + x4"). */
  thenModelId?: string,
): Promise<UpscaleImageResult> {
  const input = app.library().pathOf(imageId);
  if (!input) throw new RestoraError('NOT_FOUND', `No image ${imageId} in the library.`);
  const model = app.models.resolve(modelId, modelId ? undefined : 2);
  const then = thenModelId ? app.models.resolve(thenModelId, undefined) : null;
  if (then && then.card.task !== 'upscale' && then.card.task !== 'restore') throw new RestoraError('USAGE', `${then.card.id} is not an upscaler (it is a ${then.card.task} model); the second step enlarges the photo.`);
  const resultId = then ? `${model.card.id}+${then.card.id}` : model.card.id;
  // Unique per call: two upscales of one image in the same millisecond (two tabs, a double click) must not share a file.
  const dest = path.join(app.home, 'results', String(imageId), `${path.basename(input, path.extname(input))}-${resultId}-${Date.now()}-${crypto.randomUUID().slice(0, 8)}.png`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const repair = repairPlan(app, imageId, output.repair ?? 'off');
  const faceModel = output.faces ? app.models.face(output.faces.modelId) : null;
  const strength = output.faces?.strength ?? DEFAULT_FACE_STRENGTH;
  // The face step runs on the last step at full strength, keeping the result without faces beside it:
  // the chosen strength is a blend of the two (Compare's slider shows it live, and may set it again).
  const faces = faceModel ? { modelDir: faceModel.dir, strength: 1, fidelity: output.faces?.fidelity ?? DEFAULT_FACE_FIDELITY, beforeOut: faceSideFile(dest, false) } : undefined;
  const last = faces ? faceSideFile(dest, true) : dest;
  const t0 = performance.now();
  const first = then ? `${dest}.step1.png` : last;
  let r = await app.compute.upscale(model.dir, pipelineRequest(model, input, first, 'png', { repair: repair ?? undefined, keepColours: output.keepColours, levels: output.levels, tile: output.tile, faces: then ? undefined : faces }), {
    onProgress,
    signal,
  });
  const repairedPixels = r.repairedPixels;
  let tile = r.tile;
  if (then) {
    // The restore's result at the photo's own size (an area average keeps its cleaning and tone),
    // then the x4 model: four times the photo at the cost of one restore and one x4, not x8.
    const mid = `${dest}.step2.png`;
    try {
      const { width, height } = uprightSize(await probeImage(input));
      await sharp(first).resize(width, height, { kernel: 'lanczos3' }).png().toFile(mid);
      r = await app.compute.upscale(then.dir, pipelineRequest(then, mid, last, 'png', { keepColours: true, tile: output.tile, faces }), { onProgress, signal });
      tile ??= r.tile;
    } finally {
      fs.rmSync(first, { force: true });
      fs.rmSync(mid, { force: true });
    }
  }
  let faceResult: FaceResult | undefined;
  if (faces && r.faces) {
    await blendFaces(dest, strength);
    faceResult = { modelId: faceModel!.card.id, strength, found: r.faces.found, restored: r.faces.restored, tooSmall: r.faces.tooSmall, ...(r.faces.misshapen ? { misshapen: r.faces.misshapen } : {}), boxes: r.faces.boxes ?? [] };
  }
  const ms = Math.round(performance.now() - t0);
  let reference: UpscaleImageResult['reference'];
  const refFile = findReference(input);
  if (refFile) {
    const [sr, hr0] = await Promise.all([decodeRgbFloat(dest), decodeRgbFloat(refFile)]);
    if (hr0.width >= sr.width && hr0.height >= sr.height) {
      const q = measure(sr, crop(hr0, 0, 0, sr.width, sr.height), then ? then.card.scale : model.card.scale);
      reference = { psnr: q.psnr, ssim: q.ssim };
    }
  }
  const scale = then ? then.card.scale : model.card.scale;
  const historyId = app.library().setStatus(imageId, 'restored', {
    action: model.card.task === 'restore' ? 'restore' : 'upscale',
    modelId: resultId,
    settings: {
      scale,
      tile: output.tile,
      keepColours: r.keptColours,
      keepHighlights: r.keptHighlights,
      ...(then ? { steps: [model.card.id, then.card.id] } : {}),
      ...(output.levels ? { levels: true } : {}),
      ...(repair ? { repair: output.repair, repairedPixels } : {}),
      ...(faceResult ? { faces: faceResult } : {}),
    },
    output: dest,
  });
  return {
    historyId,
    output: dest,
    modelId: resultId,
    width: r.outWidth,
    height: r.outHeight,
    ms,
    ...(reference ? { reference } : {}),
    ...(repairedPixels !== undefined ? { repairedPixels } : {}),
    ...(faceResult ? { faces: faceResult } : {}),
    ...(tile ? { tile } : {}),
  };
}

/**
 * Writes `output` as the blend of its face step's two ends at `strength`: (1 - s) * without
 * faces + s * with them at full strength, which is what the face step gives at strength s
 * (its paste-back is linear in the strength).
 */
export async function blendFaces(output: string, strength: number): Promise<void> {
  const [offFile, onFile] = [faceSideFile(output, false), faceSideFile(output, true)];
  const info = await probeImage(onFile);
  const [off, on] = [await decodeImage(offFile, await probeImage(offFile)), await decodeImage(onFile, info)];
  if (off.width !== on.width || off.height !== on.height) throw new RestoraError('MODEL_INVALID', `${offFile}: not the size of ${onFile}`, offFile);
  const rgb = on.rgb.slice();
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.round(off.rgb[i]! + strength * (on.rgb[i]! - off.rgb[i]!));
  // Two quick moves of the slider may blend at once: each writes its own file, the last rename wins.
  const tmp = `${output}.${crypto.randomUUID()}.blend.png`;
  try {
    await encodeImage({ width: on.width, height: on.height, rgb, maxValue: on.maxValue, ...(on.alpha ? { alpha: on.alpha } : {}) }, tmp, { format: 'png' }, info);
    fs.renameSync(tmp, output);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Compare's strength slider, let go: the result is blended again at `strength` and its record says so. */
export async function setFaceStrength(app: App, historyId: number, strength: number): Promise<{ historyId: number; strength: number }> {
  const output = app.library().outputOf(historyId);
  const settings = app.library().settingsOf(historyId);
  const faces = settings?.faces as FaceResult | undefined;
  if (!output || !faces || !fs.existsSync(faceSideFile(output, true)) || !fs.existsSync(faceSideFile(output, false))) {
    throw new RestoraError('NOT_FOUND', `Result ${historyId} has no face step to set the strength of.`);
  }
  await blendFaces(output, strength);
  app.library().updateSettings(historyId, { ...settings, faces: { ...faces, strength } });
  return { historyId, strength };
}
