/** restora serve. */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../main/paths.js';
import { parse, intOption, appFrom } from '../common.js';
import { USAGE } from '../usage.js';

export async function cmdServe(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string', short: 'p' } });
  if (values.help) return (console.log(USAGE), 0);
  const port = intOption(values.port, 'port', 0, 65535);
  const app = appFrom(values);
  const { startServer } = await import('../../main/server/httpServer.js');
  const { createHandlers, createUploadHandler } = await import('../../main/app/handlers.js');
  const staticDir = path.join(packageRoot(), 'out', 'renderer');
  const server = await startServer(createHandlers(app, { transport: 'http' }), {
    ...(port !== undefined ? { port } : {}),
    ...(fs.existsSync(staticDir) ? { staticDir } : {}),
    events: app.events,
    media: app.media,
    upload: createUploadHandler(app),
    downloads: { jobOutputs: (jobId) => app.jobRunner().outputs(jobId) },
  });
  // Last resort: a bug in one request's handling is logged, and the other clients keep their server.
  const keepServing = (what: string) => (err: unknown) => process.stderr.write(`restora serve: ${what} (still serving): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.on('uncaughtException', keepServing('unexpected error'));
  process.on('unhandledRejection', keepServing('unhandled rejection'));
  console.log(`Restora UI: ${server.url}`);
  if (!fs.existsSync(staticDir)) process.stderr.write('(UI not built: run `npm run build`; the API is served)\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await app.close();
  return 0;
}
