import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          computeWorker: resolve('src/main/ml/worker/computeWorker.ts'),
          trainWorker: resolve('src/main/training/trainWorker.ts'),
          degradeWorker: resolve('src/main/ml/train/degradeWorker.ts'),
          estimateWorker: resolve('src/main/training/estimateWorker.ts'),
        },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: { rollupOptions: { input: { index: resolve('src/preload/index.ts') } } },
  },
  renderer: {
    root: 'src/renderer',
    build: { rollupOptions: { input: { index: resolve('src/renderer/index.html') } } },
    plugins: [vue()],
  },
});
