/**
 * Generates the bad-input corpus under the given folder (test/fixtures/bad-input):
 * small files covering every awkward case the engine must survive. Rerunnable;
 * output is deterministic.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

const out = process.argv[2] ?? 'test/fixtures/bad-input';
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const W = 24;
const H = 16;
function pattern(channels: number, w = W, h = H): Buffer {
  const b = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < channels; c++) b[(y * w + x) * channels + c] = (x * 10 + y * 7 + c * 60) % 256;
    }
  }
  return b;
}
const raw = (channels: 1 | 2 | 3 | 4, w = W, h = H) => sharp(pattern(channels, w, h), { raw: { width: w, height: h, channels } });

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

const write = (name: string, data: Buffer | string) => fs.writeFileSync(path.join(out, name), data);

// Fine inputs in awkward forms: each must come out right.
await raw(3)
  .jpeg({ quality: 90 })
  .withExif({ IFD0: { Make: 'RestoraTestCam' } })
  .withMetadata({ orientation: 6 })
  .toFile(path.join(out, 'exif-rotated.jpg'));
await raw(3).toColourspace('cmyk').jpeg().toFile(path.join(out, 'cmyk.jpg'));
await sharp(Buffer.from(Uint16Array.from(pattern(3), (v) => v * 257 + 3).buffer), { raw: { width: W, height: H, channels: 3 } })
  .toColourspace('rgb16')
  .png()
  .toFile(path.join(out, 'sixteen-bit.png'));
await raw(1).toColourspace('b-w').png().toFile(path.join(out, 'grayscale.png'));
await raw(4).png({ palette: true, colours: 16 }).toFile(path.join(out, 'palette-alpha.png'));
await raw(3, 1, 1).png().toFile(path.join(out, 'one-pixel.png'));
await raw(3).png().toFile(path.join(out, 'name with spaces.png'));
await raw(3).png().toFile(path.join(out, 'ünïcødé 写真.png'));
await raw(3)
  .withIccProfile('p3')
  .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Restora Test"/></rdf:RDF></x:xmpmeta>')
  .jpeg()
  .toFile(path.join(out, 'display-p3.jpg'));
await raw(3).gif().toFile(path.join(out, 'animated-first-frame.gif'));
await raw(3).webp().toFile(path.join(out, 'plain.webp'));

// Broken inputs: each must fail alone with a message naming the file.
write('zero-bytes.png', Buffer.alloc(0));
const jpg = await raw(3, 64, 64).jpeg().toBuffer();
write('truncated-jpeg.jpg', jpg.subarray(0, Math.floor(jpg.length / 2)));
const png = await raw(3, 64, 64).png({ compressionLevel: 0 }).toBuffer();
write('truncated-png.png', png.subarray(0, Math.floor(png.length / 2)));
let s = 12345;
write('random-bytes.png', Buffer.from(Array.from({ length: 2048 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255)));
write('text-file.png', 'This is a text file, not an image.\n');
// A valid PNG header claiming 60000x60000 pixels, with almost no data behind it.
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(60000, 0);
ihdr.writeUInt32BE(60000, 4);
ihdr[8] = 8;
ihdr[9] = 2;
write('huge-header.png', Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(100))), chunk('IEND', Buffer.alloc(0))]));
console.log(`wrote ${fs.readdirSync(out).length} files to ${out}`);
