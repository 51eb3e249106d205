import test from 'ava'
import { join } from 'node:path'

import { setupCommand, type SetupSeams } from '../ts/cli/setup.ts'
import { makeOutput } from '../ts/cli/output.ts'
import { LibtorchError } from '../ts/errors.ts'
import { manFerHome, setupVenv, SETUP_MARKER } from '../ts/native/cache-home.ts'
import { findLibtorch, type LibtorchProbe } from '../ts/native/libtorch.ts'
import { cli, ROOT } from './helpers/cli.ts'

const VENV = '/home/u/.cache/man-fer/venv-torch-2.11.0'
const SITE_TORCH = `${VENV}/lib/python3.12/site-packages/torch`

function torchFiles(dir: string, version: string): Record<string, string> {
  return {
    [join(dir, 'version.py')]: `__version__ = '${version}'\n`,
    [join(dir, 'lib/libc10.so')]: '',
    [join(dir, 'lib/libtorch_cpu.so')]: '',
    [join(dir, 'lib/libtorch.so')]: '',
  }
}

/** A file system of a few paths that the fake commands can add to. */
function fakeSeams(files: Record<string, string>, env: Record<string, string> = {}, pythonTorch?: string) {
  const has = (p: string) => Object.keys(files).some((f) => f === p || f.startsWith(p + '/'))
  const probe: LibtorchProbe = {
    env,
    platform: 'linux',
    venvRoots: ['/proj'],
    setupVenv: VENV,
    exists: has,
    readText: (p) => files[p],
    listDir: (p) => [...new Set(Object.keys(files).filter((f) => f.startsWith(p + '/')).map((f) => f.slice(p.length + 1).split('/')[0]!))],
    pythonTorchDir: () => pythonTorch,
  }
  const ran: string[] = []
  let pipStatus = 0
  const seams: SetupSeams = {
    probe,
    venv: VENV,
    platform: 'linux',
    run: async (command, args) => {
      ran.push([command, ...args].join(' '))
      if (args[1] === 'venv') files[join(VENV, 'bin/python')] = ''
      if (args[1] === 'pip' && pipStatus === 0) Object.assign(files, torchFiles(SITE_TORCH, '2.11.0+cu130'))
      return args[1] === 'pip' ? pipStatus : 0
    },
    capture: (command) => (command === 'python3' || command === '/opt/py/bin/python3' ? '3.12.3' : undefined),
    exists: has,
    writeFile: (p, text) => (files[p] = text),
    remove: (p) => delete files[p],
  }
  return { seams, ran, files, failPip: (status: number) => (pipStatus = status) }
}

function capture() {
  const out: string[] = []
  const err: string[] = []
  const output = makeOutput(false, { out: { write: (s: string) => out.push(s) }, err: { write: (s: string) => err.push(s) } }, {})
  return { output, out: () => out.join(''), err: () => err.join('') }
}

test("man-fer's cache folder: MAN_FER_HOME, else XDG_CACHE_HOME or ~/.cache on Linux, the platform's cache folder elsewhere", (t) => {
  t.is(manFerHome({ MAN_FER_HOME: '/tmp/mf', XDG_CACHE_HOME: '/x' }, 'linux', '/home/u'), '/tmp/mf')
  t.is(manFerHome({ XDG_CACHE_HOME: '/x' }, 'linux', '/home/u'), '/x/man-fer')
  t.is(manFerHome({}, 'linux', '/home/u'), '/home/u/.cache/man-fer')
  t.is(manFerHome({}, 'darwin', '/Users/u'), '/Users/u/Library/Caches/man-fer')
  t.is(manFerHome({ LOCALAPPDATA: 'C:/Users/u/AppData/Local' }, 'win32', 'C:/Users/u'), join('C:/Users/u/AppData/Local', 'man-fer', 'Cache'))
  t.is(setupVenv({}, 'linux', '/home/u'), VENV)
})

test("search order: .venv, then setup's venv (only once complete), then python3", (t) => {
  const py = '/usr/lib/python3/dist-packages/torch'
  const both = { ...torchFiles(SITE_TORCH, '2.11.0+cu130'), ...torchFiles(py, '2.11.0') }
  t.is(findLibtorch(fakeSeams(both, {}, py).seams.probe).source, 'python3', 'a venv without the marker is half made')
  const complete = { ...both, [join(VENV, SETUP_MARKER)]: '{}' }
  t.is(findLibtorch(fakeSeams(complete, {}, py).seams.probe).source, 'man-fer setup')
  const withLocal = { ...complete, ...torchFiles('/proj/.venv/lib/python3.11/site-packages/torch', '2.11.0') }
  t.is(findLibtorch(fakeSeams(withLocal, {}, py).seams.probe).source, '.venv')
})

test('the missing-libtorch error names npx man-fer setup first', (t) => {
  const err = t.throws(() => findLibtorch(fakeSeams({}).seams.probe), { instanceOf: LibtorchError })
  t.regex(err.message, /could not find it\. Install it with: npx man-fer setup /)
  t.true(err.message.indexOf('npx man-fer setup') < err.message.indexOf('pip install'))
})

test('setup with a usable libtorch installs nothing; --check says which one', async (t) => {
  const { seams, ran } = fakeSeams(torchFiles('/proj/.venv/lib/python3.11/site-packages/torch', '2.11.0+cpu'))
  const c = capture()
  t.is(await setupCommand([], c.output, seams), 0)
  t.is(c.out(), 'man-fer uses libtorch 2.11.0+cpu from .venv: /proj/.venv/lib/python3.11/site-packages/torch (nothing to install)\n')
  const d = capture()
  t.is(await setupCommand(['--check'], d.output, seams), 0)
  t.regex(d.out(), /^man-fer uses libtorch 2\.11\.0\+cpu from \.venv/)
  t.deepEqual(ran, [])
})

test('setup --check without a libtorch says what it would install, and exits 1', async (t) => {
  const py = '/usr/lib/python3/dist-packages/torch'
  const { seams, ran } = fakeSeams(torchFiles(py, '2.4.1'), {}, py)
  const c = capture()
  t.is(await setupCommand(['--check'], c.output, seams), 1)
  t.is(
    c.out(),
    `man-fer found no usable libtorch (python3=${py} is torch 2.4.1, man-fer needs 2.11.0)\n` +
      `man-fer setup would install torch==2.11.0 into ${VENV} with python3 (Python 3.12.3)\n`,
  )
  t.deepEqual(ran, [])
})

test('setup installs torch into its venv, with pip output shown, then marks it complete', async (t) => {
  const { seams, ran, files } = fakeSeams({})
  const c = capture()
  t.is(await setupCommand(['--python', '/opt/py/bin/python3', '--index-url', 'https://example.test/whl/cpu'], c.output, seams), 0)
  t.deepEqual(ran, [
    `/opt/py/bin/python3 -m venv ${VENV}`,
    `${VENV}/bin/python -m pip install torch==2.11.0 --index-url https://example.test/whl/cpu`,
  ])
  t.regex(c.err(), /installing torch==2\.11\.0 into .*venv-torch-2\.11\.0 with \/opt\/py\/bin\/python3 \(Python 3\.12\.3\)/)
  t.is(c.out(), `man-fer uses libtorch 2.11.0+cu130 from man-fer setup: ${SITE_TORCH}\n`)
  t.is(JSON.parse(files[join(VENV, SETUP_MARKER)]!).torch, '2.11.0+cu130')
  t.is(findLibtorch(seams.probe).source, 'man-fer setup', 'the loader finds it there')
})

test('a failed pip leaves the venv unmarked, so the loader does not use it and setup runs pip again', async (t) => {
  const { seams, ran, files, failPip } = fakeSeams({})
  failPip(1)
  const err = await t.throwsAsync(setupCommand([], capture().output, seams), { instanceOf: LibtorchError })
  t.regex(err.message, /pip could not install torch==2\.11\.0 into .*\(exit 1\)/)
  t.false(join(VENV, SETUP_MARKER) in files)
  failPip(0)
  t.is(await setupCommand([], capture().output, seams), 0)
  t.deepEqual(ran.map((r) => r.split(' ').slice(1, 3).join(' ')), ['-m venv', '-m pip', '-m pip'], 'the venv is made once')
})

test('setup refuses a wrong explicit MAN_LIBTORCH, and a Python without venv', async (t) => {
  const err = await t.throwsAsync(setupCommand([], capture().output, fakeSeams({}, { MAN_LIBTORCH: '/nowhere' }).seams), { instanceOf: LibtorchError })
  t.regex(err.message, /MAN_LIBTORCH=\/nowhere has no lib\/libtorch_cpu\.so\. Fix MAN_LIBTORCH or unset it/)
  const noPy = await t.throwsAsync(setupCommand(['--python', 'python2'], capture().output, fakeSeams({}).seams), { instanceOf: LibtorchError })
  t.regex(noPy.message, /python2 cannot create a virtual environment: .*apt install python3-venv/)
})

test('man-fer setup --check on the command line: the checkout\'s .venv (npm test sets it up) is what it would use', async (t) => {
  const run = await cli(['setup', '--check', '--json'], { env: { MAN_FER_HOME: '/nonexistent/man-fer-home', MAN_LIBTORCH: '', LIBTORCH: '' } })
  t.is(run.code, 0, run.stderr)
  const last = JSON.parse(run.stdout.trim().split('\n').pop()!)
  t.like(last, { type: 'setup', action: 'use', source: '.venv' })
  t.regex(last.version, /^2\.11\.0/)
  t.true(last.dir.startsWith(join(ROOT, '.venv', 'lib')), last.dir)
})
