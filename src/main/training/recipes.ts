/**
 * Training recipes: one user request trained as several runs in order, each the next one's
 * start. Kept in the domain (not in a front end) so the CLI and the studio run the same
 * stages.
 */
import { RECIPES, type TrainRequest } from '../../shared/api.js';
import { RestoraError } from '../../shared/errors.js';

export { RECIPES, type RecipeId } from '../../shared/api.js';

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

/**
 * What a recipe fixes, checked before its first stage: 'vae-latent' trains VAEs for a x2
 * model from degraded copies of the photos, so no teacher, GAN stage or start model.
 */
export function checkRecipeRequest(recipe: string, base: TrainRequest): void {
  if (!(RECIPES as readonly string[]).includes(recipe)) throw new RestoraError('USAGE', `Unknown training recipe "${recipe}". Known: ${RECIPES.join(', ')}.`);
  if (base.arch !== 'vae' || base.scale !== 2) {
    throw new RestoraError('USAGE', `The ${recipe} recipe trains VAEs (arch vae) for a x2 model (scale 2); this request is ${base.arch} x${base.scale}.`, undefined, {
      hint: { cli: 'Leave --arch and --scale out (or give --arch vae --scale 2).', studio: 'Pick the vae architecture at x2.' },
    });
  }
  if (base.teacher || base.preset === 'none') throw new RestoraError('USAGE', 'The VAE latent recipe cannot learn from a teacher.', undefined, { hint: { cli: 'Leave --teacher out.', studio: 'Choose no teacher.' } });
  if (base.gan || base.initModel || base.latentStage)
    throw new RestoraError('USAGE', `The ${recipe} recipe sets its own stages: it takes no GAN stage, start model or latent stage.`, undefined, { hint: { cli: 'Leave --gan and --init out.', studio: 'Turn GAN off and start from random weights.' } });
}
