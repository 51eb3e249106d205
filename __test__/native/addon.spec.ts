/**
 * The real addon, loaded through the public package entry (`man-fer`, i.e.
 * dist/index.js), exactly as a user's `import` would load it.
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { addonFile, hostPlatform, PACKAGE_ROOT } from '../../ts/native/platform.ts'

const addonPath = join(PACKAGE_ROOT, addonFile(hostPlatform()))

test('runtimeInfo reports libtorch 2.11.0', async (t) => {
  const { runtimeInfo } = await import('man-fer')
  const info = runtimeInfo()
  t.true(info.torchVersion.startsWith('2.11.0'), info.torchVersion)
  t.is(typeof info.cudaAvailable, 'boolean')
  t.true(info.threads >= 1)
  t.is(info.addonVersion, '0.1.0')
})

test('ResNet-18 forward and backward on a 2x3x64x64 batch gives a finite loss', async (t) => {
  const { selfTest } = await import('man-fer')
  const loss = await selfTest({ batch: 2, size: 64 })
  t.true(Number.isFinite(loss), `loss ${loss}`)
  // Random logits over 7 classes: cross-entropy near ln 7 ≈ 1.95, certainly within (0, 20).
  t.true(loss > 0 && loss < 20, `loss ${loss}`)
})

test('a bad argument is a ManError with a code, not a crash', async (t) => {
  const { selfTest, ManError } = await import('man-fer')
  const err = await t.throwsAsync(selfTest({ batch: 1, size: 8 }), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_SHAPE')
  t.regex(err!.message, /batch >= 2/)
})

test('a panic inside a native task rejects with ERR_MAN_PANIC and the process lives on', async (t) => {
  const { getBinding } = await import('../../ts/native/index.ts')
  const { callNative } = await import('../../ts/errors.ts')
  const err = await t.throwsAsync(callNative(() => getBinding().debugPanic()))
  t.is((err as { code?: string }).code, 'ERR_MAN_PANIC')
  t.regex(err!.message, /deliberate panic/)
  const { selfTest } = await import('man-fer')
  t.true(Number.isFinite(await selfTest()))
})

test('readelf: the addon needs libtorch by name only, with no absolute paths or rpath', (t) => {
  t.true(existsSync(addonPath), `${addonPath} is built`)
  const dyn = execFileSync('readelf', ['-d', addonPath], { encoding: 'utf8' })
  const needed = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!)
  t.true(needed.includes('libtorch_cpu.so'), needed.join(', '))
  t.true(needed.includes('libc10.so'), needed.join(', '))
  t.false(needed.some((n) => n.includes('/')), needed.join(', '))
  t.notRegex(dyn, /\((RPATH|RUNPATH)\)/)
})

test('the addon loads from a fresh process with LD_LIBRARY_PATH unset', (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.LD_LIBRARY_PATH
  const out = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "const m = await import('man-fer'); console.log(JSON.stringify(m.runtimeInfo()))"],
    { cwd: PACKAGE_ROOT, env, encoding: 'utf8' },
  )
  const info = JSON.parse(out.trim().split('\n').pop()!) as { torchVersion: string }
  t.true(info.torchVersion.startsWith('2.11.0'))
})
