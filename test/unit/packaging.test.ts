/** The installers' configuration (electron-builder.json), checked without building one. */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { APP_NAME, appIconPath } from '../../src/main/electron/appIdentity.js';
import { ROOT } from '../helpers.js';

const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'electron-builder.json'), 'utf8')) as {
  appId: string;
  productName: string;
  icon: string;
  files: string[];
  asarUnpack: string[];
  directories: { output: string };
  linux: { target: string[]; category: string; executableName: string };
  mac: { target: string[] };
  win: { target: string[] };
  nsis: { oneClick: boolean };
};
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };

/** A glob of the config as a RegExp (enough for `dir/**`, `**\/x`, `*.ext`). */
const globRe = (g: string) =>
  new RegExp(
    `^${g
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '@GLOBSTAR_SLASH@')
      .replace(/\*\*/g, '@GLOBSTAR@')
      .replace(/\*/g, '[^/]*')
      .replaceAll('@GLOBSTAR_SLASH@', '(?:.*/)?')
      .replaceAll('@GLOBSTAR@', '.*')}$`,
  );
const covered = (globs: string[], file: string) => globs.some((g) => !g.startsWith('!') && globRe(g).test(file));

describe('desktop packaging', () => {
  it('builds AppImage and deb on Linux, dmg on macOS and nsis on Windows, as "Restora" with its icon', async () => {
    expect(config.productName).toBe(APP_NAME);
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z]+)+$/);
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.mac.target).toContain('dmg');
    expect(config.win.target).toContain('nsis');
    expect(config.nsis.oneClick).toBe(false);
    expect(config.linux.executableName).toBe('restora');
    const icon = await sharp(path.join(ROOT, config.icon)).metadata();
    // electron-builder derives every platform's icon from one PNG of at least 512x512.
    expect(icon.format).toBe('png');
    expect(Math.min(icon.width!, icon.height!)).toBeGreaterThanOrEqual(512);
    expect(appIconPath(path.join(ROOT, 'out', 'main'))).toBe(path.join(ROOT, config.icon));
    expect(pkg.scripts.dist).toMatch(/npm run build && .*electron-builder@\d+\.\d+\.\d+ --config electron-builder\.json/);
  });

  it('ships what the app reads at run time: the built code, the bundled models, the samples and the compute page', () => {
    const needed = [
      pkg.main,
      'out/preload/index.mjs',
      'out/renderer/index.html',
      'out/compute/index.html',
      'bin/restora.js',
      'package.json',
      'resources/icon.png',
      ...fs.readdirSync(path.join(ROOT, 'resources', 'models')).map((m) => `resources/models/${m}/model.json`),
      'resources/samples/coffee.png',
    ];
    for (const f of needed) expect(covered(config.files, f), f).toBe(true);
    // Read by worker threads and native code, so kept outside the archive.
    for (const f of ['resources/models/restora-x2/model.json', 'out/compute/index.html', 'node_modules/sharp/lib/index.js', 'node_modules/better-sqlite3/build/Release/better_sqlite3.node']) {
      expect(covered(config.asarUnpack, f), f).toBe(true);
    }
    expect(config.files).toContain('!**/*.map');
    expect(config.directories.output).toBe('dist');
  });
});
