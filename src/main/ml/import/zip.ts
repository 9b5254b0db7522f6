/**
 * A zip reader for PyTorch checkpoints that trusts nothing an archive claims: only the
 * central directory is parsed up front, entries are read one at a time on request,
 * stored entries are views of the file (no copy), and deflated ones are inflated into a
 * buffer of their declared size only when that size fits the archive's budget (a few KB
 * must not inflate to gigabytes); an entry that inflates to any other size is refused.
 * Layout per PKWARE's APPNOTE (zip64 included: torch writes it for big archives).
 */
import { Inflate } from 'fflate';
import { RestoraError } from '../../../shared/errors.js';
import { sizeText } from '../store/safeFile.js';

interface Entry {
  name: string;
  method: number;
  flags: number;
  compressed: number;
  size: number;
  localOffset: number;
}

const SLICE = 16 * 1024;

export interface ZipReader {
  names(): string[];
  /** The entry's bytes (a view of the archive when stored), or undefined when absent. */
  read(name: string): Uint8Array | undefined;
}

/** What all inflated entries together may take: 32x the archive (real weights barely compress) + 1 MB, at most `cap`. */
export function inflateBudget(archiveBytes: number, cap: number): number {
  return Math.min(cap, 32 * archiveBytes + 1024 ** 2);
}

export function openZip(buf: Uint8Array, file: string, cap: number): ZipReader {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string): never => {
    throw new RestoraError('MODEL_INVALID', `${file}: the zip archive is damaged or truncated (${why})`, file);
  };
  const u16 = (o: number) => (o + 2 <= buf.byteLength ? view.getUint16(o, true) : bad('a record runs past the end'));
  const u32 = (o: number) => (o + 4 <= buf.byteLength ? view.getUint32(o, true) : bad('a record runs past the end'));
  const u64 = (o: number) => {
    if (o + 8 > buf.byteLength) bad('a record runs past the end');
    const v = view.getBigUint64(o, true);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : bad('a zip64 size beyond any file');
  };

  // End of central directory: the last 22 bytes, or earlier by a comment of at most 64 KB.
  let eocd = -1;
  for (let o = buf.byteLength - 22; o >= 0 && o >= buf.byteLength - 22 - 0xffff; o--) {
    if (view.getUint32(o, true) === 0x06054b50) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) bad('no end of central directory');
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (eocd >= 20 && u32(eocd - 20) === 0x07064b50) {
    const z = u64(eocd - 12);
    if (u32(z) !== 0x06064b50) bad('a broken zip64 record');
    count = u64(z + 32);
    cdSize = u64(z + 40);
    cdOffset = u64(z + 48);
  }
  // Each central record is at least 46 bytes: a count the directory cannot hold is a lie.
  if (cdOffset + cdSize > buf.byteLength || count * 46 > cdSize) bad('the central directory does not fit the file');

  const entries = new Map<string, Entry>();
  const names = new TextDecoder();
  let o = cdOffset;
  for (let i = 0; i < count; i++) {
    if (u32(o) !== 0x02014b50) bad('a broken central directory record');
    const nameLen = u16(o + 28);
    const extraLen = u16(o + 30);
    const commentLen = u16(o + 32);
    if (o + 46 + nameLen + extraLen > buf.byteLength) bad('a record runs past the end');
    const e: Entry = {
      name: names.decode(buf.subarray(o + 46, o + 46 + nameLen)),
      flags: u16(o + 8),
      method: u16(o + 10),
      compressed: u32(o + 20),
      size: u32(o + 24),
      localOffset: u32(o + 42),
    };
    // zip64: the fields set to 0xffffffff follow in the extra field 0x0001, in this order.
    for (let x = o + 46 + nameLen; x + 4 <= o + 46 + nameLen + extraLen; ) {
      const id = u16(x);
      const len = u16(x + 2);
      if (id === 0x0001) {
        let f = x + 4;
        if (e.size === 0xffffffff) {
          e.size = u64(f);
          f += 8;
        }
        if (e.compressed === 0xffffffff) {
          e.compressed = u64(f);
          f += 8;
        }
        if (e.localOffset === 0xffffffff) e.localOffset = u64(f);
      }
      x += 4 + len;
    }
    entries.set(e.name, e);
    o += 46 + nameLen + extraLen + commentLen;
  }

  const budget = inflateBudget(buf.byteLength, cap);
  let inflated = 0;
  return {
    names: () => [...entries.keys()],
    read(name) {
      const e = entries.get(name);
      if (!e) return undefined;
      if (e.flags & 1) throw new RestoraError('MODEL_INVALID', `${file}: zip entry ${name} is encrypted`, file);
      if (u32(e.localOffset) !== 0x04034b50) bad(`entry ${name} has no local header`);
      const start = e.localOffset + 30 + u16(e.localOffset + 26) + u16(e.localOffset + 28);
      if (start + e.compressed > buf.byteLength) bad(`entry ${name} runs past the end of the file`);
      const raw = buf.subarray(start, start + e.compressed);
      if (e.method === 0) {
        if (e.size !== e.compressed) bad(`stored entry ${name} declares ${e.size} bytes and holds ${e.compressed}`);
        return raw;
      }
      if (e.method !== 8) throw new RestoraError('MODEL_INVALID', `${file}: zip entry ${name} uses compression method ${e.method}; Restora reads stored and deflated entries`, file);
      if (inflated + e.size > budget) {
        throw new RestoraError('MODEL_INVALID', `${file}: zip entry ${name} inflates to ${sizeText(e.size)} (declared), over the limit of ${sizeText(budget - inflated)} left for this ${sizeText(buf.byteLength)} archive: refused as a zip bomb`, file);
      }
      inflated += e.size;
      // Streamed in 16 KB slices (at most ~16 MB out each): output past the declared size stops it at once.
      const out = new Uint8Array(e.size);
      let got = 0;
      let over = false;
      const inflater = new Inflate((chunk) => {
        if (got + chunk.byteLength > e.size) over = true;
        else out.set(chunk, got);
        got += chunk.byteLength;
      });
      try {
        for (let at = 0; at < raw.byteLength && !over; at += SLICE) inflater.push(raw.subarray(at, at + SLICE), at + SLICE >= raw.byteLength);
        if (raw.byteLength === 0) inflater.push(raw, true);
      } catch (err) {
        return bad(`entry ${name}: ${(err as Error).message}`);
      }
      if (got !== e.size) bad(`entry ${name} declares ${e.size} bytes and inflates to ${over ? 'more' : got}`);
      return out;
    },
  };
}
