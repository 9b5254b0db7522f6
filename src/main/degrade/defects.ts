/**
 * Physical damage of old prints, drawn on an image together with a mask of every pixel
 * it touched (the target of scratch detection and the region inpainting fills):
 * scratches (thin bright or dark curves of varying width and opacity), creases (a fold:
 * a bright ridge beside its shadow), dust and specks (small irregular blobs) and torn
 * corners (paper missing, the backing showing). All randomness comes from the caller's
 * seeded Rng, so a training pair and its mask are reproducible.
 */
import type { FloatImage } from '../imaging/imresize.js';
import type { Rng } from '../ml/core/rng.js';

export interface DefectCounts {
  scratches?: number;
  creases?: number;
  dust?: number;
  tornCorners?: number;
  /** Networks of fine branching cracks with a bright core and a soft halo (a dried, cracked emulsion). */
  cracks?: number;
  /** Foxing: soft brownish spots (age, damp). */
  foxing?: number;
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

  /** A soft round spot: coverage falls from `opacity` at the centre to 0 at radius `r` (foxing, halos). */
  softDisk(cx: number, cy: number, r: number, rgb: readonly [number, number, number], opacity: number): void {
    const reach = Math.ceil(r);
    for (let dy = -reach; dy <= reach; dy++) {
      for (let dx = -reach; dx <= reach; dx++) {
        const d = Math.hypot(dx + (Math.round(cx) - cx), dy + (Math.round(cy) - cy)) / r;
        if (d >= 1) continue;
        this.put(Math.round(cx) + dx, Math.round(cy) + dy, rgb, opacity * (1 - d * d) * (1 - d * d));
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

/**
 * A crack network, as in a dried or flexed emulsion: a fine line that wanders sharply,
 * forks and ends, 0.5-1.5 px wide with a bright core (the paper showing) inside a soft
 * halo 1.5-3.5 px beyond it (lifted emulsion catching light). Real cracked prints show
 * many of these; the halo is part of the damage (masked where its coverage reaches 0.1),
 * so an inpainter trained on it leaves no darker or coloured line where a crack was.
 */
function crackNetwork(p: Painter, w: number, h: number, rng: Rng): void {
  const core = grey(rng.uniform(215, 252));
  const halo = grey(rng.uniform(200, 245));
  const width = rng.uniform(0.5, 1.5);
  const haloR = width / 2 + rng.uniform(1.5, 3.5);
  const haloOpacity = rng.uniform(0.15, 0.4);
  const opacity = rng.uniform(0.6, 1);
  const size = Math.max(w, h);
  // Branches to grow: start point, direction, length left, generation.
  const todo: [number, number, number, number, number][] = [[rng.next() * w, rng.next() * h, rng.next() * Math.PI * 2, (0.15 + 0.4 * rng.next()) * size, 0]];
  let segments = 0;
  while (todo.length > 0 && segments < 40) {
    const branch = todo.pop()!;
    let [x, y, angle, left] = branch;
    const gen = branch[4];
    segments++;
    while (left > 0) {
      p.softDisk(x, y, haloR, halo, haloOpacity);
      p.disk(x, y, width / 2, core, opacity);
      // Cracks turn in short jerks, not in smooth bends.
      if (rng.next() < 0.08) angle += rng.uniform(-0.7, 0.7);
      else angle += rng.uniform(-0.06, 0.06);
      x += Math.cos(angle) * 0.5;
      y += Math.sin(angle) * 0.5;
      left -= 0.5;
      if (x < -4 || y < -4 || x > w + 4 || y > h + 4) break;
      if (gen < 3 && rng.next() < 0.012) todo.push([x, y, angle + (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.5, 1.3), left * rng.uniform(0.3, 0.8), gen + 1]);
    }
  }
}

/** Foxing: a cluster of soft brown-orange spots, 1.5-6 px, stronger at their centres. */
function foxing(p: Painter, w: number, h: number, rng: Rng): void {
  const cx = rng.next() * w;
  const cy = rng.next() * h;
  const rgb: [number, number, number] = [rng.uniform(140, 190), rng.uniform(95, 130), rng.uniform(40, 80)];
  const n = 1 + rng.int(5);
  for (let k = 0; k < n; k++) {
    p.softDisk(cx + rng.uniform(-8, 8), cy + rng.uniform(-8, 8), rng.uniform(2.5, 7), rgb, rng.uniform(0.45, 0.85));
  }
}

/** Draws the requested defects on a copy of `img` and returns it with their mask. */
export function addDefects(img: FloatImage, rng: Rng, counts: DefectCounts): Damaged {
  const p = new Painter(img);
  const { width: w, height: h } = img;
  for (let i = 0; i < (counts.tornCorners ?? 0); i++) tornCorner(p, w, h, rng);
  for (let i = 0; i < (counts.creases ?? 0); i++) crease(p, w, h, rng);
  for (let i = 0; i < (counts.scratches ?? 0); i++) scratch(p, w, h, rng);
  for (let i = 0; i < (counts.cracks ?? 0); i++) crackNetwork(p, w, h, rng);
  for (let i = 0; i < (counts.foxing ?? 0); i++) foxing(p, w, h, rng);
  for (let i = 0; i < (counts.dust ?? 0); i++) speck(p, w, h, rng);
  return p.result();
}

/**
 * A random mix for training pairs: most photos get a few scratches and specks, some a
 * crease or a torn corner, and a third a network of cracks (real cracked prints are the
 * commonest damage users bring), some foxing.
 */
export function randomDefects(img: FloatImage, rng: Rng): Damaged {
  return addDefects(img, rng, {
    scratches: rng.int(5),
    dust: rng.int(25),
    creases: rng.next() < 0.25 ? 1 : 0,
    tornCorners: rng.next() < 0.15 ? 1 : 0,
    cracks: rng.next() < 0.35 ? 1 + rng.int(4) : 0,
    foxing: rng.next() < 0.2 ? 1 + rng.int(4) : 0,
  });
}

/**
 * Real thin structures of a scene, drawn into a clean photo BEFORE it is aged (so they are
 * blurred, grained and faded with it, as everything the camera saw is) and never masked:
 * the detector's hard negatives. On real photos the first detector marked wires, rigging,
 * masts, railings, a lanyard, text strokes, catchlights and lit edges of faces as scratches;
 * a scratch lies on top of the print and ignores the picture, these belong to it.
 * `px` is the size of one output pixel in this image's pixels (the aging's downscale).
 */
export function addSceneStructures(img: FloatImage, rng: Rng, px = 1): FloatImage {
  const p = new Painter(img);
  const { width: w, height: h } = img;
  const colour = (): [number, number, number] => {
    const r = rng.next();
    if (r < 0.45) return grey(rng.uniform(0, 70));
    if (r < 0.7) return grey(rng.uniform(195, 255));
    return [rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)];
  };
  const line = (x0: number, y0: number, x1: number, y1: number, width: number, rgb: readonly [number, number, number], opacity: number, sag = 0) => {
    const len = Math.hypot(x1 - x0, y1 - y0);
    for (let t = 0; t <= len; t += 0.5) {
      const u = t / Math.max(1e-6, len);
      // A hanging wire sags in the middle.
      p.disk(x0 + (x1 - x0) * u, y0 + (y1 - y0) * u + sag * 4 * u * (1 - u), width / 2, rgb, opacity);
    }
  };
  const edgePoint = (): [number, number] => {
    const side = rng.int(4);
    const t = rng.next();
    return side === 0 ? [t * w, -2] : side === 1 ? [t * w, h + 2] : side === 2 ? [-2, t * h] : [w + 2, t * h];
  };
  const kind = rng.int(5);
  if (kind === 0) {
    // Wires and railings: long straight or sagging lines, often a few in parallel.
    const n = 1 + rng.int(3);
    const [x0, y0] = edgePoint();
    const [x1, y1] = edgePoint();
    const rgb = colour();
    const gap = rng.uniform(3, 12) * px;
    const width = rng.uniform(0.6, 2.2) * px;
    for (let k = 0; k < n; k++) line(x0, y0 + k * gap, x1, y1 + k * gap, width, rgb, rng.uniform(0.7, 1), rng.uniform(-0.08, 0.08) * Math.min(w, h));
  } else if (kind === 1) {
    // Rigging and masts: lines fanning out from one point, and an upright.
    const ax = rng.next() * w;
    const ay = rng.next() * h * 0.5;
    const rgb = colour();
    const width = rng.uniform(0.6, 1.8) * px;
    line(ax, ay, ax + rng.uniform(-0.05, 0.05) * w, h + 2, width * 1.5, rgb, 1);
    for (let k = 0, n = 2 + rng.int(5); k < n; k++) line(ax, ay, rng.next() * w, h + 2, width, rgb, rng.uniform(0.6, 1));
  } else if (kind === 2) {
    // Text: strokes of glyph-sized boxes and bars on a sign of the opposite tone.
    const size = rng.uniform(6, 14) * px;
    const cols = 2 + rng.int(6);
    const x0 = rng.next() * Math.max(1, w - cols * size);
    const y0 = rng.next() * Math.max(1, h - size * 1.5);
    const dark = rng.next() < 0.5;
    const ink = grey(dark ? rng.uniform(0, 50) : rng.uniform(215, 255));
    const board = grey(dark ? rng.uniform(170, 230) : rng.uniform(20, 90));
    for (let yy = Math.floor(y0 - size * 0.3); yy < y0 + size * 1.3; yy++) for (let xx = Math.floor(x0 - size * 0.3); xx < x0 + cols * size; xx++) p.put(xx, yy, board, 1);
    const sw = rng.uniform(0.8, 2) * px;
    for (let c = 0; c < cols; c++) {
      const gx = x0 + c * size;
      for (let k = 0, strokes = 2 + rng.int(3); k < strokes; k++) {
        const a = [gx + rng.uniform(0.1, 0.7) * size, y0 + rng.uniform(0, 1) * size] as const;
        const b = rng.next() < 0.5 ? [a[0], y0 + rng.uniform(0, 1) * size] : [gx + rng.uniform(0.1, 0.7) * size, a[1]];
        line(a[0], a[1], b[0]!, b[1]!, sw, ink, 1);
      }
    }
  } else if (kind === 3) {
    // Catchlights and small lamps: a few small bright dots, some on a dark iris.
    for (let k = 0, n = 1 + rng.int(4); k < n; k++) {
      const cx = rng.next() * w;
      const cy = rng.next() * h;
      if (rng.next() < 0.6) p.disk(cx, cy, rng.uniform(2, 4) * px, grey(rng.uniform(10, 60)), 1);
      p.disk(cx + rng.uniform(-1, 1) * px, cy + rng.uniform(-1, 1) * px, rng.uniform(0.4, 1.2) * px, grey(rng.uniform(225, 255)), rng.uniform(0.8, 1));
    }
  } else {
    // A lit edge: a dark object whose rim catches the light (a profile against a dark ground, a sunlit mast).
    const cx = rng.next() * w;
    const cy = rng.next() * h;
    const rx = rng.uniform(0.15, 0.5) * w;
    const ry = rng.uniform(0.15, 0.5) * h;
    const body = grey(rng.uniform(10, 90));
    const rim = grey(rng.uniform(200, 255));
    const rimW = rng.uniform(0.6, 1.8) * px;
    const from = rng.next() * Math.PI * 2;
    for (let yy = Math.floor(cy - ry); yy <= cy + ry; yy++) for (let xx = Math.floor(cx - rx); xx <= cx + rx; xx++) if (((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1) p.put(xx, yy, body, 1);
    for (let a = from; a < from + Math.PI * rng.uniform(0.4, 1); a += 0.5 / Math.max(rx, ry)) p.disk(cx + Math.cos(a) * rx, cy + Math.sin(a) * ry, rimW / 2, rim, 1);
  }
  return p.result().img;
}
