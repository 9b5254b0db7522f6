/**
 * Image I/O on sharp (libvips): probe headers without decoding, decode to sRGB
 * (EXIF orientation applied, ICC profile converted, 16-bit kept, alpha split
 * off), and encode with the source's EXIF/XMP and colour profile carried over.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { OutputFormat } from '../../shared/api.js';
import { RestoraError } from '../../shared/errors.js';
import { writeFileAtomicAsync } from './atomic.js';

/** Largest input we decode (sharp's own default limit, 16383^2). */
export const MAX_INPUT_PIXELS = 268_402_689;
/** Largest output we allocate (8-bit RGB of this size is 1.2 GB). */
export const MAX_OUTPUT_PIXELS = 400_000_000;

sharp.cache(false);

/** File extensions picked up when a folder is given as input. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.avif', '.gif', '.heic', '.heif', '.jxl', '.bmp']);

export interface ImageInfo {
  file: string;
  format: string;
  width: number;
  height: number;
  channels: number;
  hasAlpha: boolean;
  bitDepth: 8 | 16;
  /** EXIF orientation 1..8 (1 when absent). */
  orientation: number;
  space: string;
  hasIcc: boolean;
  hasExif: boolean;
  hasXmp: boolean;
  pages: number;
  bytes: number;
}

export type Pixels = Uint8Array | Uint16Array;

export interface DecodedImage {
  info: ImageInfo;
  /** Upright width/height (after EXIF orientation). */
  width: number;
  height: number;
  /** Interleaved sRGB, 3 samples per pixel, 0..maxValue. */
  rgb: Pixels;
  /** One sample per pixel, or absent. */
  alpha?: Pixels;
  maxValue: 255 | 65535;
}

const READABLE = new Set(['jpeg', 'png', 'webp', 'tiff', 'avif', 'heif', 'gif', 'jp2', 'jxl', 'svg', 'raw']);

function bad(file: string, code: 'CORRUPT_IMAGE' | 'UNSUPPORTED_FORMAT', why: string): RestoraError {
  return new RestoraError(code, `${file}: ${why}`, file);
}

/** The photo's size as it is shown and decoded: EXIF orientations 5-8 swap the sides. */
export function uprightSize(info: Pick<ImageInfo, 'width' | 'height' | 'orientation'>): { width: number; height: number } {
  return info.orientation >= 5 ? { width: info.height, height: info.width } : { width: info.width, height: info.height };
}

/** Reads only the header. Refuses empty, unreadable, unknown and oversized files. */
export async function probeImage(file: string): Promise<ImageInfo> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    throw new RestoraError('NOT_FOUND', `${file}: file not found or not readable`, file);
  }
  if (stat.isDirectory()) throw bad(file, 'UNSUPPORTED_FORMAT', 'is a folder, not an image');
  if (stat.size === 0) throw bad(file, 'CORRUPT_IMAGE', 'is empty (0 bytes)');
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw bad(file, 'UNSUPPORTED_FORMAT', `not a readable image (${(err as Error).message.replace(/\s+/g, ' ').trim()})`);
  }
  const format = meta.format ?? 'unknown';
  if (!READABLE.has(format)) throw bad(file, 'UNSUPPORTED_FORMAT', `format "${format}" is not supported`);
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width < 1 || height < 1) throw bad(file, 'CORRUPT_IMAGE', 'header has no valid size');
  if (width * height > MAX_INPUT_PIXELS) {
    throw new RestoraError('IMAGE_TOO_LARGE', `${file}: ${width}x${height} (${((width * height) / 1e6).toFixed(0)} MP) exceeds the ${(MAX_INPUT_PIXELS / 1e6).toFixed(0)} MP limit; split or downscale it first`, file);
  }
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short' || (meta.bitsPerSample ?? 8) > 8;
  return {
    file,
    format,
    width,
    height,
    channels: meta.channels ?? 3,
    hasAlpha: meta.hasAlpha ?? false,
    bitDepth: sixteen ? 16 : 8,
    orientation: meta.orientation ?? 1,
    space: meta.space ?? 'srgb',
    hasIcc: Boolean(meta.icc),
    hasExif: Boolean(meta.exif),
    hasXmp: Boolean(meta.xmp),
    pages: meta.pages ?? 1,
    bytes: stat.size,
  };
}

/**
 * Decodes every pixel without keeping them (sharp's stats stream the image): a file
 * damaged after a valid header fails here, naming the file, instead of later in a step.
 */
export async function checkDecodes(file: string): Promise<void> {
  try {
    await sharp(file, { failOn: 'error', pages: 1, page: 0, limitInputPixels: MAX_INPUT_PIXELS }).stats();
  } catch (err) {
    throw bad(file, 'CORRUPT_IMAGE', `cannot be decoded (${(err as Error).message.replace(/\s+/g, ' ').trim()})`);
  }
}

/** Full decode to upright sRGB (first frame only for animations). */
export async function decodeImage(file: string, known?: ImageInfo): Promise<DecodedImage> {
  const info = known ?? (await probeImage(file));
  const sixteen = info.bitDepth === 16;
  try {
    const base = sharp(file, { failOn: 'error', pages: 1, page: 0, limitInputPixels: MAX_INPUT_PIXELS }).autoOrient();
    const colour = base.toColourspace(sixteen ? 'rgb16' : 'srgb');
    const { data, info: out } = await (info.hasAlpha ? colour.ensureAlpha() : colour.removeAlpha()).raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const samples: Pixels = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const n = out.width * out.height;
    const ch = out.channels;
    if (ch === 3) {
      return { info, width: out.width, height: out.height, rgb: samples, maxValue: sixteen ? 65535 : 255 };
    }
    // RGBA (or gray+alpha expanded by sharp to RGBA): split alpha off.
    const rgb: Pixels = sixteen ? new Uint16Array(n * 3) : new Uint8Array(n * 3);
    const alpha: Pixels = sixteen ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      rgb[i * 3] = samples[i * ch]!;
      rgb[i * 3 + 1] = samples[i * ch + 1]!;
      rgb[i * 3 + 2] = samples[i * ch + 2]!;
      alpha[i] = samples[i * ch + ch - 1]!;
    }
    return { info, width: out.width, height: out.height, rgb, alpha, maxValue: sixteen ? 65535 : 255 };
  } catch (err) {
    if (err instanceof RestoraError) throw err;
    throw bad(file, 'CORRUPT_IMAGE', `cannot be decoded (${(err as Error).message.replace(/\s+/g, ' ').trim()})`);
  }
}

export interface EncodeOptions {
  format: OutputFormat;
  /** 1..100 for lossy formats. */
  quality?: number;
}

export interface EncodeInput {
  width: number;
  height: number;
  rgb: Pixels;
  alpha?: Pixels;
  maxValue: 255 | 65535;
}

const SIXTEEN_BIT_FORMATS: ReadonlySet<OutputFormat> = new Set(['png', 'tiff']);

function interleave(img: EncodeInput, to8: boolean): { buf: Buffer; channels: 3 | 4; depth: 'uchar' | 'ushort' } {
  const n = img.width * img.height;
  const channels = img.alpha ? 4 : 3;
  const shift = img.maxValue === 65535 && to8;
  const sixteen = img.maxValue === 65535 && !to8;
  if (!img.alpha && !shift) {
    const a = img.rgb;
    return { buf: Buffer.from(a.buffer, a.byteOffset, a.byteLength), channels: 3, depth: sixteen ? 'ushort' : 'uchar' };
  }
  const out = sixteen ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  const conv = (v: number) => (shift ? Math.round(v / 257) : v);
  for (let i = 0; i < n; i++) {
    out[i * channels] = conv(img.rgb[i * 3]!);
    out[i * channels + 1] = conv(img.rgb[i * 3 + 1]!);
    out[i * channels + 2] = conv(img.rgb[i * 3 + 2]!);
    if (img.alpha) out[i * channels + 3] = conv(img.alpha[i]!);
  }
  return { buf: Buffer.from(out.buffer, out.byteOffset, out.byteLength), channels, depth: sixteen ? 'ushort' : 'uchar' };
}

/** Target size of a resize: one side keeps the aspect ratio; both fit inside the box. */
export function resizedSize(width: number, height: number, target: { width?: number; height?: number }): { width: number; height: number } {
  const sx = target.width !== undefined ? target.width / width : undefined;
  const sy = target.height !== undefined ? target.height / height : undefined;
  const s = sx !== undefined && sy !== undefined ? Math.min(sx, sy) : (sx ?? sy);
  if (s === undefined || !(s > 0) || !Number.isFinite(s)) {
    throw new RestoraError('USAGE', `resize needs a positive width and/or height (got ${JSON.stringify(target)})`);
  }
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/**
 * Resizes decoded pixels with lanczos3 to exactly `width` x `height`. Alpha is
 * resized together with the colour (sharp premultiplies, so transparent pixels
 * do not bleed into edges); 16-bit stays 16-bit.
 */
export async function resizeImage(img: EncodeInput, width: number, height: number): Promise<EncodeInput> {
  if (width === img.width && height === img.height) return img;
  if (width * height > MAX_OUTPUT_PIXELS) {
    throw new RestoraError('IMAGE_TOO_LARGE', `resize to ${width}x${height} exceeds ${MAX_OUTPUT_PIXELS / 1e6} MP`);
  }
  const sixteen = img.maxValue === 65535;
  const { buf, channels } = interleave(img, false);
  // A typed array tells sharp the sample depth of raw input.
  const input = sixteen ? new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let pipeline = sharp(input, { raw: { width: img.width, height: img.height, channels }, limitInputPixels: false });
  if (sixteen) pipeline = pipeline.toColourspace('rgb16');
  const { data, info } = await pipeline
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw({ depth: sixteen ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== channels) {
    throw new RestoraError('INTERNAL', `resize gave ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x${channels}`);
  }
  const samples: Pixels = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (channels === 3) return { width, height, rgb: samples, maxValue: img.maxValue };
  const n = width * height;
  const rgb: Pixels = sixteen ? new Uint16Array(n * 3) : new Uint8Array(n * 3);
  const alpha: Pixels = sixteen ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = samples[i * 4]!;
    rgb[i * 3 + 1] = samples[i * 4 + 1]!;
    rgb[i * 3 + 2] = samples[i * 4 + 2]!;
    alpha[i] = samples[i * 4 + 3]!;
  }
  return { width, height, rgb, alpha, maxValue: img.maxValue };
}

function applyFormat(s: sharp.Sharp, o: EncodeOptions): sharp.Sharp {
  const q = Math.max(1, Math.min(100, Math.round(o.quality ?? 92)));
  switch (o.format) {
    case 'png':
      return s.png({ compressionLevel: 6 });
    case 'jpg':
      return s.jpeg({ quality: q, mozjpeg: false, chromaSubsampling: q >= 90 ? '4:4:4' : '4:2:0' });
    case 'webp':
      return s.webp({ quality: q });
    case 'tiff':
      return s.tiff({ compression: 'deflate' });
    case 'avif':
      return s.avif({ quality: q });
  }
}

/**
 * Encodes `img` to `dest` atomically. With `source`, its EXIF and XMP are kept
 * (orientation reset to upright, since pixels are already rotated) and its ICC
 * profile is re-applied: pixels are converted from sRGB back to that profile.
 */
export async function encodeImage(img: EncodeInput, dest: string, options: EncodeOptions, source?: ImageInfo): Promise<void> {
  if (img.width * img.height > MAX_OUTPUT_PIXELS) {
    throw new RestoraError('IMAGE_TOO_LARGE', `${dest}: output ${img.width}x${img.height} exceeds ${MAX_OUTPUT_PIXELS / 1e6} MP`, dest);
  }
  const keep16 = img.maxValue === 65535 && SIXTEEN_BIT_FORMATS.has(options.format);
  const withAlpha: EncodeInput = options.format === 'jpg' ? ({ ...img, alpha: undefined } as EncodeInput) : img;
  const { buf, channels, depth } = interleave(withAlpha, !keep16);
  let iccTmp: string | null = null;
  try {
    let pipeline: sharp.Sharp;
    const carryMeta = source && (source.hasExif || source.hasXmp) && depth === 'uchar';
    if (carryMeta) {
      // sharp cannot attach a raw EXIF block to raw pixels, so the source itself is
      // the base image (its metadata rides along) and our pixels replace its pixels.
      pipeline = sharp(source.file, { pages: 1, page: 0, limitInputPixels: false })
        .autoOrient()
        .resize(img.width, img.height, { kernel: 'nearest', fit: 'fill' })
        .composite([{ input: buf, raw: { width: img.width, height: img.height, channels }, blend: 'source' }])
        .keepExif()
        .keepXmp();
      if (channels === 3) pipeline = pipeline.removeAlpha();
    } else {
      // sharp reads a Buffer of raw pixels as 8-bit samples whatever they hold: 16-bit ones must come as a Uint16Array.
      const input = depth === 'ushort' ? new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2) : buf;
      pipeline = sharp(input, { raw: { width: img.width, height: img.height, channels }, limitInputPixels: false });
      if (depth === 'ushort') pipeline = pipeline.toColourspace('rgb16');
    }
    if (options.format === 'jpg' && img.alpha) pipeline = pipeline.flatten({ background: '#ffffff' });
    if (source?.hasIcc && source.space !== 'cmyk') {
      const meta = await sharp(source.file, { limitInputPixels: false }).metadata();
      if (meta.icc) {
        iccTmp = path.join(os.tmpdir(), `restora-icc-${process.pid}-${Math.random().toString(36).slice(2)}.icc`);
        await fs.promises.writeFile(iccTmp, meta.icc);
        pipeline = pipeline.withIccProfile(iccTmp);
      }
    }
    const out = await applyFormat(pipeline, options).toBuffer();
    await writeFileAtomicAsync(dest, out);
  } catch (err) {
    if (err instanceof RestoraError) throw err;
    throw new RestoraError('WRITE_FAILED', `${dest}: cannot write (${(err as Error).message})`, dest);
  } finally {
    if (iccTmp) await fs.promises.rm(iccTmp, { force: true });
  }
}
