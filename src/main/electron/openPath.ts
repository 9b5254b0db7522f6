/**
 * What `app.openPath` may open with the desktop's default handler. Opening a file
 * by its type can run it (an .exe, a .desktop file, a script), so a request from
 * the renderer may open only folders and image files, never anything else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RestoraError } from '../../shared/errors.js';

export const OPENABLE_FILE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.avif', '.gif', '.bmp']);

/**
 * Returns `openPath(p)` for the handlers: checks the path, then asks the shell
 * (Electron's shell.openPath answers an error string, empty on success).
 */
export function createOpenPath(openWithShell: (p: string) => Promise<string>, stat: (p: string) => Promise<{ isDirectory(): boolean; isFile(): boolean }> = (p) => fs.promises.stat(p)): (p: string) => Promise<void> {
  return async (p) => {
    if (!path.isAbsolute(p)) throw new RestoraError('USAGE', `Cannot open ${p}: not an absolute path`, p);
    let s: { isDirectory(): boolean; isFile(): boolean };
    try {
      s = await stat(p);
    } catch (err) {
      throw new RestoraError('NOT_FOUND', `Cannot open ${p}: it does not exist`, p, { cause: err });
    }
    const ok = s.isDirectory() || (s.isFile() && OPENABLE_FILE_EXTENSIONS.has(path.extname(p).toLowerCase()));
    if (!ok) throw new RestoraError('USAGE', `Cannot open ${p}: only folders and image files can be opened`, p);
    const failure = await openWithShell(p);
    if (failure) throw new RestoraError('INTERNAL', `Cannot open ${p}: ${failure}`, p);
  };
}
