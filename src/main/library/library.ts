/**
 * The photo library: projects, import of files and folder trees (recursive,
 * include/exclude globs matched in linear time, see glob.ts), dedupe by content hash, header-only
 * metadata, lazily cached thumbnails, and paged listing with sort/filter/search.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Db } from '../db/database.js';
import { probeImage } from '../imaging/io.js';
import { enumerateInputsYielding, hashFileAsync } from '../imaging/inputs.js';
import { globMatcher } from './glob.js';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import type { HistoryEntry, ImageDetail, ImageRow, ImageStatus, ImportReport, LibraryQuery } from '../../shared/api.js';

export type { ImageRow, ImageStatus, ImportReport };
export type ListQuery = LibraryQuery;

export interface ImportOptions {
  recursive?: boolean;
  include?: string[];
  exclude?: string[];
  /** Files looked at before the import gives up (default: inputs.ts DEFAULT_MAX_FILES). */
  maxFiles?: number;
  onProgress?: (done: number, total: number) => void;
  /** Ids of the images this import added (for the background decode check). */
  onAdded?: (ids: number[]) => void;
}

const SORT_COLUMNS: Record<NonNullable<ListQuery['sort']>, string> = {
  name: 'file_name(path) COLLATE NOCASE',
  imported: 'imported_at',
  size: 'size',
  pixels: 'width * height',
};

export class Library {
  constructor(
    private readonly db: Db,
    private readonly thumbsDir: string,
  ) {}

  createProject(name: string): number {
    const trimmed = name.trim();
    if (!trimmed) throw new RestoraError('USAGE', 'A project needs a name.');
    const row = this.db.prepare('SELECT id FROM projects WHERE name = ?').get(trimmed) as { id: number } | undefined;
    return row?.id ?? Number(this.db.prepare('INSERT INTO projects (name) VALUES (?)').run(trimmed).lastInsertRowid);
  }

  listProjects(): { id: number; name: string; images: number }[] {
    return this.db.prepare('SELECT p.id, p.name, count(i.id) AS images FROM projects p LEFT JOIN images i ON i.project_id = p.id GROUP BY p.id ORDER BY p.name').all() as { id: number; name: string; images: number }[];
  }

  async importPaths(projectId: number, paths: readonly string[], o: ImportOptions = {}): Promise<ImportReport> {
    const ignored = { count: 0, paths: [] as string[] };
    // Patterns first: a bad one is refused before any folder is read.
    const include = o.include?.length ? globMatcher(o.include) : null;
    const exclude = o.exclude?.length ? globMatcher(o.exclude) : null;
    const all = await enumerateInputsYielding(paths, o.recursive ?? true, {
      onIgnored: (file) => {
        if (ignored.count++ < 200) ignored.paths.push(path.resolve(file));
      },
      ...(o.maxFiles ? { maxFiles: o.maxFiles } : {}),
    });
    const entries = all.filter((e) => !e.missing).map((e) => ({ ...e, input: path.resolve(e.input) }));
    const missing = all.filter((e) => e.missing).map((e) => path.resolve(e.input));
    const report: ImportReport = { added: 0, duplicates: 0, skipped: 0, failed: missing.map((p) => ({ path: p, code: 'NOT_FOUND', message: `${p}: no such file or folder` })), ignored };
    const insert = this.db.prepare('INSERT OR IGNORE INTO images (project_id, path, content_hash, size, format, width, height, exif_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const pending: unknown[][] = [];
    const addedIds: number[] = [];
    const flush = this.db.transaction((rows: unknown[][]) => {
      for (const r of rows) {
        const done = insert.run(...r);
        if (done.changes) {
          report.added++;
          addedIds.push(Number(done.lastInsertRowid));
        } else report.duplicates++;
      }
    });
    let done = 0;
    for (const e of entries) {
      const rel = path.basename(e.input);
      const relPath = path.join(e.relDir, rel);
      if ((include && !include(relPath) && !include(rel)) || (exclude && (exclude(relPath) || exclude(rel)))) {
        report.skipped++;
      } else {
        try {
          const info = await probeImage(e.input);
          const exif = { orientation: info.orientation, hasExif: info.hasExif, hasIcc: info.hasIcc, bitDepth: info.bitDepth, space: info.space, hasAlpha: info.hasAlpha };
          pending.push([projectId, e.input, await hashFileAsync(e.input), info.bytes, info.format, info.width, info.height, JSON.stringify(exif)]);
        } catch (err) {
          report.failed.push({ path: e.input, code: err instanceof RestoraError ? err.code : 'INTERNAL', message: errorMessage(err) });
        }
      }
      done++;
      if (pending.length >= 500) flush(pending.splice(0));
      o.onProgress?.(done, entries.length);
    }
    flush(pending.splice(0));
    if (addedIds.length) o.onAdded?.(addedIds);
    return report;
  }

  /**
   * Decodes each image (by making its thumbnail): import reads headers only, so a file
   * truncated or damaged after a valid header is found here and marked with the reason,
   * instead of showing as a normal photo until an upscale fails. One at a time, in order.
   */
  async checkImages(ids: readonly number[]): Promise<{ checked: number; broken: number }> {
    const mark = this.db.prepare('UPDATE images SET problem = ? WHERE id = ?');
    let broken = 0;
    for (const id of ids) {
      try {
        await this.thumbnail(id);
        mark.run(null, id);
      } catch (err) {
        if (err instanceof RestoraError && err.code === 'NOT_FOUND') continue; // removed meanwhile
        mark.run(errorMessage(err), id);
        broken++;
      }
    }
    return { checked: ids.length, broken };
  }

  list(projectId: number, q: ListQuery = {}): { total: number; rows: ImageRow[] } {
    const where = ['project_id = @projectId'];
    const params: Record<string, unknown> = { projectId };
    if (q.status) {
      where.push('status = @status');
      params.status = q.status;
    }
    if (q.format) {
      where.push('format = @format');
      params.format = q.format;
    }
    if (q.search) {
      where.push("path LIKE @search ESCAPE '\\'");
      params.search = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    const w = where.join(' AND ');
    const order = `${SORT_COLUMNS[q.sort ?? 'name']} ${q.descending ? 'DESC' : 'ASC'}, id`;
    params.limit = Math.min(Math.max(q.limit ?? 200, 1), 1000);
    params.offset = Math.max(q.offset ?? 0, 0);
    const total = (this.db.prepare(`SELECT count(*) AS n FROM images WHERE ${w}`).get(params) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT id, project_id AS projectId, path, content_hash AS contentHash, size, format, width, height, status, imported_at AS importedAt, problem
         FROM images WHERE ${w} ORDER BY ${order} LIMIT @limit OFFSET @offset`,
      )
      .all(params) as ImageRow[];
    return { total, rows };
  }

  /** Sets an image's status and records what was done; returns the history entry's id (0 when none). */
  setStatus(imageId: number, status: ImageStatus, history?: { action: string; modelId?: string; settings?: object; output?: string }): number {
    return this.db.transaction(() => {
      this.db.prepare('UPDATE images SET status = ? WHERE id = ?').run(status, imageId);
      if (!history) return 0;
      return Number(
        this.db
          .prepare('INSERT INTO image_history (image_id, action, model_id, settings_json, output_path) VALUES (?, ?, ?, ?, ?)')
          .run(imageId, history.action, history.modelId ?? null, history.settings ? JSON.stringify(history.settings) : null, history.output ?? null).lastInsertRowid,
      );
    })();
  }

  get(imageId: number): Omit<ImageDetail, 'savedMask'> {
    const row = this.db
      .prepare(
        `SELECT id, project_id AS projectId, path, content_hash AS contentHash, size, format, width, height, status, imported_at AS importedAt, problem, exif_json AS exifJson
         FROM images WHERE id = ?`,
      )
      .get(imageId) as (ImageRow & { exifJson: string | null }) | undefined;
    if (!row) throw new RestoraError('NOT_FOUND', `No image ${imageId} in the library.`);
    const { exifJson, ...rest } = row;
    return { ...rest, exif: exifJson ? (JSON.parse(exifJson) as Record<string, unknown>) : null, history: this.history(imageId) };
  }

  /** The files of a project's photos (or of these of its photos), in id order: training data from the Library. */
  pathsIn(projectId: number, imageIds?: readonly number[]): string[] {
    const rows = this.db.prepare('SELECT id, path FROM images WHERE project_id = ? ORDER BY id').all(projectId) as { id: number; path: string }[];
    if (!imageIds) return rows.map((r) => r.path);
    const byId = new Map(rows.map((r) => [r.id, r.path]));
    return imageIds.map((id) => {
      const p = byId.get(id);
      if (p === undefined) throw new RestoraError('NOT_FOUND', `No image ${id} in project ${projectId}.`);
      return p;
    });
  }

  /** Path of an image by id, or null (the media protocol must not learn anything else). */
  pathOf(imageId: number): string | null {
    return (this.db.prepare('SELECT path FROM images WHERE id = ?').get(imageId) as { path: string } | undefined)?.path ?? null;
  }

  /** Output file of a history entry, or null. */
  outputOf(historyId: number): string | null {
    return (this.db.prepare('SELECT output_path FROM image_history WHERE id = ?').get(historyId) as { output_path: string | null } | undefined)?.output_path ?? null;
  }

  /** Whether any library image is this file. */
  hasPath(file: string): boolean {
    return this.db.prepare('SELECT 1 FROM images WHERE path = ? LIMIT 1').get(file) !== undefined;
  }

  /** A result's recorded settings (null when it has none or there is no such result). */
  settingsOf(historyId: number): Record<string, unknown> | null {
    const row = this.db.prepare('SELECT settings_json FROM image_history WHERE id = ?').get(historyId) as { settings_json: string | null } | undefined;
    return row?.settings_json ? (JSON.parse(row.settings_json) as Record<string, unknown>) : null;
  }

  /** Replaces a result's recorded settings (a setting changed after the fact: the face strength). */
  updateSettings(historyId: number, settings: object): void {
    this.db.prepare('UPDATE image_history SET settings_json = ? WHERE id = ?').run(JSON.stringify(settings), historyId);
  }

  /** Marks the library images among `inputs` as exported, recording the output of each. */
  markExported(outputsByInput: ReadonlyMap<string, string>, modelId: string, settings: object): void {
    const find = this.db.prepare('SELECT id FROM images WHERE path = ?');
    const recorded = this.db.prepare('SELECT 1 FROM image_history WHERE image_id = ? AND output_path = ?');
    this.db.transaction(() => {
      for (const [input, output] of outputsByInput) {
        for (const r of find.all(input) as { id: number }[]) {
          // A resumed job reports its earlier items again; record each export once.
          if (!recorded.get(r.id, output)) this.setStatus(r.id, 'exported', { action: 'export', modelId, settings, output });
        }
      }
    })();
  }

  history(imageId: number): HistoryEntry[] {
    return (
      this.db.prepare('SELECT id, action, model_id, settings_json, output_path, at FROM image_history WHERE image_id = ? ORDER BY id').all(imageId) as {
        id: number;
        action: string;
        model_id: string | null;
        settings_json: string | null;
        output_path: string | null;
        at: string;
      }[]
    ).map((r) => ({ id: r.id, action: r.action, modelId: r.model_id, settings: r.settings_json ? (JSON.parse(r.settings_json) as object) : null, output: r.output_path, at: r.at }));
  }

  /** Thumbnails being made now, by file: concurrent first requests share one encode. */
  private readonly thumbsInFlight = new Map<string, Promise<string>>();

  /** A 256 px WebP thumbnail, made on first request and cached by content hash. */
  async thumbnail(imageId: number): Promise<string> {
    const row = this.db.prepare('SELECT path, content_hash FROM images WHERE id = ?').get(imageId) as { path: string; content_hash: string } | undefined;
    if (!row) throw new RestoraError('NOT_FOUND', `No image ${imageId} in the library.`);
    const file = path.join(this.thumbsDir, row.content_hash.slice(0, 2), `${row.content_hash}.webp`);
    if (fs.existsSync(file)) return file;
    let making = this.thumbsInFlight.get(file);
    if (!making) {
      making = this.makeThumbnail(row.path, file, imageId).finally(() => this.thumbsInFlight.delete(file));
      this.thumbsInFlight.set(file, making);
    }
    return making;
  }

  private async makeThumbnail(source: string, file: string, imageId: number): Promise<string> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Unique per call: another process (the CLI beside the server) may make the same one.
    const tmp = `${file}.${process.pid}.${crypto.randomUUID()}.part`;
    try {
      await sharp(source, { pages: 1 }).autoOrient().resize(256, 256, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toFile(tmp);
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw new RestoraError('CORRUPT_IMAGE', `${source}: cannot make a thumbnail (${errorMessage(err)})`, source);
    }
    this.db.prepare('UPDATE images SET thumbnail_path = ? WHERE id = ?').run(file, imageId);
    return file;
  }
}
