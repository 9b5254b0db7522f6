/** A teacher's cost in words (the CLI and the training service; no tfjs here, so the CLI starts fast). */
import type { TeacherEstimate } from '../../../shared/api.js';
import { RestoraError } from '../../../shared/errors.js';

export function teacherCostText(e: TeacherEstimate): string {
  if (e.toCompute === 0) return `teacher ${e.teacher}: all ${e.regions} regions cached`;
  const minutes = e.seconds / 60;
  return (
    `teacher ${e.teacher} on ${e.backend}: ${e.secondsPerRegion.toFixed(2)} s per ${e.regionSide}px region x ${e.toCompute} region(s) to compute` +
    `${e.cached ? ` (${e.cached} of ${e.regions} cached)` : ''} = about ${minutes < 10 ? minutes.toFixed(1) : Math.round(minutes)} min`
  );
}

/** The refusal of a run whose teacher would take over an hour without the user's yes. */
export function teacherCostRefusal(e: TeacherEstimate): RestoraError {
  return new RestoraError('USAGE', `Computing the teacher's outputs would take over an hour: ${teacherCostText(e)}. Add --yes to start anyway (the studio asks you to confirm), or ask for fewer --teacher-regions.`);
}
