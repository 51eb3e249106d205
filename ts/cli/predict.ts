/** `man-fer predict`: the label and class probabilities of each image. */
import { jsonFlag, parseArgs, renderHelp, requireFlags, UsageError, type FlagSpec } from './args.ts'
import { pct } from './format.ts'
import { modelFlags, modelFromArgs } from './model-flags.ts'
import type { Output } from './output.ts'

const specs: FlagSpec[] = [...modelFlags, jsonFlag]
const TOP = 3

export function predictHelp(): string {
  return renderHelp('man-fer predict --model DIR IMAGE... [options]', 'Classifies image files with a trained model.', specs)
}

export async function predictCommand(argv: string[], out: Output): Promise<number> {
  const parsed = parseArgs(argv, specs, { positionals: 'IMAGE' })
  if (parsed.help) {
    out.data(predictHelp())
    return 0
  }
  requireFlags(parsed, specs)
  if (parsed.positionals.length === 0) throw new UsageError('predict needs at least one IMAGE')
  const model = await modelFromArgs(parsed)
  const images = parsed.positionals
  const predictions = await model.predict(images)
  const width = Math.max(...images.map((p) => p.length))
  predictions.forEach((p, i) => {
    const probabilities = Object.fromEntries(model.classNames.map((name, c) => [name, p.probabilities[c]!]))
    if (out.json) {
      out.event({ type: 'prediction', image: images[i], label: p.label, index: p.index, probabilities })
      return
    }
    const top = model.classNames
      .map((name, c) => ({ name, p: p.probabilities[c]! }))
      .sort((a, b) => b.p - a.p)
      .slice(0, TOP)
      .map((x) => `${x.name} ${pct(x.p)}`)
      .join(', ')
    out.data(`${images[i]!.padEnd(width)}  ${p.label.padEnd(10)}  (${top})`)
  })
  return 0
}
