/**
 * The damage mask in Compare: loaded from its media path, drawn as a red overlay on a
 * canvas the size of the photo, painted with a round brush (add or erase) in photo
 * pixels, and encoded back to a black-and-white PNG for damage.saveMask.
 */
import { ref, shallowRef } from 'vue';

const OVERLAY = [255, 40, 40, 150] as const;

export function useMaskEditor() {
  const size = ref<{ w: number; h: number } | null>(null);
  const marked = ref(0);
  /** The widest marked part, in photo pixels (see measureWidest). */
  const widest = ref(0);
  const dirty = ref(false);
  const canvas = shallowRef<HTMLCanvasElement | null>(null);
  let mask: Uint8Array | null = null;
  let pixels: ImageData | null = null;

  function bind(el: HTMLCanvasElement | null): void {
    canvas.value = el;
    redraw();
  }

  /** Draws the whole mask on the bound canvas (after a load or a resize). */
  function redraw(): void {
    const el = canvas.value;
    if (!el || !size.value || !mask) return;
    el.width = size.value.w;
    el.height = size.value.h;
    const ctx = el.getContext('2d')!;
    pixels = ctx.createImageData(size.value.w, size.value.h);
    for (let i = 0; i < mask.length; i++) if (mask[i]) pixels.data.set(OVERLAY, i * 4);
    ctx.putImageData(pixels, 0, 0);
  }

  /** Reads a mask PNG (white = damaged). */
  async function load(url: string): Promise<void> {
    const img = new Image();
    img.src = url;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
    mask = new Uint8Array(c.width * c.height);
    let n = 0;
    for (let i = 0; i < mask.length; i++) n += mask[i] = rgba[i * 4]! >= 128 ? 1 : 0;
    size.value = { w: c.width, h: c.height };
    marked.value = n;
    dirty.value = false;
    measureWidest();
    redraw();
  }

  /** An empty mask of the photo's size, to paint on from scratch. */
  function blank(w: number, h: number): void {
    mask = new Uint8Array(w * h);
    size.value = { w, h };
    marked.value = 0;
    widest.value = 0;
    dirty.value = false;
    redraw();
  }

  /** Paints a disk of `radius` photo pixels at (x, y): 'add' marks damage, 'erase' clears it. */
  function paint(x: number, y: number, radius: number, mode: 'add' | 'erase'): void {
    const s = size.value;
    if (!mask || !s) return;
    const v = mode === 'add' ? 1 : 0;
    const r = Math.max(0.5, radius);
    const x0 = Math.max(0, Math.floor(x - r));
    const x1 = Math.min(s.w - 1, Math.ceil(x + r));
    const y0 = Math.max(0, Math.floor(y - r));
    const y1 = Math.min(s.h - 1, Math.ceil(y + r));
    if (x0 > x1 || y0 > y1) return;
    for (let yy = y0; yy <= y1; yy++) {
      for (let xx = x0; xx <= x1; xx++) {
        if ((xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 > r * r) continue;
        const i = yy * s.w + xx;
        if (mask[i] === v) continue;
        mask[i] = v;
        marked.value += v ? 1 : -1;
        dirty.value = true;
        pixels?.data.set(v ? OVERLAY : [0, 0, 0, 0], i * 4);
      }
    }
    // Only the brushed rectangle is sent to the canvas.
    if (pixels) canvas.value?.getContext('2d')!.putImageData(pixels, 0, 0, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
  }

  /** Paints a stroke from (x0, y0) to (x1, y1): disks every half radius, so a fast pointer leaves no gaps. */
  function stroke(x0: number, y0: number, x1: number, y1: number, radius: number, mode: 'add' | 'erase'): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / Math.max(0.5, radius / 2)));
    for (let i = 1; i <= steps; i++) paint(x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * i) / steps, radius, mode);
  }

  /**
   * The width in pixels of the mask's widest part: twice the largest distance from a marked
   * pixel to an unmarked one, less one, with the 3-4 chamfer distance (close to Euclidean for
   * round brush dabs, where a chessboard distance reads a 40 px disk as 27). Two passes over
   * the mask, run when a stroke ends or a mask loads, not per brushed pixel.
   */
  function measureWidest(): void {
    const s = size.value;
    if (!mask || !s) {
      widest.value = 0;
      return;
    }
    const { w, h } = s;
    const d = new Uint32Array(w * h);
    const at = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : d[y * w + x]!);
    let far = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        d[i] = mask[i] ? Math.min(at(x - 1, y) + 3, at(x, y - 1) + 3, at(x - 1, y - 1) + 4, at(x + 1, y - 1) + 4) : 0;
      }
    }
    for (let y = h - 1; y >= 0; y--) {
      for (let x = w - 1; x >= 0; x--) {
        const i = y * w + x;
        if (!mask[i]) continue;
        d[i] = Math.min(d[i]!, at(x + 1, y) + 3, at(x, y + 1) + 3, at(x + 1, y + 1) + 4, at(x - 1, y + 1) + 4);
        if (d[i]! > far) far = d[i]!;
      }
    }
    widest.value = far ? Math.max(1, Math.round((2 * far) / 3) - 1) : 0;
  }

  /** The mask as a PNG in base64 (white = damaged), for damage.saveMask. */
  function toPngBase64(): string {
    const s = size.value!;
    const c = document.createElement('canvas');
    c.width = s.w;
    c.height = s.h;
    const ctx = c.getContext('2d')!;
    const out = ctx.createImageData(s.w, s.h);
    for (let i = 0; i < mask!.length; i++) {
      const g = mask![i] ? 255 : 0;
      out.data[i * 4] = g;
      out.data[i * 4 + 1] = g;
      out.data[i * 4 + 2] = g;
      out.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(out, 0, 0);
    return c.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
  }

  function clear(): void {
    mask = null;
    pixels = null;
    size.value = null;
    marked.value = 0;
    widest.value = 0;
    dirty.value = false;
  }

  return { size, marked, widest, dirty, bind, load, blank, paint, stroke, measureWidest, toPngBase64, clear };
}
