/**
 * The main window's position and size across runs, minus Electron: a small JSON
 * file in the data folder, validated on load (a hand-edited, truncated or stale
 * file, or a display that is gone, must never open the window off-screen).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../imaging/atomic.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** Absent: let the window be centred on the primary display. */
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const WINDOW_STATE_FILE = 'window-state.json';
export const MIN_WINDOW = { width: 800, height: 600 } as const;
export const DEFAULT_WINDOW = { width: 1280, height: 820 } as const;
/** How much of the window must lie on a display for the saved place to be kept (a grabbable title bar). */
const MIN_VISIBLE = 64;
/** Larger than any display; bigger saved sizes are garbage. */
const MAX_SIDE = 32_768;

/** Default size, centred on the first work area (the caller passes the primary display's first). */
export function defaultWindowState(workAreas: readonly Rect[]): WindowState {
  const area = workAreas[0];
  if (!area) return { ...DEFAULT_WINDOW, maximized: false };
  const width = Math.max(MIN_WINDOW.width, Math.min(DEFAULT_WINDOW.width, area.width));
  const height = Math.max(MIN_WINDOW.height, Math.min(DEFAULT_WINDOW.height, area.height));
  return {
    x: Math.round(area.x + (area.width - width) / 2),
    y: Math.round(area.y + (area.height - height) / 2),
    width,
    height,
    maximized: false,
  };
}

function overlap(a: Rect, b: Rect): { w: number; h: number } {
  return {
    w: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    h: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

const isCoord = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_SIDE * 4;
const isSide = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_SIDE;

/**
 * A usable state from anything read from disk: sizes must be finite numbers (raised
 * to the minimum size), and a saved place must overlap a current work area by
 * MIN_VISIBLE px each way; otherwise the centred default.
 */
export function validateWindowState(raw: unknown, workAreas: readonly Rect[]): WindowState {
  const fallback = defaultWindowState(workAreas);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fallback;
  const r = raw as Record<string, unknown>;
  if (!isSide(r.width) || !isSide(r.height)) return fallback;
  const width = Math.max(MIN_WINDOW.width, Math.round(r.width));
  const height = Math.max(MIN_WINDOW.height, Math.round(r.height));
  const maximized = r.maximized === true;
  if (!isCoord(r.x) || !isCoord(r.y)) return fallback;
  const rect = { x: Math.round(r.x), y: Math.round(r.y), width, height };
  const visible = workAreas.some((a) => {
    const o = overlap(rect, a);
    return o.w >= MIN_VISIBLE && o.h >= MIN_VISIBLE;
  });
  return visible ? { ...rect, maximized } : { ...fallback, maximized };
}

export function loadWindowState(dataDir: string, workAreas: readonly Rect[]): WindowState {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path.join(dataDir, WINDOW_STATE_FILE), 'utf8'));
  } catch {
    // No file yet, or an unreadable one: start from the default, it is rewritten on the next move.
    raw = null;
  }
  return validateWindowState(raw, workAreas);
}

export function saveWindowState(dataDir: string, state: WindowState): void {
  fs.mkdirSync(dataDir, { recursive: true });
  writeFileAtomic(path.join(dataDir, WINDOW_STATE_FILE), JSON.stringify(state));
}

/** What tracking needs of a window (BrowserWindow fits; tests pass fakes). */
export interface TrackedWindow {
  on(event: 'move' | 'resize' | 'maximize' | 'unmaximize' | 'close', listener: () => void): unknown;
  isMaximized(): boolean;
  isMinimized(): boolean;
  isFullScreen(): boolean;
  /** The bounds the window returns to when un-maximized, so a maximized window still saves its normal place. */
  getNormalBounds(): Rect;
}

/**
 * Saves the window's state `delayMs` after the last move/resize (dragging emits
 * dozens of events a second) and at once on close. A minimized or full-screen
 * window keeps the last saved state. Save errors go to `onError`, never into the
 * window's event loop.
 */
export function trackWindowState(win: TrackedWindow, save: (state: WindowState) => void, opts: { delayMs?: number; onError?: (err: unknown) => void } = {}): { flush(): void } {
  const delayMs = opts.delayMs ?? 500;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const snapshot = (): WindowState | null => {
    if (win.isMinimized() || win.isFullScreen()) return null;
    const b = win.getNormalBounds();
    return { x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() };
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const s = snapshot();
    if (!s) return;
    try {
      save(s);
    } catch (err) {
      opts.onError?.(err);
    }
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, delayMs);
  };
  for (const e of ['move', 'resize', 'maximize', 'unmaximize'] as const) win.on(e, schedule);
  win.on('close', flush);
  return { flush };
}
