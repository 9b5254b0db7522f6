/**
 * Library figures for `npm run bench -- --library`: import rate for a generated
 * tree of 20,000 small images and the time for one page of 200 rows with a
 * filter. (The job engine's overhead is `--jobs`, bench/jobOverhead.ts.) Prints one JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { openDatabase } from '../src/main/db/database.js';
import { Library } from '../src/main/library/library.js';

const N = Number(process.env.RESTORA_BENCH_IMAGES ?? 20000);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-benchlib-'));
const out: Record<string, unknown> = {};

// 1. Library import and paging.
{
  const tree = path.join(work, 'tree');
  const tiny = await sharp({ create: { width: 16, height: 12, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  for (let i = 0; i < N; i++) {
    const dir = path.join(tree, `d${i % 50}`, `e${i % 7}`);
    if (i < 350) fs.mkdirSync(dir, { recursive: true });
    // Distinct content per file (so dedupe keeps all): a tEXt chunk before IEND.
    const buf = Buffer.concat([tiny.subarray(0, tiny.length - 12), pngText(`n${i}`), tiny.subarray(tiny.length - 12)]);
    fs.writeFileSync(path.join(dir, `img${i}.png`), buf);
  }
  const lib = new Library(openDatabase(path.join(work, 'lib.db')), path.join(work, 'thumbs'));
  const p = lib.createProject('bench');
  const t0 = performance.now();
  const r = await lib.importPaths(p, [tree]);
  const sec = (performance.now() - t0) / 1000;
  const times: number[] = [];
  for (let k = 0; k < 20; k++) {
    const t = performance.now();
    lib.list(p, { search: `img1${k}`, sort: 'size', descending: true, offset: 200, limit: 200 });
    lib.list(p, { format: 'png', sort: 'name', offset: k * 200, limit: 200 });
    times.push((performance.now() - t) / 2);
  }
  times.sort((a, b) => a - b);
  out.library = { images: N, added: r.added, importSec: +sec.toFixed(1), importPerSec: Math.round(r.added / sec), pageOf200Ms: { median: +times[10]!.toFixed(2), max: +times[19]!.toFixed(2) } };
}

fs.rmSync(work, { recursive: true, force: true });
console.log(JSON.stringify(out));

function pngText(text: string): Buffer {
  const data = Buffer.from(`Comment\0${text}`, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from('tEXt', 'ascii'), data]);
  let c = ~0;
  for (const b of td) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(~c >>> 0);
  return Buffer.concat([len, td, crc]);
}
