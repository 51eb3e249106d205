/** The CLI as a process: exit codes, where output goes, help, and `synth` (none of it needs the addon). */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { cli, jsonLines, readTree, tempDir } from './helpers/cli.ts'

test('a bad flag value exits 1 with one line naming the field, and nothing on stdout', async (t) => {
  const run = await cli(['train', '--data', 'nowhere', '--epochs', 'abc'])
  t.is(run.code, 1)
  t.is(run.stdout, '')
  t.is(run.stderr, "man-fer: Invalid value for option train.epochs (--epochs): expected an integer, got 'abc'\n")
})

test('with --json a bad value also gives one JSON error line on stdout, and nothing else there', async (t) => {
  const run = await cli(['train', '--data', 'nowhere', '--epochs', '0', '--json'])
  t.is(run.code, 1)
  const lines = jsonLines(run.stdout)
  t.is(lines.length, 1)
  t.like(lines[0], { type: 'error', code: 'ERR_MAN_CONFIG' })
  t.regex(String(lines[0]!.message), /^Invalid value for option train\.epochs \(--epochs\): /)
  t.regex(run.stderr, /^man-fer: Invalid value for option train\.epochs \(--epochs\): /)
  t.notRegex(run.stderr, /\n\s+at /, 'no stack trace')
})

test('an unknown flag or command exits 1 and points at the help', async (t) => {
  const flag = await cli(['train', '--epoch', '3'])
  t.is(flag.code, 1)
  t.is(flag.stdout, '')
  t.regex(flag.stderr, /^man-fer: unknown flag '--epoch'/)
  t.regex(flag.stderr, /see 'man-fer train --help'/)
  const command = await cli(['trian'])
  t.is(command.code, 1)
  t.regex(command.stderr, /^man-fer: unknown command 'trian'/)
  const none = await cli([])
  t.is(none.code, 1)
  t.regex(none.stderr, /usage: man-fer <command>/)
})

test('missing required flags and a dataset that is not there fail with one clear line', async (t) => {
  const evalRun = await cli(['eval', '--data', 'x'])
  t.is(evalRun.code, 1)
  t.regex(evalRun.stderr, /^man-fer: missing --model\n/)
  const predict = await cli(['predict', '--model', 'somewhere'])
  t.is(predict.code, 1)
  t.regex(predict.stderr, /^man-fer: predict needs at least one IMAGE\n/)
  const train = await cli(['train', '--epochs', '2', '--warmup', '1'])
  t.is(train.code, 1)
  t.regex(train.stderr, /^man-fer: Invalid value for option data\.path \(--data\): required/)
})

test('--help of each command goes to stdout and exits 0', async (t) => {
  for (const command of ['train', 'eval', 'predict', 'synth', 'info']) {
    const run = await cli([command, '--help'])
    t.is(run.code, 0, command)
    t.regex(run.stdout, new RegExp(`^usage: man-fer ${command}`), command)
  }
  const train = await cli(['train', '--help'])
  t.regex(train.stdout, /--man\.lambda-max X\n\s+λmax, the largest weight of mutual learning \[default 0\.9\]/)
  t.regex(train.stdout, /--batch-size, --train\.batch-size N\n\s+training batch size \[default 128; cpu-small: 32\]/)
})

test('synth: the same options give byte-identical files; another seed gives other images', async (t) => {
  const dir = await tempDir(t)
  const args = ['--train', '14', '--test', '7', '--size', '24', '--noise-rate', '0.3', '--ambiguous-rate', '0.2']
  const runs = await Promise.all(
    (['a', 'b', 'c'] as const).map((name) =>
      cli(['synth', '--out', path.join(dir, name), ...args, '--seed', name === 'c' ? '2' : '1', '--json']),
    ),
  )
  for (const run of runs) t.is(run.code, 0, run.stderr)
  const summary = jsonLines(runs[0]!.stdout)
  t.is(summary.length, 1)
  t.like(summary[0], { type: 'synth', train: 14, test: 7, flipped: 4, blended: { train: 3, test: 1 } })
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => readTree(path.join(dir, n))))
  t.is(a!.size, 14 + 7 + 2)
  t.deepEqual([...a!.keys()].sort(), [...b!.keys()].sort())
  for (const [file, bytes] of a!) t.true(bytes.equals(b!.get(file)!), file)
  const differing = [...a!].filter(([file, bytes]) => !bytes.equals(c!.get(file) ?? Buffer.alloc(0)))
  t.true(differing.length > 14, `seed 2 changed ${differing.length} files`)
  // Human-readable output says what was written and what to do next.
  const human = await cli(['synth', '--out', path.join(dir, 'd'), '--train', '7', '--test', '7', '--size', '16'])
  t.is(human.code, 0, human.stderr)
  t.regex(human.stdout, /^wrote 7 training and 7 test images to /)
  t.regex(human.stdout, /man-fer train --data /)
  const refused = await cli(['synth', '--out', path.join(dir, 'a'), '--train', '0'])
  t.is(refused.code, 1)
  t.regex(refused.stderr, /Invalid value for option train \(--train\): 0/)
  t.true((await fs.readdir(path.join(dir, 'a'))).length > 0)
})
