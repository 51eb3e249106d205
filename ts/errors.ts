/**
 * Error classes of the public API. Every error man-fer throws on purpose is a
 * ManError with a stable `code`; errors from the addon arrive as
 * `ERR_MAN_<KIND>: message` and are converted by `fromNative`.
 */

export type ManErrorCode =
  | 'ERR_MAN_IO'
  | 'ERR_MAN_DECODE'
  | 'ERR_MAN_WEIGHTS'
  | 'ERR_MAN_SHAPE'
  | 'ERR_MAN_CONFIG'
  | 'ERR_MAN_TORCH'
  | 'ERR_MAN_PANIC'
  | 'ERR_MAN_DATA'
  | 'ERR_MAN_LIBTORCH'
  | 'ERR_MAN_NO_BINARY'
  | 'ERR_MAN_RUN_DIR'
  /** Training produced a non-finite loss or non-finite weights. */
  | 'ERR_MAN_DIVERGED'
  /** Another process holds the run directory's lock. */
  | 'ERR_MAN_LOCKED'
  /** A library function was called with an argument of the wrong type or value. */
  | 'ERR_MAN_ARGUMENT'
  | 'ERR_MAN_ONNX'

export class ManError extends Error {
  readonly code: ManErrorCode
  constructor(code: ManErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ManError'
    this.code = code
  }
}

/** libtorch is missing or of the wrong version. */
export class LibtorchError extends ManError {
  constructor(message: string) {
    super('ERR_MAN_LIBTORCH', message)
    this.name = 'LibtorchError'
  }
}

/** No native addon for this platform. */
export class NoBinaryError extends ManError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_MAN_NO_BINARY', message, options)
    this.name = 'NoBinaryError'
  }
}

/** One or more invalid configuration values; `issues` lists every one. */
export class ConfigError extends ManError {
  readonly issues: string[]
  constructor(issues: string[]) {
    super('ERR_MAN_CONFIG', issues.join('\n'))
    this.name = 'ConfigError'
    this.issues = issues
  }
}

const NATIVE_PREFIX = /^(ERR_MAN_[A-Z_]+): ([\s\S]*)$/

/** Turns an error thrown by the addon into a ManError (other errors pass through). */
export function fromNative(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof ManError) return err
  const m = NATIVE_PREFIX.exec(err.message)
  if (!m) return err
  return new ManError(m[1] as ManErrorCode, m[2] ?? '', { cause: err })
}

/** Awaits a native call and converts its error, if any. */
export async function callNative<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    throw fromNative(err)
  }
}

/** The synchronous counterpart of `callNative`. */
export function callNativeSync<T>(run: () => T): T {
  try {
    return run()
  } catch (err) {
    throw fromNative(err)
  }
}
