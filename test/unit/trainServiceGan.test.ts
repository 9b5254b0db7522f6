import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { initBackend } from '../../src/main/ml/backend.js';
import { openDatabase } from '../../src/main/db/database.js';
import { TrainService } from '../../src/main/training/trainService.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';

describe('TrainService with gan: true', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('pretrains, then runs the GAN stage; metric points carry g_loss/d_loss; the model lands in the library', async () => {
    const home = tmpDir();
    const data = path.join(home, 'photos');
    fs.mkdirSync(data);
    for (let i = 0; i < 3; i++) {
      const img = synthImage(40, 40, i + 1);
      await sharp(toUint8(img), { raw: { width: 40, height: 40, channels: 3 } })
        .png()
        .toFile(path.join(data, `p${i}.png`));
    }
    const db = openDatabase(path.join(home, 'restora.db'));
    const svc = new TrainService(db, home);
    const result = await svc.train({
      name: 'gan-try',
      dataDirs: [data],
      scale: 2,
      preset: 'bicubic',
      arch: 'compact',
      archOptions: { channels: 4, blocks: 1 },
      steps: 4,
      batch: 1,
      patch: 8,
      gan: true,
    });
    const rows = db.prepare('SELECT step, g_loss AS g, d_loss AS d FROM metric_points ORDER BY step').all() as { step: number; g: number | null; d: number | null }[];
    // Pixel phase: steps 1-4 (a point at the last one); GAN phase: 2 steps, recorded as step 6.
    expect(rows.find((r) => r.step === 4)).toMatchObject({ g: null, d: null });
    const last = rows.find((r) => r.step === 6)!;
    expect(Number.isFinite(last.g) && Number.isFinite(last.d)).toBe(true);
    expect(fs.existsSync(path.join(result.runDir, 'gan', 'checkpoint', 'discriminator.bin'))).toBe(true);
    expect(fs.existsSync(path.join(result.modelDir, 'model.json'))).toBe(true);
    expect(Number.isFinite(result.heldOut.psnr)).toBe(true);
    db.close();
  }, 300_000);
});
