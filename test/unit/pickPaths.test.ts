import { describe, expect, it } from 'vitest';
import { openDialogOptions } from '../../src/main/electron/pickPaths.js';

describe('the desktop open dialog', () => {
  it('picks several photos (filtered to image types, any file on request) or one folder', () => {
    const files = openDialogOptions('files');
    expect(files.properties).toEqual(['openFile', 'multiSelections']);
    expect(files.filters?.[0]?.extensions).toEqual(expect.arrayContaining(['jpg', 'png', 'tif', 'webp', 'heic']));
    expect(files.filters?.[0]?.extensions.some((e) => e.startsWith('.'))).toBe(false);
    expect(files.filters?.at(-1)).toEqual({ name: 'All files', extensions: ['*'] });
    expect(openDialogOptions('folder')).toEqual({ title: 'Choose a folder of photos', properties: ['openDirectory'] });
  });
});
