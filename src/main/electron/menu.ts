/**
 * The application menu as a plain template, minus Electron: index.ts hands it to
 * Menu.buildFromTemplate (which also checks, at compile time, that these types fit
 * Electron's MenuItemConstructorOptions).
 */

/** The Electron menu roles this menu uses. */
export type MenuRole =
  | 'appMenu'
  | 'about'
  | 'quit'
  | 'close'
  | 'undo'
  | 'redo'
  | 'cut'
  | 'copy'
  | 'paste'
  | 'pasteAndMatchStyle'
  | 'delete'
  | 'selectAll'
  | 'reload'
  | 'forceReload'
  | 'toggleDevTools'
  | 'resetZoom'
  | 'zoomIn'
  | 'zoomOut'
  | 'togglefullscreen'
  | 'minimize'
  | 'zoom'
  | 'front'
  | 'window'
  | 'help';

export interface MenuTemplateItem {
  label?: string;
  role?: MenuRole;
  type?: 'separator';
  accelerator?: string;
  click?: () => void;
  submenu?: MenuTemplateItem[];
}

/** What the menu asks the app to do; index.ts decides how (dialogs, messages to the renderer). */
export interface MenuActions {
  importFolder(): void;
  exportImages(): void;
  showAbout(): void;
}

export interface MenuOptions {
  appName: string;
  /** Dev builds get reload and devtools; production gets neither (no way into the renderer's internals). */
  isDev: boolean;
  platform: NodeJS.Platform;
  actions: MenuActions;
}

export const ACCELERATORS = { importFolder: 'CmdOrCtrl+O', exportImages: 'CmdOrCtrl+E' } as const;

const separator: MenuTemplateItem = { type: 'separator' };

export function buildMenuTemplate({ appName, isDev, platform, actions }: MenuOptions): MenuTemplateItem[] {
  const mac = platform === 'darwin';
  const template: MenuTemplateItem[] = [];
  // macOS keeps About/Hide/Quit in the app-named menu; elsewhere they live in File and Help.
  if (mac) template.push({ label: appName, role: 'appMenu' });
  template.push({
    label: 'File',
    submenu: [
      { label: 'Import Folder…', accelerator: ACCELERATORS.importFolder, click: () => actions.importFolder() },
      { label: 'Export…', accelerator: ACCELERATORS.exportImages, click: () => actions.exportImages() },
      separator,
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  });
  template.push({
    label: 'Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, separator, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, ...(mac ? [{ role: 'pasteAndMatchStyle' } as const] : []), { role: 'delete' }, separator, { role: 'selectAll' }],
  });
  template.push({
    label: 'View',
    submenu: [...(isDev ? [{ role: 'reload' } as const, { role: 'forceReload' } as const, { role: 'toggleDevTools' } as const, separator] : []), { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, separator, { role: 'togglefullscreen' }],
  });
  template.push({
    label: 'Window',
    role: 'window',
    submenu: mac ? [{ role: 'minimize' }, { role: 'zoom' }, separator, { role: 'front' }] : [{ role: 'minimize' }, { role: 'close' }],
  });
  template.push({
    label: 'Help',
    role: 'help',
    submenu: [{ label: `About ${appName}`, click: () => actions.showAbout() }],
  });
  return template;
}

/** Every item of a template, depth first (for tests and checks). */
export function flattenMenu(items: readonly MenuTemplateItem[]): MenuTemplateItem[] {
  return items.flatMap((i) => [i, ...flattenMenu(i.submenu ?? [])]);
}

/** Menu commands the renderer carries out; they travel as 'menu' AppEvents on the event stream. */
export type MenuCommand = { command: 'import-folder'; paths: string[] } | { command: 'export' };
