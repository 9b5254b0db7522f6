/**
 * The face step of a restore: each face found in the (repaired) input photo is aligned
 * to the face model's template, restored, matched in tone to the upscaled photo around
 * it, and pasted into the output at the output's scale through a feathered mask. The
 * background stays what the chosen upscaler made; only the faces come from the face
 * model. Faces are done one at a time, so a photo with 30 faces holds one crop, never 30.
 */
import type { DetectedFace, FaceCounts } from '../../../shared/api.js';
import type { Pixels } from '../../imaging/io.js';
import { alignedCrop, applySimilarity, FACE_CROP, FFHQ_TEMPLATE_512, footprint, pasteBack, similarityFrom, type Similarity } from './align.js';

/** Faces narrower than this (input pixels) carry too little for a face model to restore: skipped and counted. */
export const MIN_FACE_PX = 16;
/**
 * Largest RMS distance (template pixels of a 512 crop) between a face's five points, once
 * aligned, and the template's: real faces on the real test photos fit within 15 (profiles and
 * tilted heads included), the detector's one false face there (a hand) at 35. Beyond this the
 * points do not form a face, and a face model would paint one in: left alone and counted.
 */
const MAX_FIT_512 = 25;
/** The paste-back mask's soft rim, in crop pixels of a 512 crop (about a tenth of the crop). */
const FEATHER_512 = 48;
/** Tone matching keeps the restored face's detail but the photo's own tone below this scale (crop pixels of a 512 crop). */
const TONE_RADIUS_512 = 24;

export type FaceStepResult = FaceCounts;

/** Runs the face model on one aligned crop: [side, side, 3] in 0..1 in, the same out. */
export type FaceRunner = (crop: Float32Array) => Promise<Float32Array>;

export interface FaceStepOptions {
  /** The face model's crop side (512 for the released models). */
  side: number;
  /** 0..1: how much of the restored face replaces the photo's own. */
  strength: number;
  minFace?: number;
  isCancelled?: () => boolean;
}

interface Image {
  rgb: Pixels;
  width: number;
  height: number;
}

/** Separable box blur of one channel of an interleaved image, radius r, edges clamped (two passes: close to a Gaussian). */
function blurChannel(data: Float32Array, side: number, ch: number, c: number, r: number): Float32Array {
  let cur = new Float32Array(side * side);
  for (let i = 0; i < side * side; i++) cur[i] = data[i * ch + c]!;
  const tmp = new Float32Array(side * side);
  const pass = (src: Float32Array, dst: Float32Array, horizontal: boolean) => {
    for (let line = 0; line < side; line++) {
      const at = (k: number) => src[horizontal ? line * side + Math.min(side - 1, Math.max(0, k)) : Math.min(side - 1, Math.max(0, k)) * side + line]!;
      let sum = 0;
      for (let k = -r; k <= r; k++) sum += at(k);
      for (let k = 0; k < side; k++) {
        dst[horizontal ? line * side + k : k * side + line] = sum / (2 * r + 1);
        sum += at(k + r + 1) - at(k - r);
      }
    }
  };
  for (let n = 0; n < 2; n++) {
    pass(cur, tmp, true);
    const next = new Float32Array(side * side);
    pass(tmp, next, false);
    cur = next;
  }
  return cur;
}

/**
 * Gives `restored` the low frequencies of `reference` (the upscaled photo's own face, cut
 * with the same transform): the face model's detail, the photo's tone and colour, so no
 * colour step shows where the mask fades out.
 */
export function matchTone(restored: Float32Array, reference: Float32Array, side: number, radius: number): void {
  for (let c = 0; c < 3; c++) {
    const a = blurChannel(restored, side, 3, c, radius);
    const b = blurChannel(reference, side, 3, c, radius);
    for (let i = 0; i < side * side; i++) restored[i * 3 + c] = restored[i * 3 + c]! + b[i]! - a[i]!;
  }
}

/** Whether every pixel has R = G = B within `tol` levels: a black-and-white photo gets only luma from the face model. */
function greyPhoto(rgb: Pixels, tol: number): boolean {
  for (let i = 0; i < rgb.length; i += 3) if (Math.abs(rgb[i]! - rgb[i + 1]!) > tol || Math.abs(rgb[i + 1]! - rgb[i + 2]!) > tol) return false;
  return true;
}

/** A window of an 8/16-bit image as 0..1 floats. */
function window(img: Image, maxValue: number, x0: number, y0: number, x1: number, y1: number) {
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = img.rgb[((y0 + y) * img.width + x0 + x) * 3 + c]! / maxValue;
  return { width: w, height: h, channels: 3, data };
}

/** `t` for a window whose top-left is (x0, y0): t_local(p) = t(p + (x0, y0)). */
function shifted(t: Similarity, x0: number, y0: number): Similarity {
  return { a: t.a, b: t.b, tx: t.a * x0 - t.b * y0 + t.tx, ty: t.b * x0 + t.a * y0 + t.ty };
}

/**
 * Restores the faces of `input` (the photo the upscaler was given) into `output` (its
 * result, `scale` times larger), in place. Pixels of `output` outside every face's crop
 * footprint are not touched.
 */
export async function restoreFaces(input: Image, output: Image, scale: number, maxValue: number, faces: readonly DetectedFace[], run: FaceRunner, opts: FaceStepOptions): Promise<FaceStepResult> {
  const side = opts.side;
  const k = side / FACE_CROP;
  const template = FFHQ_TEMPLATE_512.map(([x, y]) => [x * k, y * k] as [number, number]);
  const grey = greyPhoto(input.rgb, maxValue > 255 ? 256 : 1);
  const minFace = opts.minFace ?? MIN_FACE_PX;
  let restored = 0;
  let tooSmall = 0;
  let misshapen = 0;
  const boxes: NonNullable<FaceStepResult['boxes']> = [];
  for (const face of faces) {
    if (opts.isCancelled?.()) break;
    if (Math.min(face.box.width, face.box.height) < minFace) {
      tooSmall++;
      continue;
    }
    const toCrop = similarityFrom(face.points, template);
    const fit =
      Math.sqrt(
        face.points.reduce((sum, [x, y], i) => {
          const [u, v] = applySimilarity(toCrop, x, y);
          return sum + (u - template[i]![0]) ** 2 + (v - template[i]![1]) ** 2;
        }, 0) / face.points.length,
      ) / k;
    if (fit > MAX_FIT_512) {
      misshapen++;
      continue;
    }
    // The same face in output pixels: p_out = scale * p_in.
    const toCropOut: Similarity = { a: toCrop.a / scale, b: toCrop.b / scale, tx: toCrop.tx, ty: toCrop.ty };
    const inWin = footprint(toCrop, side, input.width, input.height);
    const inImg = window(input, maxValue, inWin.x0, inWin.y0, inWin.x1, inWin.y1);
    const crop = alignedCrop(inImg, shifted(toCrop, inWin.x0, inWin.y0), side);
    const face01 = await run(crop.data);
    const outWin = footprint(toCropOut, side, output.width, output.height);
    const outImg = window(output, maxValue, outWin.x0, outWin.y0, outWin.x1, outWin.y1);
    const local = shifted(toCropOut, outWin.x0, outWin.y0);
    matchTone(face01, alignedCrop(outImg, local, side).data, side, Math.round(TONE_RADIUS_512 * k));
    pasteBack(outImg, { width: side, height: side, channels: 3, data: face01 }, local, FEATHER_512 * k, opts.strength, grey);
    for (let y = 0; y < outImg.height; y++) {
      for (let x = 0; x < outImg.width; x++) {
        for (let c = 0; c < 3; c++) {
          const v = Math.round(outImg.data[(y * outImg.width + x) * 3 + c]! * maxValue);
          output.rgb[((outWin.y0 + y) * output.width + outWin.x0 + x) * 3 + c] = v < 0 ? 0 : v > maxValue ? maxValue : v;
        }
      }
    }
    restored++;
    boxes.push({ x: outWin.x0, y: outWin.y0, width: outWin.x1 - outWin.x0 + 1, height: outWin.y1 - outWin.y0 + 1 });
  }
  return { found: faces.length, restored, tooSmall, misshapen, boxes };
}
