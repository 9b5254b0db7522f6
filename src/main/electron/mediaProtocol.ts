/**
 * The restora-media:// protocol, minus Electron: which URLs name which files.
 * The renderer addresses images as restora-media://app/<mediaPath> and never by
 * file path; the app's resolver maps a media path (ids) to a file it knows about.
 */
import path from 'node:path';
import { MEDIA_PATH, MEDIA_SCHEME } from '../../shared/contract.js';

/** The only host media URLs use. */
export const MEDIA_HOST = 'app';

/**
 * The media path a URL names, or null. The URL must be exactly the canonical
 * `restora-media://app/<mediaPath>`: other schemes and hosts, credentials, ports,
 * queries, fragments, dot segments, backslashes and any percent-encoding (no valid
 * media path needs it, so `%2e%2e` and `%2F` never reach the check) are refused,
 * as is anything that is not a MEDIA_PATH.
 */
export function parseMediaUrl(url: string): string | null {
  if (url.length > 512) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${MEDIA_SCHEME}:` || u.hostname !== MEDIA_HOST) return null;
  // Work on the raw text, not the parsed URL: parsing would resolve `a/../b` and drop a bare `?`.
  const prefix = `${MEDIA_SCHEME}://${MEDIA_HOST}/`;
  if (!url.startsWith(prefix)) return null;
  const raw = url.slice(prefix.length);
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  return decoded === raw && MEDIA_PATH.test(decoded) ? decoded : null;
}

/** The resolver's answer is used only when it is an absolute path. */
function checkedFile(file: string | null): string | null {
  return file !== null && path.isAbsolute(file) ? file : null;
}

/** The file a media URL names, or null: parseMediaUrl's guard, then `resolve` maps the ids to a file. */
export function mediaRequestToPath(url: string, resolve: (mediaPath: string) => string | null): string | null {
  const mediaPath = parseMediaUrl(url);
  return mediaPath === null ? null : checkedFile(resolve(mediaPath));
}

export interface MediaRequestLike {
  url: string;
  method: string;
}

/**
 * The protocol handler: 405 for anything but GET/HEAD, 404 for what the guard or
 * resolver refuses (and for a file that cannot be read), else the file's response.
 * The resolver may be async (the app's converts formats a browser cannot show).
 */
export function createMediaHandler(resolve: (mediaPath: string) => string | null | Promise<string | null>, fetchFile: (file: string) => Promise<Response>): (request: MediaRequestLike) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405 });
    const notFound = () => new Response(null, { status: 404 });
    const mediaPath = parseMediaUrl(request.url);
    if (mediaPath === null) return notFound();
    try {
      const file = checkedFile(await resolve(mediaPath));
      if (file === null) return notFound();
      const res = await fetchFile(file);
      return res.ok ? res : notFound();
    } catch {
      // A file removed since it was resolved, or a failed conversion, reads as missing, not as a crash.
      return notFound();
    }
  };
}
