/**
 * One writer per run directory: the lock names its holder, refuses a second
 * process, and is taken over once its holder is gone.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ManError } from '../ts/errors.ts'
import { acquireRunLock, LOCK_FILE } from '../ts/train/run-lock.ts'
import { tempDir } from './helpers/orch.ts'

async function lockBody(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>
}

test('a held lock refuses a second holder with one line naming it; release frees it', async (t) => {
  const dir = await tempDir(t)
  const first = await acquireRunLock(dir, 'train')
  t.like(await lockBody(dir), { pid: process.pid, host: os.hostname(), purpose: 'train' })
  const err = await t.throwsAsync(acquireRunLock(dir, 'resume'), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_LOCKED')
  t.regex(err!.message, new RegExp(`^${dir} is in use by process ${process.pid} \\(train, since \\S+\\): wait for it`))
  t.false(err!.message.includes('\n'))
  await first.release()
  t.deepEqual(await fs.readdir(dir), [])
  const again = await acquireRunLock(dir, 'resume')
  t.is((await lockBody(dir)).purpose, 'resume')
  await again.release()
})

test('a lock whose process is gone is stale and taken over', async (t) => {
  const dir = await tempDir(t)
  // A process that exits at once: its pid names nobody afterwards.
  const child = spawn(process.execPath, ['-e', ''])
  const pid = child.pid!
  await new Promise((resolve) => child.on('close', resolve))
  const stale = { pid, host: os.hostname(), processStart: null, since: '2020-01-01T00:00:00.000Z', purpose: 'train', nonce: 'dead' }
  await fs.writeFile(path.join(dir, LOCK_FILE), JSON.stringify(stale))
  const lock = await acquireRunLock(dir, 'train')
  t.is((await lockBody(dir)).pid, process.pid)
  await lock.release()
  t.deepEqual(await fs.readdir(dir), [], 'nothing of the stale lock is left')
})

test('a reused pid (same number, another process start) does not keep a stale lock alive', async (t) => {
  const dir = await tempDir(t)
  const reused = { pid: process.pid, host: os.hostname(), processStart: '1', since: '2020-01-01T00:00:00.000Z', purpose: 'train', nonce: 'old' }
  await fs.writeFile(path.join(dir, LOCK_FILE), JSON.stringify(reused))
  const lock = await acquireRunLock(dir, 'train')
  t.not((await lockBody(dir)).nonce, 'old')
  await lock.release()
})

test('a lock from another host, or one that is not a lock, is never broken', async (t) => {
  const dir = await tempDir(t)
  const file = path.join(dir, LOCK_FILE)
  await fs.writeFile(file, JSON.stringify({ pid: 1, host: 'elsewhere', processStart: null, since: 'then', purpose: 'train', nonce: 'x' }))
  const err = await t.throwsAsync(acquireRunLock(dir, 'train'), { instanceOf: ManError })
  t.regex(err!.message, /in use by process 1 on elsewhere .*delete .*run\.lock/)
  await fs.writeFile(file, 'mine, do not touch')
  const err2 = await t.throwsAsync(acquireRunLock(dir, 'train'), { instanceOf: ManError })
  t.regex(err2!.message, /in use by another process \(its lock file is unreadable\)/)
  t.is(await fs.readFile(file, 'utf8'), 'mine, do not touch')
})

test('of many processes racing for one lock, exactly one gets it', async (t) => {
  const dir = await tempDir(t)
  const lockDir = path.join(dir, 'run')
  await fs.mkdir(lockDir)
  // Each racer says it is ready, waits for 'go', tries, says how it went; the
  // winner keeps the lock until every racer has answered.
  const script = `
    import { existsSync } from 'node:fs'
    import { acquireRunLock } from ${JSON.stringify(path.resolve('ts/train/run-lock.ts'))}
    const [lockDir, go, done] = process.argv.slice(1)
    const until = async (f) => { while (!existsSync(f)) await new Promise((r) => setTimeout(r, 2)) }
    console.log('ready')
    await until(go)
    try { const l = await acquireRunLock(lockDir, 'train'); console.log('got'); await until(done); await l.release() }
    catch (e) { console.log(e.code) }`
  const go = path.join(dir, 'go')
  const done = path.join(dir, 'done')
  const outputs: string[][] = []
  const lines = (i: number) => outputs[i] ?? []
  const racers = Array.from({ length: 4 }, (_, i) => {
    outputs[i] = []
    const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script, lockDir, go, done], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    child.stdout.setEncoding('utf8').on('data', (c: string) => outputs[i]!.push(...c.trim().split('\n')))
    return new Promise<void>((resolve) => child.on('close', () => resolve()))
  })
  const waitFor = async (n: number) => {
    while (outputs.some((_, i) => lines(i).length < n)) await new Promise((r) => setTimeout(r, 5))
  }
  await waitFor(1)
  await fs.writeFile(go, '')
  await waitFor(2)
  await fs.writeFile(done, '')
  await Promise.all(racers)
  const results = outputs.map((o) => o[1]!).sort()
  t.deepEqual(results, ['ERR_MAN_LOCKED', 'ERR_MAN_LOCKED', 'ERR_MAN_LOCKED', 'got'])
  t.deepEqual(await fs.readdir(lockDir), [], 'released, nothing left behind')
})
