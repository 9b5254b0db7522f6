/** The system open dialog's options for "Choose photos…" and "Choose a folder…" (pure; index.ts shows it). */
import { IMAGE_EXTENSIONS } from '../imaging/io.js';

type Property = 'openFile' | 'openDirectory' | 'multiSelections';

export function openDialogOptions(kind: 'files' | 'folder'): { title: string; properties: Property[]; filters?: { name: string; extensions: string[] }[] } {
  if (kind === 'folder') return { title: 'Choose a folder of photos', properties: ['openDirectory'] };
  return {
    title: 'Choose photos',
    properties: ['openFile', 'multiSelections'],
    filters: [
      { name: 'Images', extensions: [...IMAGE_EXTENSIONS].map((e) => e.slice(1)) },
      { name: 'All files', extensions: ['*'] },
    ],
  };
}
