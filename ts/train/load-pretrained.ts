/** Starting weights for both networks from a pretrained backbone file (model.pretrained). */
import { callNative, ManError } from '../errors.ts'
import type { BindingTrainer } from '../native/binding.ts'
import type { PretrainedReport } from './types.ts'

/**
 * Loads `file` into both networks. The addon fails on a missing or misshapen backbone tensor;
 * a report that still names a variable outside the head as initialised is refused all the same.
 */
export async function loadPretrained(trainer: BindingTrainer, file: string): Promise<PretrainedReport> {
  const report = await callNative(() => trainer.loadPretrained(file))
  const backbone = report.headInitialised.filter((name) => !name.startsWith('fc.'))
  if (backbone.length > 0) {
    const shown = backbone.slice(0, 5).join(', ') + (backbone.length > 5 ? ', ...' : '')
    throw new ManError('ERR_MAN_WEIGHTS', `${file}: lacks ${backbone.length} backbone tensor(s) (${shown})`)
  }
  return { path: file, loaded: report.loaded.length, skipped: report.skipped, headInitialised: report.headInitialised }
}
