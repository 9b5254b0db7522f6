/**
 * The API's method names and transport constants, apart from the request schemas,
 * so the UI bundle carries no validation library (main validates; see contract.ts,
 * whose schema map must have exactly these keys).
 */
export const API_METHODS = [
  'app.info',
  'app.openPath',
  'app.pickPaths',
  'settings.get',
  'settings.set',
  'models.list',
  'models.import',
  'models.delete',
  'models.archs',
  'models.estimate',
  'projects.list',
  'projects.create',
  'library.import',
  'library.importSample',
  'library.list',
  'library.get',
  'upscale.image',
  'upscale.cancel',
  'damage.detect',
  'damage.saveMask',
  'jobs.start',
  'jobs.list',
  'jobs.pause',
  'jobs.resume',
  'jobs.cancel',
  'datasets.inspect',
  'training.preview',
  'training.estimateTeacher',
  'training.start',
  'training.pause',
  'training.resume',
  'training.cancel',
  'training.runs',
  'training.history',
] as const;

export type ApiMethod = (typeof API_METHODS)[number];

export const IPC_CHANNEL_PREFIX = 'restora:';
/** The one channel main pushes AppEvents on (Electron); web mode uses a WebSocket at EVENTS_PATH. */
export const IPC_EVENT_CHANNEL = 'restora-event';
export const EVENTS_PATH = '/events';
export const MEDIA_SCHEME = 'restora-media';
