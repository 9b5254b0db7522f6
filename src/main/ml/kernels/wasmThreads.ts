/**
 * Lets tfjs-backend-wasm use its multi-threaded build under Node.
 *
 * The package creates its pthread workers from Blob URLs, which Node's
 * worker_threads cannot load (ERR_WORKER_PATH), so under Node it silently runs
 * single-threaded. We capture the two Blob sources it creates (the Emscripten
 * factory and the worker script), write them to a private temp folder and hand
 * Node real file paths instead. Must run before the wasm backend initialises.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd';
// The factory body references the bundle's CommonJS helpers by these names.
const FACTORY_PRELUDE = "var require$$0=require('fs'),require$$1=require('path'),require$$2=require('worker_threads')," + "require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;\n";

let installed = false;

export function installNodeWasmThreads(): boolean {
  if (installed) return true;
  if (typeof process === 'undefined' || !process.versions?.node) return false;
  installed = true;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restora-wasm-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const sources = new WeakMap<Blob, string>();
  let factoryPath: string | null = null;
  let workerCount = 0;
  const NativeBlob = globalThis.Blob;
  class SourceBlob extends NativeBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts && parts.every((p) => typeof p === 'string')) {
        const text = (parts as string[]).join('');
        sources.set(this, text);
        if (text.startsWith(FACTORY_PREFIX)) {
          factoryPath = path.join(dir, 'factory.cjs');
          fs.writeFileSync(factoryPath, FACTORY_PRELUDE + text);
        }
      }
    }
  }
  globalThis.Blob = SourceBlob as typeof Blob;
  const nativeCreate = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob | MediaSource): string => {
    const text = obj instanceof NativeBlob ? sources.get(obj) : undefined;
    if (text === undefined || text.startsWith(FACTORY_PREFIX)) return nativeCreate(obj as Blob);
    // The pthread worker script: point its own Blob lookup at the factory file.
    const file = path.join(dir, `worker${workerCount++}.cjs`);
    const prelude = `URL.createObjectURL=()=>${JSON.stringify(factoryPath)};URL.revokeObjectURL=()=>{};\n`;
    fs.writeFileSync(file, prelude + text);
    return file;
  };
  return true;
}
