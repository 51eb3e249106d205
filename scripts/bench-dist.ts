/**
 * npm run bench:dist: data-parallel training on the CPU, 2 ranks × 1 thread
 * against 1 rank × 2 threads, on the same global batches of the synthetic
 * set: images per second of the training steps (epoch 2 of 2 warm-up
 * epochs, so that start-up is not counted). Prints a table, then one JSON line.
 *
 *   npm run bench:dist -- [--size PX] [--batch N] [--images N] [--ranks N]
 */
import { spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { synthesize } from '../ts/synth/index.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'ts', 'cli', 'bin.ts')

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    batch: { type: 'string', default: '32' },
    images: { type: 'string', default: '256' },
    ranks: { type: 'string', default: '2' },
  },
})

function positive(name: string, v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new Error(`Invalid value for option --${name}: ${v} (a positive integer)`)
  return n
}

interface Line {
  name: string
  ranks: number
  threadsPerRank: number
  imagesPerSecond: number
  trainMs: number
  samples: number
}

/** `man-fer train --json`; the epoch-2 line's training time and samples. */
function trainRun(extra: string[], env: NodeJS.ProcessEnv): Promise<{ trainMs: number; samples: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', BIN, 'train', ...extra, '--json'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`man-fer train ${extra.join(' ')} exited with ${code}`))
      const epochs = out
        .split('\n')
        .filter((l) => l.includes('"type":"epoch"'))
        .map((l) => JSON.parse(l) as { epoch: number; samples: number; timings: { trainMs: number } })
      const last = epochs.find((e) => e.epoch === 2)
      if (last === undefined) return reject(new Error('no epoch-2 line in the output'))
      resolve({ trainMs: last.timings.trainMs, samples: last.samples })
    })
  })
}

async function main(): Promise<void> {
  const size = positive('size', args.size!)
  const batch = positive('batch', args.batch!)
  const images = positive('images', args.images!)
  const ranks = positive('ranks', args.ranks!)
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'man-fer-bench-dist-'))
  try {
    const data = path.join(dir, 'data')
    process.stderr.write(`bench:dist: ${images} synthetic images of ${size} px, global batch ${batch}\n`)
    await synthesize({ out: data, train: images, test: 8, size, seed: 1 })
    const common = ['--data', data, '--epochs', '2', '--warmup', '2', '--batch-size', String(batch), '--image-size', String(size), '--device', 'cpu']
    const lines: Line[] = []
    const run = async (name: string, n: number, threads: number, extra: string[]) => {
      process.stderr.write(`bench:dist: ${name}\n`)
      const flags = [...common, '--runtime.threads', String(threads), '--runtime.data-threads', String(threads), '--out', path.join(dir, name), ...extra]
      const r = await trainRun(flags, { OMP_NUM_THREADS: String(threads) })
      lines.push({ name, ranks: n, threadsPerRank: threads, imagesPerSecond: (r.samples * 1000) / r.trainMs, ...r })
    }
    await run(`1 rank × ${ranks} threads`, 1, ranks, [])
    await run(`${ranks} ranks × 1 thread`, ranks, 1, ['--nproc', String(ranks)])
    const [one, many] = [lines[0]!, lines[1]!]
    process.stdout.write(`${'run'.padEnd(24)} images/s  train ms  samples\n`)
    for (const l of lines) {
      process.stdout.write(`${l.name.padEnd(24)} ${l.imagesPerSecond.toFixed(1).padStart(8)}  ${l.trainMs.toFixed(0).padStart(8)}  ${l.samples}\n`)
    }
    const ratio = many.imagesPerSecond / one.imagesPerSecond
    process.stdout.write(`data-parallel / one process: ${ratio.toFixed(2)}×  (load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')})\n`)
    process.stdout.write(JSON.stringify({ bench: 'dist', size, batch, images, lines, ratio, loadavg: os.loadavg() }) + '\n')
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

await main()
