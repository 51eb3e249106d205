/**
 * When a directory is a run. It becomes one when its first checkpoint exists;
 * before that it is half-made (a start failed or was killed), and a new start
 * clears what the failed one wrote and simply runs there. A directory that
 * holds a checkpoint is never touched by a start. Only the files a start
 * writes are removed: anything else in the directory stays.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { isAtomicWriteTemp } from '../data/atomic-write.ts'
import { ManError } from '../errors.ts'
import {
  checkpointPath,
  CHECKPOINTS_DIR,
  CONFIG_FILE,
  exists,
  METRICS_FILE,
  NOISE_FILE,
  PARTITIONS_DIR,
  RUN_FILE,
} from './run-dir.ts'
import { acquireRunLock, LOCK_FILE, type RunLock } from './run-lock.ts'

export type RunDirState = 'absent' | 'empty' | 'half-made' | 'run'

/** Files at the top of a run directory that a start writes. */
const START_FILES = [CONFIG_FILE, RUN_FILE, METRICS_FILE, NOISE_FILE]
const PARTITION_FILE = /^(names|epoch-\d+)\.json$/

/** Temp files of an interrupted write: the TypeScript helper's `.<name>.<...>.tmp`, the addon's `.<name>.tmp-<pid>`. */
export function isStrayTemp(name: string): boolean {
  return isAtomicWriteTemp(name) || (name.startsWith('.') && /\.tmp-\d+$/.test(name))
}

export async function runDirState(runDir: string): Promise<RunDirState> {
  if (!(await exists(runDir))) return 'absent'
  if ((await exists(checkpointPath(runDir, 'last'))) || (await exists(checkpointPath(runDir, 'best')))) return 'run'
  return (await exists(path.join(runDir, CONFIG_FILE))) ? 'half-made' : 'empty'
}

async function names(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => [])
}

async function removeDirIfEmpty(dir: string): Promise<void> {
  if ((await names(dir)).length === 0) await fs.rmdir(dir).catch(() => undefined)
}

/** Removes the temp files interrupted writes left in the run directory; returns their paths. */
export async function removeStrayTemps(runDir: string): Promise<string[]> {
  const removed: string[] = []
  for (const dir of [runDir, path.join(runDir, CHECKPOINTS_DIR), path.join(runDir, PARTITIONS_DIR)]) {
    for (const name of await names(dir)) {
      if (!isStrayTemp(name)) continue
      const file = path.join(dir, name)
      await fs.rm(file, { force: true })
      removed.push(file)
    }
  }
  return removed
}

/** Removes what a start that never reached its first checkpoint wrote; returns the paths removed. */
export async function clearHalfMadeRun(runDir: string): Promise<string[]> {
  if ((await runDirState(runDir)) === 'run') {
    throw new ManError('ERR_MAN_RUN_DIR', `${runDir} holds a checkpoint: refusing to clear it`)
  }
  const removed = await removeStrayTemps(runDir)
  for (const name of START_FILES) {
    const file = path.join(runDir, name)
    if (await exists(file)) {
      await fs.rm(file, { force: true })
      removed.push(file)
    }
  }
  const partitions = path.join(runDir, PARTITIONS_DIR)
  for (const name of await names(partitions)) {
    if (!PARTITION_FILE.test(name)) continue
    await fs.rm(path.join(partitions, name), { force: true })
    removed.push(path.join(partitions, name))
  }
  await removeDirIfEmpty(partitions)
  await removeDirIfEmpty(path.join(runDir, CHECKPOINTS_DIR))
  return removed
}

export interface OpenedRunDir {
  lock: RunLock
  /** The directory did not exist before this start. */
  created: boolean
  /** What a half-made start and interrupted writes had left, now removed. */
  cleared: string[]
}

/**
 * Readies `runDir` for a new run: creates and locks it, refuses one that holds
 * a run (leaving it exactly as it was), and clears what a failed start left.
 */
export async function openForStart(runDir: string): Promise<OpenedRunDir> {
  const created = !(await exists(runDir))
  try {
    await fs.mkdir(runDir, { recursive: true })
  } catch (err) {
    throw new ManError('ERR_MAN_RUN_DIR', `cannot create ${runDir}: ${(err as Error).message}`, { cause: err })
  }
  const lock = await acquireRunLock(runDir, 'train')
  try {
    const state = await runDirState(runDir)
    if (state === 'run') {
      throw new ManError(
        'ERR_MAN_RUN_DIR',
        `${runDir} already holds a run: resume it (options.resume) or choose another output directory`,
      )
    }
    const cleared = state === 'half-made' ? await clearHalfMadeRun(runDir) : await removeStrayTemps(runDir)
    return { lock, created, cleared }
  } catch (err) {
    await lock.release()
    throw err
  }
}

/** Locks an existing run for resuming and removes what interrupted writes left. */
export async function openForResume(runDir: string): Promise<{ lock: RunLock; cleared: string[] }> {
  const lock = await acquireRunLock(runDir, 'resume')
  try {
    return { lock, cleared: await removeStrayTemps(runDir) }
  } catch (err) {
    await lock.release()
    throw err
  }
}

/**
 * Undoes a start that failed before its first checkpoint, so the corrected
 * command runs in the same directory; a directory this start created goes
 * away entirely if nothing else was put in it.
 */
export async function undoFailedStart(runDir: string, opened: OpenedRunDir): Promise<void> {
  if ((await runDirState(runDir)) !== 'run') await clearHalfMadeRun(runDir)
  await opened.lock.release()
  if (opened.created) {
    const left = await names(runDir)
    if (left.length === 0 || (left.length === 1 && left[0] === LOCK_FILE)) await removeDirIfEmpty(runDir)
  }
}
