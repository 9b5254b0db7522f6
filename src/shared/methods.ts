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
  'upscale.faceStrength',
  'damage.detect',
  'damage.saveMask',
  'jobs.start',
  'jobs.list',
  'jobs.outputs',
  'jobs.pause',
  'jobs.resume',
  'jobs.cancel',
  'datasets.inspect',
  'training.preview',
  'training.estimateTeacher',
  'training.estimate',
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
/**
 * Web mode's session (see src/main/server/httpServer.ts): the page keeps the token in its
 * origin's sessionStorage and sends it as a Bearer header; the events socket offers it as a
 * subprotocol (browsers cannot set its headers) and is answered with WS_EVENTS_PROTOCOL;
 * <img> and download links carry a read-only media key from SESSION_PATH.
 */
export const SESSION_PATH = '/session';
export const WS_EVENTS_PROTOCOL = 'restora.events';
export const WS_TOKEN_PROTOCOL_PREFIX = 'restora.token.';
export const MEDIA_KEY_PARAM = 'key';
