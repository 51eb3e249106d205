/** runtime.precision, runtime.backward and runtime.allocator: from the configuration to the trainer. */
import path from 'node:path'

import test from 'ava'

import { resolveConfig } from '../ts/config/index.ts'
import { ConfigError } from '../ts/errors.ts'
import { setBinding } from '../ts/native/index.ts'
import { train } from '../ts/train/train.ts'
import { FakeBinding } from './fake-binding.ts'
import { classOfName, makeIndex, tempDir, tinyConfig } from './helpers/orch.ts'

test.afterEach.always(() => setBinding(undefined))

test('the options are unset by default (a run keeps its config hash) and unknown values name the option', (t) => {
  const c = resolveConfig({})
  t.is(c.runtime.precision, undefined)
  t.is(c.runtime.backward, undefined)
  t.is(c.runtime.allocator, undefined)
  const alloc = t.throws(() => resolveConfig({ runtime: { allocator: 'huge' as never } }), { instanceOf: ConfigError })
  t.true(alloc!.issues.some((l) => l.includes('runtime.allocator')), alloc!.issues.join('\n'))
  const bad = t.throws(() => resolveConfig({ runtime: { precision: 'fp16' as never } }), { instanceOf: ConfigError })
  t.true(bad!.issues.some((l) => l.includes('runtime.precision')), bad!.issues.join('\n'))
  const once = t.throws(() => resolveConfig({ runtime: { backward: 'twice' as never } }), { instanceOf: ConfigError })
  t.true(once!.issues.some((l) => l.includes('runtime.backward')), once!.issues.join('\n'))
  t.is(resolveConfig({ runtime: { mixedPrecision: true } }).runtime.mixedPrecision, true)
})

test.serial('the trainer gets the precision, backward and allocator asked for, auto, per-network and lean when unset', async (t) => {
  for (const [runtime, expected] of [
    [{ precision: 'bf16', backward: 'once', allocator: 'fast' }, { precision: 'bf16', backward: 'once', allocator: 'fast' }],
    [{}, { precision: 'auto', backward: 'per-network', allocator: 'lean' }],
  ] as const) {
    const fake = new FakeBinding({ classOf: classOfName })
    setBinding(fake)
    const dir = path.join(await tempDir(t), 'run')
    await train(tinyConfig(dir, { train: { epochs: 2, warmup: 1 }, runtime }), { dataset: makeIndex({ train: 8, test: 4 }) })
    const options = fake.trainers[0]!.options
    t.is(options.precision, expected.precision)
    t.is(options.backward, expected.backward)
    t.is(options.allocator, expected.allocator)
  }
})
