/**
 * Argument checks at the public API's boundary: a wrong type becomes a
 * ManError (ERR_MAN_ARGUMENT) naming the function, the argument and what it
 * got, instead of a TypeError from deep inside or a silent NaN.
 */
import { ManError } from '../errors.ts'

/** A short description of what a caller passed, for messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${value}`
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${(value as unknown as { length?: number }).length ?? value.byteLength}`
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'plain'} object`
  return `a ${typeof value}`
}

export function argumentError(where: string, message: string): ManError {
  return new ManError('ERR_MAN_ARGUMENT', `${where}: ${message}`)
}

export function expectInt32Array(where: string, name: string, value: unknown): asserts value is Int32Array {
  if (!(value instanceof Int32Array)) throw argumentError(where, `${name} must be an Int32Array, got ${describe(value)}`)
}

export function expectFinite(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw argumentError(where, `${name} must be a finite number, got ${describe(value)}`)
  }
}
