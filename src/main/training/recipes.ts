/**
 * Training recipes: one user request trained as several runs in order, each the next one's
 * start. Kept in the domain (not in a front end) so the CLI and the studio run the same
 * stages.
 */
import type { TrainRequest } from '../../shared/api.js';
import { RestoraError } from '../../shared/errors.js';

export const RECIPES = ['vae-latent'] as const;
export type RecipeId = (typeof RECIPES)[number];

/**
 * The VAE latent-translation recipe as three runs: <name>-clean (a VAE on clean photos, at
 * their size, one level deeper so its latent has the LR latent's size), <name>-degraded
 * (a VAE on the preset's x2 LR photos) and <name> (the mapping between them, x2).
 */
function latentRecipe<T extends TrainRequest>(base: T, patch: number): T[] {
  const shape = Object.fromEntries(Object.entries(base.archOptions ?? {}).filter(([k]) => ['channels', 'latent', 'blocks'].includes(k)));
  const levels = Number(base.archOptions?.levels ?? 2);
  return [
    { ...base, name: `${base.name}-clean`, latentStage: 'clean', arch: 'vae', scale: 1, preset: 'bicubic', patch: patch * 2, archOptions: { ...shape, levels: levels + 1 } },
    { ...base, name: `${base.name}-degraded`, latentStage: 'degraded', arch: 'vae', scale: 1, archOptions: { ...shape, levels } },
    { ...base, latentStage: 'mapping', arch: 'vae-mapping', scale: 2, archOptions: { ...shape, levels } },
  ];
}

/** The runs a recipe trains for `base`, in order (`patch`: the base run's patch side). */
export function recipeStages<T extends TrainRequest>(recipe: string, base: T, patch: number): T[] {
  if (recipe === 'vae-latent') return latentRecipe(base, patch);
  throw new RestoraError('USAGE', `Unknown training recipe "${recipe}". Known: ${RECIPES.join(', ')}.`);
}
