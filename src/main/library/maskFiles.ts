import path from 'node:path';

/** Where a library photo's damage mask is kept (the studio's Find damage / Save mask, the media route). */
export function maskFileOf(home: string, imageId: number): string {
  return path.join(home, 'masks', `${imageId}.png`);
}
