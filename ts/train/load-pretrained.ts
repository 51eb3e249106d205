/** Starting weights for both networks from a pretrained backbone file (model.pretrained). */
import { callNative, ManError } from '../errors.ts'
import type { BindingTrainer } from '../native/binding.ts'
import type { PretrainedReport } from './types.ts'

export async function loadPretrained(trainer: BindingTrainer, file: string): Promise<PretrainedReport> {
  const report = await callNative(() => trainer.loadPretrained(file))
  if (report.missing.length > 0) {
    throw new ManError(
      'ERR_MAN_WEIGHTS',
      `${file}: lacks ${report.missing.length} backbone tensor(s) (${report.missing.slice(0, 5).join(', ')}${report.missing.length > 5 ? ', ...' : ''})`,
    )
  }
  return { path: file, loaded: report.loaded.length, skipped: report.skipped, missing: report.missing }
}
