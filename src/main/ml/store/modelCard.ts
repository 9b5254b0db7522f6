/** card.json I/O, kept apart from the tfjs model code so listing models never loads tfjs. */
import fs from 'node:fs';
import path from 'node:path';
import type { ModelCard } from '../../../shared/api.js';
import { RestoraError } from '../../../shared/errors.js';
import { writeFileAtomic } from '../../imaging/atomic.js';

export function readCard(dir: string): ModelCard {
  const file = path.join(dir, 'card.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelCard;
  } catch (err) {
    throw new RestoraError('MODEL_INVALID', `Cannot read model card ${file}: ${(err as Error).message}`, file);
  }
}

export function writeCard(dir: string, card: ModelCard): void {
  writeFileAtomic(path.join(dir, 'card.json'), JSON.stringify(card, null, 2) + '\n');
}
