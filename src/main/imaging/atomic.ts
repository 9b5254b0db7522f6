import fs from 'node:fs';
import path from 'node:path';

/**
 * Temp file in the target folder + rename: readers never see a partial file.
 * Temp names are `.<name>.<pid>.<time>.part`, which the batch engine cleans up on resume.
 */
function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.part`);
}

export function tempPrefix(file: string): string {
  return `.${path.basename(file)}.`;
}

export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(file);
  try {
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = tempName(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
