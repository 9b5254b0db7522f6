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

/**
 * What to do about an error, said by each host in its own terms: the CLI names a flag, the
 * studio a control. The domain's message names neither.
 */
export interface ErrorHint {
  cli?: string;
  studio?: string;
}

export type ErrorHost = keyof ErrorHint;

export class RestoraError extends Error {
  readonly code: ErrorCode;
  /** The file the error is about, when there is one. */
  readonly file?: string;
  readonly hint?: ErrorHint;
  constructor(code: ErrorCode, message: string, file?: string, options?: { cause?: unknown; hint?: ErrorHint }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'RestoraError';
    this.code = code;
    if (file !== undefined) this.file = file;
    if (options?.hint) this.hint = options.hint;
  }
}

/** The error's message, with the hint of the host that shows it. */
export function errorMessage(err: unknown, host?: ErrorHost): string {
  if (err instanceof RestoraError) {
    const hint = host ? err.hint?.[host] : undefined;
    return hint ? `${err.message} ${hint}` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
