/**
 * The SQLite store (better-sqlite3): WAL, foreign keys, numbered migrations with
 * the schema version in PRAGMA user_version. A database written by a newer Restora
 * is refused untouched; an older one is migrated in one transaction per step.
 * Another process holding a lock is waited out for a while (busy timeout); past
 * that, SQLITE_BUSY/LOCKED surface as DB_UNAVAILABLE naming the file.
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
    throw new RestoraError('DB_TOO_NEW', `${db.name}: written by a newer Restora (schema ${current}, this version knows ${SCHEMA_VERSION}); it was left untouched. Update Restora to open it.`, db.name);
  }
  for (let v = current; v < target; v++) {
    const step = MIGRATIONS[v]!;
    // IMMEDIATE takes the write lock first, and the version is read again under it: two
    // processes opening a new store at once (two `restora batch`) must not both run a step.
    db.transaction(() => {
      if (schemaVersion(db) !== v) return;
      step(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/** How long a statement waits for another connection's lock before giving up. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

function isLockError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function lockedError(file: string, err: unknown): RestoraError {
  return new RestoraError('DB_UNAVAILABLE', `${file}: the database is locked by another process (another Restora is writing to it); try again when it finishes`, file, { cause: err });
}

/**
 * Why the store cannot be used, in words that say what to do: a damaged file and a
 * read-only one need different fixes, and neither touches the user's photos or models.
 */
function storeError(file: string, err: unknown): RestoraError {
  if (isLockError(err)) return lockedError(file, err);
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  const raw = (err as Error)?.message ?? String(err);
  let why: string;
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    why = `the database is damaged or is not a Restora database (${raw}). Your photos and models are not stored in it: move the file aside (and its -wal and -shm files) and Restora starts a new one, or put a backup in its place`;
  } else if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'EACCES' || code === 'EROFS') {
    why = `the database cannot be written (${raw}). Check that you may write to the file and its folder, or set RESTORA_HOME to a folder you can write to`;
  } else if (code === 'ENOTDIR' || code === 'EEXIST') {
    why = `its folder cannot be created: a file is in the way (${raw}). Set RESTORA_HOME to a folder`;
  } else {
    why = `cannot open the database (${raw})`;
  }
  return new RestoraError('DB_UNAVAILABLE', `${file}: ${why}`, file, { cause: err });
}

/** Maps a lock, damage or read-only error from `db` to DB_UNAVAILABLE; any other error is returned as is. */
export function mapDbError(db: Db, err: unknown): unknown {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  // A lock, or the store damaged or made read-only while open: say which, naming the file.
  return /^SQLITE_(BUSY|LOCKED|CORRUPT|NOTADB|READONLY)/.test(code) ? storeError(db.name, err) : err;
}

/** Runs `fn`, turning a lock error (busy timeout spent) into DB_UNAVAILABLE naming the file. */
export function guardDb<T>(db: Db, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw mapDbError(db, err);
  }
}

export function openDatabase(file: string, options: { busyTimeoutMs?: number } = {}): Db {
  let db: Db;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    db = new Database(file, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  } catch (err) {
    throw storeError(file, err);
  }
  try {
    // Check the version before anything that writes (WAL mode changes the header).
    if (schemaVersion(db) > SCHEMA_VERSION) migrate(db);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    // The file's own name (after the last / or \\): the Library sorts by it, so an upload stored
    // as uploads/<hash>/name sorts by its name, not by its folder.
    db.function('file_name', { deterministic: true }, (p: unknown) => {
      const s = String(p);
      return s.slice(Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\')) + 1);
    });
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof RestoraError) throw err;
    throw storeError(file, err);
  }
  return db;
}
