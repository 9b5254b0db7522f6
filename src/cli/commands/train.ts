/** restora train. */
import path from 'node:path';
import { PIXEL_LOSSES, PRESETS, TRAIN_PRESETS, type TrainRequest, type TrainPreset } from '../../shared/api.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { dataHome } from '../../main/paths.js';
import { teacherCostText } from '../../main/ml/train/teacherCost.js';
import { UsageError, parse, intOption, backendOption, appFrom } from '../common.js';
import { USAGE } from '../usage.js';
import type { FolderTask } from '../../main/training/folderTraining.js';
import type { TrainProgress } from '../../main/ml/train/trainer.js';
import type { TrainResult } from '../../main/training/trainService.js';

/** trainToFolder's tasks (the domain module loads tfjs: imported when a run starts). */
const FOLDER_TASKS: readonly FolderTask[] = ['restore', 'detect', 'inpaint'];

/**
 * The request a run was started with, as stored with it: RUN is the run's name (its latest
 * run) or its number, as the studio shows it ("Run 3"); a name wins over a number.
 */
async function storedTrainRequest(run: string): Promise<TrainRequest> {
  const { openDatabase } = await import('../../main/db/database.js');
  const { storedRunRequest } = await import('../../main/db/records.js');
  const db = openDatabase(path.join(dataHome(), 'restora.db'));
  try {
    const request = storedRunRequest(db, run);
    if (!request) throw new UsageError(`No training run named or numbered "${run}" to resume (restora train --resume RUN: the name or the number the studio shows as "Run N").`);
    return request;
  } finally {
    db.close();
  }
}

/** --opt key=value, as architecture options. */
function optOptions(opts: readonly string[] | undefined): Record<string, number | string | boolean> {
  const archOptions: Record<string, number | string | boolean> = {};
  for (const kv of opts ?? []) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) throw new UsageError(`--opt must be key=value, got "${kv}"`);
    // "false" must not become a truthy string (e.g. --opt global=false).
    archOptions[k] = v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return archOptions;
}

type Choice = <T extends string>(v: string | undefined, name: string, allowed: readonly T[]) => T | undefined;
type Fraction = (v: string | undefined, name: string, lo: number, hi: number) => number | undefined;

/**
 * restora train --out DIR: one model trained from DATA/train and DATA/val into DIR with its
 * card, as the bundled models are made (scripts/train-*.sh); --task detect|inpaint trains the
 * damage nets. Runs again from its run folder's checkpoint (--run DIR, default runs/NAME).
 */
async function trainIntoFolder(values: Record<string, string | string[] | boolean | undefined>, choice: Choice, fraction: Fraction): Promise<number> {
  const str = (k: string) => values[k] as string | undefined;
  const task = choice(str('task') ?? 'restore', 'task', FOLDER_TASKS)!;
  const data = values.data as string[] | undefined;
  const name = str('name');
  const out = str('out');
  if (!out || !name || data?.length !== 1) throw new UsageError('train --out DIR (and --task) needs --name ID and one --data DIR with train/ and val/ folders');
  const refused = ['recipe', 'resume', 'gan', 'teacher', 'eval-dir', 'schedule', 'optimizer', 'seed'].filter((k) => values[k] !== undefined);
  if (refused.length) throw new UsageError(`--${refused[0]} does not go with --out DIR (training into a folder; run it again to resume)`);
  const scale = intOption(str('scale') ?? (task === 'restore' ? '2' : '1'), 'scale', 1, 8)!;
  if (![1, 2, 4, 8].includes(scale)) throw new UsageError('--scale must be 1, 2, 4 or 8');
  const preset = choice(str('preset') ?? 'bicubic', 'preset', PRESETS)!;
  const klWeight = fraction(str('kl-weight'), 'kl-weight', 0, 10);
  const until = intOption(str('until'), 'until', 1, 10_000_000);
  const context = intOption(str('context'), 'context', 8, 4096);
  const app = appFrom(values as { backend?: string; threads?: string });
  try {
    const { initBackend } = await import('../../main/ml/backend.js');
    const threads = intOption(str('threads'), 'threads', 1, 256);
    const prefer = backendOption(str('backend'));
    const backend = await initBackend({ ...(prefer ? { prefer } : {}), ...(threads ? { threads } : {}) });
    process.stderr.write(`Training on ${backend.id} (${backend.threads} threads) into ${out}\n`);
    const controller = new AbortController();
    process.once('SIGINT', () => {
      process.stderr.write('\npausing: checkpoint written; run the same command again to continue\n');
      controller.abort();
    });
    const training = await app.training();
    const written = await training.trainToFolder(
      {
        id: name,
        dataDir: data[0]!,
        out,
        runDir: str('run') ?? path.join(app.home, 'runs', name),
        task,
        arch: str('arch') ?? (task === 'restore' ? 'compact' : 'unet'),
        archOptions: optOptions(values.opt as string[] | undefined),
        scale,
        preset,
        steps: intOption(str('steps') ?? '6000', 'steps', 1, 10_000_000)!,
        batch: intOption(str('batch') ?? '16', 'batch', 1, 1024)!,
        patch: intOption(str('patch') ?? '48', 'patch', 8, 1024)!,
        lr: fraction(str('lr') ?? '0.001', 'lr', 1e-7, 1)!,
        loss: choice(str('loss') ?? 'l1', 'loss', PIXEL_LOSSES)!,
        ema: fraction(str('ema') ?? '0', 'ema', 0, 0.99999)!,
        ...(klWeight !== undefined ? { klWeight } : {}),
        ...(str('init') ? { initFrom: str('init')! } : {}),
        ...(until ? { until } : {}),
        ...(context ? { context } : {}),
        ...(values.jitter ? { jitter: true } : {}),
        priorSteps: intOption(str('prior-steps') ?? '0', 'prior-steps', 0, 100_000_000)!,
        ...(str('notes') ? { notes: str('notes')! } : {}),
        ...(str('data-source') ? { dataSource: str('data-source')! } : {}),
        ...(str('license') ? { license: str('license')! } : {}),
      },
      (p) => {
        if (!p.point) return;
        const v = p.point.valPsnr !== undefined ? ` val ${p.point.valPsnr.toFixed(3)} dB / ${p.point.valSsim!.toFixed(4)}` : '';
        const iou = p.point.valIou !== undefined ? ` val IoU ${p.point.valIou.toFixed(4)}` : '';
        const kl = p.point.kl !== undefined ? ` recon ${p.point.recon!.toFixed(5)} kl ${p.point.kl.toFixed(4)}` : '';
        process.stderr.write(`step ${p.step}/${p.steps} loss ${p.point.loss.toFixed(5)}${kl} lr ${p.lr.toExponential(2)} ${p.stepsPerSec.toFixed(2)} steps/s${v}${iou}\n`);
      },
      controller.signal,
    );
    process.stderr.write(written ? `wrote ${written.dir}\n` : `stopped at step ${until} (--until); run again without it to finish\n`);
    if (written && values.json) console.log(JSON.stringify(written.card, null, 2));
    return 0;
  } catch (err) {
    if (err instanceof RestoraError && (err.code === 'USAGE' || err.code === 'NOT_FOUND')) throw new UsageError(errorMessage(err, 'cli'));
    throw err;
  } finally {
    await app.close();
  }
}

export async function cmdTrain(args: string[]): Promise<number> {
  const { values } = parse(args, {
    data: { type: 'string', multiple: true },
    scale: { type: 'string', short: 's' },
    preset: { type: 'string' },
    arch: { type: 'string' },
    opt: { type: 'string', multiple: true },
    steps: { type: 'string' },
    batch: { type: 'string' },
    patch: { type: 'string' },
    name: { type: 'string' },
    resume: { type: 'string' },
    gan: { type: 'boolean' },
    seed: { type: 'string' },
    loss: { type: 'string' },
    lr: { type: 'string' },
    optimizer: { type: 'string' },
    momentum: { type: 'string' },
    nesterov: { type: 'boolean' },
    'weight-decay': { type: 'string' },
    schedule: { type: 'string' },
    ema: { type: 'string' },
    'eval-dir': { type: 'string' },
    init: { type: 'string' },
    'kl-weight': { type: 'string' },
    'kl-warmup': { type: 'string' },
    recipe: { type: 'string' },
    teacher: { type: 'string' },
    'teacher-regions': { type: 'string' },
    'teacher-downscale': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    // Training into a folder (the bundled models, the damage nets): see trainToFolder.
    task: { type: 'string' },
    out: { type: 'string' },
    run: { type: 'string' },
    until: { type: 'string' },
    context: { type: 'string' },
    jitter: { type: 'boolean' },
    notes: { type: 'string' },
    'prior-steps': { type: 'string' },
    'data-source': { type: 'string' },
    license: { type: 'string' },
  });
  if (values.recipe !== undefined) {
    if (values.recipe !== 'vae-latent') throw new UsageError(`--recipe must be vae-latent, got "${values.recipe}"`);
    if (values.resume || values.gan || values.init) throw new UsageError('--recipe vae-latent resumes by itself when run again; it takes no --resume, --gan or --init');
    values.arch ??= 'vae';
    values.scale ??= '2';
    values.preset ??= 'old-photo';
    if (values.arch !== 'vae' || values.scale !== '2') throw new UsageError('--recipe vae-latent trains VAEs (--arch vae) for a x2 model (--scale 2)');
  }
  if (values.help) return (console.log(USAGE), 0);
  const choice = <T extends string>(v: string | undefined, name: string, allowed: readonly T[]): T | undefined => {
    if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
    return v as T | undefined;
  };
  const fraction = (v: string | undefined, name: string, lo: number, hi: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new UsageError(`--${name} must be a number in [${lo}, ${hi}]`);
    return n;
  };
  if (values.out !== undefined || values.task !== undefined) return trainIntoFolder(values, choice, fraction);
  const folderOnly = (['run', 'until', 'context', 'jitter', 'notes', 'prior-steps', 'data-source', 'license'] as const).filter((k) => values[k] !== undefined);
  if (folderOnly.length) throw new UsageError(`--${folderOnly[0]} goes with --out DIR (training into a folder)`);
  if (values.resume) {
    // --resume RUN: the run's own request, from the store; flags given now override it (e.g. more --steps).
    const stored = await storedTrainRequest(values.resume);
    // "--resume 3" names the run by its number: from here on it is that run's name.
    values.resume = stored.name;
    values.name ??= stored.name;
    values.data ??= stored.dataDirs;
    values.scale ??= String(stored.scale);
    values.preset ??= stored.preset;
    values.arch ??= stored.arch;
    if (!values.opt?.length) values.opt = Object.entries(stored.archOptions ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    for (const [flag, v] of [
      ['steps', stored.steps],
      ['batch', stored.batch],
      ['patch', stored.patch],
      ['seed', stored.seed],
      ['lr', stored.lr],
      ['weight-decay', stored.weightDecay],
      ['ema', stored.ema],
      ['kl-weight', stored.klWeight],
      ['kl-warmup', stored.klWarmup],
    ] as const) {
      if (values[flag] === undefined && v !== undefined) values[flag] = String(v);
    }
    values.loss ??= stored.loss;
    values.optimizer ??= stored.optimizer;
    if (values.momentum === undefined && stored.momentum !== undefined) values.momentum = String(stored.momentum);
    values.nesterov ??= stored.nesterov;
    values.schedule ??= stored.schedule;
    values['eval-dir'] ??= stored.evalDir;
    values.gan ??= stored.gan;
    values.init ??= stored.initModel;
    values.teacher ??= stored.teacher;
    if (values['teacher-regions'] === undefined && stored.teacherRegions !== undefined) values['teacher-regions'] = String(stored.teacherRegions);
    values['teacher-downscale'] ??= stored.teacherDownscale;
    if (values.name !== values.resume) throw new UsageError(`--resume ${values.resume} continues that run; --name ${values.name} names another`);
  }
  // Read after --resume filled in the run's stored choices (flags given now still win).
  const loss = choice(values.loss, 'loss', PIXEL_LOSSES);
  const optimizer = choice(values.optimizer, 'optimizer', ['adam', 'adamw', 'sgd'] as const);
  const schedule = choice(values.schedule, 'schedule', ['cosine', 'step'] as const);
  const lr = fraction(values.lr, 'lr', 1e-7, 1);
  const weightDecay = fraction(values['weight-decay'], 'weight-decay', 0, 1);
  const ema = fraction(values.ema, 'ema', 0, 0.99999);
  const momentum = fraction(values.momentum, 'momentum', 0, 0.999);
  const klWeight = fraction(values['kl-weight'], 'kl-weight', 0, 10);
  // A negative or non-numeric KL weight is refused above; the recipe's stages share it.
  const klWarmup = intOption(values['kl-warmup'], 'kl-warmup', 0, 1_000_000);
  if ((klWeight !== undefined || klWarmup !== undefined) && (values.arch ?? 'compact') !== 'vae') throw new UsageError('--kl-weight and --kl-warmup go with --arch vae');
  if ((momentum !== undefined || values.nesterov) && optimizer !== 'sgd') throw new UsageError('--momentum and --nesterov go with --optimizer sgd');
  if (values.init && !values.resume) {
    // A fine-tune takes the starting model's architecture, options and scale.
    const app = appFrom(values);
    let card;
    try {
      card = app.models.get(values.init).card;
    } catch (err) {
      throw new UsageError(errorMessage(err, 'cli'));
    } finally {
      await app.close();
    }
    values.arch ??= card.arch;
    values.scale ??= String(card.scale);
  }
  if (!values.data?.length || !values.name || !values.scale) throw new UsageError('train needs --data DIR, --scale N and --name NAME (or --resume RUN)');
  if (values.recipe && values.teacher) throw new UsageError('--recipe vae-latent cannot learn from a --teacher');
  // With a teacher the photos themselves are the inputs unless a preset degrades them first.
  const preset = values.preset ?? (values.teacher ? 'none' : 'bicubic');
  if (values.teacher ? !(TRAIN_PRESETS as readonly string[]).includes(preset) : !(PRESETS as readonly string[]).includes(preset)) {
    throw new UsageError(`--preset must be ${(values.teacher ? TRAIN_PRESETS : PRESETS).join(', ')}${values.teacher ? '' : ' (none, the photos themselves as inputs, goes with --teacher)'}`);
  }
  if ((values['teacher-regions'] !== undefined || values['teacher-downscale'] || values.yes) && !values.teacher) throw new UsageError('--teacher-regions, --teacher-downscale and --yes go with --teacher MODEL');
  const teacherRegions = intOption(values['teacher-regions'], 'teacher-regions', 1, 100_000);
  const scale = intOption(values.scale, 'scale', 1, 8)!;
  if (![1, 2, 4, 8].includes(scale)) throw new UsageError('--scale must be 1, 2, 4 or 8');
  const archOptions = optOptions(values.opt);
  const app = appFrom(values);
  const { initBackend } = await import('../../main/ml/backend.js');
  const { getArch } = await import('../../main/ml/archs/index.js');
  try {
    try {
      getArch(values.arch ?? 'compact');
    } catch (err) {
      throw new UsageError(errorMessage(err, 'cli'));
    }
    const threads = intOption(values.threads, 'threads', 1, 256);
    const backend = await initBackend({ ...(backendOption(values.backend) ? { prefer: backendOption(values.backend)! } : {}), ...(threads ? { threads } : {}) });
    const { effectiveCompute } = await import('../../main/ml/engine/chromium.js');
    const choice = effectiveCompute(backendOption(values.backend), app.settings.get().compute);
    process.stderr.write(
      choice === 'webgpu'
        ? `Training on webgpu in a headless Chromium page (validation and checkpoints on ${backend.id})\n`
        : choice === 'auto'
          ? `Training on the GPU if Chromium finds one (Settings: auto), else on ${backend.id}\n`
          : `Training on ${backend.id} (${backend.threads} threads)\n`,
    );
    const controller = new AbortController();
    process.once('SIGINT', () => {
      process.stderr.write(`\npausing: checkpoint written; continue with --resume ${values.name}\n`);
      controller.abort();
    });
    const tty = process.stderr.isTTY;
    const steps = intOption(values.steps, 'steps', 1, 10_000_000);
    const batch = intOption(values.batch, 'batch', 1, 1024);
    const patch = intOption(values.patch, 'patch', 8, 1024);
    const seed = intOption(values.seed, 'seed', 0, 2 ** 31);
    const request: TrainRequest & { resume: boolean } = {
      name: values.name,
      dataDirs: values.data,
      scale,
      preset: preset as TrainPreset,
      arch: values.arch ?? 'compact',
      archOptions,
      resume: Boolean(values.resume),
      // --gan: after --steps of pixel-loss training, steps/2 of SRGAN fine-tuning.
      ...(values.gan ? { gan: true } : {}),
      ...(values.init ? { initModel: values.init } : {}),
      ...(steps ? { steps } : {}),
      ...(batch ? { batch } : {}),
      ...(patch ? { patch } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(loss ? { loss } : {}),
      ...(lr ? { lr } : {}),
      ...(optimizer ? { optimizer } : {}),
      ...(momentum !== undefined ? { momentum } : {}),
      ...(values.nesterov ? { nesterov: true } : {}),
      ...(weightDecay !== undefined ? { weightDecay } : {}),
      ...(schedule ? { schedule } : {}),
      ...(ema ? { ema } : {}),
      ...(klWeight !== undefined ? { klWeight } : {}),
      ...(klWarmup !== undefined ? { klWarmup } : {}),
      ...(values['eval-dir'] ? { evalDir: values['eval-dir'] } : {}),
      ...(values.teacher ? { teacher: values.teacher, ...(teacherRegions !== undefined ? { teacherRegions } : {}), ...(values['teacher-downscale'] ? { teacherDownscale: true } : {}), ...(values.yes ? { teacherConfirmed: true } : {}) } : {}),
    };
    const training = await app.training();
    const onProgress = (p: TrainProgress) => {
      const v =
        (p.point?.kl !== undefined ? ` recon ${p.point.recon!.toFixed(4)} KL ${p.point.kl.toFixed(3)}` : '') +
        (p.point?.valPsnr !== undefined ? ` val ${p.point.valPsnr.toFixed(2)} dB` : '') +
        (p.point?.evalPsnr !== undefined ? ` eval ${p.point.evalPsnr.toFixed(2)} dB` : '');
      const line = `step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(1)} ${p.stepsPerSec.toFixed(2)} steps/s ETA ${Math.round(p.etaSec)} s${v}`;
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (p.point) process.stderr.write(`${line}\n`);
    };
    const report = (result: TrainResult) => {
      if (tty) process.stderr.write('\n');
      for (const s of result.photos.skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
      process.stderr.write(
        `model ${result.modelId} -> ${result.modelDir}\nheld-out ${result.heldOut.psnr.toFixed(2)} dB / ${result.heldOut.ssim.toFixed(4)}${Number.isFinite(result.bicubic.psnr) ? ` (bicubic of the ${request.teacher ? 'input' : 'degraded input'} ${result.bicubic.psnr.toFixed(2)} dB)` : ''}${request.teacher ? ` against the teacher ${request.teacher}` : ''} on ${result.photos.val} photo(s); trained on ${result.photos.train}\n`,
      );
      if (result.outcome.verdict) process.stderr.write(`${result.outcome.verdict}\n`);
      if (values.json) console.log(JSON.stringify(result, null, 2));
    };
    if (values.recipe) {
      // The recipe's stages run in the domain (the studio runs them the same way); each is said as it is taken up.
      await training.trainRecipe({ ...request, recipe: 'vae-latent' }, onProgress, controller.signal, undefined, undefined, {
        onStage: (s) => process.stderr.write(`stage ${s.stage} (${s.name}): ${s.status === 'installed' ? 'done, its model is installed' : s.status}\n`),
        onStageDone: (_s, result) => report(result),
      });
      return 0;
    }
    const result = await training.train(request, onProgress, controller.signal, undefined, undefined, {
      onTeacherEstimate: (e) => process.stderr.write(`${teacherCostText(e)}${e.confirmNeeded && request.teacherConfirmed ? ' (over an hour; --yes given)' : ''}\n`),
      onTeacherProgress: (p) => {
        const line = `teacher: region ${p.done}/${p.total}, ${(p.seconds / Math.max(1, p.computed)).toFixed(2)} s per region, ETA ${Math.round(p.etaSec)} s`;
        if (tty) process.stderr.write(`\r\x1b[K${line}${p.done === p.total ? '\n' : ''}`);
        else if (p.done === p.total || p.computed % 50 === 0 || p.computed === 1) process.stderr.write(`${line}\n`);
      },
    });
    report(result);
    return 0;
  } catch (err) {
    if (err instanceof RestoraError && (err.code === 'USAGE' || err.code === 'NOT_FOUND')) throw new UsageError(errorMessage(err, 'cli'));
    throw err;
  } finally {
    await app.close();
  }
}
