/**
 * man-fer's own cache directory, where `man-fer setup` keeps the virtual
 * environment holding torch: MAN_FER_HOME when set (tests point it at a temp
 * folder), else the platform's per-user cache folder.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'

import { REQUIRED_TORCH_VERSION } from './torch-version.ts'

/** Written into the venv once pip has installed torch: a venv without it is half made. */
export const SETUP_MARKER = '.man-fer-setup-complete'

export function manFerHome(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.MAN_FER_HOME) return env.MAN_FER_HOME
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'man-fer', 'Cache')
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'man-fer')
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'man-fer')
}

/** The virtual environment `man-fer setup` installs torch into. */
export function setupVenv(env?: Record<string, string | undefined>, platform?: NodeJS.Platform, home?: string): string {
  return join(manFerHome(env, platform, home), `venv-torch-${REQUIRED_TORCH_VERSION}`)
}

/** The venv's Python interpreter. */
export function venvPython(venv: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? join(venv, 'Scripts', 'python.exe') : join(venv, 'bin', 'python')
}

/** Where a venv's packages live: lib/python3.X/site-packages, or Lib/site-packages on Windows. */
export function sitePackagesDirs(venv: string, platform: NodeJS.Platform, listDir: (p: string) => string[]): string[] {
  if (platform === 'win32') return [join(venv, 'Lib', 'site-packages')]
  const lib = join(venv, 'lib')
  return listDir(lib)
    .filter((d) => d.startsWith('python3'))
    .sort()
    .map((py) => join(lib, py, 'site-packages'))
}
