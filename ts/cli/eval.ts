/** `man-fer eval`: accuracy, mean class accuracy and confusion matrix of a trained model on a dataset's test split. */
import path from 'node:path'

import { ManError } from '../errors.ts'
import { CONFIG_FILE, exists, readJson, RUN_FILE } from '../train/run-dir.ts'
import { loadDataset, type DatasetFormat } from '../data/index.ts'
import { evaluate } from '../model.ts'
import { jsonFlag, parseArgs, renderHelp, requireFlags, UsageError, valueOf, type FlagSpec } from './args.ts'
import { confusionTable, pct, table } from './format.ts'
import { modelFlags, modelFromArgs } from './model-flags.ts'
import type { Output } from './output.ts'

const specs: FlagSpec[] = [
  ...modelFlags,
  {
    key: 'data',
    names: ['data'],
    type: 'string',
    placeholder: 'PATH',
    description: "dataset root: RAF-DB, FERPlus or AffectNet directory, image folder, or CSV file; default: the dataset the run in --model trained on",
  },
  {
    key: 'format',
    names: ['format'],
    type: 'enum',
    values: ['auto', 'rafdb', 'folder', 'csv', 'ferplus', 'affectnet'],
    default: 'auto',
    description: 'dataset layout',
  },
  jsonFlag,
]

export function evalHelp(): string {
  return renderHelp(
    'man-fer eval --model DIR [--data PATH] [options]',
    "Scores a trained model (the ensemble of its two networks) on the dataset's test split.",
    specs,
  )
}

/** The dataset root recorded in a run directory's run.json. */
async function trainedOn(model: string): Promise<string> {
  const file = path.join(model, RUN_FILE)
  if (!(await exists(file))) throw new UsageError(`give --data: ${model} is not a run directory with a ${RUN_FILE} naming its dataset`)
  const info = await readJson<{ dataset?: { root?: string } }>(file)
  if (typeof info.dataset?.root !== 'string') throw new ManError('ERR_MAN_RUN_DIR', `${file} names no dataset root; give --data`)
  return info.dataset.root
}

/** AffectNet's class count and crop as the run in `model` trained with them (nothing for other runs). */
async function affectnetProtocol(model: string): Promise<{ classes?: 7 | 8; crop?: boolean }> {
  const file = path.join(model, CONFIG_FILE)
  if (!(await exists(file))) return {}
  const data = (await readJson<{ data?: { classes?: number; crop?: boolean } }>(file)).data
  return {
    ...(data?.classes === 7 || data?.classes === 8 ? { classes: data.classes } : {}),
    ...(data?.crop === true ? { crop: true } : {}),
  }
}

export async function evalCommand(argv: string[], out: Output): Promise<number> {
  const parsed = parseArgs(argv, specs)
  if (parsed.help) {
    out.data(evalHelp())
    return 0
  }
  requireFlags(parsed, specs)
  const model = await modelFromArgs(parsed)
  const { index } = await loadDataset({
    path: valueOf<string>(parsed, 'data') ?? (await trainedOn(valueOf<string>(parsed, 'model')!)),
    format: valueOf<DatasetFormat>(parsed, 'format') ?? 'auto',
    skipBad: false,
    ...(await affectnetProtocol(valueOf<string>(parsed, 'model')!)),
  })
  out.log(`man-fer: evaluating ${model.checkpoint} on ${index.test.paths.length} test images of ${index.root}`)
  const scores = await evaluate(model, index)
  if (out.json) {
    out.event({
      type: 'evaluation',
      model: model.checkpoint,
      data: index.root,
      size: index.test.paths.length,
      classNames: model.classNames,
      ...scores,
    })
    return 0
  }
  out.data(`accuracy:            ${pct(scores.accuracy, 2)} (${index.test.paths.length} test images)`)
  out.data(`mean class accuracy: ${pct(scores.meanClassAccuracy, 2)}`)
  out.data('')
  for (const line of table([['class', 'images', 'correct', 'accuracy'], ...scores.perClass.map((c) => [c.name, String(c.total), String(c.correct), pct(c.accuracy)])])) {
    out.data(line)
  }
  out.data('')
  for (const line of confusionTable(model.classNames, scores.confusion)) out.data(line)
  return 0
}
