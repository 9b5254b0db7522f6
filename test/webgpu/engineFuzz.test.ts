/**
 * The real page engine (headless Chromium, WebGPU on SwiftShader) under hostile traffic on
 * its port (issue 24): while a model is loaded, generated requests, upgrades and raw bytes
 * must neither reach the engine nor change what it computes.
 */
import { describe, expect, it } from 'vitest';
import { chromiumLauncher } from '../../src/main/ml/engine/chromium.js';
import { PageEngine } from '../../src/main/ml/engine/pageEngine.js';
import { expectReply, type EngineRequest } from '../../src/main/ml/engine/protocol.js';
import { hostilePageTraffic } from '../pageFuzz.js';
import { HAVE_CHROMIUM, seededArray, seededModel } from './helpers.js';

describe.skipIf(!HAVE_CHROMIUM)('the WebGPU page engine under fuzz', () => {
  it('computes the same tile before and after 300 hostile requests on its port', async () => {
    let address = '';
    const engine = await PageEngine.start({ launcher: (url) => ((address = url), chromiumLauncher(url)), startTimeoutMs: 60_000 });
    try {
      expectReply(await engine.call(await seededModel('m', 'compact', 2, {})), 'loaded');
      const tile: EngineRequest = { op: 'predict', model: 'm', x: seededArray(16 * 16 * 3, 5, 0, 255), height: 16, width: 16, padH: 0, padW: 0, stats: null, maxValue: 255 };
      const before = expectReply(await engine.call(tile), 'predicted').y;
      const report = await hostilePageTraffic(Number(new URL(address).port), 7, 300);
      console.log(`page fuzz (Chromium): ${JSON.stringify(report.statuses)} by status`);
      expect(report.bad).toEqual([]);
      expect(report.upgradesAccepted).toBe(0);
      const after = expectReply(await engine.call(tile), 'predicted').y;
      expect(Array.from(after)).toEqual(Array.from(before));
    } finally {
      await engine.close();
    }
  }, 180_000);
});
