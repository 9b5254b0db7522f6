/** Finds models on disk: bundled (resources/models) and the user's own. */
import fs from 'node:fs';
import path from 'node:path';
import { taskFor, taskModel, type ModelSummary } from '../../../shared/api.js';
import { RestoraError } from '../../../shared/errors.js';
import { readCard } from './modelCard.js';

export class ModelLibrary {
  constructor(
    private readonly bundledDir: string,
    private readonly userDir: string,
    /** The user's default model per task (Settings); none: the bundled defaults. */
    private readonly defaults?: () => Record<string, string>,
  ) {}

  list(): ModelSummary[] {
    const out: ModelSummary[] = [];
    for (const [root, source] of [
      [this.bundledDir, 'bundled'],
      [this.userDir, 'user'],
    ] as const) {
      if (!fs.existsSync(root)) continue;
      for (const name of fs.readdirSync(root).sort()) {
        const dir = path.join(root, name);
        if (!fs.existsSync(path.join(dir, 'model.json')) || !fs.existsSync(path.join(dir, 'card.json'))) continue;
        try {
          out.push({ card: readCard(dir), source, dir });
        } catch {
          // A broken card hides that model only; `restora models` must still list the rest.
        }
      }
    }
    return out;
  }

  get(id: string): ModelSummary {
    const m = this.list().find((s) => s.card.id === id);
    if (!m) {
      const known = this.list().map((s) => s.card.id);
      throw new RestoraError('NOT_FOUND', `Unknown model "${id}". Installed: ${known.join(', ') || 'none'}.`);
    }
    return m;
  }

  /** A face model by id; anything else is a usage error that names the face models installed. */
  face(id: string): ModelSummary {
    const faces = this.list()
      .filter((m) => m.card.task === 'face')
      .map((m) => m.card.id);
    const m = this.list().find((s) => s.card.id === id);
    const which = faces.length ? `Face models installed: ${faces.join(', ')}.` : 'No face model is installed: import a GFPGAN v1.3 / v1.4, CodeFormer or RestoreFormer++ file with restora models import.';
    if (!m) throw new RestoraError('NOT_FOUND', `Unknown face model "${id}". ${which}`);
    if (m.card.task !== 'face') throw new RestoraError('USAGE', `${id} is ${m.card.task === 'upscale' || m.card.task === 'restore' ? `an x${m.card.scale} ${m.card.task} model` : `a ${m.card.task} net`}, not a face model. ${which}`);
    return m;
  }

  /** The model to use for a request: by id, else the Upscale task's model for the scale (the user's default or the bundled one), else any upscaler of that scale. */
  resolve(id: string | undefined, scale: number | undefined): ModelSummary {
    if (id) {
      const m = this.get(id);
      if (m.card.task === 'detect-damage' || m.card.task === 'inpaint') {
        throw new RestoraError('USAGE', `${id} is a step of the repair before restoring (${m.card.task === 'inpaint' ? 'inpainting' : 'scratch detection'}), not a model to upscale with; use restora restore, or Restore old photo in the studio.`);
      }
      if (m.card.task === 'face') {
        throw new RestoraError('USAGE', `${id} is a face restorer: it works on aligned ${String(m.card.archOptions.size ?? 512)} px faces, not on whole photos; use it with restora restore --faces ${id}, or the Faces step of Restore old photo.`);
      }
      if (scale !== undefined && m.card.scale !== scale) {
        throw new RestoraError('USAGE', `Model ${id} upscales x${m.card.scale}, not x${scale}.`, undefined, { hint: { cli: `Leave --scale out, or use --scale ${m.card.scale}.` } });
      }
      return m;
    }
    const s = scale ?? 2;
    const task = taskFor('upscale', s);
    if (task) return this.resolve(taskModel(task, this.defaults?.()), s);
    const candidates = this.list().filter((m) => m.card.scale === s && m.card.task === 'upscale');
    const preferred = candidates.find((m) => m.card.id === `restora-x${s}`) ?? candidates[0];
    if (!preferred) throw new RestoraError('NOT_FOUND', `No x${s} upscaling model is installed.`);
    return preferred;
  }
}
