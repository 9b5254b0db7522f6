/** Hardening decisions for the Electron shell, as data, so they can be unit-tested. */
import { MEDIA_SCHEME } from '../../shared/contract.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  `img-src 'self' data: ${MEDIA_SCHEME}:`,
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Isolation and sandboxing every window gets, the studio's and the hidden compute window alike. */
export const SANDBOXED_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  // A file dropped outside a drop zone must not replace the app page.
  navigateOnDragDrop: false,
  safeDialogs: true,
  spellcheck: false,
} as const;

export function secureWebPreferences(preloadPath: string) {
  return { preload: preloadPath, ...SANDBOXED_PREFERENCES } as const;
}

/**
 * The media scheme's privileges: standard (so URLs are parsed and normalised like
 * http), secure (so a secure page may load it), fetchable; nothing else (no CSP
 * bypass, no service workers, no CORS).
 */
export const MEDIA_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true } as const;

/** True when an IPC sender URL belongs to the app's own pages. */
export function isTrustedSender(url: string, devServerUrl?: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  // Production pages are loaded from the app's files; navigation away is denied.
  if (u.protocol === 'file:') return true;
  if (!devServerUrl) return false;
  try {
    // Compare origins, not prefixes: 'http://localhost:5173' must not trust ':51730' or '.evil.com'.
    return u.origin === new URL(devServerUrl).origin;
  } catch {
    return false;
  }
}

/**
 * True when a navigation or redirect target is the app's own page: the same file
 * as the entry page (any query or hash), or the dev server's origin. Everything
 * else (other files, the web) is refused.
 */
export function isAppPageUrl(url: string, entryUrl: string): boolean {
  let u: URL;
  let entry: URL;
  try {
    u = new URL(url);
    entry = new URL(entryUrl);
  } catch {
    return false;
  }
  if (entry.protocol === 'file:') return u.protocol === 'file:' && u.host === entry.host && u.pathname === entry.pathname;
  return u.origin === entry.origin;
}
