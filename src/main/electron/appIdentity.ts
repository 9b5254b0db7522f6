/** The desktop app's name and icon, as the window, the dock/taskbar and the installers show them. */
import path from 'node:path';

export const APP_NAME = 'Restora';

/** resources/icon.png seen from the built main process (out/main), inside or outside an installed app. */
export function appIconPath(mainDir: string): string {
  return path.resolve(mainDir, '..', '..', 'resources', 'icon.png');
}
