/**
 * `man-fer train` in process over the fake binding: what goes to stdout and
 * stderr, the result, the suspicious samples, the TTY bars and NO_COLOR,
 * Ctrl-C and --resume. (native/cli-train.spec.ts runs the real addon end to end.)
 */
import { EventEmitter } from 'node:events'
import path from 'node:path'

import test from 'ava'

import { main, type MainDeps } from '../ts/cli/main.ts'
import { setBinding } from '../ts/native/index.ts'
import { PARTITION_NOISY } from '../ts/native/binding.ts'
import { synthesize } from '../ts/synth/index.ts'
import { readPartition } from '../ts/train/run-dir.ts'
import { FakeBinding } from './fake-binding.ts'
import { jsonLines, tempDir } from './helpers/cli.ts'

// One binding is installed process-wide, so these specs run one at a time.
test.beforeEach(() => setBinding(new FakeBinding({})))
test.afterEach.always(() => setBinding(undefined))

class Capture {
  text = ''
  constructor(
    readonly isTTY = false,
    private readonly onWrite?: (chunk: string) => void,
  ) {}
  columns = 120
  write(chunk: string): boolean {
    this.text += chunk
    this.onWrite?.(chunk)
    return true
  }
}

async function dataset(t: Parameters<typeof tempDir>[0]): Promise<{ dir: string; data: string }> {
  const dir = await tempDir(t)
  const data = path.join(dir, 'data')
  await synthesize({ out: data, train: 24, test: 12, size: 16, noiseRate: 0.25, seed: 5 })
  return { dir, data }
}

const TINY = ['--epochs', '3', '--warmup', '1', '--batch-size', '8', '--image-size', '16', '--device', 'cpu']

async function run(argv: string[], deps: Partial<MainDeps> & { err?: Capture; out?: Capture } = {}) {
  const out = deps.out ?? new Capture()
  const err = deps.err ?? new Capture()
  const code = await main(argv, { env: {}, ...deps, streams: { out, err } })
  return { code, stdout: out.text, stderr: err.text }
}

async function noisyNames(runDir: string, epoch: number): Promise<string[]> {
  const p = await readPartition(runDir, epoch)
  return p.names.filter((_, i) => p.codes[i] === PARTITION_NOISY).sort()
}

test.serial('human-readable: epoch lines on stderr; results, model, report and suspicious images on stdout', async (t) => {
  const { dir, data } = await dataset(t)
  const runDir = path.join(dir, 'run')
  const r = await run(['train', '--data', data, ...TINY, '--out', runDir])
  t.is(r.code, 0, r.stderr)
  const epochLines = r.stderr.split('\n').filter((l) => l.startsWith('epoch '))
  t.is(epochLines.length, 3)
  t.regex(epochLines[0]!, /^epoch 1\/3  warmup .*acc f1 [\d.]+% f2 [\d.]+% ens [\d.]+%.* lr 1\.00e-3/)
  t.notRegex(epochLines[0]!, /clean \d+/)
  for (const line of epochLines.slice(1)) {
    t.regex(line, /co-division .*clean \d+ ambiguous \d+ noisy \d+ {2}λ [\d.]+ {2}lr [\d.e-]+ {2}noise P [\d.]+% R [\d.]+%/)
  }
  t.regex(r.stderr, /24 training images, 12 test, 7 classes, device cpu/)
  t.notRegex(r.stdout, /^epoch /m, 'progress stays off stdout')
  t.regex(r.stdout, /^done: 3 epoch\(s\)/)
  t.regex(r.stdout, /test accuracy: best [\d.]+% \(epoch \d, chosen by test\), last [\d.]+%, mean of last 3 [\d.]+%/)
  t.regex(r.stdout, /noise detection \(epoch 3\): precision [\d.]+%, recall [\d.]+%/)
  t.true(r.stdout.includes(`model:  ${path.join(runDir, 'checkpoints', 'best.safetensors')}`))
  t.true(r.stdout.includes(`metrics: ${path.join(runDir, 'metrics.jsonl')}`))
  t.true(r.stdout.includes(`report: ${path.join(runDir, 'report.html')} (open it in a browser)`))
  const noisy = await noisyNames(runDir, 3)
  t.true(noisy.length > 0, 'the fake divides some samples into the noisy subset')
  t.true(r.stdout.includes(`possibly mislabelled: ${noisy.length} training image(s) in the noisy subset of epoch 3`))
  const listed = r.stdout.split('\n').filter((l) => l.startsWith('  Image/'))
  t.deepEqual(
    listed.map((l) => l.trim()),
    noisy.slice(0, 10),
  )
  t.false(/\x1b\[/.test(r.stderr), 'no bars or colours off a TTY')
})

test.serial('--json: only JSON lines on stdout, the last one the result', async (t) => {
  const { dir, data } = await dataset(t)
  const runDir = path.join(dir, 'run')
  const r = await run(['train', '--data', data, ...TINY, '--out', runDir, '--json'])
  t.is(r.code, 0, r.stderr)
  const lines = jsonLines(r.stdout)
  t.deepEqual(
    lines.map((l) => l.type),
    ['start', 'batch', 'batch', 'batch', 'epoch', 'batch', 'batch', 'batch', 'epoch', 'batch', 'batch', 'batch', 'epoch', 'result'],
  )
  const epochs = lines.filter((l) => l.type === 'epoch')
  const result = lines.at(-1)!
  t.like(result, { runDir, epochsCompleted: 3, stopped: false, metrics: path.join(runDir, 'metrics.jsonl') })
  const tests = epochs.map((e) => (e.test as { accuracy: number }).accuracy)
  t.is(result.lastTestAccuracy, tests[2])
  t.is(result.meanLast5TestAccuracy, (tests[0]! + tests[1]! + tests[2]!) / 3)
  t.deepEqual(result.noiseDetection, epochs[2]!.noiseDetection)
  t.truthy(result.noiseDetection)
  t.is(result.meanClassAccuracy, (epochs[2]!.test as { meanClassAccuracy: number }).meanClassAccuracy)
  const suspicious = result.suspicious as { epoch: number; count: number; names: string[] }
  t.is(suspicious.epoch, 3)
  t.deepEqual(suspicious.names, await noisyNames(runDir, 3))
  t.is(suspicious.count, suspicious.names.length)
})

test.serial('on a TTY: live bars with rate and ETA on stderr, coloured unless NO_COLOR', async (t) => {
  const { dir, data } = await dataset(t)
  const tty = new Capture(true)
  const r = await run(['train', '--data', data, ...TINY, '--out', path.join(dir, 'a')], { err: tty })
  t.is(r.code, 0, r.stderr)
  t.regex(r.stderr, /epochs(\x1b\[0m)? {2}\[#*\.*\] \d\/3 .*ETA/)
  t.regex(r.stderr, /batches(\x1b\[0m)? \[#*\.*\] \d\/3 {2}[\d.]+ img\/s {2}ETA/)
  t.true(r.stderr.includes('\x1b[1m'), 'bold on a colour TTY')
  t.true(r.stderr.includes('\r\x1b[2K'), 'bars are redrawn in place')
  const plain = new Capture(true)
  const p = await run(['train', '--data', data, ...TINY, '--out', path.join(dir, 'b')], { err: plain, env: { NO_COLOR: '1' } })
  t.is(p.code, 0, p.stderr)
  t.regex(p.stderr, /batches \[#*\.*\]/)
  t.false(/\x1b\[\d*m/.test(p.stderr), 'NO_COLOR: no colour codes')
})

test.serial('Ctrl-C stops at a batch boundary, exits 130 saying how to resume; --resume finishes the run', async (t) => {
  const { dir, data } = await dataset(t)
  const runDir = path.join(dir, 'run')
  const signals = new EventEmitter()
  let batches = 0
  const out = new Capture(false, (chunk) => {
    // Ctrl-C right after the second batch of the first epoch was reported.
    if (chunk.includes('"type":"batch"') && ++batches === 2) signals.emit('SIGINT')
  })
  const r = await run(['train', '--data', data, ...TINY, '--out', runDir, '--json'], { out, signals })
  t.is(r.code, 130)
  const lines = jsonLines(r.stdout)
  t.like(lines.at(-1), { type: 'interrupted', runDir, resume: `man-fer train --resume ${runDir}` })
  t.is(lines.filter((l) => l.type === 'batch').length, 2)
  t.true(r.stderr.includes(`continue with: man-fer train --resume ${runDir}`))
  t.is(signals.listenerCount('SIGINT'), 0, 'the handler is removed')

  const resumed = await run(['train', '--resume', runDir, '--json'])
  t.is(resumed.code, 0, resumed.stderr)
  const after = jsonLines(resumed.stdout)
  t.like(after[0], { type: 'start', runDir, resume: true })
  t.is(after.filter((l) => l.type === 'batch').length, 1 + 3 + 3, 'the interrupted epoch continues at its third batch')
  t.like(after.at(-1), { type: 'result', epochsCompleted: 3 })

  const refused = await run(['train', '--resume', runDir, '--epochs', '9'])
  t.is(refused.code, 1)
  t.regex(refused.stderr, /--resume continues a run with its saved configuration; drop --epochs/)
})

test.serial('a second Ctrl-C quits at once', async (t) => {
  const { dir, data } = await dataset(t)
  const signals = new EventEmitter()
  const exits: number[] = []
  const out = new Capture(false, (chunk) => {
    if (chunk.includes('"type":"batch"') && exits.length === 0) {
      signals.emit('SIGINT')
      signals.emit('SIGINT')
    }
  })
  const r = await run(['train', '--data', data, ...TINY, '--out', path.join(dir, 'run'), '--json'], {
    out,
    signals,
    exit: (code) => exits.push(code),
  })
  t.deepEqual(exits, [130])
  t.regex(r.stderr, /quit without saving/)
})

test.serial('an existing run directory is refused with one line', async (t) => {
  const { dir, data } = await dataset(t)
  const runDir = path.join(dir, 'run')
  t.is((await run(['train', '--data', data, ...TINY, '--epochs', '1', '--out', runDir])).code, 0)
  const again = await run(['train', '--data', data, ...TINY, '--out', runDir])
  t.is(again.code, 1)
  t.is(again.stdout, '')
  t.regex(again.stderr, /already holds a run/)
})

test.serial('eval defaults to the dataset the run trained on; predict prints one line per image', async (t) => {
  const { dir, data } = await dataset(t)
  const runDir = path.join(dir, 'run')
  t.is((await run(['train', '--data', data, ...TINY, '--out', runDir])).code, 0)
  const evaluation = await run(['eval', '--model', runDir, '--json'])
  t.is(evaluation.code, 0, evaluation.stderr)
  const [e, ...rest] = jsonLines(evaluation.stdout)
  t.is(rest.length, 0)
  t.like(e, { type: 'evaluation', size: 12, data })
  t.is((e!.confusion as number[][]).flat().reduce((a, b) => a + b, 0), 12)
  const images = [1, 2].map((i) => path.join(data, 'Image', 'aligned', `test_0000${i}_aligned.jpg`))
  const predict = await run(['predict', '--model', runDir, ...images])
  t.is(predict.code, 0, predict.stderr)
  const lines = predict.stdout.trimEnd().split('\n')
  t.is(lines.length, 2)
  lines.forEach((line, i) => t.true(line.startsWith(images[i]!), line))
  t.regex(lines[0]!, /\((\S+ [\d.]+%, ){2}\S+ [\d.]+%\)$/)
})
