/** The train command's flags: derived from the config schema, typed, merged over a config file and a preset. */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { parseArgs, renderHelp, UsageError } from '../ts/cli/args.ts'
import { trainHelp } from '../ts/cli/train.ts'
import { configFromArgs, kebab, trainFlagSpecs } from '../ts/cli/train-flags.ts'
import { configOptions } from '../ts/config/index.ts'
import { ConfigError } from '../ts/errors.ts'
import { tempDir } from './helpers/cli.ts'

const specs = trainFlagSpecs()

test('every config option has a kebab-case flag of its path, typed as in the schema', (t) => {
  const options = configOptions()
  t.true(options.length > 20)
  for (const option of options) {
    const spec = specs.find((s) => s.key === option.path)
    t.truthy(spec, option.path)
    t.true(spec!.names.includes(kebab(option.path)), `${option.path} has --${kebab(option.path)}`)
    t.is(spec!.type, option.type)
    t.deepEqual(spec!.default, option.default)
  }
  t.is(kebab('train.batchSize'), 'train.batch-size')
  t.is(kebab('man.lambdaMax'), 'man.lambda-max')
  t.is(kebab('runtime.cacheMB'), 'runtime.cache-mb')
})

test('short aliases and full paths set the same option, with typed values', (t) => {
  const a = parseArgs(['--epochs', '7', '--batch-size=16', '--noise-rate', '0.2', '--data.skip-bad', '--device', 'cpu'], specs)
  t.deepEqual(
    [...a.values.entries()].map(([k, v]) => [k, v.value, v.flag]),
    [
      ['train.epochs', 7, '--epochs'],
      ['train.batchSize', 16, '--batch-size'],
      ['noise.rate', 0.2, '--noise-rate'],
      ['data.skipBad', true, '--data.skip-bad'],
      ['runtime.device', 'cpu', '--device'],
    ],
  )
  const b = parseArgs(['--train.epochs', '7', '--man.omega', '0.5', '--data.skip-bad=false'], specs)
  t.is(b.values.get('train.epochs')!.value, 7)
  t.is(b.values.get('man.omega')!.value, 0.5)
  t.is(b.values.get('data.skipBad')!.value, false)
})

test('a value of the wrong type names the field and the flag', (t) => {
  const err = t.throws(() => parseArgs(['--epochs', 'abc'], specs), { instanceOf: ConfigError })
  t.is(err!.message, "Invalid value for option train.epochs (--epochs): expected an integer, got 'abc'")
  t.regex(t.throws(() => parseArgs(['--man.omega', 'x'], specs))!.message, /option man\.omega \(--man\.omega\): expected a number/)
  t.regex(t.throws(() => parseArgs(['--format', 'zip'], specs))!.message, /option data\.format \(--format\): expected one of auto, rafdb, folder, csv/)
  t.regex(t.throws(() => parseArgs(['--data.skip-bad=maybe'], specs))!.message, /expected true or false/)
})

test('unknown flags, missing values and stray arguments are usage errors', (t) => {
  t.throws(() => parseArgs(['--epoch', '3'], specs), { instanceOf: UsageError, message: /unknown flag '--epoch'/ })
  t.throws(() => parseArgs(['--epochs'], specs), { instanceOf: UsageError, message: /'--epochs' needs a value/ })
  t.throws(() => parseArgs(['--epochs', '--json'], specs), { instanceOf: UsageError, message: /needs a value/ })
  t.throws(() => parseArgs(['stray'], specs), { instanceOf: UsageError, message: /unexpected argument 'stray'/ })
  t.deepEqual(parseArgs(['a', '--', '--b'], [], { positionals: 'X' }).positionals, ['a', '--b'])
})

test('range checks come from the schema and name the flag used', async (t) => {
  const err = await t.throwsAsync(configFromArgs(parseArgs(['--data', 'x', '--epochs', '0', '--train.lr', '-1'], specs)), {
    instanceOf: ConfigError,
  })
  t.true(err!.issues.some((l) => l.startsWith('Invalid value for option train.epochs (--epochs): ')))
  t.true(err!.issues.some((l) => l.startsWith('Invalid value for option train.lr (--train.lr): ')))
  const cross = await t.throwsAsync(configFromArgs(parseArgs(['--epochs', '3', '--warmup', '5'], specs)))
  t.is(cross!.message, 'Invalid value for option train.warmup (--warmup): must be at most train.epochs (3)')
})

test('preset < config file < flags', async (t) => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'man.json')
  await fs.writeFile(file, JSON.stringify({ preset: 'cpu-small', train: { epochs: 20, lr: 0.01 }, man: { omega: 0.3 } }))
  const config = await configFromArgs(parseArgs(['--config', file, '--epochs', '8', '--data', 'somewhere'], specs))
  t.is(config.train.epochs, 8) // flag over file
  t.is(config.train.lr, 0.01) // file over default
  t.is(config.man.omega, 0.3)
  t.is(config.train.imageSize, 48) // the file's preset
  t.is(config.train.warmup, 6)
  t.is(config.man.coDivisionView, 'test')
  t.is(config.data.path, 'somewhere')
  const paper = await configFromArgs(parseArgs(['--config', file, '--preset', 'paper'], specs))
  t.is(paper.train.imageSize, 224) // --preset over the file's preset
  t.is(paper.runtime.device, 'auto')
})

test('a bad value in the config file is reported as coming from the file; a flag replaces it', async (t) => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'bad.json')
  await fs.writeFile(file, JSON.stringify({ train: { epochs: 'many', warmup: 9 } }))
  const err = await t.throwsAsync(configFromArgs(parseArgs(['--config', file], specs)), { instanceOf: ConfigError })
  t.true(err!.issues.some((l) => l.startsWith(`Invalid value for option train.epochs (in ${file}): `)), err!.message)
  // The flag's epochs replace the file's: only the cross-check against the flag's value is left.
  const cross = await t.throwsAsync(configFromArgs(parseArgs(['--config', file, '--epochs', '4'], specs)))
  t.is(cross!.message, `Invalid value for option train.warmup (in ${file}): must be at most train.epochs (4)`)
  await fs.writeFile(file, '{ not json')
  await t.throwsAsync(configFromArgs(parseArgs(['--config', file], specs)), { message: /is not valid JSON/ })
  await t.throwsAsync(configFromArgs(parseArgs(['--config', path.join(dir, 'missing.json')], specs)), { message: /cannot read config file/ })
})

test('help lists every option with its description and default, and what presets change', (t) => {
  const help = trainHelp()
  for (const option of configOptions()) {
    t.true(help.includes(`--${kebab(option.path)}`), option.path)
    if (option.description !== '') t.true(help.replace(/\s+/g, ' ').includes(option.description.split(' ').slice(0, 4).join(' ')), option.path)
  }
  t.regex(help, /--epochs, --train\.epochs N\n\s+training epochs \[default 100; cpu-small: 16\]/)
  t.regex(help, /--man\.omega X\n\s+ω, weight of the ambiguous-subset loss \[default 0\.6\]/)
  t.regex(help, /--preset paper\|cpu-small/)
  t.regex(renderHelp('u', 's', [{ key: 'k', names: ['k'], type: 'string', description: 'd', required: true }]), /--k VALUE\n\s+d \(required\)/)
})
