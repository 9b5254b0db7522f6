/**
 * A distillation whose steps run on WebGPU (Chromium's SwiftShader adapter here): the
 * teacher runs on the same engine as the training steps, gives what it gives on wasm, and
 * leaves the engine when its regions are labelled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { initBackend } from '../../src/main/ml/backend.js';
import { PageEngine } from '../../src/main/ml/engine/pageEngine.js';
import { expectReply } from '../../src/main/ml/engine/protocol.js';
import { openDatabase } from '../../src/main/db/database.js';
import { saveLayersModel, writeCard } from '../../src/main/ml/store/modelStore.js';
import { buildSeeded } from '../../src/main/ml/train/trainer.js';
import { loadTeacher } from '../../src/main/ml/train/teacher.js';
import { TrainService } from '../../src/main/training/trainService.js';
import type { ModelCard, ModelSummary, TeacherEstimate } from '../../src/shared/api.js';
import { synthImage, tmpDir, toUint8 } from '../helpers.js';
import { HAVE_CHROMIUM } from './helpers.js';

describe.skipIf(!HAVE_CHROMIUM)('a teacher on WebGPU', () => {
  const home = tmpDir();
  let teacher: ModelSummary;
  let gpu: PageEngine;

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', threads: 1 });
    const archOptions = { channels: 4, blocks: 1 };
    const m = buildSeeded({ arch: 'compact', scale: 2, archOptions, seed: 7 });
    const dir = path.join(home, 'models', 'tiny-teacher');
    await saveLayersModel(m, dir);
    const card: ModelCard = { id: 'tiny-teacher', name: 'tiny teacher', arch: 'compact', archOptions, scale: 2, params: m.countParams(), task: 'upscale', license: 'BSD-3-Clause' };
    writeCard(dir, card);
    m.dispose();
    teacher = { card, dir, source: 'user' };
    gpu = await PageEngine.start();
  }, 120_000);

  afterAll(async () => {
    await gpu?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("gives the wasm teacher's output (within one level) and is disposed from the engine after", async () => {
    const before = expectReply(await gpu.call({ op: 'memory' }), 'memory').memory.numTensors;
    const onGpu = await loadTeacher(teacher, 2, gpu);
    const onCpu = await loadTeacher(teacher, 2);
    const lr = toUint8(synthImage(40, 36, 2));
    const a = await onGpu.run(lr, 40, 36);
    const b = await onCpu.run(lr, 40, 36);
    expect(a.length).toBe(80 * 72 * 3);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThanOrEqual(1);
    await onGpu.close();
    await onCpu.close();
    expect(expectReply(await gpu.call({ op: 'memory' }), 'memory').memory.numTensors).toBe(before);
  });

  it('trains a student with its steps and its teacher on the GPU engine', async () => {
    const data = path.join(home, 'photos');
    fs.mkdirSync(data);
    for (let i = 0; i < 3; i++)
      await sharp(toUint8(synthImage(96, 96, i + 1)), { raw: { width: 96, height: 96, channels: 3 } })
        .png()
        .toFile(path.join(data, `p${i}.png`));
    const db = openDatabase(path.join(home, 'restora.db'));
    try {
      const svc = new TrainService(db, home, () => PageEngine.start());
      const seen: TeacherEstimate[] = [];
      const r = await svc.train(
        { name: 'gpu-student', dataDirs: [data], scale: 2, preset: 'none', arch: 'compact', archOptions: { channels: 4, blocks: 1 }, steps: 3, batch: 2, patch: 16, teacher: 'tiny-teacher', teacherRegions: 3 },
        undefined,
        undefined,
        undefined,
        undefined,
        { onTeacherEstimate: (e) => seen.push(e) },
      );
      expect(seen[0]).toMatchObject({ backend: 'webgpu', toCompute: 4 });
      expect(fs.readdirSync(path.join(r.runDir, 'teacher')).filter((f) => f.endsWith('.bin'))).toHaveLength(4);
      expect(JSON.parse(fs.readFileSync(path.join(r.modelDir, 'card.json'), 'utf8')).teacher.id).toBe('tiny-teacher');
    } finally {
      db.close();
    }
  }, 180_000);
});
