/** restora faces. */
import { type DetectedFace } from '../../shared/api.js';
import { errorMessage } from '../../shared/errors.js';
import { UsageError, parse, intOption, backendOption } from '../common.js';
import { USAGE } from '../usage.js';

/** `restora faces FILES...`: each photo's faces (box, five points, score), for the face step and for checking it. */
export async function cmdFaces(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { 'min-score': { type: 'string' } });
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length === 0) throw new UsageError('faces takes one or more image FILES');
  const minScore = values['min-score'] === undefined ? 0.5 : Number(values['min-score']);
  if (!(minScore > 0 && minScore < 1)) throw new UsageError(`--min-score must be a number between 0 and 1, got "${values['min-score']}"`);
  const { initBackend } = await import('../../main/ml/backend.js');
  const { detectFaces } = await import('../../main/ml/faces/faceDetector.js');
  const { decodeImage } = await import('../../main/imaging/io.js');
  const threads = intOption(values.threads, 'threads', 1, 256);
  await initBackend({ prefer: backendOption(values.backend) ?? 'wasm', ...(threads ? { threads } : {}) });
  const out: { file: string; faces?: DetectedFace[]; error?: string }[] = [];
  for (const file of positionals) {
    try {
      const img = await decodeImage(file);
      // The detector reads 8-bit RGB; a 16-bit photo is reduced for it (the boxes are the same).
      const rgb = img.maxValue === 255 ? (img.rgb as Uint8Array) : Uint8Array.from(img.rgb, (v) => Math.round((v * 255) / img.maxValue));
      const faces = await detectFaces(rgb, img.width, img.height, minScore);
      out.push({ file, faces });
      if (!values.json) {
        console.log(`${file}: ${faces.length === 0 ? 'no face' : `${faces.length} face${faces.length === 1 ? '' : 's'}`}`);
        for (const f of faces) {
          const b = f.box;
          console.log(
            `  ${Math.round(b.width)}x${Math.round(b.height)} at ${Math.round(b.x)},${Math.round(b.y)}  score ${f.score.toFixed(2)}  eyes ${f.points
              .slice(0, 2)
              .map((p) => p.map(Math.round).join(','))
              .join(' ')}  nose ${f.points[2]!.map(Math.round).join(',')}  mouth ${f.points
              .slice(3)
              .map((p) => p.map(Math.round).join(','))
              .join(' ')}`,
          );
        }
      }
    } catch (err) {
      // A bad file fails alone, named.
      out.push({ file, error: errorMessage(err, 'cli') });
      process.stderr.write(`restora: ${errorMessage(err, 'cli')}\n`);
    }
  }
  if (values.json) console.log(JSON.stringify(out, null, 2));
  return out.some((o) => o.error) ? 1 : 0;
}
