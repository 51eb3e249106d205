/**
 * The one place the rest of the package gets the native binding from. Tests
 * install a fake that implements the same `Binding` interface.
 */
import type { Binding } from './binding.ts'
import { loadNativeBinding } from './loader.ts'

let current: Binding | undefined

/** The native binding, loaded (libtorch first, then the addon) on first use. */
export function getBinding(): Binding {
  current ??= loadNativeBinding()
  return current
}

/** Replaces the binding (tests: a fake one; `undefined` restores lazy loading of the real one). */
export function setBinding(binding: Binding | undefined): void {
  current = binding
}
