/**
 * Projects and the current project's image list, paged on demand: the grid asks for
 * the index range it shows and only the pages covering it are fetched (and kept),
 * so 10,000+ images never load at once.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, reactive, ref, shallowReactive, watch } from 'vue';
import type { ImageRow, ImageStatus, ImportReport, ProjectSummary } from '../../../shared/api';
import { api, uploadFile } from '../api';
import { useNotify } from './notify';

export const PAGE_SIZE = 200;
type Sort = 'name' | 'imported' | 'size' | 'pixels';

export interface Filters {
  status: ImageStatus | '';
  format: string;
  search: string;
  sort: Sort;
  descending: boolean;
}

export const useLibraryStore = defineStore('library', () => {
  const notify = useNotify();
  const projects = ref<ProjectSummary[]>([]);
  const saved = Number(localStorage.getItem('restora.project') ?? '');
  const projectId = ref<number | null>(Number.isInteger(saved) && saved > 0 ? saved : null);
  const filters = reactive<Filters>({ status: '', format: '', search: '', sort: 'name', descending: false });
  const total = ref(0);
  const pages = shallowReactive(new Map<number, readonly ImageRow[]>());
  const loading = new Set<number>();
  /** Bumped on every reset so late page answers for old filters are dropped. */
  const generation = ref(0);
  const selected = ref(new Set<number>());
  const importing = ref<{ done: number; total: number } | null>(null);
  /** When the running import started (its ETA). */
  const importStarted = ref(0);
  const lastImport = ref<ImportReport | null>(null);
  const lastOpened = ref<number | null>(null);

  const project = computed(() => projects.value.find((p) => p.id === projectId.value) ?? null);

  async function loadProjects(): Promise<void> {
    const p = await notify.attempt('Listing projects', () => api['projects.list']({}));
    if (!p) return;
    projects.value = p;
    if (!p.some((x) => x.id === projectId.value)) projectId.value = p[0]?.id ?? null;
  }

  /** A project being made: photos chosen meanwhile go into it, not into the one before. */
  let creating: Promise<boolean> | null = null;
  async function createProject(name: string): Promise<boolean> {
    const made = (async () => {
      const r = await notify.attempt('Creating project', () => api['projects.create']({ name }));
      if (!r) return false;
      await loadProjects();
      projectId.value = r.id;
      return true;
    })();
    creating = made;
    try {
      return await made;
    } finally {
      if (creating === made) creating = null;
    }
  }

  function reset(): void {
    generation.value++;
    pages.clear();
    loading.clear();
    total.value = 0;
    void fetchPage(0);
  }

  /** The request for one page of the grid in the current filters and order. */
  function pageQuery(pid: number, page: number) {
    return {
      projectId: pid,
      status: filters.status || undefined,
      format: filters.format || undefined,
      search: filters.search.trim() || undefined,
      sort: filters.sort,
      descending: filters.descending,
      offset: page * PAGE_SIZE,
      limit: PAGE_SIZE,
    };
  }

  async function fetchPage(page: number): Promise<void> {
    const pid = projectId.value;
    if (pid === null || pages.has(page) || loading.has(page)) return;
    const gen = generation.value;
    loading.add(page);
    const r = await notify.attempt('Listing images', () => api['library.list'](pageQuery(pid, page)));
    if (gen !== generation.value) return;
    loading.delete(page);
    if (!r) return;
    total.value = r.total;
    // Rows never change in place; raw arrays keep Vue from proxying thousands of objects.
    pages.set(page, markRaw(r.rows));
  }

  /** Makes sure rows [start, end) are loaded or loading. */
  function ensureRange(start: number, end: number): void {
    const last = Math.max(start, end - 1);
    for (let p = Math.floor(start / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) void fetchPage(p);
  }

  function rowAt(i: number): ImageRow | undefined {
    return pages.get(Math.floor(i / PAGE_SIZE))?.[i % PAGE_SIZE];
  }

  /** The current project, or a first one ("My photos") made on the spot: a first import needs no setup. */
  async function ensureProject(): Promise<number | null> {
    if (creating) await creating;
    if (projectId.value !== null) return projectId.value;
    await createProject('My photos');
    return projectId.value;
  }

  /** One import into the current (or a new) project: progress while `body` runs, its report after, the grid reloaded. */
  async function runImport(total: number, body: (pid: number) => Promise<ImportReport | undefined>): Promise<ImportReport | undefined> {
    const pid = await ensureProject();
    if (pid === null) return undefined;
    importing.value = { done: 0, total };
    importStarted.value = performance.now();
    lastImport.value = null;
    try {
      const r = await body(pid);
      if (r) lastImport.value = r;
      return r;
    } finally {
      importing.value = null;
      await loadProjects();
      reset();
    }
  }

  /** Web mode: uploads photos one by one (the server stores each once and imports it); one report for all. */
  async function uploadFiles(files: File[]): Promise<ImportReport | undefined> {
    if (!files.length) return undefined;
    return runImport(files.length, async (pid) => {
      const report: ImportReport = { added: 0, duplicates: 0, skipped: 0, failed: [], ignored: { count: 0, paths: [] } };
      for (const [i, f] of files.entries()) {
        try {
          const r = await uploadFile(pid, f);
          report.added += r.added;
          report.duplicates += r.duplicates;
          report.failed.push(...r.failed);
        } catch (err) {
          const e = err as { code?: string; message?: string };
          // A file that is not an image by its extension is left out, as a folder import does.
          if (e.code === 'UNSUPPORTED_FORMAT') {
            report.ignored.count++;
            if (report.ignored.paths.length < 200) report.ignored.paths.push(f.webkitRelativePath || f.name);
          } else report.failed.push({ path: f.webkitRelativePath || f.name, code: e.code ?? 'ERROR', message: e.message ?? String(err) });
        }
        importing.value = { done: i + 1, total: files.length };
      }
      return report;
    });
  }

  /** "Try a sample photo": the photo shipped with Restora, imported into the current (or a new) project. */
  async function importSample(): Promise<void> {
    const pid = await ensureProject();
    if (pid === null) return;
    const r = await notify.attempt('Importing the sample', () => api['library.importSample']({ projectId: pid }));
    if (r) lastImport.value = r;
    await loadProjects();
    reset();
  }

  async function importPaths(paths: string[]): Promise<ImportReport | undefined> {
    return runImport(0, (pid) => notify.attempt('Importing', () => api['library.import']({ projectId: pid, paths, recursive: true })));
  }

  function toggleSelected(id: number): void {
    const s = new Set(selected.value);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    selected.value = s;
  }

  /** Ids of rows [start, end] in the current order and filters; pages not loaded are fetched (not kept). */
  async function idsIn(start: number, end: number): Promise<number[]> {
    const pid = projectId.value;
    if (pid === null || end < start) return [];
    const ids: number[] = [];
    for (let p = Math.floor(start / PAGE_SIZE); p <= Math.floor(end / PAGE_SIZE); p++) {
      let rows = pages.get(p);
      if (!rows) {
        const r = await notify.attempt('Selecting', () => api['library.list'](pageQuery(pid, p)));
        if (!r) return [];
        rows = r.rows;
      }
      rows.forEach((row, k) => {
        const i = p * PAGE_SIZE + k;
        if (i >= start && i <= end) ids.push(row.id);
      });
    }
    return ids;
  }

  /** Shift-click: everything between the anchor and this index joins the selection. */
  async function selectRange(from: number, to: number): Promise<void> {
    const ids = await idsIn(Math.min(from, to), Math.max(from, to));
    selected.value = new Set([...selected.value, ...ids]);
  }

  /** Ctrl/Cmd+A: every image the current filters show, loaded or not. */
  async function selectAll(): Promise<void> {
    selected.value = new Set(await idsIn(0, total.value - 1));
  }

  function clearSelection(): void {
    selected.value = new Set();
  }

  /** The background decode check finished: reload the pages on screen (badges), keeping the scroll. */
  function onChecked(e: { projectId: number; broken: number }): void {
    if (e.projectId !== projectId.value || !e.broken) return;
    for (const page of [...pages.keys()]) {
      pages.delete(page);
      void fetchPage(page);
    }
  }

  function onImportProgress(p: { projectId: number; done: number; total: number }): void {
    if (p.projectId === projectId.value && importing.value) importing.value = { done: p.done, total: p.total };
  }

  watch(projectId, (id) => {
    if (id !== null) localStorage.setItem('restora.project', String(id));
    selected.value = new Set();
    lastImport.value = null; // another project's report does not belong here
    reset();
  });
  watch(() => [filters.status, filters.format, filters.sort, filters.descending], reset);

  return {
    projects,
    projectId,
    project,
    filters,
    total,
    pages,
    generation,
    selected,
    importing,
    importStarted,
    lastImport,
    lastOpened,
    loadProjects,
    createProject,
    reset,
    ensureRange,
    rowAt,
    importPaths,
    uploadFiles,
    importSample,
    toggleSelected,
    selectRange,
    selectAll,
    clearSelection,
    onImportProgress,
    onChecked,
  };
});
