import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { migrate, openDatabase, schemaVersion, SCHEMA_VERSION } from '../../src/main/db/database.js';
import { tmpDir } from '../helpers.js';

const TABLES = ['dataset_images', 'datasets', 'export_jobs', 'image_history', 'images', 'job_items', 'metric_points', 'models', 'projects', 'training_runs'];

function tables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

describe('SQLite store', () => {
  it('migrates an empty database to the latest schema, with WAL and foreign keys on', () => {
    const db = openDatabase(path.join(tmpDir(), 'a.db'));
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).toEqual(TABLES);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(() => db.prepare('INSERT INTO job_items (job_id, input_path, output_path) VALUES (999, ?, ?)').run('a', 'b')).toThrow(/FOREIGN KEY/);
    db.close();
  });

  for (let v = 1; v < SCHEMA_VERSION; v++) {
    it(`upgrades a database at version ${v} and keeps its rows`, () => {
      const file = path.join(tmpDir(), 'old.db');
      const old = new Database(file);
      migrate(old, v);
      old.prepare("INSERT INTO projects (name) VALUES ('family scans')").run();
      old.close();
      const db = openDatabase(file);
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(tables(db)).toEqual(TABLES);
      expect(db.prepare('SELECT name FROM projects').get()).toEqual({ name: 'family scans' });
      db.close();
    });
  }

  it('says what to do with a damaged store or one whose folder cannot exist, naming the file', () => {
    const dir = tmpDir();
    const damaged = path.join(dir, 'restora.db');
    fs.writeFileSync(damaged, Buffer.alloc(8192, 0x5a));
    expect(() => openDatabase(damaged)).toThrow(expect.objectContaining({ code: 'DB_UNAVAILABLE', message: expect.stringMatching(/restora\.db: the database is damaged .*move the file aside/) }));
    const blocked = path.join(dir, 'a-file');
    fs.writeFileSync(blocked, 'x');
    expect(() => openDatabase(path.join(blocked, 'restora.db'))).toThrow(expect.objectContaining({ code: 'DB_UNAVAILABLE', message: expect.stringContaining('a file is in the way') }));
  });

  it('refuses a database from a newer version and leaves it byte-for-byte untouched', () => {
    const file = path.join(tmpDir(), 'new.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const before = fs.readFileSync(file);
    expect(() => openDatabase(file)).toThrow(expect.objectContaining({ code: 'DB_TOO_NEW', message: expect.stringContaining('newer Restora') }));
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('names the file when the database cannot be opened', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'not-a-db.db');
    fs.writeFileSync(file, 'this is not sqlite'.repeat(100));
    expect(() => openDatabase(file)).toThrow(expect.objectContaining({ code: 'DB_UNAVAILABLE', message: expect.stringContaining('not-a-db.db') }));
  });
});
