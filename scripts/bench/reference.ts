/**
 * The PyTorch baseline on the very batches man-fer trained on: the views the
 * addon built are written to safetensors, and bench/reference_steps.py times
 * the same warm-up and co-division steps on them with the same thread count.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

import { callNative } from '../../ts/errors.ts'
import { PARTITION_NOISY } from '../../ts/native/binding.ts'
import { note, round } from './measure.ts'
import { encodeSafetensors } from '../../ts/util/safetensors.ts'
import type { ReferenceBatch } from './steps.ts'

export interface ReferenceResult {
  python: string
  torch: string
  threads: number
  batch: number
  warmupMsPerStep: number
  coDivisionMsPerStep: number
  warmupImagesPerS: number
  coDivisionImagesPerS: number
}

export interface ReferenceOptions {
  root: string
  steps: number
  threads: number
  size: number
  device: string
  lambda: number
  omega: number
  gamma: number
}

/** The project's .venv python, else MAN_BENCH_PYTHON, else python3 on PATH. */
export function referencePython(root: string): string {
  if (process.env.MAN_BENCH_PYTHON) return process.env.MAN_BENCH_PYTHON
  const venv = path.join(root, '.venv', 'bin', 'python')
  return existsSync(venv) ? venv : 'python3'
}

export async function benchReference(ref: ReferenceBatch, o: ReferenceOptions): Promise<ReferenceResult> {
  const dir = path.join(o.root, '.cache', 'bench-reference')
  await mkdir(dir, { recursive: true })
  const noisy = Uint32Array.from(ref.indices.filter((_, i) => ref.codes[i] === PARTITION_NOISY))
  const weak = await callNative(() => ref.dataset.views(ref.indices, 'weak', ref.epoch))
  const strong = await callNative(() => ref.dataset.views(noisy, 'strong', ref.epoch))
  const s = o.size
  const views = path.join(dir, 'views.safetensors')
  await writeFile(
    views,
    encodeSafetensors({
      weak: { shape: [ref.indices.length, 3, s, s], data: weak },
      strong: { shape: [noisy.length, 3, s, s], data: strong },
    }),
  )
  const request = path.join(dir, 'request.json')
  await writeFile(
    request,
    JSON.stringify({
      views,
      labels: Array.from(ref.labels),
      codes: Array.from(ref.codes),
      numClasses: ref.numClasses,
      steps: o.steps,
      threads: o.threads,
      lambda: o.lambda,
      omega: o.omega,
      gamma: o.gamma,
      device: o.device.startsWith('cuda') ? o.device : 'cpu',
    }),
  )
  const python = referencePython(o.root)
  note(`reference: ${python} bench/reference_steps.py (${o.steps} steps of each kind, ${o.threads} threads)`)
  const { stdout } = await promisify(execFile)(python, [path.join(o.root, 'bench', 'reference_steps.py'), request], {
    maxBuffer: 1 << 20,
    timeout: 30 * 60_000,
  })
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number | string>
  return {
    python,
    torch: String(out.torch),
    threads: Number(out.threads),
    batch: Number(out.batch),
    warmupMsPerStep: round(Number(out.warmupSecPerStep) * 1000),
    coDivisionMsPerStep: round(Number(out.codivSecPerStep) * 1000),
    warmupImagesPerS: round(Number(out.warmupImagesPerSec), 2),
    coDivisionImagesPerS: round(Number(out.codivImagesPerSec), 2),
  }
}
