import test from 'ava'

import { configOptions, configSchema, defineConfig, presets, resolveConfig } from '../ts/config/index.ts'
import { ConfigError } from '../ts/errors.ts'

test('defaults are the reference setting of docs/method.md, but for the loop options docs/method.md lists as deviations', (t) => {
  const c = resolveConfig({})
  t.is(c.train.lr, 1e-3)
  t.is(c.train.beta1, 0.9)
  t.is(c.train.beta2, 0.999)
  t.is(c.train.eps, 1e-8)
  t.is(c.train.weightDecay, 1e-4)
  t.is(c.train.lrDecay, 0.9)
  t.is(c.train.epochs, 100)
  t.is(c.train.batchSize, 128)
  t.is(c.train.warmup, 10)
  t.is(c.train.imageSize, 224)
  t.is(c.man.lambdaMax, 0.9)
  t.is(c.man.beta, 0.65)
  t.is(c.man.rampFraction, 0.9)
  t.is(c.man.omega, 0.6)
  t.is(c.man.gamma, 1)
  t.is(c.method, 'man')
  t.is(c.noise.rate, 0)
  t.is(c.data.validationSplit, 0)
  t.is(c.runtime.device, 'auto')
})

test('the paper preset is the defaults with the reference loop; cpu-small is small', (t) => {
  const defaults = resolveConfig({})
  const paper = resolveConfig({}, 'paper')
  // The deviations, each a named option (docs/method.md), and nothing else.
  t.deepEqual(
    { man: defaults.man, train: defaults.train },
    {
      man: { ...paper.man, coDivisionView: 'test', consistencyGradient: 'strong', subsetPasses: 'joint', subsetWeighting: 'batch', lambdaRamp: 'co-division', noisyBound: 'first' },
      train: paper.train,
    },
  )
  t.deepEqual({ ...paper, man: defaults.man, train: defaults.train, runtime: defaults.runtime }, defaults)
  t.deepEqual(paper.runtime, { ...defaults.runtime, precision: 'fp32' })
  const small = resolveConfig({}, 'cpu-small')
  t.true(small.train.imageSize < 100)
  t.true(small.train.epochs < 20)
  t.true(small.train.warmup < small.train.epochs)
  t.is(small.runtime.device, 'cpu')
  t.truthy(presets['cpu-small'])
})

test('input overrides the preset, field by field', (t) => {
  const c = resolveConfig(defineConfig({ train: { epochs: 8 } }), 'cpu-small')
  t.is(c.train.epochs, 8)
  t.is(c.train.imageSize, presets['cpu-small'].train.imageSize)
  t.is(c.train.lr, 1e-3)
})

test('every invalid field is reported at once', (t) => {
  const err = t.throws(
    () =>
      resolveConfig({
        train: { epochs: 0, batchSize: 1, lr: -1 },
        man: { coDivisionView: 'strong' as 'weak' },
        runtime: { device: 'tpu' },
        noise: { rate: 1.5 },
      }),
    { instanceOf: ConfigError },
  )
  t.is(err?.code, 'ERR_MAN_CONFIG')
  const fields = err!.issues.map((l) => /^Invalid value for option ([\w.]+): .+/.exec(l)?.[1])
  t.deepEqual(fields.slice().sort(), ['man.coDivisionView', 'noise.rate', 'runtime.device', 'train.batchSize', 'train.epochs', 'train.lr'])
  t.is(err!.message, err!.issues.join('\n'))
})

test('unknown options are named', (t) => {
  const err = t.throws(() => resolveConfig({ train: { epoch: 3 }, extra: true } as never), { instanceOf: ConfigError })
  t.deepEqual(err!.issues.slice().sort(), ['Invalid value for option extra: unknown option', 'Invalid value for option train.epoch: unknown option'])
})

test('cross-field checks: warmup must not exceed epochs, reported with other errors', (t) => {
  const err = t.throws(() => resolveConfig({ train: { epochs: 5, warmup: 6 }, man: { omega: -1 } }), { instanceOf: ConfigError })
  t.is(err!.issues.length, 2)
  t.true(err!.issues.some((l) => l.startsWith('Invalid value for option train.warmup: must be at most train.epochs (5)')))
  t.true(err!.issues.some((l) => l.startsWith('Invalid value for option man.omega:')))
  // Not reported when one of the fields it reads is itself invalid.
  const err2 = t.throws(() => resolveConfig({ train: { epochs: -5, warmup: 6 } }), { instanceOf: ConfigError })
  t.deepEqual(err2!.issues.map((l) => l.split(':')[0]), ['Invalid value for option train.epochs'])
})

test('an unknown preset is a ConfigError', (t) => {
  const err = t.throws(() => resolveConfig({}, 'fast' as 'paper'), { instanceOf: ConfigError })
  t.regex(err!.message, /option preset: unknown preset 'fast'/)
})

test('the schema is exported for the CLI and resolving is idempotent', (t) => {
  t.truthy(configSchema.shape.train)
  const once = resolveConfig({ train: { epochs: 3, warmup: 1 } })
  t.deepEqual(resolveConfig(once), once)
})

test('configOptions lists every leaf with its type, default and description', (t) => {
  const options = configOptions()
  const byPath = new Map(options.map((o) => [o.path, o]))
  t.deepEqual(byPath.get('train.epochs'), {
    path: 'train.epochs',
    type: 'integer',
    optional: false,
    default: 100,
    description: 'training epochs',
  })
  t.is(byPath.get('train.lr')?.type, 'number')
  t.deepEqual(byPath.get('man.coDivisionView')?.values, ['weak', 'test'])
  t.is(byPath.get('runtime.mixedPrecision')?.type, 'boolean')
  t.true(byPath.get('data.path')?.optional)
  t.true(options.every((o) => o.description.length > 0), 'every option is described')
  // The leaves of a resolved config, plus the optional ones without a default.
  const leaves: string[] = []
  const visit = (v: unknown, p: string) => {
    if (typeof v === 'object' && v !== null) for (const [k, c] of Object.entries(v)) visit(c, p ? `${p}.${k}` : k)
    else leaves.push(p)
  }
  visit(resolveConfig({}), '')
  t.deepEqual(
    options.filter((o) => o.default !== undefined).map((o) => o.path).sort(),
    leaves.sort(),
  )
  for (const o of options) if (o.default !== undefined) t.deepEqual(o.default, o.path.split('.').reduce<any>((v, k) => v[k], resolveConfig({})))
})
