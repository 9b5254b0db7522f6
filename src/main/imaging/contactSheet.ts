/**
 * Evaluation sheets for real photos (scripts/eval-real-photos.ts): the numbers that say whether
 * the repair step did harm (pixels repaired, output pixels changed by it, clipped highlights)
 * and a contact sheet of labelled panels (input | repair mask | result [| a peer's result]),
 * all panels at the result's size so that thin marks and fine detail stay visible.
 * Pure functions on 8-bit RGB, plus the sheet's encoding with sharp.
 */
import sharp from 'sharp';
import { clippedFraction as clippedFractionOf } from './tone.js';

/** Interleaved 8-bit RGB, 3 samples per pixel. */
export interface Rgb8 {
  width: number;
  height: number;
  data: Uint8Array;
}

function check(img: Rgb8, what: string): void {
  if (img.data.length !== img.width * img.height * 3) throw new Error(`${what}: ${img.data.length} samples for ${img.width}x${img.height} RGB`);
}

/** Fraction of pixels a mask (one byte per pixel, non-zero = marked) marks. */
export function maskFraction(mask: Uint8Array): number {
  if (mask.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n / mask.length;
}

/**
 * Fraction of pixels of `a` and `b` (same size) where any channel is more than `tolerance`
 * levels apart: issue 23's "do no harm" measure, with `a` the restore with the repair step and
 * `b` the same restore without it.
 */
export function differsFraction(a: Rgb8, b: Rgb8, tolerance = 4): number {
  check(a, 'differsFraction a');
  check(b, 'differsFraction b');
  if (a.width !== b.width || a.height !== b.height) throw new Error(`differsFraction: ${a.width}x${a.height} against ${b.width}x${b.height}`);
  const n = a.width * a.height;
  if (n === 0) return 0;
  let d = 0;
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    if (Math.abs(a.data[i]! - b.data[i]!) > tolerance || Math.abs(a.data[i + 1]! - b.data[i + 1]!) > tolerance || Math.abs(a.data[i + 2]! - b.data[i + 2]!) > tolerance) d++;
  }
  return d / n;
}

/** Fraction of pixels whose BT.601 luma is at least `threshold` of 255 (blown highlights; tone.ts measures it). */
export function clippedFraction(img: Rgb8, threshold = 250): number {
  check(img, 'clippedFraction');
  return clippedFractionOf(img.data, 255, threshold / 255);
}

/** Nearest-neighbour enlargement by an integer factor (every pixel becomes a factor x factor block). */
export function enlargeNearest(img: Rgb8, factor: number): Rgb8 {
  check(img, 'enlargeNearest');
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`enlargeNearest: factor ${factor} is not a positive integer`);
  const width = img.width * factor;
  const height = img.height * factor;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < width; x++) {
      const s = (sy * img.width + Math.floor(x / factor)) * 3;
      const o = (y * width + x) * 3;
      data[o] = img.data[s]!;
      data[o + 1] = img.data[s + 1]!;
      data[o + 2] = img.data[s + 2]!;
    }
  }
  return { width, height, data };
}

/** The mask over the photo (same size): marked pixels become `opacity` red, the rest stay as they are. */
export function maskOverlay(photo: Rgb8, mask: Uint8Array, opacity = 0.75): Rgb8 {
  check(photo, 'maskOverlay');
  if (mask.length !== photo.width * photo.height) throw new Error(`maskOverlay: mask of ${mask.length} pixels for a ${photo.width}x${photo.height} photo`);
  const data = Uint8Array.from(photo.data);
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    const i = p * 3;
    data[i] = Math.round(photo.data[i]! * (1 - opacity) + 255 * opacity);
    data[i + 1] = Math.round(photo.data[i + 1]! * (1 - opacity));
    data[i + 2] = Math.round(photo.data[i + 2]! * (1 - opacity));
  }
  return { width: photo.width, height: photo.height, data };
}

/** Nearest-neighbour enlargement of a one-byte-per-pixel mask. */
export function enlargeMask(mask: Uint8Array, width: number, height: number, factor: number): Uint8Array {
  if (mask.length !== width * height) throw new Error(`enlargeMask: ${mask.length} pixels for ${width}x${height}`);
  const w = width * factor;
  const out = new Uint8Array(w * height * factor);
  for (let y = 0; y < height * factor; y++) {
    const row = Math.floor(y / factor) * width;
    for (let x = 0; x < w; x++) out[y * w + x] = mask[row + Math.floor(x / factor)]!;
  }
  return out;
}

export interface SheetLayout {
  width: number;
  height: number;
  /** Which way the panels run: side by side, or one under the other (wide photos). */
  direction: 'row' | 'column';
  /** Top-left corner of each panel's label strip; the panel itself starts `labelHeight` lower. */
  panels: { left: number; top: number }[];
  labelHeight: number;
}

/**
 * Where `count` panels of `panelWidth` x `panelHeight` go on a sheet: side by side, unless the
 * photo is much wider than tall (then one under the other, so the sheet stays near square and
 * each panel keeps its full resolution). Each panel has a label strip above it; `gap` pixels
 * of background between panels and around the sheet.
 */
export function sheetLayout(panelWidth: number, panelHeight: number, count: number, opts: { gap?: number; labelHeight?: number } = {}): SheetLayout {
  const gap = opts.gap ?? 8;
  const labelHeight = opts.labelHeight ?? 24;
  if (count < 1 || panelWidth < 1 || panelHeight < 1) throw new Error(`sheetLayout: ${count} panels of ${panelWidth}x${panelHeight}`);
  const cellH = labelHeight + panelHeight;
  const direction: 'row' | 'column' = panelWidth > 1.5 * panelHeight ? 'column' : 'row';
  const panels = direction === 'row' ? Array.from({ length: count }, (_, i) => ({ left: gap + i * (panelWidth + gap), top: gap })) : Array.from({ length: count }, (_, i) => ({ left: gap, top: gap + i * (cellH + gap) }));
  return direction === 'row' ? { width: gap + count * (panelWidth + gap), height: 2 * gap + cellH, direction, panels, labelHeight } : { width: 2 * gap + panelWidth, height: gap + count * (cellH + gap), direction, panels, labelHeight };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A label strip: dark text on the sheet's light background, shrunk to fit the panel's width. */
function labelSvg(text: string, width: number, height: number): Buffer {
  // DejaVu Sans is about 0.55 em per character; shrink the font for long labels on small panels.
  const size = Math.max(8, Math.min(Math.round(height * 0.62), Math.floor(width / (0.56 * Math.max(1, text.length)))));
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` + `<text x="2" y="${Math.round(height * 0.72)}" font-family="DejaVu Sans, sans-serif" font-size="${size}" fill="#111">${escapeXml(text)}</text></svg>`,
  );
}

export interface SheetPanel {
  image: Rgb8;
  label: string;
}

/** The contact sheet as a PNG: every panel must have the same size (the result's). */
export async function composeSheet(panels: readonly SheetPanel[], opts: { gap?: number; labelHeight?: number } = {}): Promise<{ png: Buffer; layout: SheetLayout }> {
  const first = panels[0];
  if (!first) throw new Error('composeSheet: no panels');
  for (const p of panels) {
    check(p.image, `panel "${p.label}"`);
    if (p.image.width !== first.image.width || p.image.height !== first.image.height) {
      throw new Error(`composeSheet: panel "${p.label}" is ${p.image.width}x${p.image.height}, the first is ${first.image.width}x${first.image.height}`);
    }
  }
  const layout = sheetLayout(first.image.width, first.image.height, panels.length, opts);
  const layers: sharp.OverlayOptions[] = [];
  panels.forEach((p, i) => {
    const at = layout.panels[i]!;
    if (layout.labelHeight > 0) layers.push({ input: labelSvg(p.label, p.image.width, layout.labelHeight), left: at.left, top: at.top });
    layers.push({ input: Buffer.from(p.image.data.buffer, p.image.data.byteOffset, p.image.data.byteLength), raw: { width: p.image.width, height: p.image.height, channels: 3 }, left: at.left, top: at.top + layout.labelHeight });
  });
  const png = await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: '#f2f2f2' } })
    .composite(layers)
    .png({ compressionLevel: 6 })
    .toBuffer();
  return { png, layout };
}

/** Mean and max of each numeric field over the rows (fields missing from a row are left out of its mean). */
export function meanAndMax<K extends string>(rows: readonly Partial<Record<K, number>>[], keys: readonly K[]): { mean: Record<K, number | null>; max: Record<K, number | null> } {
  const mean = {} as Record<K, number | null>;
  const max = {} as Record<K, number | null>;
  for (const k of keys) {
    const vals = rows.map((r) => r[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    mean[k] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
    max[k] = vals.length ? Math.max(...vals) : null;
  }
  return { mean, max };
}
