/** restora restore. */
import fs from 'node:fs';
import { DEFAULT_FACE_STRENGTH, taskFor, taskModel, type RepairChoice, type FaceChoice } from '../../shared/api.js';
import { UsageError, parse, FACE_OPTIONS, facesOption, appFrom, OUTPUT_OPTIONS, TONE_OPTIONS, toneOptions, outputOptions, restoreItems } from '../common.js';
import { USAGE } from '../usage.js';

/** --scratches auto|off|MASK (a file or a folder of masks). */
function scratchesOption(v: string | undefined, inputs: string[]): RepairChoice {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === 'off') return 'off';
  if (!fs.existsSync(v)) throw new UsageError(`--scratches ${v}: no such mask file or folder (or give auto or off)`);
  if (fs.statSync(v).isFile() && (inputs.length !== 1 || fs.statSync(inputs[0]!).isDirectory())) {
    throw new UsageError(`--scratches ${v} is one mask for one photo; for several photos give a folder of masks named like them`);
  }
  return { maskFile: v };
}

export async function cmdRestore(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...OUTPUT_OPTIONS, ...TONE_OPTIONS, scratches: { type: 'string' }, 'save-mask': { type: 'boolean' }, ...FACE_OPTIONS });
  if (values.help) return (console.log(USAGE), 0);
  const { out, format, quality, tile, keepColours } = outputOptions('restore', values, positionals);
  const tone = toneOptions(values);
  const repair = scratchesOption(values.scratches, positionals);
  if (values.model === 'none' && repair === 'off') throw new UsageError('--model none with --scratches off leaves nothing to do');
  const app = appFrom(values);
  // The Restore task's model, as the studio's button picks it (the user's default, else the bundled one).
  const modelId = values.model ?? taskModel(taskFor('restore')!, app.settings.get().defaults);
  let faces: FaceChoice | undefined;
  try {
    faces = facesOption(app, values);
  } catch (err) {
    await app.close();
    throw err;
  }
  if (faces) process.stderr.write(`faces: ${faces.modelId} (strength ${faces.strength ?? DEFAULT_FACE_STRENGTH}; --faces off to skip)\n`);
  return restoreItems(app, values, positionals, out, {
    format,
    modelId,
    repair,
    ...(faces ? { faces } : {}),
    ...(values['save-mask'] ? { saveMask: true } : {}),
    ...(quality ? { quality } : {}),
    ...(tile ? { tile } : {}),
    ...(keepColours !== undefined ? { keepColours } : {}),
    ...tone,
  });
}
