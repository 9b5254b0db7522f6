/**
 * Photos a browser sends (web mode cannot see the user's files by path): each is stored
 * once under RESTORA_HOME/uploads/<content hash>/<its name>, then imported like any file.
 * The same photo sent again lands on the stored copy (deduplicated by its bytes).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RestoraError } from '../../shared/errors.js';
import { IMAGE_EXTENSIONS } from '../imaging/io.js';

/** A photo larger than this is refused before it fills the disk (a 200 MP TIFF is about 1.2 GB). */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

/** A file name's limit on every common file system, in bytes (UTF-8), not characters. */
export const MAX_NAME_BYTES = 255;

/** Where an upload was stored, and whether this upload created it (a duplicate lands on the stored copy). */
export interface StoredUpload {
  file: string;
  created: boolean;
}

/** Streams `body` into the uploads folder and returns the stored file. */
export async function storeUpload(home: string, name: string, body: AsyncIterable<Buffer | Uint8Array>, maxBytes = MAX_UPLOAD_BYTES): Promise<StoredUpload> {
  // A name, never a path: what is stored is uploads/<hash>/<name> and nothing else.
  const base = name.trim();
  if (!base || base.startsWith('.') || /[\\/\0]/.test(base)) throw new RestoraError('USAGE', `"${name}": give a file name, not a path`);
  const nameBytes = Buffer.byteLength(base, 'utf8');
  if (nameBytes > MAX_NAME_BYTES) throw new RestoraError('USAGE', `${base.slice(0, 40)}...: the file name is ${nameBytes} bytes long; rename it to at most ${MAX_NAME_BYTES} bytes`);
  if (!IMAGE_EXTENSIONS.has(path.extname(base).toLowerCase())) {
    throw new RestoraError('UNSUPPORTED_FORMAT', `${base}: not an image by its extension (${[...IMAGE_EXTENSIONS].join(', ')})`, base);
  }
  const root = path.join(home, 'uploads');
  fs.mkdirSync(root, { recursive: true });
  const tmp = path.join(root, `.incoming-${crypto.randomUUID()}.part`);
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const out = fs.createWriteStream(tmp);
  try {
    for await (const chunk of body) {
      bytes += chunk.length;
      if (bytes > maxBytes) throw new RestoraError('IMAGE_TOO_LARGE', `${base}: more than ${Math.round(maxBytes / 1024 ** 2)} MB`, base);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (bytes === 0) throw new RestoraError('CORRUPT_IMAGE', `${base}: the file is empty`, base);
    const dir = path.join(root, hash.digest('hex').slice(0, 32));
    const existing = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => !f.endsWith('.part')) : undefined;
    if (existing) {
      fs.rmSync(tmp, { force: true });
      return { file: path.join(dir, existing), created: false };
    }
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, base);
    fs.renameSync(tmp, file);
    return { file, created: true };
  } catch (err) {
    out.destroy();
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Removes a stored upload nothing imported (a refused photo), and its folder when that is left empty. */
export function discardUpload(file: string): void {
  fs.rmSync(file, { force: true });
  try {
    fs.rmdirSync(path.dirname(file));
  } catch {
    // Not empty (another name of the same bytes) or already gone: either way nothing is left of this upload.
  }
}
