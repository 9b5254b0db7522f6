/**
 * Small records kept in the database that belong to no service of their own: the index of
 * imported models (the model folders are the truth; the table lets SQL joins see them) and
 * a run's stored request. The CLI and the API handlers use these, never SQL of their own.
 */
import type { ModelSummary, TrainRequest } from '../../shared/api.js';
import type { Db } from './database.js';

export function recordImportedModel(db: Db, m: ModelSummary): void {
  db.prepare('INSERT OR REPLACE INTO models (id, source, dir, card_json) VALUES (?, ?, ?, ?)').run(m.card.id, 'imported', m.dir, JSON.stringify(m.card));
}

export function forgetModel(db: Db, id: string): void {
  db.prepare('DELETE FROM models WHERE id = ?').run(id);
}

/** The request a run was started with: `run` is its name (the latest run of that name) or its number; a name wins. */
export function storedRunRequest(db: Db, run: string): TrainRequest | null {
  type Row = { config_json: string };
  const row =
    (db.prepare('SELECT config_json FROM training_runs WHERE name = ? ORDER BY id DESC LIMIT 1').get(run) as Row | undefined) ??
    (/^\d{1,9}$/.test(run) ? (db.prepare('SELECT config_json FROM training_runs WHERE id = ?').get(Number(run)) as Row | undefined) : undefined);
  return (row ? (JSON.parse(row.config_json) as { request?: TrainRequest }).request : undefined) ?? null;
}
