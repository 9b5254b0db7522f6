/** restora upscale. */
import { TASK_KINDS, taskChoices, taskFor, taskModel } from '../../shared/api.js';
import { errorMessage } from '../../shared/errors.js';
import { UsageError, parse, appFrom, OUTPUT_OPTIONS, TONE_OPTIONS, toneOptions, outputOptions, runItems, restoreItems } from '../common.js';
import { USAGE } from '../usage.js';

export async function cmdUpscale(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...OUTPUT_OPTIONS, ...TONE_OPTIONS, task: { type: 'string', short: 't' } });
  if (values.help) return (console.log(USAGE), 0);
  const { out, format, scale, quality, tile, keepColours } = outputOptions('upscale', values, positionals);
  const tone = toneOptions(values);
  let modelId = values.model;
  let restoring = false;
  const app = appFrom(values);
  try {
    if (values.task !== undefined) {
      if (values.model) throw new UsageError(`--task and --model together: give one (tasks: ${taskChoices()}; or a model from restora models)`);
      if (!(TASK_KINDS as readonly string[]).includes(values.task)) throw new UsageError(`--task must be one of ${TASK_KINDS.join(', ')}, got "${values.task}" (tasks: ${taskChoices()})`);
      const task = taskFor(values.task, scale);
      if (!task) throw new UsageError(`--task ${values.task} has no x${scale}; choose one of: ${taskChoices()}`);
      modelId = taskModel(task, app.settings.get().defaults);
      restoring = task.kind === 'restore';
      process.stderr.write(`${task.label}: ${modelId}\n`);
    }
    if (!restoring) app.models.resolve(modelId, scale); // usage errors before any work
  } catch (err) {
    await app.close();
    throw err instanceof UsageError ? err : new UsageError(errorMessage(err, 'cli'));
  }
  // The studio's Restore old photo repairs scratches first: the same pipeline as restora restore.
  if (restoring) return restoreItems(app, values, positionals, out, { format, modelId, repair: 'auto', ...(quality ? { quality } : {}), ...(tile ? { tile } : {}), ...(keepColours !== undefined ? { keepColours } : {}), ...tone });
  return runItems(app, values, positionals, out, { format, ...(modelId ? { modelId } : {}), ...(scale ? { scale } : {}), ...(quality ? { quality } : {}), ...(tile ? { tile } : {}), ...(keepColours !== undefined ? { keepColours } : {}), ...tone });
}
