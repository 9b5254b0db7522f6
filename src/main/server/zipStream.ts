/**
 * Streams files into a zip on an HTTP response without holding the archive, or any whole
 * file, in memory: fflate's streaming Zip with stored entries (the outputs are PNG, JPEG,
 * WebP or AVIF: compressed already), fed file chunk by file chunk, waiting for the socket
 * to drain. fflate writes no ZIP64 records, so an archive is kept under 4 GB.
 */
import fs from 'node:fs';
import type http from 'node:http';
import { Zip, ZipPassThrough } from 'fflate';

/** Plain zip (no ZIP64): offsets and sizes are 32-bit. */
export const MAX_ZIP_BYTES = 4 * 1024 ** 3 - 64 * 1024 ** 2;

export async function streamZip(res: http.ServerResponse, files: readonly { name: string; file: string }[]): Promise<void> {
  let failed: Error | null = null;
  const zip = new Zip((err, chunk, final) => {
    if (err) failed = err;
    else if (!res.destroyed) res.write(chunk);
    if (final || err) res.end();
  });
  const drained = () =>
    res.writableNeedDrain && !res.destroyed
      ? new Promise<void>((r) => {
          res.once('drain', r);
          res.once('close', r);
        })
      : Promise.resolve();
  for (const f of files) {
    if (res.destroyed || failed) break;
    const entry = new ZipPassThrough(f.name);
    zip.add(entry);
    for await (const chunk of fs.createReadStream(f.file)) {
      if (res.destroyed) break;
      entry.push(chunk as Buffer);
      await drained();
    }
    entry.push(new Uint8Array(0), true);
  }
  if (res.destroyed) zip.terminate();
  else zip.end();
}
