/**
 * The API handler map over the app's services; adapters (IPC, HTTP) validate the
 * request against the contract's schema and call only this.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BatchSpec, ImportReport } from '../../shared/api.js';
import type { ApiHandlers } from '../../shared/contract.js';
import { RestoraError } from '../../shared/errors.js';
import type { App } from './createApp.js';
import { packageRoot } from '../paths.js';
import { importModel } from '../ml/import/importModel.js';
import { SpeedCache } from '../ml/store/speedCache.js';
import { setFaceStrength, upscaleLibraryImage } from './upscaleImage.js';
import { upscaleDefaults } from './requestDefaults.js';
import { forgetModel, recordImportedModel } from '../db/records.js';
import { detectLibraryDamage, libraryMaskFile, saveLibraryMask } from './damageMasks.js';
import { discardUpload, MAX_UPLOAD_BYTES, storeUpload } from '../library/uploads.js';

/** What only some adapters can do (Electron opens folders; the web server cannot). */
export interface AdapterCapabilities {
  openPath?: (p: string) => Promise<void>;
  /** The system's open dialog (desktop): files or one folder; [] when cancelled. */
  pickPaths?: (kind: 'files' | 'folder') => Promise<string[]>;
  transport?: string;
}

/** Where the sample photo to try lives (shipped with the app). */
export function samplesDir(): string {
  return path.join(packageRoot(), 'resources', 'samples');
}

export function createHandlers(app: App, adapters: AdapterCapabilities = {}): ApiHandlers {
  const version = (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  const upscaleTasks = new Map<string, AbortController>();
  /** Training data as files on this machine: typed folders, plus photos from the Library. */
  const trainingFiles = (dataDirs: readonly string[], library?: { projectId: number; imageIds?: number[] | undefined }): string[] => {
    const files = [...dataDirs, ...(library ? app.library().pathsIn(library.projectId, library.imageIds) : [])];
    if (files.length === 0) {
      throw new RestoraError('USAGE', library ? `Project ${library.projectId} has no photos yet: add some in the Library first.` : 'Choose the photos to learn from: photos from the Library, or folders (one per line).');
    }
    return files;
  };

  return {
    'app.info': async () => ({ version, backend: await app.compute.info(), home: app.home, ...(adapters.transport ? { transport: adapters.transport } : {}) }),
    'app.pickPaths': async ({ kind }) => {
      if (!adapters.pickPaths) throw new RestoraError('UNSUPPORTED', 'The system open dialog is only available in the desktop app; in a browser, choose or drop files (they are uploaded).');
      return { paths: await adapters.pickPaths(kind) };
    },
    'app.openPath': async ({ path: p }) => {
      if (!adapters.openPath) throw new RestoraError('UNSUPPORTED', 'Opening folders is only available in the desktop app.');
      if (!fs.existsSync(p)) throw new RestoraError('NOT_FOUND', `${p}: no such file or folder`, p);
      await adapters.openPath(p);
      return { opened: true };
    },

    'settings.get': async () => app.settings.get(),
    'settings.set': async (patch) => {
      for (const [key, id] of Object.entries(patch.defaults ?? {})) {
        const scale = app.models.get(id).card.scale;
        // A default of another scale would fail every task run that uses it.
        if (!key.endsWith(`-x${scale}`)) throw new RestoraError('USAGE', `${id} upscales x${scale}; it cannot be the default for ${key}.`);
      }
      const saved = app.settings.set(patch);
      // Where models run changes at once (the next job; an upscale in progress finishes where it is).
      if (patch.compute) await app.compute.useCompute(patch.compute);
      return saved;
    },

    'models.list': async () => app.models.list(),
    'models.archs': async () => app.compute.archs(),
    'models.import': async (req) => {
      const m = await importModel({ models: app.models, compute: app.compute, userDir: path.join(app.home, 'models') }, req);
      recordImportedModel(app.db(), m);
      const speed = m.card.speed;
      if (speed) app.speed.record(SpeedCache.key('upscale', m.card.id, speed.backend, speed.threads), speed.outputMpPerSec, 'MP/s');
      return m;
    },
    'models.delete': async ({ id }) => {
      const m = app.models.get(id);
      if (m.source !== 'user') throw new RestoraError('USAGE', `${id} is bundled with Restora and cannot be deleted.`);
      fs.rmSync(m.dir, { recursive: true, force: true });
      forgetModel(app.db(), id);
      const s = app.settings.get();
      const defaults = Object.fromEntries(Object.entries(s.defaults).filter(([, v]) => v !== id));
      app.settings.set({ defaults });
      return { deleted: id };
    },
    'models.estimate': async ({ arch, scale, archOptions, modelId }) => {
      const info = await app.compute.info();
      const { params } = modelId ? await app.compute.probeModel(app.models.get(modelId).dir) : await app.compute.describeArch(arch, scale, archOptions ?? {});
      const train = app.speed.get(SpeedCache.key('train', arch, info.id, info.threads));
      const up = modelId ? app.speed.get(SpeedCache.key('upscale', modelId, info.id, info.threads)) : undefined;
      return { params, trainStepsPerSec: train?.value ?? null, upscaleMpPerSec: up?.value ?? null };
    },

    'projects.list': async () => app.library().listProjects(),
    'projects.create': async ({ name }) => ({ id: app.library().createProject(name) }),

    'library.import': async ({ projectId, paths, recursive, include, exclude }) => importInto(app, projectId, paths, { recursive, ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) }),
    'library.importSample': async ({ projectId }) =>
      importInto(
        app,
        projectId,
        fs
          .readdirSync(samplesDir())
          .filter((f) => /\.(png|jpe?g|webp|tiff?)$/i.test(f))
          .map((f) => path.join(samplesDir(), f)),
      ),
    'library.list': async ({ projectId, ...query }) => app.library().list(projectId, query),
    'library.get': async ({ id }) => ({ ...app.library().get(id), savedMask: libraryMaskFile(app, id) ? `mask/${id}` : null }),

    'upscale.image': async ({ imageId, modelId, taskId, keepColours, levels, repair, then, faces }) => {
      if (upscaleTasks.has(taskId)) throw new RestoraError('USAGE', `Task ${taskId} is already running.`);
      const controller = new AbortController();
      upscaleTasks.set(taskId, controller);
      try {
        const s = app.settings.get();
        return await upscaleLibraryImage(
          app,
          imageId,
          modelId,
          { tile: upscaleDefaults(s).tile, format: s.outputFormat, quality: s.quality, ...(keepColours !== undefined ? { keepColours } : {}), ...(levels ? { levels } : {}), ...(repair ? { repair } : {}), ...(faces ? { faces } : {}) },
          controller.signal,
          (done, total) => app.events.publish({ type: 'upscale.progress', taskId, done, total }),
          then,
        );
      } finally {
        upscaleTasks.delete(taskId);
      }
    },
    'damage.detect': async ({ imageId }) => detectLibraryDamage(app, imageId),
    'damage.saveMask': async ({ imageId, png }) => saveLibraryMask(app, imageId, png),
    'upscale.faceStrength': async ({ historyId, strength }) => setFaceStrength(app, historyId, strength),
    'upscale.cancel': async ({ taskId }) => {
      const c = upscaleTasks.get(taskId);
      c?.abort();
      return { cancelled: Boolean(c) };
    },

    'jobs.start': async ({ imageIds, ...rest }) => {
      const repairMasks: Record<string, string> = {};
      const fromLibrary = (imageIds ?? []).map((id) => {
        const p = app.library().pathOf(id);
        if (!p) throw new RestoraError('NOT_FOUND', `No image ${id} in the library.`);
        const mask = rest.repair === 'auto' ? libraryMaskFile(app, id) : null;
        if (mask) repairMasks[p] = mask;
        return p;
      });
      // Without a model the batch service picks the Upscale task's (the user's default: see ModelLibrary.resolve).
      const spec: BatchSpec = {
        ...rest,
        outDir: rest.outDir ?? path.join(app.home, 'exports', new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-')),
        inputs: [...rest.inputs, ...fromLibrary],
        ...(Object.keys(repairMasks).length ? { repairMasks } : {}),
      };
      if (spec.inputs.length === 0) throw new RestoraError('USAGE', 'Nothing to export: give input files/folders or library images.');
      return app.jobRunner().start(spec);
    },
    'jobs.list': async () => app.jobRunner().list(),
    'jobs.outputs': async ({ jobId }) => {
      const outputs = app.jobRunner().outputs(jobId);
      if (!outputs) throw new RestoraError('NOT_FOUND', `No export job ${jobId}.`);
      return { names: outputs.map((o) => o.name) };
    },
    'jobs.pause': async ({ jobId }) => app.jobRunner().pause(jobId),
    'jobs.resume': async ({ jobId }) => app.jobRunner().resume(jobId),
    'jobs.cancel': async ({ jobId }) => app.jobRunner().cancel(jobId),

    'datasets.inspect': async ({ dataDirs, library, scale, patch, name }) => (await app.training()).inspect(trainingFiles(dataDirs, library), scale, patch, name),
    'training.preview': async ({ dataDirs, library, preset, scale, count, patch, seed }) => (await app.training()).preview(trainingFiles(dataDirs, library), preset, scale, count, patch, seed),
    'training.estimateTeacher': async ({ dataDirs, library, ...req }) => app.trainingRunner().estimateTeacher({ ...req, dataDirs: trainingFiles(dataDirs, library) }),
    'training.estimate': async ({ dataDirs, library, ...req }) => app.trainingRunner().estimateSteps({ ...req, dataDirs: trainingFiles(dataDirs, library) }),
    'training.start': async ({ dataDirs, library, ...req }) => {
      await app.compute.describeArch(req.arch, req.scale, req.archOptions ?? {}); // refuse unknown archs/scales before a worker starts
      // The run stores the files themselves: a resume trains on the same photos.
      return { runId: app.trainingRunner().start({ ...req, dataDirs: trainingFiles(dataDirs, library) }) };
    },
    'training.pause': async ({ runId }) => app.trainingRunner().pause(runId),
    'training.resume': async ({ runId }) => app.trainingRunner().resume(runId),
    'training.cancel': async ({ runId }) => app.trainingRunner().cancel(runId),
    'training.runs': async () => app.trainingRunner().list(),
    'training.history': async ({ runId }) => app.trainingRunner().history(runId),
  };
}

/**
 * Imports into a project, with progress events; then every new image is decoded in the
 * background and a broken one gets a badge with the reason. Used by the API and by uploads.
 */
export async function importInto(app: App, projectId: number, paths: string[], o: { recursive?: boolean; include?: string[]; exclude?: string[] } = {}): Promise<ImportReport> {
  if (
    !app
      .library()
      .listProjects()
      .some((p) => p.id === projectId)
  )
    throw new RestoraError('NOT_FOUND', `No project ${projectId}.`);
  return app.library().importPaths(projectId, paths, {
    ...o,
    onProgress: (done, total) => {
      if (done === total || done % 50 === 0) app.events.publish({ type: 'library.import', projectId, done, total });
    },
    onAdded: (ids) =>
      void app
        .library()
        .checkImages(ids)
        .then((r) => app.events.publish({ type: 'library.checked', projectId, ...r }))
        .catch(() => undefined),
  });
}

/**
 * Web mode's upload route: store the sent photo once (by content), then import it into the
 * project. A stored copy that no library image ends up using (the import refused it) is
 * removed, so a refused upload leaves nothing in uploads/. `maxBytes` lets the server refuse
 * a larger declared body before reading it.
 */
export function createUploadHandler(app: App): ((query: { projectId: number; name: string }, body: AsyncIterable<Buffer>) => Promise<ImportReport>) & { maxBytes: number } {
  const handler = async ({ projectId, name }: { projectId: number; name: string }, body: AsyncIterable<Buffer>): Promise<ImportReport> => {
    if (
      !app
        .library()
        .listProjects()
        .some((p) => p.id === projectId)
    )
      throw new RestoraError('NOT_FOUND', `No project ${projectId}.`);
    const { file, created } = await storeUpload(app.home, name, body);
    const unused = () => created && !app.library().hasPath(file);
    try {
      const report = await importInto(app, projectId, [file], { recursive: false });
      if (unused()) discardUpload(file);
      return report;
    } catch (err) {
      if (unused()) discardUpload(file);
      throw err;
    }
  };
  return Object.assign(handler, { maxBytes: MAX_UPLOAD_BYTES });
}
