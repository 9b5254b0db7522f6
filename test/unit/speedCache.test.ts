import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpeedCache } from '../../src/main/ml/store/speedCache.js';
import { tmpDir } from '../helpers.js';

describe('speed cache', () => {
  it('keeps a running mean per model/backend/threads and persists it', () => {
    const home = tmpDir();
    const c = new SpeedCache(home);
    const k = SpeedCache.key('upscale', 'restora-x2', 'wasm', 2);
    expect(k).toBe('upscale:restora-x2@wasmx2');
    c.record(k, 1, 'MP/s');
    c.record(k, 3, 'MP/s');
    expect(new SpeedCache(home).get(k)).toMatchObject({ value: 2, samples: 2, unit: 'MP/s' });
    c.record(k, Number.NaN, 'MP/s');
    expect(c.get(k)!.samples).toBe(2);
    expect(JSON.parse(fs.readFileSync(path.join(home, 'speed.json'), 'utf8'))[k].value).toBe(2);
  });

  it('a corrupt cache file reads as empty instead of failing the job', () => {
    const home = tmpDir();
    fs.writeFileSync(path.join(home, 'speed.json'), '{not json');
    expect(new SpeedCache(home).read()).toEqual({});
  });
});
