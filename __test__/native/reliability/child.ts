/**
 * Runs the man-fer CLI (or a script) as a child process with a time limit,
 * and reads back its peak resident memory: what the reliability specs assert
 * on, besides the exit code and the message.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { collectLines } from '../../helpers/cli.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const BIN = path.join(ROOT, 'ts', 'cli', 'bin.ts')
const PEAK_RSS_HOOK = path.join(ROOT, '__test__', 'native', 'reliability', 'peak-rss.ts')

export interface ChildRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Peak resident memory in MiB (VmHWM); null when the child was killed before it could report. */
  peakMB: number | null
  /** The child ran past its time limit and was killed. */
  timedOut: boolean
  ms: number
}

export interface ChildOptions {
  /** Killed (SIGKILL) after this long (a hang detector, generous for loaded machines); default 300 s. */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Called once the child is running, e.g. to signal it at a chosen moment. */
  onSpawn?: (child: ChildProcess) => void
  /** Called with each stdout line as it arrives. */
  onLine?: (line: string, child: ChildProcess) => void
}

/** `node <script> ...args` (a .ts script runs through tsx) with the peak-memory hook. */
export async function runScript(script: string, args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  const rssFile = path.join(os.tmpdir(), `man-fer-rss-${process.pid}-${Math.random().toString(16).slice(2)}`)
  const started = performance.now()
  const child = spawn(process.execPath, ['--import=tsx', `--import=${PEAK_RSS_HOOK}`, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', MAN_DEBUG: '', MAN_PEAK_RSS_FILE: rssFile, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 300_000)
  const stdout = collectLines(child, options.onLine)
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  options.onSpawn?.(child)
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c, s) => resolve({ code: c, signal: s }))
  })
  clearTimeout(timer)
  const kib = await fs.readFile(rssFile, 'utf8').then(Number, () => null)
  await fs.rm(rssFile, { force: true })
  return { code, signal, stdout: stdout(), stderr, peakMB: kib === null ? null : kib / 1024, timedOut, ms: performance.now() - started }
}

/** `man-fer <args>` through tsx (no build needed). */
export function runCli(args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  return runScript(BIN, args, options)
}

/** Runs a child to its end and describes it, for assertion messages. */
export function summary(r: ChildRun): string {
  return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}, peak ${r.peakMB?.toFixed(0)} MiB, ${(r.ms / 1000).toFixed(1)} s\nstderr:\n${r.stderr}\nstdout:\n${r.stdout.slice(-2000)}`
}
