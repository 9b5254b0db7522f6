/** Error codes every adapter (CLI, IPC, HTTP) can map to a message and exit code. */
export type ErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_FORMAT'
  | 'CORRUPT_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_TOO_SMALL'
  | 'WRITE_FAILED'
  | 'WOULD_OVERWRITE_INPUT'
  | 'MODEL_INVALID'
  | 'BACKEND_UNAVAILABLE'
  /** The GPU device went away mid-job (driver reset, the compute page closed). */
  | 'BACKEND_LOST'
  | 'GPU_OUT_OF_MEMORY'
  | 'CANCELLED'
  | 'TRAINING_DIVERGED'
  | 'CHECKPOINT_MISMATCH'
  | 'DB_TOO_NEW'
  | 'DB_UNAVAILABLE'
  | 'UNSUPPORTED'
  | 'INTERNAL';

export class RestoraError extends Error {
  readonly code: ErrorCode;
  /** The file the error is about, when there is one. */
  readonly file?: string;
  constructor(code: ErrorCode, message: string, file?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RestoraError';
    this.code = code;
    if (file !== undefined) this.file = file;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
