/**
 * Physical damage of old prints, drawn on an image together with a mask of every pixel
 * it touched (the target of scratch detection and the region inpainting fills):
 * scratches (thin bright or dark curves of varying width and opacity), creases (a fold:
 * a bright ridge beside its shadow), dust and specks (small irregular blobs) and torn
 * corners (paper missing, the backing showing). All randomness comes from the caller's
 * seeded Rng, so a training pair and its mask are reproducible.
 */
import type { FloatImage } from '../imaging/imresize.js';
import type { Rng } from '../ml/rng.js';

export interface DefectCounts {
  scratches?: number;
  creases?: number;
  dust?: number;
  tornCorners?: number;
}

export interface Damaged {
  img: FloatImage;
  /** 1 where a defect changed the pixel (by more than a trace), else 0; width*height. */
  mask: Uint8Array;
}

/** Below this alpha a soft edge is not called damage (it changes a pixel by under ~3 levels). */
const MASK_ALPHA = 0.1;

/** Paints `value` over pixel (x, y) with coverage `alpha`; the strongest coverage wins per pixel. */
class Painter {
  private readonly cover: Float32Array;
  private readonly colour: Float32Array;

  constructor(private readonly img: FloatImage) {
    this.cover = new Float32Array(img.width * img.height);
    this.colour = new Float32Array(img.width * img.height * 3);
  }

  put(x: number, y: number, rgb: readonly [number, number, number], alpha: number): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.img.width || yi >= this.img.height || alpha <= 0) return;
    const p = yi * this.img.width + xi;
    if (alpha <= this.cover[p]!) return;
    this.cover[p] = Math.min(1, alpha);
    this.colour.set(rgb, p * 3);
  }

  /** A soft disk: full coverage inside `r`, fading to 0 over one pixel outside it. */
  disk(cx: number, cy: number, r: number, rgb: readonly [number, number, number], opacity: number): void {
    const reach = Math.ceil(r + 1);
    for (let dy = -reach; dy <= reach; dy++) {
      for (let dx = -reach; dx <= reach; dx++) {
        const d = Math.hypot(dx + (cx - Math.round(cx)), dy + (cy - Math.round(cy)));
        const a = Math.max(0, Math.min(1, r + 0.5 - d)) * opacity;
        this.put(Math.round(cx) + dx, Math.round(cy) + dy, rgb, a);
      }
    }
  }

  result(): Damaged {
    const { width, height } = this.img;
    const out = Float32Array.from(this.img.data);
    const mask = new Uint8Array(width * height);
    for (let p = 0; p < width * height; p++) {
      const a = this.cover[p]!;
      if (a <= 0) continue;
      for (let c = 0; c < 3; c++) out[p * 3 + c] = out[p * 3 + c]! * (1 - a) + this.colour[p * 3 + c]! * a;
      if (a >= MASK_ALPHA) mask[p] = 1;
    }
    return { img: { ...this.img, data: out }, mask };
  }
}

const grey = (v: number): [number, number, number] => [v, v, v];

/** A scratch: a smooth wandering curve, 0.5-2.5 px wide, bright (emulsion gone) or dark (dirt), partly transparent. */
function scratch(p: Painter, w: number, h: number, rng: Rng): void {
  let x = rng.next() * w;
  let y = rng.next() * h;
  let angle = rng.next() * Math.PI * 2;
  const length = (0.15 + 0.7 * rng.next()) * Math.max(w, h);
  const width = rng.uniform(0.5, 2.5);
  const opacity = rng.uniform(0.45, 1);
  const rgb = grey(rng.next() < 0.7 ? rng.uniform(215, 255) : rng.uniform(0, 45));
  // Mostly straight with a gentle curve (a grain of grit dragged across the print).
  const bend = rng.uniform(-0.002, 0.002);
  for (let t = 0; t < length; t += 0.5) {
    // Width and opacity drift along the scratch, as a real one thins and fades.
    const taper = 0.6 + 0.4 * Math.sin((t / length) * Math.PI);
    p.disk(x, y, (width * taper) / 2, rgb, opacity * taper);
    angle += bend + (rng.next() - 0.5) * 0.012;
    x += Math.cos(angle) * 0.5;
    y += Math.sin(angle) * 0.5;
  }
}

/** A crease: a nearly straight fold across the print, a bright ridge with its shadow one or two pixels beside it. */
function crease(p: Painter, w: number, h: number, rng: Rng): void {
  const horizontal = rng.next() < 0.5;
  const at = rng.uniform(0.15, 0.85) * (horizontal ? h : w);
  const tilt = rng.uniform(-0.08, 0.08);
  const span = horizontal ? w : h;
  const opacity = rng.uniform(0.35, 0.75);
  const gap = rng.uniform(1, 2.2);
  for (let s = 0; s < span; s += 0.5) {
    const across = at + tilt * s + Math.sin(s / rng.uniform(25, 60)) * 0.8;
    const [x, y] = horizontal ? [s, across] : [across, s];
    const [sx, sy] = horizontal ? [s, across + gap] : [across + gap, s];
    p.disk(x, y, 0.6, grey(235), opacity);
    p.disk(sx, sy, 0.7, grey(40), opacity * 0.8);
  }
}

/** Dust and specks: small irregular blobs, 0.5-2.5 px, bright or dark. */
function speck(p: Painter, w: number, h: number, rng: Rng): void {
  const cx = rng.next() * w;
  const cy = rng.next() * h;
  const r = rng.uniform(0.5, 2.5);
  const rgb = grey(rng.next() < 0.5 ? rng.uniform(220, 255) : rng.uniform(0, 35));
  const opacity = rng.uniform(0.6, 1);
  const lobes = 1 + rng.int(3);
  for (let k = 0; k < lobes; k++) p.disk(cx + rng.uniform(-r, r), cy + rng.uniform(-r, r), r * rng.uniform(0.5, 1), rgb, opacity);
}

/** A torn corner: the paper missing beyond a jagged line across one corner, the backing (white card or a dark album page) showing. */
function tornCorner(p: Painter, w: number, h: number, rng: Rng): void {
  const corner = rng.int(4);
  const size = rng.uniform(0.08, 0.22) * Math.min(w, h);
  const rgb: [number, number, number] = rng.next() < 0.6 ? [242, 238, 226] : [22, 20, 18];
  const jag = Array.from({ length: 16 }, () => rng.uniform(-0.12, 0.12) * size);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Distance into the corner along the diagonal, in the corner's own frame.
      const u = corner % 2 === 0 ? x : w - 1 - x;
      const v = corner < 2 ? y : h - 1 - y;
      if (u + v > size * 1.6) continue;
      const along = Math.min(15, Math.max(0, Math.floor(((u - v + size) / (2 * size)) * 15)));
      const edge = size + jag[along]!;
      if (u + v <= edge) p.put(x, y, rgb, 1);
    }
  }
}

/** Draws the requested defects on a copy of `img` and returns it with their mask. */
export function addDefects(img: FloatImage, rng: Rng, counts: DefectCounts): Damaged {
  const p = new Painter(img);
  const { width: w, height: h } = img;
  for (let i = 0; i < (counts.tornCorners ?? 0); i++) tornCorner(p, w, h, rng);
  for (let i = 0; i < (counts.creases ?? 0); i++) crease(p, w, h, rng);
  for (let i = 0; i < (counts.scratches ?? 0); i++) scratch(p, w, h, rng);
  for (let i = 0; i < (counts.dust ?? 0); i++) speck(p, w, h, rng);
  return p.result();
}

/** A random mix for training pairs: most photos get a few scratches and specks, some a crease or a torn corner. */
export function randomDefects(img: FloatImage, rng: Rng): Damaged {
  return addDefects(img, rng, {
    scratches: rng.int(5),
    dust: rng.int(25),
    creases: rng.next() < 0.25 ? 1 : 0,
    tornCorners: rng.next() < 0.15 ? 1 : 0,
  });
}
