/**
 * `man-fer setup`: makes sure libtorch 2.11.0 is there. When no usable one is
 * found (see ts/native/libtorch.ts for the search order), installs PyPI
 * torch==2.11.0 into a virtual environment in man-fer's cache folder, where
 * the loader looks next, so that `npm i man-fer && npx man-fer setup` is all a
 * user does, without touching their own Python. pip's output (its download
 * progress among it) goes to stderr as it comes.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { LibtorchError } from '../errors.ts'
import { setupVenv, SETUP_MARKER, sitePackagesDirs, venvPython } from '../native/cache-home.ts'
import {
  inspect,
  realProbe,
  REQUIRED_TORCH_VERSION,
  searchLibtorch,
  SETUP_SOURCE,
  type LibtorchLocation,
  type LibtorchProbe,
} from '../native/libtorch.ts'
import { PACKAGE_ROOT } from '../native/loader.ts'
import { jsonFlag, parseArgs, renderHelp, valueOf, type FlagSpec } from './args.ts'
import type { Output } from './output.ts'

const specs: FlagSpec[] = [
  { key: 'check', names: ['check'], type: 'boolean', description: 'only say which libtorch man-fer would use, or what setup would install (exit 1 when it would have to)' },
  { key: 'force', names: ['force'], type: 'boolean', description: "install man-fer's own torch even when another usable libtorch is found" },
  { key: 'python', names: ['python'], type: 'string', placeholder: 'PATH', description: 'the Python 3 that creates the virtual environment (default: python3; python on Windows)' },
  { key: 'indexUrl', names: ['index-url'], type: 'string', placeholder: 'URL', description: "a package index for pip, e.g. PyTorch's CPU-only one (a much smaller download)" },
  jsonFlag,
]

export function setupHelp(): string {
  return renderHelp(
    'man-fer setup [--check] [options]',
    `Makes sure libtorch ${REQUIRED_TORCH_VERSION} is available. When none is found, installs torch==${REQUIRED_TORCH_VERSION}\n` +
      `from PyPI into a virtual environment in man-fer's cache folder (${setupVenv()};\nMAN_FER_HOME moves it), about 3 GB with the CUDA libraries on Linux x64.`,
    specs,
  )
}

export interface SetupSeams {
  probe: LibtorchProbe
  /** The venv to install into. */
  venv: string
  platform: NodeJS.Platform
  /** Runs a command with its output on stderr; resolves to its exit status. */
  run(command: string, args: string[]): Promise<number>
  /** A command's stdout, or undefined when it cannot run or fails. */
  capture(command: string, args: string[]): string | undefined
  exists(path: string): boolean
  writeFile(path: string, text: string): void
  remove(path: string): void
}

export function realSetupSeams(): SetupSeams {
  return {
    probe: realProbe([PACKAGE_ROOT, process.cwd()]),
    venv: setupVenv(),
    platform: process.platform,
    run: (command, args) =>
      new Promise((resolve, reject) => {
        // pip writes its progress to stdout; the CLI keeps stdout for results.
        const child = spawn(command, args, { stdio: ['ignore', 2, 2] })
        child.on('error', reject)
        child.on('close', (code) => resolve(code ?? 1))
      }),
    capture: (command, args) => {
      try {
        return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 }).trim()
      } catch {
        return undefined
      }
    },
    exists: existsSync,
    writeFile: (path, text) => writeFileSync(path, text),
    remove: (path) => rmSync(path, { force: true }),
  }
}

function describe(location: LibtorchLocation): string {
  return `libtorch ${location.version}${location.cuda ? ' (with CUDA)' : ''} from ${location.source}: ${location.dir}`
}

/** The venv's torch, once pip is done, or why it is not usable. */
function installedTorch(seams: SetupSeams): LibtorchLocation | string {
  const reasons: string[] = []
  for (const site of sitePackagesDirs(seams.venv, seams.platform, seams.probe.listDir)) {
    const found = inspect(join(site, 'torch'), SETUP_SOURCE, seams.probe)
    if (typeof found !== 'string') return found
    reasons.push(found)
  }
  return reasons.join('; ') || `${seams.venv} has no site-packages folder`
}

export async function setupCommand(argv: string[], out: Output, seams: SetupSeams = realSetupSeams()): Promise<number> {
  const parsed = parseArgs(argv, specs)
  if (parsed.help) {
    out.data(setupHelp())
    return 0
  }
  const check = valueOf<boolean>(parsed, 'check') === true
  const force = valueOf<boolean>(parsed, 'force') === true
  const python = valueOf<string>(parsed, 'python') ?? (seams.platform === 'win32' ? 'python' : 'python3')
  const indexUrl = valueOf<string>(parsed, 'indexUrl')
  const found = searchLibtorch(seams.probe)
  const explicit = ['MAN_LIBTORCH', 'LIBTORCH'].find((v) => seams.probe.env[v])

  if ('dir' in found && !force) {
    if (out.json) out.event({ type: 'setup', action: 'use', dir: found.dir, source: found.source, version: found.version, cuda: found.cuda })
    else out.data(`man-fer uses ${describe(found)}${check ? '' : ' (nothing to install)'}`)
    return 0
  }
  if (explicit !== undefined && !('dir' in found)) {
    throw new LibtorchError(`${found.rejected.join('; ')}. Fix ${explicit} or unset it to let man-fer setup install torch==${REQUIRED_TORCH_VERSION}`)
  }
  const version = seams.capture(python, ['-c', "import sys, venv; print('%d.%d.%d' % sys.version_info[:3])"])
  const plan = `torch==${REQUIRED_TORCH_VERSION} into ${seams.venv}`
  if (check) {
    const why = 'rejected' in found ? found.rejected : []
    if (out.json) {
      out.event({ type: 'setup', action: 'install', venv: seams.venv, python, pythonVersion: version ?? null, rejected: why })
    } else {
      out.data(`man-fer found no usable libtorch${why.length ? ` (${why.join('; ')})` : ''}`)
      out.data(`man-fer setup would install ${plan} with ${python}${version ? ` (Python ${version})` : ' (not usable: install Python 3 with its venv module, or pass --python)'}`)
    }
    return 1
  }
  if (version === undefined) {
    throw new LibtorchError(
      `${python} cannot create a virtual environment: man-fer setup needs Python 3 with its venv module ` +
        `(Debian/Ubuntu: apt install python3-venv), or --python PATH naming one`,
    )
  }

  out.log(`man-fer setup: installing ${plan} with ${python} (Python ${version})`)
  out.log('man-fer setup: about 3 GB with the CUDA libraries on Linux x64; pip reuses its cache on later installs')
  const venvPy = venvPython(seams.venv, seams.platform)
  if (!seams.exists(venvPy)) {
    out.log(`man-fer setup: creating the virtual environment ${seams.venv}`)
    const status = await seams.run(python, ['-m', 'venv', seams.venv])
    if (status !== 0) throw new LibtorchError(`${python} -m venv ${seams.venv} failed (exit ${status}); see its output above`)
  }
  const marker = join(seams.venv, SETUP_MARKER)
  // A reinstall is half made until pip is done again.
  seams.remove(marker)
  const pipArgs = ['-m', 'pip', 'install', `torch==${REQUIRED_TORCH_VERSION}`, ...(indexUrl ? ['--index-url', indexUrl] : [])]
  const status = await seams.run(venvPy, pipArgs)
  if (status !== 0) {
    throw new LibtorchError(`pip could not install torch==${REQUIRED_TORCH_VERSION} into ${seams.venv} (exit ${status}); see its output above, then run man-fer setup again`)
  }
  const installed = installedTorch(seams)
  if (typeof installed === 'string') throw new LibtorchError(`pip finished, but the result is not usable: ${installed}`)
  seams.writeFile(marker, `${JSON.stringify({ torch: installed.version, python: version, installedAt: new Date().toISOString() })}\n`)
  if (out.json) out.event({ type: 'setup', action: 'installed', dir: installed.dir, source: installed.source, version: installed.version, cuda: installed.cuda })
  else out.data(`man-fer uses ${describe(installed)}`)
  return 0
}
