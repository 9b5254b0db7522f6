/** restora eval. */
import fs from 'node:fs';
import { PRESETS, type PresetId } from '../../shared/api.js';
import { errorMessage } from '../../shared/errors.js';
import { UsageError, parse, intOption, backendOption, appFrom } from '../common.js';
import { USAGE } from '../usage.js';

export async function cmdEval(args: string[]): Promise<number> {
  const { values } = parse(args, {
    model: { type: 'string', short: 'm' },
    hr: { type: 'string' },
    lr: { type: 'string' },
    scale: { type: 'string', short: 's' },
    degrade: { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.help) return (console.log(USAGE), 0);
  if (!values.model || !values.hr || !(values.lr || values.degrade) || !values.scale) throw new UsageError('eval needs --model, --hr, --scale and either --lr or --degrade PRESET');
  if (values.degrade && !(PRESETS as readonly string[]).includes(values.degrade)) throw new UsageError(`--degrade must be one of ${PRESETS.join(', ')}`);
  const scale = intOption(values.scale, 'scale', 1, 8)!;
  const seed = intOption(values.seed, 'seed', 0, 2 ** 31) ?? 1;
  for (const d of [values.hr, values.lr].filter((x): x is string => Boolean(x))) if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new UsageError(`${d} is not a folder`);
  const app = appFrom(values);
  let model;
  try {
    model = app.models.resolve(values.model, scale);
  } catch (err) {
    await app.close();
    throw new UsageError(errorMessage(err, 'cli'));
  }
  await app.close();
  const backend = backendOption(values.backend);
  const { evaluateModel, evaluateModelDegraded } = await import('../../main/ml/eval/evaluate.js');
  const report = values.degrade ? await evaluateModelDegraded(model.dir, values.hr, scale, values.degrade as PresetId, seed, backend) : await evaluateModel(model.dir, values.hr, values.lr!, scale, backend);
  if (values.json) console.log(JSON.stringify({ model: values.model, ...report }, null, 2));
  else {
    for (const r of report.images) console.log(`${r.hr.padEnd(20)} ${r.psnr.toFixed(3)} dB  ${r.ssim.toFixed(4)}`);
    console.log(`${'mean'.padEnd(20)} ${report.psnr.toFixed(3)} dB  ${report.ssim.toFixed(4)}   (bicubic ${report.bicubic.psnr.toFixed(3)} dB / ${report.bicubic.ssim.toFixed(4)})`);
  }
  return 0;
}
