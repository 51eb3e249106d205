/**
 * `npm run faults`: kills a small training run (SIGKILL, no chance to clean
 * up) at random moments (after a random number of batches, a random part of
 * the way to the next one), half of them while a checkpoint is being written,
 * then recovers it the way a user would (`man-fer train --resume DIR`, or the
 * original command when the kill came before the run directory existed), and
 * checks that the recovered run ends exactly where an uninterrupted one does:
 * the same epoch lines in metrics.jsonl (timings aside) and the same tensors,
 * bit for bit, in checkpoints/last and checkpoints/best.
 *
 *   node --import=tsx scripts/faults.ts [--runs 20] [--seed 1] [--keep]
 *
 * Prints one line per kill and a summary: how many recovered runs are
 * identical to the uninterrupted one, and how many directories were left
 * unusable (recovery failed). Exits 1 unless all are identical and none is
 * unusable. Small on purpose (16 px, 24 training images, 3 epochs): a few
 * minutes on two CPU cores.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, promises as fs, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import jpeg from 'jpeg-js'

import { Rng } from '../ts/util/prng.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'ts', 'cli', 'bin.ts')

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
})
const RUNS = Number(flags.runs)
const rng = new Rng(Number(flags.seed))

const TRAIN_FLAGS = [
  '--epochs', '3', '--warmup', '1', '--batch-size', '8', '--image-size', '16', '--seed', '3',
  '--noise-rate', '0.2', '--device', 'cpu', '--runtime.threads', '1', '--runtime.data-threads', '1',
  '--runtime.eval-batch-size', '16', '--json',
]

/** 16×16 JPEGs of two classes that differ in brightness, with per-image texture. */
function image(bright: boolean, seed: number): Buffer {
  const size = 16
  const data = Buffer.alloc(size * size * 4)
  for (let i = 0; i < size * size; i++) {
    const v = (bright ? 190 : 50) + ((i * 7 + seed * 31) % 23) * 2
    data.set([v, Math.max(0, v - 25), Math.min(255, v + 15), 255], i * 4)
  }
  return jpeg.encode({ width: size, height: size, data }, 90).data
}

async function writeDataset(root: string): Promise<void> {
  for (const [split, n] of [['train', 12], ['test', 4]] as const) {
    for (const [cls, bright] of [['bright', true], ['dark', false]] as const) {
      const dir = path.join(root, split, cls)
      await fs.mkdir(dir, { recursive: true })
      for (let i = 0; i < n; i++) await fs.writeFile(path.join(dir, `${i}.jpg`), image(bright, i + (split === 'test' ? 50 : 0)))
    }
  }
}

interface Child {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  /** When each training batch was reported (ms after the start). */
  batchTimes: number[]
  ms: number
}

/** What a running child has done so far, polled every 2 ms. */
interface Progress {
  elapsedMs: number
  /** Training batches it has reported. */
  batches: number
  msSinceBatch: number
  /** A checkpoint temp file exists (a write is under way). */
  writing: boolean
}

/** Runs the CLI with --json; `killAt` decides from its progress when to SIGKILL it. */
function cli(args: string[], runDir: string, killAt?: (p: Progress) => boolean): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const started = performance.now()
    const batchTimes: number[] = []
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      for (const _ of c.matchAll(/"type":"batch"/g)) batchTimes.push(performance.now() - started)
    })
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    let timer: NodeJS.Timeout | undefined
    if (killAt !== undefined) {
      const checkpoints = path.join(runDir, 'checkpoints')
      timer = setInterval(() => {
        let writing = false
        try {
          // Synchronous: the poll must catch a temp file that lives for a fraction of a second.
          writing = readdirSync(checkpoints).some((n) => n.includes('.tmp'))
        } catch {
          // Not created yet.
        }
        const elapsedMs = performance.now() - started
        const msSinceBatch = elapsedMs - (batchTimes.at(-1) ?? 0)
        if (killAt({ elapsedMs, batches: batchTimes.length, msSinceBatch, writing })) {
          clearInterval(timer)
          child.kill('SIGKILL')
        }
      }, 2)
    }
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearInterval(timer)
      resolve({ code, signal, stderr, batchTimes, ms: performance.now() - started })
    })
  })
}

/** sha256 of a safetensors file's tensor bytes (the header holds timings, which differ between runs). */
async function tensorDigest(file: string): Promise<string | null> {
  if (!existsSync(file)) return null
  const bytes = await fs.readFile(file)
  const headerLength = Number(bytes.readBigUInt64LE(0))
  return createHash('sha256').update(bytes.subarray(8 + headerLength)).digest('hex')
}

/** The epoch lines of metrics.jsonl without wall-clock fields. */
async function epochLines(runDir: string): Promise<string[]> {
  const text = await fs.readFile(path.join(runDir, 'metrics.jsonl'), 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === 'epoch')
    .map(({ time: _time, timings: _timings, ...rest }) => JSON.stringify(rest))
}

interface Outcome {
  last: string | null
  best: string | null
  epochs: string[]
}

async function outcome(runDir: string): Promise<Outcome> {
  return {
    last: await tensorDigest(path.join(runDir, 'checkpoints', 'last.safetensors')),
    best: await tensorDigest(path.join(runDir, 'checkpoints', 'best.safetensors')),
    epochs: await epochLines(runDir),
  }
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return a.last === b.last && a.best === b.best && JSON.stringify(a.epochs) === JSON.stringify(b.epochs)
}

/** The files and folders a killed run left, for the report. */
async function leftovers(runDir: string): Promise<string> {
  if (!existsSync(runDir)) return 'no directory'
  const top = await fs.readdir(runDir)
  const checkpoints = existsSync(path.join(runDir, 'checkpoints')) ? await fs.readdir(path.join(runDir, 'checkpoints')) : []
  return [...top.filter((n) => n !== 'checkpoints' && n !== 'partitions'), ...checkpoints.map((n) => `checkpoints/${n}`)].sort().join(' ')
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'man-fer-faults-'))
  const data = path.join(work, 'data')
  await writeDataset(data)
  const command = (runDir: string) => ['train', '--data', data, ...TRAIN_FLAGS, '--out', runDir]

  const referenceDir = path.join(work, 'reference')
  const reference = await cli(command(referenceDir), referenceDir)
  if (reference.code !== 0) throw new Error(`the uninterrupted run failed:\n${reference.stderr}`)
  const expected = await outcome(referenceDir)
  const times = reference.batchTimes
  const batches = times.length
  // The spans a random moment is drawn from: start → first batch (setup, the
  // first checkpoint), then between batches (steps, co-division, evaluation,
  // epoch checkpoints), then last batch → end (evaluation, final checkpoint).
  const spans = [times[0]!, ...times.slice(1).map((t, i) => t - times[i]!), reference.ms - times.at(-1)!]
  process.stdout.write(`uninterrupted run: ${batches} batches, ${(reference.ms / 1000).toFixed(1)} s; killing ${RUNS} runs\n`)

  let identical = 0
  let unusable = 0
  let notKilled = 0
  for (let i = 1; i <= RUNS; i++) {
    const runDir = path.join(work, `run-${String(i).padStart(2, '0')}`)
    // Half of the kills land while a checkpoint is being written (the n-th
    // write seen), the other half at a random moment: after a random number
    // of reported batches, a random part of the reference's next span.
    const duringWrite = i % 2 === 0
    const writeNumber = 1 + Math.floor(rng.next() * 4)
    const afterBatches = Math.floor(rng.next() * (batches + 1))
    const delay = rng.next() * spans[afterBatches]! * 0.9
    let writesSeen = 0
    let wasWriting = false
    const killAt = (p: Progress) => {
      if (p.writing && !wasWriting) writesSeen++
      wasWriting = p.writing
      if (duringWrite) return p.writing && writesSeen >= writeNumber
      if (p.batches < afterBatches) return false
      return (afterBatches === 0 ? p.elapsedMs : p.msSinceBatch) >= delay
    }
    const killed = await cli(command(runDir), runDir, killAt)
    const moment = duringWrite
      ? `during checkpoint write #${writeNumber}`
      : `${(delay / 1000).toFixed(2)} s after ${afterBatches === 0 ? 'the start' : `batch ${afterBatches}`}`
    const left = await leftovers(runDir)
    let recovery: Child
    let how: string
    if (killed.signal !== 'SIGKILL') {
      how = 'NOT KILLED (finished first)'
      notKilled++
      recovery = killed
    } else if (existsSync(path.join(runDir, 'config.json'))) {
      how = 'train --resume'
      recovery = await cli(['train', '--resume', runDir, '--json'], runDir)
    } else {
      how = 'the same command again'
      recovery = await cli(command(runDir), runDir)
    }
    const ok = recovery.code === 0
    const same = ok && sameOutcome(await outcome(runDir), expected)
    if (!ok) unusable++
    if (same) identical++
    process.stdout.write(
      `run ${String(i).padStart(2)}: killed ${moment.padEnd(30)} left [${left}]; ${how}: ` +
        `${ok ? (same ? 'identical' : 'DIFFERENT') : `FAILED (exit ${recovery.code}): ${recovery.stderr.trim().split('\n').at(-1)}`}\n`,
    )
    if (!flags.keep) await fs.rm(runDir, { recursive: true, force: true })
  }
  process.stdout.write(`identical to the uninterrupted run: ${identical}/${RUNS}\n`)
  process.stdout.write(`directories left unusable: ${unusable}\n`)
  if (notKilled > 0) process.stdout.write(`runs that finished before their kill (they test nothing): ${notKilled}\n`)
  if (flags.keep) process.stdout.write(`kept: ${work}\n`)
  else await fs.rm(work, { recursive: true, force: true })
  process.exitCode = identical === RUNS && unusable === 0 && notKilled === 0 ? 0 : 1
}

await main()
