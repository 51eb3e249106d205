/**
 * `man-fer train` over the fake binding when it is told to stop or meets bad
 * entries: SIGTERM as Ctrl-C (checkpoint, exit 143), and what --data.skip-bad
 * skipped, listed on stderr.
 */
import { EventEmitter } from 'node:events'
import { promises as fs } from 'node:fs'
import path from 'node:path'

import test from 'ava'

import { main, type MainDeps } from '../ts/cli/main.ts'
import { setBinding } from '../ts/native/index.ts'
import { synthesize } from '../ts/synth/index.ts'
import { FakeBinding } from './fake-binding.ts'
import { jsonLines, tempDir } from './helpers/cli.ts'

test.afterEach.always(() => setBinding(undefined))

class Capture {
  text = ''
  constructor(private readonly onWrite?: (chunk: string) => void) {}
  write(chunk: string): boolean {
    this.text += chunk
    this.onWrite?.(chunk)
    return true
  }
}

const TINY = ['--epochs', '2', '--warmup', '1', '--batch-size', '8', '--image-size', '16', '--device', 'cpu']

async function dataset(t: Parameters<typeof tempDir>[0]): Promise<{ dir: string; data: string }> {
  const dir = await tempDir(t)
  const data = path.join(dir, 'data')
  await synthesize({ out: data, train: 24, test: 12, size: 16, noiseRate: 0.25, seed: 5 })
  return { dir, data }
}

async function run(argv: string[], deps: Partial<MainDeps> & { out?: Capture } = {}) {
  const out = deps.out ?? new Capture()
  const err = new Capture()
  const code = await main(argv, { env: {}, ...deps, streams: { out, err } })
  return { code, stdout: out.text, stderr: err.text }
}

test.serial('SIGTERM stops at a batch boundary like Ctrl-C, writes the checkpoint and exits 143', async (t) => {
  setBinding(new FakeBinding({}))
  const { dir, data } = await dataset(t)
  const runDir = path.join(dir, 'run')
  const signals = new EventEmitter()
  const out = new Capture((chunk) => {
    if (chunk.includes('"type":"batch"')) signals.emit('SIGTERM')
  })
  const r = await run(['train', '--data', data, ...TINY, '--out', runDir, '--json'], { out, signals })
  t.is(r.code, 143)
  t.regex(r.stderr, /man-fer: SIGTERM: stopping at the next batch boundary to save the run \(a second signal to quit without saving\)/)
  t.like(jsonLines(r.stdout).at(-1), { type: 'interrupted', signal: 'SIGTERM', runDir })
  t.is(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT'), 0, 'the handlers are removed')
  t.deepEqual((await fs.readdir(path.join(runDir, 'checkpoints'))).sort(), ['last.safetensors'])
  const resumed = await run(['train', '--resume', runDir, '--json'])
  t.is(resumed.code, 0, resumed.stderr)
})

test.serial('a second SIGTERM quits at once with 143', async (t) => {
  setBinding(new FakeBinding({}))
  const { dir, data } = await dataset(t)
  const signals = new EventEmitter()
  const exits: number[] = []
  const out = new Capture((chunk) => {
    if (chunk.includes('"type":"batch"') && exits.length === 0) {
      signals.emit('SIGTERM')
      signals.emit('SIGTERM')
    }
  })
  await run(['train', '--data', data, ...TINY, '--out', path.join(dir, 'run'), '--json'], { out, signals, exit: (c) => exits.push(c) })
  t.deepEqual(exits, [143])
})

test.serial('--data.skip-bad says on stderr how many entries it skipped and names the first few', async (t) => {
  setBinding(new FakeBinding({ failing: (name) => /train_0000[1-7]_/.test(name) }))
  const { dir, data } = await dataset(t)
  const r = await run(['train', '--data', data, ...TINY, '--out', path.join(dir, 'run'), '--data.skip-bad'])
  t.is(r.code, 0, r.stderr)
  const lines = r.stderr.split('\n')
  const at = lines.findIndex((l) => l.startsWith('man-fer: skipped 7 bad entries (data.skipBad), first 5:'))
  t.true(at >= 0, r.stderr)
  t.deepEqual(lines.slice(at + 1, at + 6).map((l) => /train_0000(\d)_aligned/.exec(l)?.[1]), ['1', '2', '3', '4', '5'])
  t.regex(lines[at + 6]!, /man-fer: {3}\(all of them: the start line of .*metrics\.jsonl\)/)
})
