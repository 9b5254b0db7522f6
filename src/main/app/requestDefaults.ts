/**
 * The one place an upscale's defaults come from: what the user chose in Settings, else
 * Restora's. The studio, the CLI and batch jobs all get theirs here, so `restora upscale`
 * tiles as the studio does.
 */
import { DEFAULT_TILE, type Settings } from '../../shared/api.js';

export interface UpscaleDefaults {
  tile: number;
}

export function upscaleDefaults(settings: Pick<Settings, 'tile'>): UpscaleDefaults {
  return { tile: settings.tile ?? DEFAULT_TILE };
}
