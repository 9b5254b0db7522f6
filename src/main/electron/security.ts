/** Hardening decisions for the Electron shell, as data, so they can be unit-tested. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: restora-media:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    spellcheck: false,
  } as const;
}

/** True when an IPC sender URL belongs to the app's own pages. */
export function isTrustedSender(url: string, devServerUrl?: string): boolean {
  if (url.startsWith('file://')) return true;
  return Boolean(devServerUrl && url.startsWith(devServerUrl));
}
