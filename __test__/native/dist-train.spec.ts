/**
 * Data-parallel training on the real addon, on the CPU over loopback (Gloo):
 * `man-fer train --nproc 2` on a tiny synthetic set. Needs the built addon
 * and libtorch (npm run build:native; MAN_LIBTORCH), and an addon built with
 * the Gloo headers (libgloo-dev).
 *
 * Tolerance: the final test accuracy of 2 ranks × 8 samples a step is
 * compared with one process × 16 samples a step; BatchNorm normalises each
 * rank's 8 samples on its own, so the two runs are not the same computation
 * and may differ by ACCURACY_TOLERANCE (absolute) on 48 test images.
 */
import { spawn } from 'node:child_process'
import { existsSync, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import test from 'ava'

import { resolveConfig, type ConfigInput } from '../../ts/config/index.ts'
import { callNativeSync } from '../../ts/errors.ts'
import { getBinding } from '../../ts/native/index.ts'
import { synthesize } from '../../ts/synth/index.ts'
import { coDivide } from '../../ts/train/co-division.ts'
import { planData } from '../../ts/train/data-plan.ts'
import { openDatasets } from '../../ts/train/open-data.ts'
import { CONFIG_FILE, readEvents, readJson, readPartition } from '../../ts/train/run-dir.ts'
import { trainerOptions } from '../../ts/train/trainer-options.ts'
import { cli, jsonLines, ROOT } from '../helpers/cli.ts'

const ACCURACY_TOLERANCE = 0.2
const BATCHES = 4
const TINY = [
  ...['--epochs', '2', '--warmup', '1', '--batch-size', '16', '--image-size', '32', '--device', 'cpu'],
  ...['--runtime.eval-batch-size', '24', '--seed', '3'],
]
// A stopped rank is noticed at once (its sockets close); this bounds a stuck one.
const LAUNCH = ['--nproc', '2', '--dist-timeout', '120000']
const DIST = [...LAUNCH, '--runtime.threads', '1']

let dir = ''
let data = ''

test.before(async () => {
  const info = await cli(['info', '--json'])
  if (info.code !== 0) throw new Error(`the native addon is not usable (npm run build:native): ${info.stderr.trim()}`)
  if (!getBinding().distSupport().gloo) throw new Error('the addon was built without the Gloo headers (apt-get install libgloo-dev, then npm run build:native)')
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'man-fer-dist-'))
  data = path.join(dir, 'data')
  await synthesize({ out: data, train: 16 * BATCHES, test: 48, size: 32, noiseRate: 0.2, seed: 5 })
})

test.after.always(async () => {
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true })
})

interface Launched {
  code: number | null
  stdout: string
  stderr: string
}

/** The launcher as a child, with a hook on each stdout line that may kill a rank (pids from its stderr). */
function launchTrain(args: string[], onLine?: (line: string, pids: Map<number, number>) => void): Promise<Launched> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', path.join(ROOT, 'ts', 'cli', 'bin.ts'), 'train', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', MAN_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const pids = new Map<number, number>()
    let stdout = ''
    let stderr = ''
    let pending = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      for (const m of chunk.matchAll(/started rank (\d+) of \d+ \(pid (\d+)\)/g)) pids.set(Number(m[1]), Number(m[2]))
    })
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      pending += chunk
      let nl: number
      while ((nl = pending.indexOf('\n')) !== -1) {
        onLine?.(pending.slice(0, nl), pids)
        pending = pending.slice(nl + 1)
      }
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

test.serial('--nproc 2: the ranks hold the same weights after every step; accuracy within tolerance of one process', async (t) => {
  const runDir = path.join(dir, 'two')
  const run = await launchTrain(['--data', data, ...TINY, ...DIST, '--dist-verify', '--out', runDir, '--json'])
  t.is(run.code, 0, run.stderr)
  const lines = jsonLines(run.stdout)
  t.is(lines.filter((l) => l.type === 'result').length, 1, 'rank 0 alone reports')
  const batches = lines.filter((l) => l.type === 'batch')
  t.deepEqual(
    batches.map((b) => b.size),
    new Array(2 * BATCHES).fill(16),
    'every step covers the global batch',
  )

  const events = await readEvents(runDir)
  const checks = events.filter((e) => e.event === 'replicas')
  t.is(checks.length, 2 * BATCHES, 'a checksum of every rank after every step')
  for (const c of checks) {
    const sums = c.checksums as string[]
    t.is(sums.length, 2)
    t.is(sums[0], sums[1], `epoch ${c.epoch} batch ${c.batch}`)
  }
  t.is(new Set(checks.map((c) => (c.checksums as string[])[0])).size, checks.length, 'the weights change at every step')
  t.like(events.find((e) => e.event === 'start'), { distributed: { worldSize: 2, backend: 'gloo' } })

  const single = await cli(['train', '--data', data, ...TINY, '--runtime.threads', '2', '--out', path.join(dir, 'one'), '--json'])
  t.is(single.code, 0, single.stderr)
  const a = lines.at(-1)!.lastTestAccuracy as number
  const b = jsonLines(single.stdout).at(-1)!.lastTestAccuracy as number
  t.log(`final test accuracy: 2 ranks ${a}, 1 process ${b}`)
  t.true(Math.abs(a - b) <= ACCURACY_TOLERANCE, `2 ranks ${a} vs 1 process ${b}`)
})

test.serial('SIGKILL of one rank stops the job with a clear error; the partition is a single process\'s; --resume continues', async (t) => {
  const runDir = path.join(dir, 'killed')
  let killed = false
  const run = await launchTrain(['--data', data, ...TINY, ...DIST, '--out', runDir, '--json'], (line, pids) => {
    // The first step of epoch 2: its co-division has been written.
    if (!killed && line.includes('"type":"batch"') && line.includes('"epoch":2')) {
      killed = true
      process.kill(pids.get(1)!, 'SIGKILL')
    }
  })
  t.true(killed, run.stderr)
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /rank 1 \(pid \d+\) was killed by SIGKILL/)
  t.regex(run.stderr, /man-fer\[rank 0\]: [a-z-]+ failed on rank 0 of 2: [\s\S]*another process of the job has probably stopped/)

  // checkpoints/last holds the weights epoch 2 divided the training set with:
  // one process predicting the whole set with them divides it the same way.
  const config = resolveConfig(await readJson<ConfigInput>(path.join(runDir, CONFIG_FILE)))
  const opened = await openDatasets(config, {})
  const plan = planData(opened.index, config)
  const binding = getBinding()
  const trainer = callNativeSync(() => binding.Trainer.create(trainerOptions(config, plan.classNames.length)))
  await trainer.load(path.join(runDir, 'checkpoints', 'last.safetensors'))
  const p = await trainer.predict(opened.train, plan.trainMembers, config.man.coDivisionView, 2, 24, false)
  const codes = new Uint8Array(plan.trainMembers.length)
  coDivide(p.pred1, p.pred2, plan.trainLabels, codes)
  t.deepEqual(Array.from((await readPartition(runDir, 2)).codes), Array.from(codes))

  const alone = await cli(['train', '--resume', runDir])
  t.is(alone.code, 1)
  t.regex(alone.stderr, /it was trained by 2 processes and this run has 1 process.*--nproc 2/)

  const resumed = await launchTrain(['--resume', runDir, ...LAUNCH, '--json'])
  t.is(resumed.code, 0, resumed.stderr)
  t.like(jsonLines(resumed.stdout).at(-1), { type: 'result', epochsCompleted: 2 })
  t.true(existsSync(path.join(runDir, 'checkpoints', 'last.safetensors')))
  t.deepEqual(
    (await readEvents(runDir)).filter((e) => e.event === 'epoch').map((e) => e.epoch),
    [1, 2],
  )
})
