/** restora batch. */
import path from 'node:path';
import { RestoraError, errorMessage } from '../../shared/errors.js';
import { tileChangeSaid } from '../../shared/api.js';
import { UsageError, parse, intOption, FACE_OPTIONS, facesOption, announceBackend, appFrom, OUTPUT_OPTIONS, outputOptions } from '../common.js';
import { USAGE } from '../usage.js';

export async function cmdBatch(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    ...OUTPUT_OPTIONS,
    name: { type: 'string' },
    recursive: { type: 'boolean', short: 'r' },
    width: { type: 'string' },
    height: { type: 'string' },
    ...FACE_OPTIONS,
  });
  if (values.help) return (console.log(USAGE), 0);
  const { out, format, scale, quality, tile, keepColours } = outputOptions('batch', values, positionals);
  const width = intOption(values.width, 'width', 1, 65535);
  const height = intOption(values.height, 'height', 1, 65535);
  const app = appFrom(values);
  try {
    // A batch restores faces only when asked (--faces MODEL): it is an upscale of any photos.
    const faces = values.faces === undefined && values['face-strength'] === undefined && values['face-fidelity'] === undefined ? undefined : facesOption(app, values);
    const jobs = app.jobs();
    let prepared;
    try {
      prepared = jobs.prepare({
        inputs: positionals,
        outDir: out,
        format,
        nameTemplate: values.name ?? '{name}',
        recursive: values.recursive ?? false,
        ...(values.model ? { modelId: values.model } : {}),
        ...(scale ? { scale } : {}),
        ...(quality ? { quality } : {}),
        ...(tile ? { tile } : {}),
        ...(keepColours !== undefined ? { keepColours } : {}),
        ...(width || height ? { resize: { ...(width ? { width } : {}), ...(height ? { height } : {}) } } : {}),
        ...(faces ? { faces } : {}),
      });
    } catch (err) {
      if (err instanceof RestoraError && (err.code === 'USAGE' || err.code === 'NOT_FOUND')) throw new UsageError(errorMessage(err, 'cli'));
      throw err;
    }
    const before = jobs.summary(prepared.jobId);
    await announceBackend(app, values);
    process.stderr.write(`${prepared.resumed ? 'Resuming' : 'Starting'} job ${prepared.jobId}: ${before.done} of ${before.total} done\n`);
    if (before.runningElsewhere) process.stderr.write('another process is working on this job: sharing its items (none is written twice)\n');
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const tty = process.stderr.isTTY;
    let tileSaid = false;
    const summary = await jobs.run(prepared.jobId, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.tile && !tileSaid) {
          tileSaid = true;
          process.stderr.write(`${tty ? '\r\x1b[K' : ''}Items run ${tileChangeSaid(p.tile)}.\n`);
        }
        const line = `[${p.done + p.failed}/${p.total}] ${p.ratePerSec.toFixed(2)} img/s, ETA ${p.etaSec.toFixed(0)} s  ${path.basename(p.current ?? '')}`;
        process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      },
    });
    if (tty) process.stderr.write('\n');
    if (values.json) console.log(JSON.stringify(summary, null, 2));
    process.stderr.write(`job ${summary.id} ${summary.state}: ${summary.done} of ${summary.total} done${summary.failed ? `, ${summary.failed} failed:` : '.'}\n`);
    for (const f of summary.failures) process.stderr.write(`  ${f.input}: [${f.code}] ${f.message}\n`);
    return summary.failed ? 1 : summary.pending ? 1 : 0;
  } finally {
    await app.close();
  }
}
