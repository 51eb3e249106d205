/**
 * One writer per run directory: `run.lock` names the process that holds it.
 * The file is created complete or not at all (written aside, then hard-linked
 * into place, which fails when a lock exists), so a reader never sees half a
 * lock. A lock whose process is gone (killed, crashed, machine rebooted) is
 * stale and is taken over; one held by a live process refuses the second
 * command with one line saying who holds it.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, unlinkSync } from 'node:fs'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ManError } from '../errors.ts'

export const LOCK_FILE = 'run.lock'

interface LockBody {
  pid: number
  host: string
  /** The process's start time (Linux: clock ticks since boot), so a reused pid is not mistaken for the holder. */
  processStart: string | null
  since: string
  /** What holds it: 'train' or 'resume'. */
  purpose: string
  /** Tells this process's lock from an earlier one of the same pid. */
  nonce: string
}

export interface RunLock {
  readonly file: string
  /** Removes the lock if it is still this one's. */
  release(): Promise<void>
}

/** Field 22 of /proc/<pid>/stat; null where there is no /proc. */
function processStart(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Whether the process a lock names still runs; unknowable (another host) counts as running. */
function holderRuns(body: LockBody): boolean {
  if (body.host !== os.hostname()) return true
  if (!isAlive(body.pid)) return false
  if (body.processStart === null) return true
  const start = processStart(body.pid)
  return start === null || start === body.processStart
}

function parseLock(text: string): LockBody | null {
  try {
    const body = JSON.parse(text) as Partial<LockBody>
    if (typeof body.pid !== 'number' || typeof body.host !== 'string' || typeof body.nonce !== 'string') return null
    return body as LockBody
  } catch {
    return null
  }
}

function lockedError(runDir: string, file: string, body: LockBody | null): ManError {
  const who =
    body === null
      ? 'another process (its lock file is unreadable)'
      : `process ${body.pid}${body.host !== os.hostname() ? ` on ${body.host}` : ''} (${body.purpose}, since ${body.since})`
  return new ManError(
    'ERR_MAN_LOCKED',
    `${runDir} is in use by ${who}: wait for it to finish or stop it; if no such process runs, delete ${file}`,
  )
}

async function readLock(file: string): Promise<{ text: string; body: LockBody | null } | null> {
  try {
    const text = await fs.readFile(file, 'utf8')
    return { text, body: parseLock(text) }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** Creates `file` holding `text`, failing with EEXIST when it exists. */
async function createExclusive(file: string, text: string): Promise<void> {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  await fs.writeFile(aside, text)
  try {
    await fs.link(aside, file)
  } finally {
    await fs.rm(aside, { force: true })
  }
}

/**
 * Moves a stale lock out of the way, unless another process replaced it
 * meanwhile (then it is put back and the caller sees that one next time).
 */
async function breakStale(file: string, staleText: string): Promise<void> {
  const moved = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await fs.rename(file, moved)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  const text = await fs.readFile(moved, 'utf8').catch(() => '')
  if (text !== staleText) await fs.link(moved, file).catch(() => undefined)
  await fs.rm(moved, { force: true })
}

/** Locks `runDir` (which must exist) for this process, or throws ERR_MAN_LOCKED naming the holder. */
export async function acquireRunLock(runDir: string, purpose: string): Promise<RunLock> {
  const file = path.join(runDir, LOCK_FILE)
  const body: LockBody = {
    pid: process.pid,
    host: os.hostname(),
    processStart: processStart('self'),
    since: new Date().toISOString(),
    purpose,
    nonce: randomBytes(8).toString('hex'),
  }
  const text = `${JSON.stringify(body)}\n`
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await createExclusive(file, text)
      return ownLock(file, body.nonce)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ManError('ERR_MAN_RUN_DIR', `cannot create ${file}: ${(err as Error).message}`, { cause: err })
      }
    }
    const held = await readLock(file)
    if (held === null) continue
    // A lock that cannot be parsed was not written by this code (it writes
    // whole files): someone's on purpose, so it is not broken.
    if (held.body === null || holderRuns(held.body)) throw lockedError(runDir, file, held.body)
    await breakStale(file, held.text)
  }
  throw lockedError(runDir, file, (await readLock(file))?.body ?? null)
}

function ownLock(file: string, nonce: string): RunLock {
  const isOurs = (text: string) => parseLock(text)?.nonce === nonce
  // A process that ends without releasing (process.exit on a second Ctrl-C) still removes its lock.
  const onExit = () => {
    try {
      if (isOurs(readFileSync(file, 'utf8'))) unlinkSync(file)
    } catch {
      // Already gone.
    }
  }
  process.once('exit', onExit)
  return {
    file,
    async release() {
      process.off('exit', onExit)
      const held = await readLock(file).catch(() => null)
      if (held !== null && isOurs(held.text)) await fs.rm(file, { force: true })
    },
  }
}
