/** restora models. */
import { UsageError, parse, appFrom } from '../common.js';
import { USAGE } from '../usage.js';

export async function cmdModelsImport(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { name: { type: 'string' }, license: { type: 'string' } });
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new UsageError('models import takes one PATH (a model file or folder)');
  const app = appFrom(values);
  try {
    const { createHandlers } = await import('../../main/app/handlers.js');
    const m = await createHandlers(app)['models.import']({
      path: positionals[0]!,
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values.license !== undefined ? { license: values.license } : {}),
    });
    if (values.json) console.log(JSON.stringify(m, null, 2));
    else {
      const c = m.card;
      console.log(`imported ${c.id}: ${c.arch} x${c.scale}, ${c.params.toLocaleString('en')} params (${c.source?.layout ?? c.arch})` + (c.speed ? `, ${c.speed.outputMpPerSec} MP/s output on ${c.speed.backend}` : ''));
      console.log(`  into ${m.dir}`);
    }
    return 0;
  } finally {
    await app.close();
  }
}

export async function cmdModels(args: string[]): Promise<number> {
  if (args[0] === 'import') return cmdModelsImport(args.slice(1));
  const { values } = parse(args, {});
  if (values.help) return (console.log(USAGE), 0);
  const app = appFrom(values);
  const list = app.models.list();
  const speeds = app.speed.read();
  await app.close();
  if (values.json) {
    console.log(JSON.stringify(list, null, 2));
    return 0;
  }
  for (const m of list) {
    const q = m.card.metrics?.['set5'];
    console.log(
      `${m.card.id.padEnd(24)} x${m.card.scale}  ${m.card.arch.padEnd(10)} ${String(m.card.params).padStart(8)} params  ${m.source.padEnd(7)}` +
        (q ? `  Set5 ${q.psnr.toFixed(2)} dB / ${q.ssim.toFixed(4)}` : '') +
        Object.entries(speeds)
          .filter(([k]) => k.startsWith(`upscale:${m.card.id}@`))
          .map(([k, v]) => `  ${v.value} ${v.unit} on ${k.split('@')[1]}`)
          .join(''),
    );
  }
  if (list.length === 0) console.log('no models installed');
  return 0;
}
