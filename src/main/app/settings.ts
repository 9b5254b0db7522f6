/** User settings, one JSON file in the data folder, merged over defaults. */
import fs from 'node:fs';
import path from 'node:path';
import { COMPUTE_CHOICES, DEFAULT_TILE, OUTPUT_FORMATS, type OutputFormat, type Settings } from '../../shared/api.js';
import { writeFileAtomic } from '../imaging/atomic.js';

// The CPU by default: 'auto' starts Chromium to look for a GPU, which a user should opt into.
export const DEFAULT_SETTINGS: Settings = { tile: DEFAULT_TILE, compute: 'cpu', outputFormat: 'png', quality: 92, theme: 'system', defaults: {} };

export class SettingsStore {
  private readonly file: string;
  constructor(home: string) {
    this.file = path.join(home, 'settings.json');
  }

  get(): Settings {
    let raw: Partial<Settings> = {};
    try {
      raw = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<Settings>;
    } catch {
      // Missing or unreadable: defaults (a broken file is replaced on the next save).
    }
    const s = { ...DEFAULT_SETTINGS, ...raw, defaults: { ...(raw.defaults ?? {}) } };
    if (!OUTPUT_FORMATS.includes(s.outputFormat as OutputFormat)) s.outputFormat = DEFAULT_SETTINGS.outputFormat;
    if (!COMPUTE_CHOICES.includes(s.compute)) s.compute = DEFAULT_SETTINGS.compute;
    return s;
  }

  set(patch: Partial<Settings>): Settings {
    const next = { ...this.get(), ...patch };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, JSON.stringify(next, null, 2));
    return next;
  }
}
