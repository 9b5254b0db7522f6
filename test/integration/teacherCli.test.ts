/** restora train --teacher from the command line: the estimate, the run, the card, the usage errors and the --yes gate. */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { initBackend } from '../../src/main/ml/backend.js';
import { saveLayersModel, writeCard } from '../../src/main/ml/store/modelStore.js';
import { buildSeeded } from '../../src/main/ml/train/trainer.js';
import { runCli, synthImage, tmpDir, toUint8 } from '../helpers.js';

let home = '';
let photos = '';

async function installTeacher(id: string, archOptions: Record<string, number>): Promise<void> {
  const m = buildSeeded({ arch: 'compact', scale: 2, archOptions, seed: 7 });
  const dir = path.join(home, 'models', id);
  await saveLayersModel(m, dir);
  writeCard(dir, { id, name: id, arch: 'compact', archOptions, scale: 2, params: m.countParams(), task: 'upscale', license: 'BSD-3-Clause' });
  m.dispose();
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', threads: 1 });
  home = tmpDir('restora-home-');
  photos = tmpDir('restora-photos-');
  for (let i = 0; i < 3; i++) {
    await sharp(toUint8(synthImage(96, 96, i + 1)), { raw: { width: 96, height: 96, channels: 3 } })
      .png()
      .toFile(path.join(photos, `p${i}.png`));
  }
  await installTeacher('tiny-teacher', { channels: 4, blocks: 1 });
  // About 3.8 GFLOP per region: 100,000 regions take hours on any CPU.
  await installTeacher('slow-teacher', { channels: 64, blocks: 8 });
});

const student = ['--opt', 'channels=4', '--opt', 'blocks=1', '--steps', '3', '--batch', '2', '--patch', '16'];

describe('restora train --teacher', () => {
  it('prints the measured estimate, labels the regions once, trains, and the card records the teacher', () => {
    const r = runCli(home, ['train', '--teacher', 'tiny-teacher', '--data', photos, '--scale', '2', '--name', 'kd', '--teacher-regions', '3', ...student], 300_000);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/teacher tiny-teacher on wasm: \d+\.\d\d s per 80px region x 4 region\(s\) to compute = about [\d.]+ min/);
    expect(r.err).toMatch(/teacher: region 4\/4/);
    expect(r.err).toMatch(/against the teacher tiny-teacher/);
    const card = JSON.parse(fs.readFileSync(path.join(home, 'models', 'kd', 'card.json'), 'utf8'));
    expect(card.teacher).toMatchObject({ id: 'tiny-teacher', license: 'BSD-3-Clause', regions: 3, inputs: 'the photos themselves' });
    expect(fs.readdirSync(path.join(home, 'runs', 'kd', 'teacher')).filter((f) => f.endsWith('.bin'))).toHaveLength(4);
  });

  it('a teacher of another scale or a damage net is a usage error naming the choices, and so is a teacher flag without --teacher; nothing is created', () => {
    const scale = runCli(home, ['train', '--teacher', 'tiny-teacher', '--data', photos, '--scale', '4', '--name', 'bad-scale', ...student]);
    expect(scale.code).toBe(2);
    expect(scale.err).toMatch(/tiny-teacher upscales x2; this run is x4.*Models that can teach a x4 run: .*restora-x4/);
    const damage = runCli(home, ['train', '--teacher', 'restora-inpaint', '--data', photos, '--scale', '2', '--name', 'bad-net', ...student]);
    expect(damage.code).toBe(2);
    expect(damage.err).toMatch(/restora-inpaint is a damage net .*Models that can teach a x2 run: .*tiny-teacher/);
    const bare = runCli(home, ['train', '--teacher-regions', '5', '--data', photos, '--scale', '2', '--name', 'bad-flag', ...student]);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/go with --teacher MODEL/);
    for (const n of ['bad-scale', 'bad-net', 'bad-flag']) expect(fs.existsSync(path.join(home, 'runs', n)), n).toBe(false);
  });

  it('over an hour of teacher time is refused without --yes, with the estimate', () => {
    const r = runCli(home, ['train', '--teacher', 'slow-teacher', '--teacher-regions', '100000', '--data', photos, '--scale', '2', '--name', 'costly', ...student]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/teacher slow-teacher on wasm: [\d.]+ s per 80px region x 100001 region\(s\) to compute = about \d+ min/);
    expect(r.err).toMatch(/would take over an hour: .*Add --yes to start anyway/);
    expect(fs.existsSync(path.join(home, 'runs', 'costly'))).toBe(false);
  });
});
