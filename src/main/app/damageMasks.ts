/**
 * The damage mask of a library photo, for the studio: found by the detector, seen as an
 * overlay in Compare, corrected with a brush and saved back. One mask per image, stored
 * as a black-and-white PNG (white = damaged) under <home>/masks/<imageId>.png, which the
 * Restore action's repair step reads when the user chose "use my mask".
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { DEFAULT_TILE, SCRATCH_DETECTOR_ID, type DamageMask } from '../../shared/api.js';
import { RestoraError } from '../../shared/errors.js';
import { countMarked, readMask } from '../imaging/masks.js';
import { probeImage, uprightSize } from '../imaging/io.js';
import type { App } from './createApp.js';
import { maskFileOf } from '../library/maskFiles.js';

function inputOf(app: App, imageId: number): string {
  const input = app.library().pathOf(imageId);
  if (!input) throw new RestoraError('NOT_FOUND', `No image ${imageId} in the library.`);
  return input;
}

/** Runs the detector on the photo and keeps its mask (replacing any earlier one). */
export async function detectLibraryDamage(app: App, imageId: number): Promise<DamageMask> {
  const input = inputOf(app, imageId);
  const file = maskFileOf(app.home, imageId);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${crypto.randomUUID()}.part.png`;
  try {
    const r = await app.compute.detectDamage(app.models.get(SCRATCH_DETECTOR_ID).dir, input, tmp, app.settings.get().tile ?? DEFAULT_TILE);
    fs.renameSync(tmp, file);
    return { imageId, media: `mask/${imageId}`, width: r.width, height: r.height, damaged: r.damaged, source: 'detected' };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Stores the user's corrected mask (a PNG, base64): it must have the photo's size and mark
 * some, but not all, of it; a refused mask leaves the stored one as it was.
 */
export async function saveLibraryMask(app: App, imageId: number, pngBase64: string): Promise<DamageMask> {
  const input = inputOf(app, imageId);
  const row = uprightSize(await probeImage(input));
  const file = maskFileOf(app.home, imageId);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${crypto.randomUUID()}.part.png`;
  try {
    fs.writeFileSync(tmp, Buffer.from(pngBase64, 'base64'));
    const mask = await readMask(tmp, row.width, row.height, input).catch((err: unknown) => {
      // Name what the user knows (the photo's mask), not the temporary file.
      throw new RestoraError((err as RestoraError).code ?? 'USAGE', String((err as Error).message).replace(tmp, `The mask of ${path.basename(input)}`), input);
    });
    fs.renameSync(tmp, file);
    return { imageId, media: `mask/${imageId}`, width: row.width, height: row.height, damaged: countMarked(mask), source: 'edited' };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The stored mask of a photo, or null when it has none. */
export function libraryMaskFile(app: App, imageId: number): string | null {
  const file = maskFileOf(app.home, imageId);
  return fs.existsSync(file) ? file : null;
}
