/**
 * The wasm backend really runs the thread count asked for. tfjs-backend-wasm caps
 * its pool at (logical cores / 2), which on a 2-core machine silently meant one
 * thread; backend.ts lifts the cap. Checked in a child process: a process
 * initialises its backend once.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tmpDir } from '../helpers.js';

const script = `
import { initBackend, wasmThreadsInUse } from ${JSON.stringify(path.join(ROOT, 'src/main/ml/backend.ts'))};
const info = await initBackend({ prefer: 'wasm', threads: 2 });
console.log(JSON.stringify({ reported: info.threads, pool: await wasmThreadsInUse() }));
`;

describe('wasm threads', () => {
  it('a 2-thread backend has a 2-thread pool, says so, and lets the process exit when done', () => {
    // A file, not -e: the pthread workers inherit execArgv, where -e's flags are invalid.
    const file = path.join(tmpDir(), 'threads.mts');
    fs.writeFileSync(file, script);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ reported: 2, pool: 2 });
  }, 150_000);
});
