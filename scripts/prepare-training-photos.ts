/**
 * Picks the real photographs out of the extracted Debian packages and writes them
 * as PNG under OUT/train and OUT/val. Big JPEG wallpapers are downscaled (by 2, or
 * 3 above 4000 px) to hide their compression artefacts, as ../shared/DESIGN.md advises.
 * Usage: tsx scripts/prepare-training-photos.ts EXTRACTED_ROOT OUT_DIR
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const [root, out] = process.argv.slice(2);
if (!root || !out) {
  console.error('usage: prepare-training-photos.ts EXTRACTED_ROOT OUT_DIR');
  process.exit(2);
}

// Photographs only (renders and abstract art left out), by package.
const photos: string[] = [
  // lomiri-wallpapers-16.04
  ...[
    'Bridge_by_Sander_Klootwijk',
    'Dragonfly_by_Bolly',
    'Picture_0B_by_freespace',
    'Picture_1A_by_freespace',
    'Wine_by_Jakkub_Mede',
    'aitzgorri_by_Aitzol_Berasategi',
    'free_by_Peter_Nerlich',
    'friends_by_Aitzol_Berasategi',
    'greentock_by_Peter_Nerlich',
    'life_by_Aitzol_Berasategi',
    'picosdeeuropa_by_Aitzol_Berasategi',
    'seeding_by_Clements_Engelhardt',
    'sunset_by_Aitzol_Berasategi',
    'umang_by_Abhishek_Mudgal',
  ].map((n) => `usr/share/backgrounds/${n}.jpg`),
  // plasma-workspace-wallpapers
  ...['FallenLeaf', 'Path', 'Autumn', 'summer_1am', 'EveningGlow', 'Grey', 'Kite', 'ColorfulCups', 'OneStandsOut', 'ColdRipple', 'BytheWater'].map((n) => `usr/share/wallpapers/${n}/contents/images/2560x1600.jpg`),
  // mate-backgrounds (nature)
  ...['Garden', 'Dune', 'Wood', 'Aqua', 'TwoWings', 'Storm', 'GreenMeadow', 'RainDrops', 'Blinds', 'LadyBird', 'YellowFlower'].map((n) => `usr/share/backgrounds/mate/nature/${n}.jpg`),
  // palapeli-data
  ...['cincinnati-bridge', 'european-honey-bee', 'panther-chameleon-female', 'castle-maintenon', 'citrus-fruits'].map((n) => `usr/share/palapeli/collection/${n}.jpg`),
  // python3-skimage
  ...['astronaut.png', 'coffee.png', 'chelsea.png', 'motorcycle_left.png', 'rocket.jpg'].map((n) => `usr/lib/python3/dist-packages/skimage/data/${n}`),
];
// Held out for validation during training (never trained on).
const validation = new Set(['Storm', 'castle-maintenon', 'OneStandsOut', 'coffee']);

function shortName(rel: string): string {
  const parts = rel.split('/');
  const file = parts[parts.length - 1]!.replace(/\.(jpg|png)$/, '');
  return file === '2560x1600' ? parts[parts.length - 4]! : file;
}

fs.mkdirSync(path.join(out, 'train'), { recursive: true });
fs.mkdirSync(path.join(out, 'val'), { recursive: true });
let n = 0;
for (const rel of photos) {
  const src = path.join(root, rel);
  if (!fs.existsSync(src)) {
    console.warn(`missing (package changed?): ${rel}`);
    continue;
  }
  const name = shortName(rel);
  const meta = await sharp(src).metadata();
  const long = Math.max(meta.width ?? 0, meta.height ?? 0);
  const factor = meta.format === 'jpeg' && long > 1200 ? (long > 4000 ? 3 : 2) : 1;
  const dest = path.join(out, validation.has(name) ? 'val' : 'train', `${name}.png`);
  let img = sharp(src).rotate().toColourspace('srgb').removeAlpha();
  if (factor > 1) img = img.resize(Math.round(meta.width! / factor), Math.round(meta.height! / factor), { kernel: 'lanczos3' });
  await img.png().toFile(dest);
  n++;
  console.log(`${dest} (/${factor})`);
}
console.log(`${n} photos prepared in ${out}`);
