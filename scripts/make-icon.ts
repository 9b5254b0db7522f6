/**
 * Draws Restora's app icon (resources/icon.png, 1024x1024) from an SVG: a photo with a
 * torn, faded half on the left and its restored half on the right. Run again after
 * changing the drawing: `npx tsx scripts/make-icon.ts`.
 */
import path from 'node:path';
import sharp from 'sharp';
import { packageRoot } from '../src/main/paths.js';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#1f3b57"/><stop offset="1" stop-color="#0e1c2b"/>
    </linearGradient>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#7cc4f2"/><stop offset="1" stop-color="#d9f0ff"/>
    </linearGradient>
    <linearGradient id="sepia" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#b59a76"/><stop offset="1" stop-color="#e3d3b8"/>
    </linearGradient>
    <clipPath id="photo"><rect x="212" y="232" width="600" height="560" rx="18"/></clipPath>
  </defs>
  <rect width="1024" height="1024" rx="220" fill="url(#bg)"/>
  <rect x="192" y="212" width="640" height="600" rx="30" fill="#f7f4ee"/>
  <g clip-path="url(#photo)">
    <rect x="212" y="232" width="300" height="560" fill="url(#sepia)"/>
    <rect x="512" y="232" width="300" height="560" fill="url(#sky)"/>
    <circle cx="690" cy="360" r="58" fill="#ffd34d"/>
    <path d="M212 700 L380 480 L520 640 L640 520 L812 700 L812 792 L212 792 Z" fill="#2f8f5b"/>
    <path d="M212 700 L380 480 L512 630 L512 792 L212 792 Z" fill="#8a7556"/>
    <path d="M260 300 C320 380 300 460 380 560" stroke="#f4ead8" stroke-width="9" fill="none" opacity="0.9"/>
    <path d="M430 260 C410 330 460 400 440 470" stroke="#f4ead8" stroke-width="6" fill="none" opacity="0.8"/>
  </g>
  <rect x="506" y="212" width="12" height="600" fill="#ffffff"/>
  <circle cx="512" cy="512" r="44" fill="#ffffff"/>
  <path d="M494 492 L474 512 L494 532 M530 492 L550 512 L530 532" stroke="#1f3b57" stroke-width="10" fill="none" stroke-linecap="round" stroke-linejoin="round"/>
</svg>`;

await sharp(Buffer.from(svg))
  .png({ compressionLevel: 9 })
  .toFile(path.join(packageRoot(), 'resources', 'icon.png'));
