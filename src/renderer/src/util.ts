/** Small formatting and id helpers shared by the views. */
import { TASKS, type ModelCard, type RunBaselines } from '../../shared/api';

/** The code and message of anything thrown by the client (ApiError, the preload's Error+code, or other). */
export function errorInfo(err: unknown): { code: string; message: string } {
  if (err && typeof err === 'object') {
    const o = err as { code?: unknown; message?: unknown };
    return { code: typeof o.code === 'string' ? o.code : 'ERROR', message: typeof o.message === 'string' ? o.message : String(err) };
  }
  return { code: 'ERROR', message: String(err) };
}

/** A unique id for an upscale task; randomUUID needs a secure context, so fall back. */
export function newTaskId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '—';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** The last path segment, for either separator (paths come from any OS). */
export function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

/** Splits a pasted/typed list of paths: one per line; file:// URIs become paths. */
export function parsePaths(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      if (!l.startsWith('file://')) return l;
      try {
        const p = decodeURIComponent(new URL(l).pathname);
        // file:///C:/x -> C:/x on Windows
        return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
      } catch {
        return l;
      }
    });
}

/** Parses "key=value" lines into arch options (numbers and booleans typed). */
export function parseOptions(text: string): { ok: true; value: Record<string, number | string | boolean> } | { ok: false; message: string } {
  const out: Record<string, number | string | boolean> = {};
  for (const raw of text.split(/[\n,]/)) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Za-z_][\w-]*)\s*[=:]\s*(.+)$/.exec(line);
    if (!m) return { ok: false, message: `"${line}" is not key=value` };
    const v = m[2]!.trim();
    out[m[1]!] = v === 'true' ? true : v === 'false' ? false : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return { ok: true, value: out };
}

/** The score a card reports on the standard set it was measured on, beside bicubic's (Set14 first). */
function headlineScore(card: ModelCard): string | null {
  const m = card.metrics ?? {};
  for (const set of ['set14', 'set5', 'heldout']) {
    const key = Object.keys(m).find((k) => k.startsWith(set) && !k.endsWith('-bicubic'));
    if (!key) continue;
    const base = m[`${key}-bicubic`];
    const name = key
      .replace(/^set14/, 'Set14')
      .replace(/^set5/, 'Set5')
      .replace(/^heldout(-val)?/, 'held-out photos');
    return `${name}: ${m[key]!.psnr.toFixed(2)} dB${base ? ` (bicubic ${base.psnr.toFixed(2)} dB)` : ''}`;
  }
  return null;
}

/** One line on a model wherever one is chosen: what it is for, its speed measured here, its quality from its card. */
export function modelLine(card: ModelCard): string {
  const what = TASKS.find((t) => t.fallback === card.id)?.what ?? `${card.task === 'restore' ? 'Restoration' : 'Upscaling'} model (${card.arch}, x${card.scale}).`;
  const speed = card.speed ? `${card.speed.outputMpPerSec.toFixed(2)} MP/s output on ${card.speed.backend} here` : 'speed not measured here yet';
  const score = headlineScore(card);
  return [what, speed, score].filter(Boolean).join(' · ');
}

type Points = [number, number][];

/**
 * A run's validation PSNR chart (the wizard's and Runs'): the held-out curve, the eval set's
 * when there is one, and the baselines as flat lines across its steps ("bicubic", "start model").
 */
export function psnrSeries(psnr: Points, evalPsnr: Points, b: RunBaselines | null | undefined, steps: number): { name: string; points: Points }[] {
  const flat = (v: number): Points => [
    [0, v],
    [steps, v],
  ];
  return [
    ...(evalPsnr.length
      ? [
          { name: 'held-out', points: psnr },
          { name: 'eval set', points: evalPsnr },
        ]
      : [{ name: 'PSNR', points: psnr }]),
    ...(b && steps > 0 && b.bicubic !== undefined ? [{ name: 'bicubic', points: flat(b.bicubic) }] : []),
    ...(b && steps > 0 && b.start !== undefined ? [{ name: 'start model', points: flat(b.start) }] : []),
  ];
}

/** A face model in one line, with its licence: what the Faces picker shows for it. */
export function faceModelLine(card: { arch: string; license?: string }): string {
  const what =
    card.arch === 'codeformer'
      ? 'CodeFormer: predicts the face from a learned codebook; its fidelity keeps it near the photo.'
      : card.arch === 'restoreformer'
        ? 'RestoreFormer++: looks up high-quality face parts in a codebook, attending to the photo at several scales.'
        : 'GFPGAN: a U-Net feeding a StyleGAN2 face decoder; restores each face aligned at 512 px.';
  return `${what} Licence: ${card.license ?? 'not given'}.`;
}
