/** The API handler map over the app's services; adapters call only this. */
import fs from 'node:fs';
import path from 'node:path';
import type { ApiHandlers } from '../../shared/contract.js';
import type { App } from './createApp.js';
import { packageRoot } from '../paths.js';

export function createHandlers(app: App): ApiHandlers {
  const version = (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return {
    'app.info': async () => ({ version, backend: await app.compute.info() }),
    'models.list': async () => app.models.list(),
  };
}
