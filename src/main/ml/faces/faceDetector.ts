/**
 * Faces in a photo: boxes and five points (eye centres, nose tip, mouth corners), the input of
 * the face pipeline's alignment to the FFHQ template. Detection is @vladmandic/face-api (MIT,
 * maintained, its weights ship in the npm package so it installs offline): SSD MobileNet v1 for
 * the boxes and its 68-point landmark net, whose points give the five. It runs on the tfjs
 * backend this process already uses (face-api's node-wasm build takes tfjs as a dependency).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DetectedFace } from '../../../shared/api.js';
import { RestoraError } from '../../../shared/errors.js';

/** The part of face-api this module uses. */
interface FaceApi {
  nets: { ssdMobilenetv1: { loadFromDisk(dir: string): Promise<void> }; faceLandmark68Net: { loadFromDisk(dir: string): Promise<void> } };
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => unknown;
  detectAllFaces(
    input: tf.Tensor3D,
    options: unknown,
  ): {
    withFaceLandmarks(): Promise<{ detection: { box: { x: number; y: number; width: number; height: number }; score: number }; landmarks: { positions: { x: number; y: number }[] } }[]>;
  };
}

/** Photos are detected on at least this long a side: small faces in small photos need the pixels. */
const DETECT_SIDE = 640;
/** A big photo is also looked at in tiles of this side, overlapping so a face on a seam is whole in one. */
const TILE = 400;
const TILE_OVERLAP = 96;
const SEAM = 12;
/** At most this many faces a photo (a crowd's 30 faces fit). */
const MAX_FACES = 100;

let loading: Promise<FaceApi> | null = null;

/** Loads the detector and landmark nets once per process (about 6 MB of weights). */
function faceApi(): Promise<FaceApi> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    let api: FaceApi;
    // RESTORA_FACE_DETECTOR_DIR: the weights elsewhere (a packaged app's unpacked resources).
    let modelDir = process.env.RESTORA_FACE_DETECTOR_DIR ?? '';
    try {
      api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
      modelDir ||= path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
      await api.nets.ssdMobilenetv1.loadFromDisk(modelDir);
      await api.nets.faceLandmark68Net.loadFromDisk(modelDir);
    } catch (err) {
      loading = null;
      const where = modelDir || '@vladmandic/face-api';
      throw new RestoraError('MODEL_INVALID', `${where}: the face detector's weights (SSD MobileNet v1, 68-point landmarks) could not be loaded: ${(err as Error).message}`, where);
    }
    return api;
  })();
  return loading;
}

const mean = (pts: { x: number; y: number }[]): [number, number] => [pts.reduce((s, p) => s + p.x, 0) / pts.length, pts.reduce((s, p) => s + p.y, 0) / pts.length];

type Found = DetectedFace;

/** One detector pass on an 8-bit RGB tensor; coordinates mapped back by `map`. */
async function detectOnce(api: FaceApi, input: tf.Tensor3D, minScore: number, map: (x: number, y: number) => [number, number], scale: number): Promise<Found[]> {
  const found = await api.detectAllFaces(input, new api.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: MAX_FACES })).withFaceLandmarks();
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return found.map(({ detection, landmarks }) => {
    const p = landmarks.positions;
    // The 68-point scheme (iBUG 300-W): 36-41 and 42-47 are the eyes as seen, 30 the nose tip, 48 and 54 the mouth's corners.
    const five: [number, number][] = [mean(p.slice(36, 42)), mean(p.slice(42, 48)), [p[30]!.x, p[30]!.y], [p[48]!.x, p[48]!.y], [p[54]!.x, p[54]!.y]];
    const [x, y] = map(detection.box.x, detection.box.y);
    return {
      box: { x: r2(x), y: r2(y), width: r2(detection.box.width / scale), height: r2(detection.box.height / scale) },
      score: Math.round(detection.score * 1000) / 1000,
      points: five.map(([px, py]) => map(px, py).map(r2) as [number, number]),
    };
  });
}

function iou(a: Found['box'], b: Found['box']): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/**
 * The faces in an RGB photo (8-bit, interleaved), most confident first. A photo shorter than
 * DETECT_SIDE is looked at twice: enlarged to it (a face filling a small photo), and at its own
 * size on a grey canvas of that side (a 20 px face: enlarging blurs it past the detector); the
 * two are merged, the same face kept once.
 */
export async function detectFaces(rgb: Uint8Array, width: number, height: number, minScore = 0.5): Promise<DetectedFace[]> {
  const api = await faceApi();
  const long = Math.max(width, height);
  const photo = tf.tensor3d(rgb, [height, width, 3], 'int32');
  const passes: Found[][] = [];
  try {
    if (long >= DETECT_SIDE) {
      passes.push(await detectOnce(api, photo, minScore, (x, y) => [x, y], 1));
      // The detector shrinks its input to 512 px: in a big photo small faces vanish, so it also
      // looks at overlapping tiles of TILE px, each enlarged to DETECT_SIDE (a 20 px face is then
      // about 32 px where the detector looks).
      if (long > DETECT_SIDE) {
        const step = TILE - TILE_OVERLAP;
        const up = DETECT_SIDE / TILE;
        for (let y0 = 0; y0 < height; y0 += step) {
          for (let x0 = 0; x0 < width; x0 += step) {
            const h = Math.min(TILE, height - y0);
            const w = Math.min(TILE, width - x0);
            if ((x0 > 0 && w < TILE_OVERLAP) || (y0 > 0 && h < TILE_OVERLAP)) continue; // inside the tile before
            const tile = tf.tidy(
              () =>
                tf.image
                  .resizeBilinear(tf.slice(photo, [y0, x0, 0], [h, w, 3]).toFloat(), [Math.round(h * up), Math.round(w * up)])
                  .round()
                  .toInt() as tf.Tensor3D,
            );
            try {
              // A face cut by a seam between tiles is whole in the next tile (or, when bigger than the overlap, in the whole-photo pass).
              // (The detector's box of a cut face stops a few pixels short of the seam.)
              const cut = (f: Found) => (x0 > 0 && f.box.x <= x0 + SEAM) || (y0 > 0 && f.box.y <= y0 + SEAM) || (x0 + w < width && f.box.x + f.box.width >= x0 + w - SEAM) || (y0 + h < height && f.box.y + f.box.height >= y0 + h - SEAM);
              passes.push((await detectOnce(api, tile, minScore, (x, y) => [x / up + x0, y / up + y0], up)).filter((f) => !cut(f)));
            } finally {
              tile.dispose();
            }
          }
        }
      }
    } else {
      const up = DETECT_SIDE / long;
      const enlarged = tf.tidy(
        () =>
          tf.image
            .resizeBilinear(photo.toFloat(), [Math.round(height * up), Math.round(width * up)])
            .round()
            .clipByValue(0, 255)
            .toInt() as tf.Tensor3D,
      );
      try {
        passes.push(await detectOnce(api, enlarged, minScore, (x, y) => [x / up, y / up], up));
      } finally {
        enlarged.dispose();
      }
      const top = Math.floor((DETECT_SIDE - height) / 2);
      const left = Math.floor((DETECT_SIDE - width) / 2);
      const framed = tf.tidy(
        () =>
          tf.pad(
            photo,
            [
              [top, DETECT_SIDE - height - top],
              [left, DETECT_SIDE - width - left],
              [0, 0],
            ],
            128,
          ) as tf.Tensor3D,
      );
      try {
        passes.push(await detectOnce(api, framed, minScore, (x, y) => [x - left, y - top], 1));
      } finally {
        framed.dispose();
      }
    }
  } finally {
    photo.dispose();
  }
  const kept: Found[] = [];
  for (const f of passes.flat().sort((a, b) => b.score - a.score)) if (!kept.some((k) => iou(k.box, f.box) > 0.4)) kept.push(f);
  return kept;
}
