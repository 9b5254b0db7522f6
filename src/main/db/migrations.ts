/** Numbered schema migrations: index i upgrades version i to i + 1. Never edit a shipped one. */
import type Database from 'better-sqlite3';

type Migration = (db: Database.Database) => void;

export const MIGRATIONS: readonly Migration[] = [
  // 1: library and export jobs
  (db) =>
    db.exec(`
      CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        format TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        exif_json TEXT,
        thumbnail_path TEXT,
        status TEXT NOT NULL DEFAULT 'original' CHECK (status IN ('original', 'restored', 'exported')),
        imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        UNIQUE (project_id, content_hash)
      );
      CREATE INDEX images_project_status ON images(project_id, status);
      CREATE TABLE models (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL CHECK (source IN ('bundled', 'imported', 'trained')),
        dir TEXT NOT NULL,
        card_json TEXT NOT NULL,
        added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
      CREATE TABLE export_jobs (
        id INTEGER PRIMARY KEY,
        signature TEXT NOT NULL UNIQUE,
        spec_json TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'paused', 'cancelled', 'done', 'failed')),
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
      CREATE TABLE job_items (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES export_jobs(id) ON DELETE CASCADE,
        input_path TEXT NOT NULL,
        output_path TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed', 'skipped')),
        error_code TEXT,
        error_message TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        ms INTEGER,
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        UNIQUE (job_id, input_path)
      );
      CREATE INDEX job_items_state ON job_items(job_id, state);
    `),
  // 2: training, datasets and per-image history
  (db) =>
    db.exec(`
      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        config_json TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
      CREATE TABLE dataset_images (
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        split TEXT NOT NULL CHECK (split IN ('train', 'val')),
        PRIMARY KEY (dataset_id, image_id)
      );
      CREATE TABLE training_runs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        config_json TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'cancelled', 'done', 'failed')),
        run_dir TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
      CREATE TABLE metric_points (
        run_id INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        wall_ms INTEGER NOT NULL,
        loss REAL NOT NULL,
        lr REAL NOT NULL,
        val_psnr REAL,
        val_ssim REAL,
        PRIMARY KEY (run_id, step)
      );
      CREATE TABLE image_history (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        action TEXT NOT NULL,
        model_id TEXT,
        settings_json TEXT,
        output_path TEXT,
        at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
    `),
  // 3: what the studio needs to show runs and datasets without re-reading files
  (db) =>
    db.exec(`
      ALTER TABLE training_runs ADD COLUMN error TEXT;
      ALTER TABLE training_runs ADD COLUMN model_id TEXT;
      ALTER TABLE training_runs ADD COLUMN steps INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE metric_points ADD COLUMN g_loss REAL;
      ALTER TABLE metric_points ADD COLUMN d_loss REAL;
      CREATE UNIQUE INDEX training_runs_dir ON training_runs(run_dir);
      CREATE INDEX image_history_image ON image_history(image_id);
      CREATE INDEX images_path ON images(path);
    `),
  // 4: scores on an evaluation set the user asks for (e.g. Set5) at validation steps
  (db) =>
    db.exec(`
      ALTER TABLE metric_points ADD COLUMN eval_psnr REAL;
      ALTER TABLE metric_points ADD COLUMN eval_ssim REAL;
    `),
  // 5: one runner per item across processes: a claim (owner + expiry, renewed while it works)
  (db) =>
    db.exec(`
      ALTER TABLE job_items ADD COLUMN claimed_by TEXT;
      ALTER TABLE job_items ADD COLUMN claim_expires_ms INTEGER;
    `),
  // 6: what is wrong with an image whose header read fine but whose pixels do not decode
  (db) => db.exec('ALTER TABLE images ADD COLUMN problem TEXT;'),
  // 7: a VAE's two loss terms (reconstruction and KL per latent element), charted apart
  (db) =>
    db.exec(`
      ALTER TABLE metric_points ADD COLUMN recon REAL;
      ALTER TABLE metric_points ADD COLUMN kl REAL;
    `),
];
