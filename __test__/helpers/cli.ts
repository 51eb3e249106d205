/** Runs the man-fer CLI as a child process (through tsx, so no build is needed) and captures its output. */
import { spawn, type ChildProcess } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = path.join(ROOT, 'ts', 'cli', 'bin.ts')

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv
  /** Called with each complete stdout line as it arrives (e.g. to send SIGINT at a given point). */
  onLine?: (line: string, child: ReturnType<typeof spawn>) => void
}

/** Collects a child's stdout and calls `onLine` with each complete line as it arrives; returns what was read so far. */
export function collectLines<C extends ChildProcess>(child: C, onLine?: (line: string, child: C) => void): () => string {
  let stdout = ''
  let pending = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    pending += chunk
    let nl: number
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      onLine?.(line, child)
    }
  })
  return () => stdout
}

export function cli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', MAN_DEBUG: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const stdout = collectLines(child, options.onLine)
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout: stdout(), stderr }))
  })
}

/** Every stdout line parsed as JSON; throws naming the line that is not. */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>
      } catch {
        throw new Error(`stdout line is not JSON: ${l}`)
      }
    })
}

export { tempDir } from './temp-dir.ts'

/** Relative path → bytes of every file under `dir`. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const walk = async (sub: string) => {
    for (const entry of await fs.readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name)
      if (entry.isDirectory()) await walk(rel)
      else out.set(rel, await fs.readFile(path.join(dir, rel)))
    }
  }
  await walk('')
  return out
}
