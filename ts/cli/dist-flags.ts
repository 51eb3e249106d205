/**
 * The data-parallel flags of `man-fer train`: --nproc starts local ranks,
 * --distributed joins the job the environment describes (torchrun sets it
 * for you: a run with WORLD_SIZE set joins by itself), --dist-timeout and
 * --dist-verify tune it.
 */
import type { DistributedOptions } from '../dist/replicas.ts'
import { UsageError, type FlagSpec, type ParsedArgs } from './args.ts'
import type { Output } from './output.ts'

export const NPROC_KEY = '@nproc'
export const DISTRIBUTED_KEY = '@distributed'
export const DIST_TIMEOUT_KEY = '@distTimeout'
export const DIST_VERIFY_KEY = '@distVerify'
export const DIST_KEYS = [NPROC_KEY, DISTRIBUTED_KEY, DIST_TIMEOUT_KEY, DIST_VERIFY_KEY]

export const distFlagSpecs: FlagSpec[] = [
  {
    key: NPROC_KEY,
    names: ['nproc'],
    type: 'integer',
    placeholder: 'N',
    description: 'data-parallel training in N local processes (one per GPU with CUDA, else the CPU cores split between them)',
    group: 'distributed',
  },
  {
    key: DISTRIBUTED_KEY,
    names: ['distributed'],
    type: 'boolean',
    description: 'join the job RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT or SLURM_* describe (automatic when WORLD_SIZE is set)',
    group: 'distributed',
  },
  {
    key: DIST_TIMEOUT_KEY,
    names: ['dist-timeout'],
    type: 'integer',
    placeholder: 'MS',
    description: 'how long a rank waits for the others before failing (default 1800000)',
    group: 'distributed',
  },
  {
    key: DIST_VERIFY_KEY,
    names: ['dist-verify'],
    type: 'boolean',
    description: "check after every step that every rank holds the same weights (metrics.jsonl records the checksums)",
    group: 'distributed',
  },
]

/** This process's rank as the environment gives it (0 outside a job). */
export function envRank(env: NodeJS.ProcessEnv): number {
  return Number(env.RANK ?? env.SLURM_PROCID ?? 0) || 0
}

/** The train() option, or undefined for a single-process run. */
export function distributedFromArgs(parsed: ParsedArgs, env: NodeJS.ProcessEnv): DistributedOptions | undefined {
  const flag = parsed.values.get(DISTRIBUTED_KEY)?.value === true
  if (!flag && env.WORLD_SIZE === undefined) return undefined
  const timeout = parsed.values.get(DIST_TIMEOUT_KEY)?.value as number | undefined
  if (timeout !== undefined && timeout <= 0) throw new UsageError(`Invalid value for option --dist-timeout: ${timeout} (milliseconds, above 0)`)
  const options: DistributedOptions = {}
  if (timeout !== undefined) options.timeoutMs = timeout
  if (parsed.values.get(DIST_VERIFY_KEY)?.value === true) options.verify = true
  return options
}

/** --nproc N with N > 1 outside a launched job: this process launches the ranks. */
export function nprocToLaunch(parsed: ParsedArgs, env: NodeJS.ProcessEnv, launchedVar: string): number | null {
  const nproc = parsed.values.get(NPROC_KEY)?.value as number | undefined
  if (nproc === undefined || env[launchedVar] !== undefined) return null
  if (nproc < 1) throw new UsageError(`Invalid value for option --nproc: ${nproc} (1 or more)`)
  return nproc > 1 ? nproc : null
}

/** A rank other than 0 shows no progress and no result (rank 0 does); its errors still reach stderr. */
export function quietOutput(out: Output): Output {
  return {
    json: out.json,
    interactive: false,
    color: out.color,
    event: () => {},
    data: () => {},
    log: () => {},
    status: () => {},
    clearStatus: () => {},
  }
}

/** `man-fer` or, in a job of several ranks, `man-fer[rank N]`: who is talking. */
export function speaker(env: NodeJS.ProcessEnv): string {
  const world = Number(env.WORLD_SIZE ?? env.SLURM_NTASKS ?? 1)
  return world > 1 ? `man-fer[rank ${envRank(env)}]` : 'man-fer'
}
