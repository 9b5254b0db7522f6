/**
 * Speed measured on this machine, from real work: output MP/s per model for
 * upscaling and steps/s per architecture for training, keyed by backend and
 * thread count. Shown next to model and backend choices; updated after each job.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../imaging/atomic.js';

export interface SpeedEntry {
  value: number;
  unit: 'MP/s' | 'steps/s';
  samples: number;
  updated: string;
}

type SpeedTable = Record<string, SpeedEntry>;

export class SpeedCache {
  private readonly file: string;
  constructor(home: string) {
    this.file = path.join(home, 'speed.json');
  }

  static key(kind: 'upscale' | 'train', subject: string, backend: string, threads: number): string {
    return `${kind}:${subject}@${backend}x${threads}`;
  }

  read(): SpeedTable {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as SpeedTable;
    } catch {
      return {};
    }
  }

  get(key: string): SpeedEntry | undefined {
    return this.read()[key];
  }

  /** Running mean over the last ~10 samples, so one odd job does not dominate. */
  record(key: string, value: number, unit: SpeedEntry['unit']): void {
    if (!Number.isFinite(value) || value <= 0) return;
    const table = this.read();
    const prev = table[key];
    const n = Math.min((prev?.samples ?? 0) + 1, 10);
    const mean = prev ? prev.value + (value - prev.value) / n : value;
    table[key] = { value: Math.round(mean * 1000) / 1000, unit, samples: n, updated: new Date().toISOString() };
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileAtomic(this.file, JSON.stringify(table, null, 2));
    } catch {
      // A read-only home only loses the estimate, never the job.
    }
  }
}
