/**
 * Finding libtorch at run time, in the same order as scripts/libtorch-env.sh:
 * MAN_LIBTORCH or LIBTORCH → the project-local .venv → the venv `man-fer
 * setup` made in man-fer's cache folder → the torch of the python3 on PATH.
 * Pure logic over an injectable file system view, so the error paths are
 * testable without a real libtorch.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { LibtorchError } from '../errors.ts'
import { setupVenv, SETUP_MARKER, sitePackagesDirs } from './cache-home.ts'
import { REQUIRED_TORCH_VERSION } from './torch-version.ts'

export { REQUIRED_TORCH_VERSION } from './torch-version.ts'
export const SETUP_COMMAND = 'npx man-fer setup'
export const INSTALL_COMMAND = `python3 -m pip install torch==${REQUIRED_TORCH_VERSION}`
/** The `source` of a libtorch found in the venv `man-fer setup` made. */
export const SETUP_SOURCE = 'man-fer setup'

export interface LibtorchLocation {
  /** A torch package directory or an unpacked libtorch archive. */
  dir: string
  /** Where it was found: 'MAN_LIBTORCH', 'LIBTORCH', '.venv', 'man-fer setup' or 'python3'. */
  source: string
  /** e.g. "2.11.0+cu130" */
  version: string
  /** Shared libraries to open before the addon, in dependency order. */
  libraries: string[]
  cuda: boolean
}

/** What the finder may look at; the real one reads the disk and runs python3. */
export interface LibtorchProbe {
  env: Record<string, string | undefined>
  platform: NodeJS.Platform
  /** Directories that may hold a project-local .venv (the package root, the cwd). */
  venvRoots: string[]
  /** The venv `man-fer setup` installs into (used once it holds the setup marker). */
  setupVenv?: string
  exists(path: string): boolean
  readText(path: string): string | undefined
  listDir(path: string): string[]
  /** The torch package directory of python3 on PATH, without importing torch. */
  pythonTorchDir(): string | undefined
}

export const realProbe = (venvRoots: string[]): LibtorchProbe => ({
  env: process.env,
  platform: process.platform,
  venvRoots,
  setupVenv: setupVenv(),
  exists: existsSync,
  readText: (p) => {
    try {
      return readFileSync(p, 'utf8')
    } catch {
      return undefined
    }
  },
  listDir: (p) => {
    try {
      return readdirSync(p)
    } catch {
      return []
    }
  },
  pythonTorchDir: () => {
    try {
      const out = execFileSync(
        'python3',
        ['-c', "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')"],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 },
      ).trim()
      return out || undefined
    } catch {
      return undefined
    }
  },
})

function libName(platform: NodeJS.Platform, base: string): string {
  if (platform === 'win32') return `${base}.dll`
  if (platform === 'darwin') return `lib${base}.dylib`
  return `lib${base}.so`
}

/** The version of a torch (version.py) or libtorch (build-version) directory. */
export function torchVersionOf(dir: string, probe: LibtorchProbe): string | undefined {
  const py = probe.readText(join(dir, 'version.py'))
  const m = py && /^__version__\s*=\s*['"]([^'"]+)['"]/m.exec(py)
  if (m) return m[1]
  return probe.readText(join(dir, 'build-version'))?.trim().split('\n')[0] || undefined
}

function candidates(probe: LibtorchProbe): Array<{ dir: string; source: string; explicit: boolean }> {
  const out: Array<{ dir: string; source: string; explicit: boolean }> = []
  for (const name of ['MAN_LIBTORCH', 'LIBTORCH']) {
    const dir = probe.env[name]
    if (dir) out.push({ dir, source: name, explicit: true })
  }
  const venvs = probe.venvRoots.map((root) => ({ venv: join(root, '.venv'), source: '.venv' }))
  if (probe.setupVenv !== undefined && probe.exists(join(probe.setupVenv, SETUP_MARKER))) {
    venvs.push({ venv: probe.setupVenv, source: SETUP_SOURCE })
  }
  for (const { venv, source } of venvs) {
    for (const site of sitePackagesDirs(venv, probe.platform, probe.listDir)) {
      out.push({ dir: join(site, 'torch'), source, explicit: false })
    }
  }
  return out
}

export function inspect(dir: string, source: string, probe: LibtorchProbe): LibtorchLocation | string {
  const lib = join(dir, 'lib')
  const need = (base: string) => join(lib, libName(probe.platform, base))
  if (!probe.exists(need('torch_cpu'))) return `${source}=${dir} has no ${join('lib', libName(probe.platform, 'torch_cpu'))}`
  const version = torchVersionOf(dir, probe)
  if (!version?.startsWith(REQUIRED_TORCH_VERSION)) {
    return `${source}=${dir} is torch ${version ?? '(unknown version)'}, man-fer needs ${REQUIRED_TORCH_VERSION}`
  }
  const cuda = probe.exists(need('torch_cuda'))
  const order = ['c10', 'torch_cpu', ...(cuda ? ['c10_cuda', 'torch_cuda'] : []), 'torch']
  const libraries = order.map(need).filter((p) => probe.exists(p))
  return { dir, source, version, libraries, cuda }
}

/** Finds a usable libtorch or throws one LibtorchError saying what is needed and how to get it. */
export function findLibtorch(probe: LibtorchProbe): LibtorchLocation {
  const found = searchLibtorch(probe)
  if ('dir' in found) return found
  const seen = found.rejected.length ? ` Found instead: ${found.rejected.join('; ')}.` : ''
  throw new LibtorchError(
    `man-fer needs libtorch ${REQUIRED_TORCH_VERSION} (PyPI torch==${REQUIRED_TORCH_VERSION}) and could not find it.${seen} ` +
      `Install it with: ${SETUP_COMMAND}   ` +
      `(it installs torch==${REQUIRED_TORCH_VERSION} into man-fer's own cache folder; or ${INSTALL_COMMAND} into your Python, ` +
      `or point MAN_LIBTORCH at a torch ${REQUIRED_TORCH_VERSION} or libtorch ${REQUIRED_TORCH_VERSION} directory; ` +
      `in a source checkout, npm run setup installs it into .venv).`,
  )
}

/** The libtorch findLibtorch would use, or every candidate it looked at and why each is unusable. */
export function searchLibtorch(probe: LibtorchProbe): LibtorchLocation | { rejected: string[] } {
  const rejected: string[] = []
  for (const c of candidates(probe)) {
    if (!c.explicit && !probe.exists(c.dir)) continue
    const found = inspect(c.dir, c.source, probe)
    if (typeof found !== 'string') return found
    rejected.push(found)
    // An explicit setting that is wrong is an error, not a reason to look elsewhere.
    if (c.explicit) break
  }
  if (rejected.length === 0) {
    const dir = probe.pythonTorchDir()
    if (dir) {
      const found = inspect(dir, 'python3', probe)
      if (typeof found !== 'string') return found
      rejected.push(found)
    }
  }
  return { rejected }
}
