/**
 * Maps the UI's media paths (see MEDIA_PATH in the contract) to files, by id
 * through the database: the UI never names a file, so neither the web server nor
 * the Electron protocol can be talked into serving anything outside the library,
 * its results and the wizard's previews. Formats a browser cannot show (TIFF,
 * 16-bit...) are served as a cached 8-bit PNG view.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { MEDIA_PATH } from '../../shared/contract.js';
import type { Library } from '../library/library.js';
import { maskFileOf } from '../library/maskFiles.js';

export interface MediaResolver {
  /** The file to serve for a media path, or null (unknown, missing, or not allowed). */
  resolve(mediaPath: string): Promise<string | null>;
}

const BROWSER_FORMATS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.avif']);

async function viewable(file: string, cacheDir: string): Promise<string | null> {
  if (!fs.existsSync(file)) return null;
  if (BROWSER_FORMATS.has(path.extname(file).toLowerCase())) return file;
  const st = fs.statSync(file);
  const key = crypto.createHash('sha1').update(`${file}\0${st.size}\0${st.mtimeMs}`).digest('hex');
  const view = path.join(cacheDir, `${key}.png`);
  if (!fs.existsSync(view)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${view}.${process.pid}.${crypto.randomUUID()}.part`;
    try {
      await sharp(file, { pages: 1, limitInputPixels: 268_402_689 }).autoOrient().toColourspace('srgb').png().toFile(tmp);
      fs.renameSync(tmp, view);
    } catch {
      fs.rmSync(tmp, { force: true });
      return null;
    }
  }
  return view;
}

/** The face step's two ends kept beside a studio result: the result without its faces, and with them at strength 1. */
export function faceSideFile(output: string, withFaces: boolean): string {
  return `${output}.${withFaces ? 'faces' : 'nofaces'}.png`;
}

export function createMediaResolver(home: string, library: () => Library, sampleOf: (runId: number) => string | null = () => null): MediaResolver {
  const cacheDir = path.join(home, 'cache', 'view');
  return {
    async resolve(mediaPath) {
      const m = MEDIA_PATH.exec(mediaPath);
      if (!m) return null;
      const [, kind, idText, previewId, n, side, runId] = m;
      if (runId) return sampleOf(Number(runId));
      if (previewId) {
        const file = path.join(home, 'previews', previewId, `${n}-${side}.png`);
        return fs.existsSync(file) ? file : null;
      }
      const id = Number(idText);
      try {
        if (kind === 'thumb') return await library().thumbnail(id);
        if (kind === 'mask') {
          const file = maskFileOf(home, id);
          return fs.existsSync(file) ? file : null;
        }
        if (kind === 'image') {
          const p = library().pathOf(id);
          return p ? await viewable(p, cacheDir) : null;
        }
        const out = library().outputOf(id);
        // A result with a face step keeps its two ends beside it: without the faces, and with them at full strength.
        if (kind === 'result-nofaces' || kind === 'result-faces') return out ? await viewable(faceSideFile(out, kind === 'result-faces'), cacheDir) : null;
        return out ? await viewable(out, cacheDir) : null;
      } catch {
        return null;
      }
    },
  };
}
