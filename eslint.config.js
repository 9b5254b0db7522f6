import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import restora from './eslint-rules/layers.js';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'data/**', 'runs/**', 'resources/**', 'scratch/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        setImmediate: 'readonly',
        Blob: 'readonly',
        SharedArrayBuffer: 'readonly',
        Atomics: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        Buffer: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Only the Electron shell may import electron; domain code stays platform-neutral.
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/index.ts', 'src/main/electron/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Domain code must not import electron; use src/main/index.ts.' }] }] },
  },
  {
    // Layers: src/main's folders and src/main/ml's import only downward (eslint-rules/layers.js).
    files: ['src/main/**/*.ts'],
    plugins: { restora },
    rules: { 'restora/layers': 'error' },
  },
);
