/**
 * The run directory: config.json, run.json, metrics.jsonl, noise.json,
 * partitions/ and checkpoints/. Every JSON file is replaced atomically
 * (../data/atomic-write.ts) so a crash never leaves half a file.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import type { ManConfig } from '../config/schema.ts'
import { writeFileAtomic } from '../data/atomic-write.ts'
import { ManError } from '../errors.ts'
import type { PretrainedReport } from './types.ts'
import { PARTITION_AMBIGUOUS, PARTITION_CLEAN, PARTITION_NOISY } from '../native/binding.ts'

export const CONFIG_FILE = 'config.json'
export const RUN_FILE = 'run.json'
export const METRICS_FILE = 'metrics.jsonl'
export const NOISE_FILE = 'noise.json'
export const PARTITIONS_DIR = 'partitions'
export const CHECKPOINTS_DIR = 'checkpoints'
const NAMES_FILE = 'names.json'

export type CheckpointName = 'last' | 'best'

export function checkpointPath(runDir: string, which: CheckpointName): string {
  return path.join(runDir, CHECKPOINTS_DIR, `${which}.safetensors`)
}

/** Where a run without `out` goes: runs/<UTC stamp>-<method> under the working directory. */
export function defaultRunDir(config: Pick<ManConfig, 'method'>): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return path.resolve('runs', `${stamp}-${config.method}`)
}

/** What run.json holds: what a model needs besides its weights. */
export interface RunInfo {
  classNames: string[]
  imageSize: number
  method: ManConfig['method']
  dataset: { root: string; format: string; train: number; validation: number; test: number }
  /** The backbone both networks started from; null when they started from their initialisation. */
  pretrained: PretrainedReport | null
}

function runDirError(what: string, file: string, err: unknown): ManError {
  const why = err instanceof Error ? err.message : String(err)
  return new ManError('ERR_MAN_RUN_DIR', `${what} ${file}: ${why}`, { cause: err })
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`)
}

export async function readJson<T>(file: string): Promise<T> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    throw runDirError('cannot read', file, err)
  }
  try {
    return JSON.parse(text) as T
  } catch (err) {
    throw runDirError('invalid JSON in', file, err)
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file)
    return true
  } catch {
    return false
  }
}

/**
 * Refuses a directory that already holds a run: one with a checkpoint (a
 * start that failed before its first checkpoint left no run, and is cleared).
 */
export async function assertNoRun(runDir: string): Promise<void> {
  if ((await exists(checkpointPath(runDir, 'last'))) || (await exists(checkpointPath(runDir, 'best')))) {
    throw new ManError(
      'ERR_MAN_RUN_DIR',
      `${runDir} already holds a run: resume it (options.resume) or choose another output directory`,
    )
  }
}

/** Creates a fresh run directory; refuses one that already holds a run. */
export async function createRunDir(runDir: string): Promise<void> {
  await assertNoRun(runDir)
  try {
    await fs.mkdir(path.join(runDir, PARTITIONS_DIR), { recursive: true })
    await fs.mkdir(path.join(runDir, CHECKPOINTS_DIR), { recursive: true })
  } catch (err) {
    throw runDirError('cannot create', runDir, err)
  }
}

/** One line of metrics.jsonl. */
export interface RunEvent {
  event: string
  time: string
  [key: string]: unknown
}

/** Appends one event and flushes it to disk. */
export async function appendEvent(runDir: string, event: Omit<RunEvent, 'time'>): Promise<void> {
  const file = path.join(runDir, METRICS_FILE)
  const line = `${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`
  try {
    const handle = await fs.open(file, 'a')
    try {
      await handle.writeFile(line)
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (err) {
    throw runDirError('cannot append to', file, err)
  }
}

/** Every well-formed line of metrics.jsonl; a torn last line (crash mid-write) is ignored. */
export async function readEvents(runDir: string): Promise<RunEvent[]> {
  const file = path.join(runDir, METRICS_FILE)
  if (!(await exists(file))) return []
  const text = await fs.readFile(file, 'utf8')
  const events: RunEvent[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      events.push(JSON.parse(line) as RunEvent)
    } catch {
      // A line cut short by a crash.
    }
  }
  return events
}

export async function rewriteEvents(runDir: string, events: RunEvent[]): Promise<void> {
  const text = events.map((e) => `${JSON.stringify(e)}\n`).join('')
  await writeFileAtomic(path.join(runDir, METRICS_FILE), text)
}

export interface PartitionCounts {
  clean: number
  ambiguous: number
  noisy: number
}

export interface Partition {
  epoch: number
  /** PARTITION_* code per training sample, in the order of `names`. */
  codes: Uint8Array
  /** Training sample file names (relative to the dataset root where possible). */
  names: string[]
  counts: PartitionCounts
  /** With `man.relabel: 'agreed'`: the class each training sample was trained as this epoch, -1 where its given label; else null. */
  relabels: Int32Array | null
}

interface PartitionFile {
  epoch: number
  size: number
  counts: PartitionCounts
  /** base64 of one byte per sample: 0 clean, 1 ambiguous, 2 noisy. */
  codes: string
  /** base64 of one little-endian int32 per sample (see Partition.relabels); absent when the run does not relabel. */
  relabels?: string
}

export function partitionPath(runDir: string, epoch: number): string {
  return path.join(runDir, PARTITIONS_DIR, `epoch-${String(epoch).padStart(3, '0')}.json`)
}

/** The names are written once; each epoch stores only its codes. */
export async function writePartitionNames(runDir: string, names: string[]): Promise<void> {
  await writeJsonAtomic(path.join(runDir, PARTITIONS_DIR, NAMES_FILE), { names })
}

function base64Of(a: Uint8Array | Int32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')
}

export async function writePartition(
  runDir: string,
  epoch: number,
  codes: Uint8Array,
  counts: PartitionCounts,
  relabels: Int32Array | null = null,
): Promise<void> {
  const body: PartitionFile = { epoch, size: codes.length, counts, codes: base64Of(codes) }
  if (relabels !== null) body.relabels = base64Of(relabels)
  await writeJsonAtomic(partitionPath(runDir, epoch), body)
}

/** Reads the co-division of one epoch back from a run directory. */
export async function readPartition(runDir: string, epoch: number): Promise<Partition> {
  if (typeof runDir !== 'string' || runDir === '') {
    throw new ManError('ERR_MAN_ARGUMENT', `readPartition: runDir must be a run directory path, got ${runDir === '' ? 'an empty string' : typeof runDir}`)
  }
  if (!Number.isInteger(epoch) || epoch < 1) {
    throw new ManError('ERR_MAN_ARGUMENT', `readPartition: epoch must be an integer ≥ 1, got ${String(epoch)}`)
  }
  const file = partitionPath(runDir, epoch)
  const body = await readJson<PartitionFile>(file)
  const { names } = await readJson<{ names: string[] }>(path.join(runDir, PARTITIONS_DIR, NAMES_FILE))
  const codes = new Uint8Array(Buffer.from(body.codes, 'base64'))
  if (codes.length !== body.size || names.length !== body.size) {
    throw new ManError(
      'ERR_MAN_RUN_DIR',
      `${file}: holds ${codes.length} codes for ${body.size} samples, and ${names.length} names`,
    )
  }
  const counted = { clean: 0, ambiguous: 0, noisy: 0 }
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]
    if (c === PARTITION_CLEAN) counted.clean++
    else if (c === PARTITION_AMBIGUOUS) counted.ambiguous++
    else if (c === PARTITION_NOISY) counted.noisy++
    else throw new ManError('ERR_MAN_RUN_DIR', `${file}: invalid partition code ${c} at sample ${i}`)
  }
  return { epoch: body.epoch, codes, names, counts: counted, relabels: relabelsOf(file, body) }
}

function relabelsOf(file: string, body: PartitionFile): Int32Array | null {
  if (body.relabels === undefined) return null
  const bytes = Buffer.from(body.relabels, 'base64')
  if (bytes.length !== 4 * body.size) {
    throw new ManError('ERR_MAN_RUN_DIR', `${file}: relabels hold ${bytes.length} bytes for ${body.size} samples`)
  }
  const out = new Int32Array(body.size)
  for (let i = 0; i < body.size; i++) out[i] = bytes.readInt32LE(4 * i)
  return out
}
