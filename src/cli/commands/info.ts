/** restora info. */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { packageRoot } from '../../main/paths.js';
import { parse, appFrom, jobBackends } from '../common.js';
import { USAGE } from '../usage.js';

export async function cmdInfo(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) return (console.log(USAGE), 0);
  const app = appFrom(values);
  const backend = await app.compute.info();
  // The adapter a --backend webgpu job would get (starts Chromium for a moment).
  const { probeWebGpu } = await import('../../main/ml/engine/pageEngine.js');
  const webgpu = backend.compute?.adapter ? { adapter: backend.compute.adapter } : await probeWebGpu();
  const info = {
    restora: (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version,
    backend,
    webgpu,
    jobs: jobBackends(backend),
    node: process.versions.node,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    models: app.models.list().map((m) => m.card.id),
    measuredSpeed: app.speed.read(),
    home: app.home,
  };
  await app.close();
  if (values.json) console.log(JSON.stringify(info, null, 2));
  else {
    console.log(`Restora ${info.restora}`);
    console.log(`backend   ${backend.id} (tfjs ${backend.tfName}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'})${backend.skipped.length ? `; not available: ${backend.skipped.join(', ')}` : ''}`);
    if (backend.fallbackReason) console.log(`          (asked for another: ${backend.fallbackReason})`);
    console.log(`tfjs      ${backend.tfjsVersion}`);
    if (webgpu.adapter) {
      const a = webgpu.adapter;
      console.log(
        `webgpu    ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ')}${a.fallback ? ' (software adapter: works, slower than wasm)' : ''}; max buffer ${(a.maxBufferSize / 2 ** 20).toFixed(0)} MiB, max binding ${(a.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`,
      );
    } else console.log(`webgpu    not available: ${webgpu.unavailable}`);
    console.log(`jobs      upscale/batch/eval on ${info.jobs.upscale}; train on ${info.jobs.train}`);
    console.log(`node      ${info.node}`);
    console.log(`sharp     ${info.sharp} (libvips ${info.libvips})`);
    console.log(`models    ${info.models.join(', ') || 'none'}`);
    for (const [k, v] of Object.entries(info.measuredSpeed)) console.log(`speed     ${k}: ${v.value} ${v.unit} (${v.samples} jobs)`);
    console.log(`data      ${info.home}`);
  }
  return 0;
}
