/**
 * A disk that fills during a training checkpoint: the run stops with a clear
 * message, the last good checkpoint stays intact (no partial one left), and the
 * run resumes from it once there is space again. Uses a real 1 MB tmpfs (needs
 * mount rights; skipped with the reason where there are none).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/ml/backend.js';
import { Trainer, type TrainerConfig } from '../../src/main/ml/train/trainer.js';
import { RestoraError } from '../../src/shared/errors.js';
import { tmpDir } from '../helpers.js';
import { TINY_PAIRS, TINY_TRAINER_CONFIG } from '../trainerFixture.js';

const pairs = TINY_PAIRS;
const config: TrainerConfig = { ...TINY_TRAINER_CONFIG, validateEvery: 100 };

function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler.bin');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

describe('training checkpoint on a full disk', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
  });

  it('stops clearly, keeps the last good checkpoint, and resumes once there is space', async (ctx) => {
    const mnt = tmpDir('restora-fulldisk-');
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'restora-train-test', mnt], { encoding: 'utf8' });
    if (mount.status !== 0) ctx.skip(`cannot mount a tmpfs here: ${mount.stderr || mount.error?.message}`);
    try {
      const runDir = path.join(mnt, 'run');
      const first = await Trainer.open(config, pairs, [], runDir);
      await first.run({ untilStep: 3 });
      const filler = fillDisk(mnt);
      const err = await first.run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RestoraError);
      expect((err as RestoraError).code).toBe('WRITE_FAILED');
      expect((err as RestoraError).message).toMatch(/checkpoint of step 6 .*the disk is full.*last good checkpoint is kept/);
      const state = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoint', 'state.json'), 'utf8')) as { step: number };
      expect(state.step).toBe(3);
      expect(fs.existsSync(path.join(runDir, 'checkpoint.tmp'))).toBe(false);
      first.model.dispose();

      fs.rmSync(filler);
      const resumed = await Trainer.open(config, pairs, [], runDir);
      expect(resumed.currentStep).toBe(3);
      await resumed.run();
      expect(resumed.currentStep).toBe(12);
      resumed.model.dispose();
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
