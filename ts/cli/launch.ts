/**
 * `man-fer train --nproc N`: starts N processes of the same command on this
 * machine, wired as torchrun --standalone wires them (RANK, WORLD_SIZE,
 * LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, a free MASTER_PORT),
 * forwards SIGINT and SIGTERM to them, and exits with their outcome. The
 * children run in their own process group so that a Ctrl-C reaches them
 * once, through this process.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import net from 'node:net'
import os from 'node:os'

/** Set in the children, so that they train instead of launching again. */
export const LAUNCHED_ENV = 'MAN_DIST_LAUNCHED'

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * The environment of rank `rank`. Like torchrun, a CPU run splits the cores
 * between the ranks (OMP_NUM_THREADS) unless the caller chose already.
 */
export function rankEnv(base: NodeJS.ProcessEnv, rank: number, nproc: number, port: number, cores: number): NodeJS.ProcessEnv {
  return {
    ...base,
    RANK: String(rank),
    WORLD_SIZE: String(nproc),
    LOCAL_RANK: String(rank),
    LOCAL_WORLD_SIZE: String(nproc),
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(port),
    OMP_NUM_THREADS: base.OMP_NUM_THREADS ?? String(Math.max(1, Math.floor(cores / nproc))),
    [LAUNCHED_ENV]: '1',
  }
}

/** The exit status of the job: 0 when every rank succeeded, else rank 0's failure, else the first. */
export function jobExitCode(codes: Array<number | null>): number {
  if (codes.every((c) => c === 0)) return 0
  const failed = codes.filter((c) => c !== 0)
  if (codes[0] !== 0 && codes[0] !== null) return codes[0]!
  return failed.find((c) => c !== null) ?? 1
}

export interface LaunchOptions {
  /** After one rank fails, how long the others get to notice and stop by themselves before SIGTERM. */
  graceMs?: number
  log: (line: string) => void
  spawnChild?: (command: string, args: string[], options: SpawnOptions) => ChildProcess
  signals?: NodeJS.EventEmitter
  cores?: number
}

export async function launch(argv: string[], nproc: number, options: LaunchOptions): Promise<number> {
  const { log } = options
  const spawnChild = options.spawnChild ?? spawn
  const signals = options.signals ?? process
  const graceMs = options.graceMs ?? 60_000
  const port = await freePort()
  const command = process.execPath
  const args = [...process.execArgv, process.argv[1]!, 'train', ...argv]
  const cores = options.cores ?? os.availableParallelism()
  const children: ChildProcess[] = []
  const codes: Array<number | null> = new Array(nproc).fill(null)
  let running = nproc
  let failedAt: NodeJS.Timeout | null = null

  const done = new Promise<void>((resolve) => {
    for (let rank = 0; rank < nproc; rank++) {
      const child = spawnChild(command, args, {
        env: rankEnv(process.env, rank, nproc, port, cores),
        stdio: ['ignore', 'inherit', 'inherit'],
        detached: true,
      })
      children.push(child)
      log(`man-fer: started rank ${rank} of ${nproc} (pid ${child.pid}) on 127.0.0.1:${port}`)
      child.on('exit', (code, signal) => {
        codes[rank] = code ?? (signal !== null ? 128 + (os.constants.signals[signal] ?? 0) : 1)
        running--
        if (code !== 0) {
          const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`
          log(`man-fer: rank ${rank} (pid ${child.pid}) ${how}`)
          if (running > 0 && failedAt === null) {
            log(`man-fer: waiting up to ${Math.round(graceMs / 1000)} s for the other ranks to stop`)
            failedAt = setTimeout(() => {
              for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
            }, graceMs)
            failedAt.unref()
          }
        }
        if (running === 0) resolve()
      })
    }
  })
  const forward = (signal: NodeJS.Signals) => () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal)
  }
  const onInt = forward('SIGINT')
  const onTerm = forward('SIGTERM')
  signals.on('SIGINT', onInt)
  signals.on('SIGTERM', onTerm)
  try {
    await done
  } finally {
    signals.off('SIGINT', onInt)
    signals.off('SIGTERM', onTerm)
    if (failedAt !== null) clearTimeout(failedAt)
  }
  return jobExitCode(codes)
}
