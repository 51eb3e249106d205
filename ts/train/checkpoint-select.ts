/**
 * Which checkpoint a run continues from: the newest one that is whole.
 * `last` normally; `best` when `last` is cut short or unreadable (a full
 * disk, a bad copy, a crash of the storage underneath), and the caller says
 * so. The two never share storage, so one damaged file leaves the other.
 */
import { ManError } from '../errors.ts'
import { readCheckpointMeta, type CheckpointMeta } from './checkpoint.ts'
import { checkpointPath, type CheckpointName } from './run-dir.ts'
import { assertSafetensorsComplete } from '../util/safetensors.ts'
import { exists } from './run-dir.ts'

export interface CheckpointCandidate {
  which: CheckpointName
  file: string
  meta: CheckpointMeta
}

export interface UnreadableCheckpoint {
  which: CheckpointName
  file: string
  reason: string
}

export interface CheckpointChoice {
  /** Whole checkpoints, newest position first. */
  candidates: CheckpointCandidate[]
  /** Checkpoints that exist but cannot be used, with why. */
  unreadable: UnreadableCheckpoint[]
}

function position(meta: CheckpointMeta): number {
  return meta.epoch * 1e9 + meta.nextBatch
}

/** The run's checkpoints that look whole from their headers, newest first; the addon's load is the final check. */
export async function checkpointCandidates(runDir: string): Promise<CheckpointChoice> {
  const candidates: CheckpointCandidate[] = []
  const unreadable: UnreadableCheckpoint[] = []
  for (const which of ['last', 'best'] as const) {
    const file = checkpointPath(runDir, which)
    if (!(await exists(file))) continue
    try {
      await assertSafetensorsComplete(file)
      candidates.push({ which, file, meta: await readCheckpointMeta(file) })
    } catch (err) {
      unreadable.push({ which, file, reason: err instanceof Error ? err.message : String(err) })
    }
  }
  // Stable: `last` stays first when both hold the same position.
  candidates.sort((a, b) => position(b.meta) - position(a.meta))
  return { candidates, unreadable }
}

/** The error when no checkpoint of a run can be used. */
export function noUsableCheckpoint(runDir: string, unreadable: UnreadableCheckpoint[]): ManError {
  if (unreadable.length === 0) {
    return new ManError('ERR_MAN_RUN_DIR', `${runDir} has no checkpoints/last.safetensors: nothing to resume`)
  }
  return new ManError(
    'ERR_MAN_RUN_DIR',
    `cannot resume ${runDir}: no intact checkpoint (${unreadable.map((u) => `${u.which}: ${u.reason}`).join('; ')})`,
  )
}

/** What the run says when it continues from an older checkpoint than `last`. */
export function fallbackNotice(chosen: CheckpointCandidate, unreadable: UnreadableCheckpoint[]): string | null {
  const skipped = unreadable.filter((u) => u.which !== chosen.which)
  if (skipped.length === 0) return null
  const at = `epoch ${chosen.meta.epoch}, batch ${chosen.meta.nextBatch + 1}`
  return `${skipped.map((u) => `checkpoints/${u.which}.safetensors is unusable (${u.reason})`).join('; ')}: resuming from checkpoints/${chosen.which}.safetensors (${at})`
}
