/**
 * Loads the native addon so that it works without LD_LIBRARY_PATH: libtorch's
 * shared libraries are opened first, globally and never unloaded, then the
 * `.node` (from the platform package, or the local build of a source
 * checkout) finds its libtorch dependencies already in the process.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { join } from 'node:path'

import { LibtorchError, NoBinaryError } from '../errors.ts'
import type { Binding } from './binding.ts'
import { findLibtorch, realProbe, type LibtorchLocation, type LibtorchProbe } from './libtorch.ts'
import { addonFile, hostPlatform, PACKAGE_ROOT, platformPackage, prebuiltPlatforms } from './platform.ts'

export { PACKAGE_ROOT } from './platform.ts'

const RTLD_NODELETE = 0x1000 // glibc: keep libtorch mapped for the life of the process

export interface LoaderSeams {
  probe: LibtorchProbe
  triple: string
  /** Opens a shared library globally; throws what process.dlopen throws. */
  dlopen(path: string): void
  /** Resolves a package's main file, or undefined when not installed. */
  resolvePackage(name: string): string | undefined
  exists(path: string): boolean
  requireAddon(path: string): Binding
}

const require = createRequire(import.meta.url)

function realSeams(): LoaderSeams {
  const flags = (constants.dlopen.RTLD_NOW ?? 2) | (constants.dlopen.RTLD_GLOBAL ?? 0x100) |
    (process.platform === 'linux' ? RTLD_NODELETE : 0)
  return {
    probe: realProbe([PACKAGE_ROOT, process.cwd()]),
    triple: hostPlatform(),
    dlopen: (path) => process.dlopen({ exports: {} } as NodeJS.Module, path, flags),
    resolvePackage: (name) => {
      try {
        return require.resolve(name)
      } catch {
        return undefined
      }
    },
    exists: existsSync,
    requireAddon: (path) => require(path) as Binding,
  }
}

/** Opens each library; a plain shared library "did not self-register", which is expected. */
export function preloadLibtorch(location: LibtorchLocation, dlopen: (path: string) => void): void {
  for (const lib of location.libraries) {
    try {
      dlopen(lib)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      if (message.includes('did not self-register')) continue
      throw new LibtorchError(
        `cannot open ${lib} (libtorch from ${location.source}=${location.dir}): ${message}`,
      )
    }
  }
}

/** Where the addon is: the platform package first, then a local build in the package root. */
export function findAddon(seams: LoaderSeams): string {
  const name = platformPackage(seams.triple)
  const fromPackage = seams.resolvePackage(name)
  if (fromPackage) return fromPackage
  const local = join(PACKAGE_ROOT, addonFile(seams.triple))
  if (seams.exists(local)) return local
  const prebuilt = prebuiltPlatforms()
  throw new NoBinaryError(
    prebuilt.includes(seams.triple)
      ? `no prebuilt binary for ${seams.triple}: the package ${name} is not installed. ` +
          `Reinstall man-fer without --no-optional (npm i man-fer), or build from source: ` +
          `git clone the man-fer repository, then npm run build.`
      : `no prebuilt binary for ${seams.triple}; prebuilt platforms are ${prebuilt.join(', ')}. ` +
          `Build from source: git clone the man-fer repository, then npm run build.`,
  )
}

/** Finds libtorch, opens it, then loads the addon. */
export function loadNativeBinding(seams: LoaderSeams = realSeams()): Binding {
  const location = findLibtorch(seams.probe)
  const addon = findAddon(seams)
  preloadLibtorch(location, seams.dlopen)
  try {
    return seams.requireAddon(addon)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new NoBinaryError(`cannot load the man-fer addon ${addon}: ${message}`, { cause: err })
  }
}
