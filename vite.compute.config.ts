// Builds the WebGPU compute page (src/main/ml/engine/page) into out/compute: a
// static page that headless Chromium or the desktop app's hidden window loads.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: resolve('src/main/ml/engine/page'),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: resolve('out/compute'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 8000,
    rollupOptions: { input: { compute: resolve('src/main/ml/engine/page/compute.html') } },
  },
});
