/**
 * One photo's pipeline (repair, then the model, then colour and tone) as the compute
 * worker's request. The Compare view, `restora restore`/`upscale` and batch jobs all build
 * their requests here, so the same choices give the same pixels wherever they are made.
 */
import { DEFAULT_TILE, INPAINTER_ID, SCRATCH_DETECTOR_ID, type OutputFormat } from '../../../shared/api.js';
import type { ModelLibrary } from '../store/modelLibrary.js';
import type { FacePlan, RepairPlan, UpscaleFileRequest } from './upscaleFile.js';

/** The bundled damage nets' folders (resolved once per run: a missing one is said before any work). */
export function damageNetDirs(models: ModelLibrary): { detector: string; inpainter: string } {
  return { detector: models.get(SCRATCH_DETECTOR_ID).dir, inpainter: models.get(INPAINTER_ID).dir };
}

/** The repair step of one photo: the inpainter, on the user's mask or else on the detector's. */
export function repairPlanFor(nets: { detector: string; inpainter: string }, maskFile?: string, maskOut?: string): RepairPlan {
  return { inpainterDir: nets.inpainter, ...(maskFile ? { maskFile } : { detectorDir: nets.detector }), ...(maskOut ? { maskOut } : {}) };
}

/** What a user chose for a photo, in any front end. */
export interface PipelineChoices {
  repair?: RepairPlan | undefined;
  keepColours?: boolean | undefined;
  keepHighlights?: boolean | undefined;
  levels?: boolean | undefined;
  quality?: number | undefined;
  tile?: number | undefined;
  resize?: { width?: number; height?: number } | undefined;
  faces?: FacePlan | undefined;
}

/** The worker's request for one photo: `model` null runs the repair alone (scale 1). */
export function pipelineRequest(model: { card: { scale: number } } | null, input: string, output: string, format: OutputFormat, choices: PipelineChoices): UpscaleFileRequest {
  return {
    input,
    output,
    scale: model?.card.scale ?? 1,
    format,
    tile: choices.tile ?? DEFAULT_TILE,
    overlap: 0,
    ...(choices.quality !== undefined ? { quality: choices.quality } : {}),
    ...(choices.keepColours !== undefined ? { keepColours: choices.keepColours } : {}),
    ...(choices.keepHighlights !== undefined ? { keepHighlights: choices.keepHighlights } : {}),
    ...(choices.levels ? { levels: true } : {}),
    ...(choices.resize ? { resize: choices.resize } : {}),
    ...(choices.repair ? { repair: choices.repair } : {}),
    ...(choices.faces ? { faces: choices.faces } : {}),
  };
}
