/**
 * The datasets and the good run the reliability specs start from. The good
 * run is trained once per spec file and fingerprinted: every hostile case
 * must leave it byte for byte as it was.
 */
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { toyJpeg } from '../../helpers/toy-images.ts'
import { runCli, summary } from './child.ts'

/** A run small enough for two CPU cores: 16 px, batches of 4, one epoch. */
export const TINY = [
  '--epochs', '1', '--warmup', '1', '--batch-size', '4', '--image-size', '16', '--device', 'cpu',
  '--runtime.threads', '1', '--runtime.data-threads', '1', '--runtime.eval-batch-size', '8',
]

/**
 * Peak memory bounds (MiB of VmHWM) of a child process. Node with libtorch
 * loaded, refusing an input before any model exists, measured 430-440 MiB;
 * with two ResNet-18s and Adam's moments in memory (training at 16 px,
 * resuming, predicting, refusing weights) 730-1070 MiB. Each bound leaves
 * room for allocator variation and stays below what the hostile input would
 * cost if it were read: a 20 GB file, a pixel bomb's 784 MB of pixels, a
 * zip bomb's 1 GiB, or a heap growing until the host dies.
 */
export const PEAK_REFUSING_MB = 600
export const PEAK_MODEL_MB = 1300

export async function tempDir(t: { teardown(fn: () => Promise<void>): void }, prefix = 'man-fer-rel-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

/** A two-class image-folder dataset of tiny JPEGs: train/{bright,dark} and test/{bright,dark}. */
export async function folderDataset(root: string, perClass = 6): Promise<string> {
  for (const [split, n] of [['train', perClass], ['test', 2]] as const) {
    for (const [cls, bright] of [['bright', true], ['dark', false]] as const) {
      const dir = path.join(root, split, cls)
      await fs.mkdir(dir, { recursive: true })
      for (let i = 0; i < n; i++) await fs.writeFile(path.join(dir, `${i}.jpg`), toyJpeg(bright, i + (split === 'test' ? 100 : 0)))
    }
  }
  return root
}

/** Relative path → sha256 of every file under `dir`. */
export async function fingerprint(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (sub: string) => {
    for (const e of await fs.readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, e.name)
      if (e.isDirectory()) await walk(rel)
      else out.set(rel, createHash('sha256').update(await fs.readFile(path.join(dir, rel))).digest('hex'))
    }
  }
  await walk('')
  return out
}

export interface GoodRun {
  data: string
  runDir: string
  print: Map<string, string>
}

/** Trains the good run every case must leave intact. */
export async function goodRun(root: string): Promise<GoodRun> {
  const data = await folderDataset(path.join(root, 'good-data'))
  const runDir = path.join(root, 'good-run')
  const r = await runCli(['train', '--data', data, ...TINY, '--out', runDir])
  if (r.code !== 0) throw new Error(`the good run failed: ${summary(r)}`)
  return { data, runDir, print: await fingerprint(runDir) }
}
