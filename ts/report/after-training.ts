/**
 * The report train() writes when a run ends. A report that cannot be made
 * (an unreadable image is not such a case: it only loses its thumbnail) is
 * recorded in metrics.jsonl (a 'report' event after 'end') and in the result, and never fails a finished run.
 */
import { appendEvent } from '../train/run-dir.ts'
import type { TrainResult } from '../train/types.ts'
import { writeReport } from './index.ts'

export async function reportAfterTraining(runDir: string): Promise<TrainResult['report']> {
  try {
    const r = await writeReport(runDir, { computePredictions: false })
    return { file: r.html, bytes: r.bytes.total }
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err)
    await appendEvent(runDir, { event: 'report', error })
    return { error }
  }
}
