/**
 * The SQLite store (better-sqlite3): WAL, foreign keys, numbered migrations with
 * the schema version in PRAGMA user_version. A database written by a newer Restora
 * is refused untouched; an older one is migrated in one transaction per step.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RestoraError } from '../../shared/errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies migrations up to `target` (default: latest). */
export function migrate(db: Db, target = SCHEMA_VERSION): void {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new RestoraError(
      'DB_TOO_NEW',
      `${db.name}: written by a newer Restora (schema ${current}, this version knows ${SCHEMA_VERSION}); it was left untouched. Update Restora to open it.`,
      db.name,
    );
  }
  for (let v = current; v < target; v++) {
    const step = MIGRATIONS[v]!;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function openDatabase(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file, { timeout: 5000 });
  } catch (err) {
    throw new RestoraError('DB_UNAVAILABLE', `${file}: cannot open the database (${(err as Error).message})`, file);
  }
  try {
    // Check the version before anything that writes (WAL mode changes the header).
    if (schemaVersion(db) > SCHEMA_VERSION) migrate(db);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof RestoraError) throw err;
    const msg = (err as Error).message;
    throw new RestoraError('DB_UNAVAILABLE', `${file}: ${/locked|busy/i.test(msg) ? 'the database is locked by another Restora process; try again when it finishes' : msg}`, file);
  }
  return db;
}
