/**
 * Picks the scratch detector's mask rule (seed and grow thresholds, ml/infer/damage.ts
 * confidentMask) for precision, and writes it into the card:
 *   npx tsx scripts/tune-detector.ts --real DIR [--real DIR...] [--eval DIR] [--detector DIR] [--write]
 * Scores every rule of a grid on
 * - photos without damage (the --real folders: real photos, and the held-out training
 *   photos data/photos/val undamaged): the share of pixels marked, mean and max per photo;
 * - the held-out training photos aged and damaged with seed 1 (damageData.ts damagedPairs):
 *   IoU and recall against the true masks.
 * --eval folders (e.g. ../shared/data/real-photos) are only reported for the rule picked.
 * The studio's review rule (Find damage) is the best IoU that marks at most --review-max-mean %.
 * The rule kept is the best IoU among those that mark at most --max-mean % of a real
 * photo's pixels on average and --max-one % of any one (the bounds are 0.2 / 0.4;
 * the defaults leave room for photos not in these folders).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/ml/backend.js';
import { decodeImage, IMAGE_EXTENSIONS } from '../src/main/imaging/io.js';
import { decodeRgbFloat } from '../src/main/imaging/decode.js';
import { crop, type FloatImage } from '../src/main/imaging/imresize.js';
import { damagedPairs } from '../src/main/ml/train/damageData.js';
import { confidentMask, damageProbability, PROB_MAX, type MaskRule } from '../src/main/ml/infer/damage.js';
import { loadLayersModel, readCard, writeCard } from '../src/main/ml/store/modelStore.js';
import { bundledModelsDir } from '../src/main/paths.js';
import { SCRATCH_DETECTOR_ID } from '../src/shared/api.js';

const { values } = parseArgs({
  options: {
    real: { type: 'string', multiple: true, default: [] },
    /** Real photos only reported, never used to pick the rule (held out: ../shared/data/real-photos). */
    eval: { type: 'string', multiple: true, default: [] },
    detector: { type: 'string', default: path.join(bundledModelsDir(), SCRATCH_DETECTOR_ID) },
    'max-mean': { type: 'string', default: '0.1' },
    'max-one': { type: 'string', default: '0.3' },
    /** The studio's review rule (Find damage, a person corrects the marks): best IoU at most this % of a real photo on average. */
    'review-max-mean': { type: 'string', default: '0.75' },
    write: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
  },
});
await initBackend({ prefer: 'wasm', threads: Number(values.threads) });
const card = readCard(values.detector!);
const net = { model: await loadLayersModel(values.detector!), card };

type Probed = { name: string; prob: ArrayLike<number>; width: number; height: number; maxValue: number; truth?: Uint8Array };
async function probeDirs(dirs: readonly string[]): Promise<Probed[]> {
  const out: Probed[] = [];
  for (const dir of dirs) {
    for (const f of fs.readdirSync(dir).sort()) {
      if (!IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase())) continue;
      const img = await decodeImage(path.join(dir, f));
      out.push({ name: f, prob: await damageProbability(net, img.rgb, img.width, img.height, img.maxValue, 512), width: img.width, height: img.height, maxValue: PROB_MAX });
    }
  }
  return out;
}
const clean = await probeDirs(values.real!);
const heldOut = await probeDirs(values.eval!);
const held: { name: string; img: FloatImage }[] = [];
for (const f of fs.readdirSync('data/photos/val').sort()) {
  const im = await decodeRgbFloat(path.join('data/photos/val', f));
  const s = Math.min(384, im.width, im.height);
  held.push({ name: f, img: crop(im, Math.floor((im.width - s) / 2), Math.floor((im.height - s) / 2), s, s) });
}
const toPixels = (img: FloatImage) => Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
const heldClean: Probed[] = [];
for (const h of held) heldClean.push({ name: h.name, prob: await damageProbability(net, toPixels(h.img), h.img.width, h.img.height, 255, 512), width: h.img.width, height: h.img.height, maxValue: PROB_MAX });
const damaged: Probed[] = [];
for (const p of await damagedPairs(held, 1)) damaged.push({ name: p.name, prob: await damageProbability(net, toPixels(p.lr), p.lr.width, p.lr.height, 255, 512), width: p.lr.width, height: p.lr.height, maxValue: PROB_MAX, truth: p.mask! });

const marked = (m: Uint8Array) => m.reduce((a, b) => a + b, 0) / m.length;
function score(rule: MaskRule) {
  const real = clean.map((c) => 100 * marked(confidentMask(c.prob, c.width, c.height, c.maxValue, rule)));
  const evalReal = heldOut.map((c) => 100 * marked(confidentMask(c.prob, c.width, c.height, c.maxValue, rule)));
  const heldFalse = heldClean.map((c) => 100 * marked(confidentMask(c.prob, c.width, c.height, c.maxValue, rule)));
  let inter = 0;
  let union = 0;
  let truth = 0;
  for (const d of damaged) {
    const m = confidentMask(d.prob, d.width, d.height, d.maxValue, rule);
    for (let i = 0; i < m.length; i++) {
      inter += m[i]! & d.truth![i]!;
      union += m[i]! | d.truth![i]!;
      truth += d.truth![i]!;
    }
  }
  const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
  return { rule, realMean: mean(real), realMax: Math.max(0, ...real), heldMean: mean(heldFalse), iou: inter / Math.max(1, union), recall: inter / Math.max(1, truth), real, evalReal, evalMean: mean(evalReal), evalMax: Math.max(0, ...evalReal) };
}
const rows: ReturnType<typeof score>[] = [];
for (const seed of [0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9998]) {
  for (const grow of [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999]) if (grow <= seed) rows.push(score({ seed, grow }));
}
const f = (v: number, d = 3) => v.toFixed(d);
console.log('seed grow | real mean% max% | held clean mean% | damaged IoU recall | held-out real mean% max%');
for (const r of rows) console.log(`${r.rule.seed} ${r.rule.grow} | ${f(r.realMean)} ${f(r.realMax)} | ${f(r.heldMean)} | ${f(r.iou, 4)} ${f(r.recall, 4)} | ${f(r.evalMean)} ${f(r.evalMax)}`);
const ok = rows.filter((r) => r.realMean <= Number(values['max-mean']) && r.realMax <= Number(values['max-one']) && r.heldMean <= Number(values['max-mean']));
const best = ok.sort((a, b) => b.iou - a.iou)[0];
if (!best) {
  console.log('no rule keeps within the bounds');
  process.exit(1);
}
const review = rows.filter((r) => r.realMean <= Number(values['review-max-mean'])).sort((a, b) => b.iou - a.iou)[0] ?? best;
console.log(
  `review rule (Find damage): seed ${review.rule.seed} grow ${review.rule.grow}: real ${f(review.realMean)} % mean, ${f(review.realMax)} % max; damaged IoU ${f(review.iou, 4)}, recall ${f(review.recall, 4)}; held-out real ${f(review.evalMean)} % mean`,
);
console.log(`picked seed ${best.rule.seed} grow ${best.rule.grow}: real ${f(best.realMean)} % mean, ${f(best.realMax)} % max; held-out clean ${f(best.heldMean)} %; damaged IoU ${f(best.iou, 4)}, recall ${f(best.recall, 4)}`);
for (const [i, c] of clean.entries()) console.log(`  ${c.name}: ${f(best.real[i]!)} %`);
if (heldOut.length) {
  console.log(`held-out real photos (not used to pick): ${f(best.evalMean)} % mean, ${f(best.evalMax)} % max`);
  for (const [i, c] of heldOut.entries()) console.log(`  ${c.name}: ${f(best.evalReal[i]!)} %`);
}
if (values.write) {
  card.threshold = best.rule.seed;
  card.growThreshold = best.rule.grow;
  card.review = { threshold: review.rule.seed, growThreshold: review.rule.grow };
  card.scores = {
    ...card.scores,
    'mask-rule': { seed: best.rule.seed, grow: best.rule.grow },
    'review-rule': { seed: review.rule.seed, grow: review.rule.grow, iou: Math.round(review.iou * 1e4) / 1e4, recall: Math.round(review.recall * 1e4) / 1e4, realMarkedMeanPercent: Math.round(review.realMean * 1e3) / 1e3 },
    'heldout-val-damaged': { iou: Math.round(best.iou * 1e4) / 1e4, recall: Math.round(best.recall * 1e4) / 1e4, threshold: best.rule.seed },
    'real-photos-undamaged': { photos: clean.length, markedMeanPercent: Math.round(best.realMean * 1e3) / 1e3, markedMaxPercent: Math.round(best.realMax * 1e3) / 1e3 },
    'heldout-val-undamaged': { markedMeanPercent: Math.round(best.heldMean * 1e3) / 1e3 },
    ...(heldOut.length ? { 'shared-real-photos-undamaged': { photos: heldOut.length, markedMeanPercent: Math.round(best.evalMean * 1e3) / 1e3, markedMaxPercent: Math.round(best.evalMax * 1e3) / 1e3 } } : {}),
  };
  writeCard(values.detector!, card);
  console.log(`wrote ${values.detector}/card.json`);
}
