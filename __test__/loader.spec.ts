import test from 'ava'
import { join } from 'node:path'

import { LibtorchError, NoBinaryError } from '../ts/errors.ts'
import type { Binding } from '../ts/native/binding.ts'
import { findLibtorch, type LibtorchProbe } from '../ts/native/libtorch.ts'
import { loadNativeBinding, preloadLibtorch, type LoaderSeams } from '../ts/native/loader.ts'

/** A file system of a few paths; everything else is absent. */
function probe(files: Record<string, string>, env: Record<string, string> = {}, pythonTorch?: string): LibtorchProbe {
  const paths = Object.keys(files)
  return {
    env,
    platform: 'linux',
    venvRoots: ['/proj'],
    exists: (p) => paths.some((f) => f === p || f.startsWith(p + '/')),
    readText: (p) => files[p],
    listDir: (p) => [...new Set(paths.filter((f) => f.startsWith(p + '/')).map((f) => f.slice(p.length + 1).split('/')[0]!))],
    pythonTorchDir: () => pythonTorch,
  }
}

function torchDir(dir: string, version: string, cuda = false): Record<string, string> {
  const files: Record<string, string> = {
    [join(dir, 'version.py')]: `__version__ = '${version}'\n`,
    [join(dir, 'lib/libc10.so')]: '',
    [join(dir, 'lib/libtorch_cpu.so')]: '',
    [join(dir, 'lib/libtorch.so')]: '',
  }
  if (cuda) {
    files[join(dir, 'lib/libc10_cuda.so')] = ''
    files[join(dir, 'lib/libtorch_cuda.so')] = ''
  }
  return files
}

const fakeBinding = { runtimeInfo: () => ({ torchVersion: 'fake' }) } as unknown as Binding

function seams(p: LibtorchProbe, overrides: Partial<LoaderSeams> = {}): LoaderSeams & { opened: string[]; required: string[] } {
  const opened: string[] = []
  const required: string[] = []
  return {
    probe: p,
    triple: 'linux-x64-gnu',
    dlopen: (path) => {
      opened.push(path)
      throw new Error(`Module did not self-register: '${path}'.`)
    },
    resolvePackage: () => '/proj/node_modules/man-fer-linux-x64-gnu/man-fer.linux-x64-gnu.node',
    exists: () => true,
    requireAddon: (path) => {
      required.push(path)
      return fakeBinding
    },
    opened,
    required,
    ...overrides,
  }
}

test('missing libtorch: one error naming the version and the install command, addon never loaded', (t) => {
  const s = seams(probe({}))
  const err = t.throws(() => loadNativeBinding(s), { instanceOf: LibtorchError })
  t.is(err?.code, 'ERR_MAN_LIBTORCH')
  t.regex(err!.message, /libtorch 2\.11\.0/)
  t.regex(err!.message, /python3 -m pip install torch==2\.11\.0/)
  t.deepEqual(s.opened, [])
  t.deepEqual(s.required, [])
})

test('wrong torch version in .venv is named in the error', (t) => {
  const dir = '/proj/.venv/lib/python3.11/site-packages/torch'
  const err = t.throws(() => findLibtorch(probe(torchDir(dir, '2.4.1+cpu'))), { instanceOf: LibtorchError })
  t.regex(err!.message, /is torch 2\.4\.1\+cpu, man-fer needs 2\.11\.0/)
  t.regex(err!.message, /pip install torch==2\.11\.0/)
})

test('an explicit MAN_LIBTORCH that is wrong is an error even when .venv would do', (t) => {
  const venv = '/proj/.venv/lib/python3.11/site-packages/torch'
  const files = { ...torchDir(venv, '2.11.0+cu130') }
  const err = t.throws(() => findLibtorch(probe(files, { MAN_LIBTORCH: '/nowhere' })), { instanceOf: LibtorchError })
  t.regex(err!.message, /MAN_LIBTORCH=\/nowhere has no lib\/libtorch_cpu\.so/)
})

test('search order: MAN_LIBTORCH, then LIBTORCH, then .venv, then python3', (t) => {
  const a = '/a/torch'
  const b = '/b/torch'
  const venv = '/proj/.venv/lib/python3.11/site-packages/torch'
  const py = '/usr/lib/python3/site-packages/torch'
  const all = { ...torchDir(a, '2.11.0'), ...torchDir(b, '2.11.0'), ...torchDir(venv, '2.11.0'), ...torchDir(py, '2.11.0') }
  t.is(findLibtorch(probe(all, { MAN_LIBTORCH: a, LIBTORCH: b }, py)).source, 'MAN_LIBTORCH')
  t.is(findLibtorch(probe(all, { LIBTORCH: b }, py)).source, 'LIBTORCH')
  t.is(findLibtorch(probe(all, {}, py)).dir, venv)
  const noVenv = { ...torchDir(py, '2.11.0+cpu') }
  const found = findLibtorch(probe(noVenv, {}, py))
  t.is(found.source, 'python3')
  t.is(found.version, '2.11.0+cpu')
})

test('libraries are opened in dependency order, CUDA ones when present, before the addon', (t) => {
  const dir = '/proj/.venv/lib/python3.11/site-packages/torch'
  const s = seams(probe(torchDir(dir, '2.11.0+cu130', true)))
  t.is(loadNativeBinding(s), fakeBinding)
  t.deepEqual(
    s.opened.map((p) => p.slice(dir.length + 5)),
    ['libc10.so', 'libtorch_cpu.so', 'libc10_cuda.so', 'libtorch_cuda.so', 'libtorch.so'],
  )
  t.deepEqual(s.required, ['/proj/node_modules/man-fer-linux-x64-gnu/man-fer.linux-x64-gnu.node'])
})

test('a library that fails to open for another reason is a LibtorchError naming it', (t) => {
  const dir = '/t/torch'
  const location = findLibtorch(probe(torchDir(dir, '2.11.0'), { MAN_LIBTORCH: dir }))
  const err = t.throws(
    () => preloadLibtorch(location, () => {
      throw new Error('libcudart.so.13: cannot open shared object file')
    }),
    { instanceOf: LibtorchError },
  )
  t.regex(err!.message, /cannot open \/t\/torch\/lib\/libc10\.so .*libcudart/)
})

test('no platform package and no local build: "no prebuilt binary" with how to build', (t) => {
  const dir = '/t/torch'
  const s = seams(probe(torchDir(dir, '2.11.0'), { MAN_LIBTORCH: dir }), {
    resolvePackage: () => undefined,
    exists: () => false,
  })
  const err = t.throws(() => loadNativeBinding(s), { instanceOf: NoBinaryError })
  t.is(err?.code, 'ERR_MAN_NO_BINARY')
  t.regex(err!.message, /no prebuilt binary for linux-x64-gnu/)
  t.regex(err!.message, /npm run build/)
})
