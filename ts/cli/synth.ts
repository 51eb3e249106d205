/** `man-fer synth`: writes the synthetic FER benchmark (RAF-DB layout, known noise and ambiguity). */
import { synthesize, type SynthesizeOptions } from '../synth/index.ts'
import { jsonFlag, nameFlags, parseArgs, renderHelp, requireFlags, valueOf, type FlagSpec } from './args.ts'
import { duration } from './format.ts'
import type { Output } from './output.ts'

// Defaults shown in the help are the synthesizer's; values not given are left to it.
const specs: FlagSpec[] = [
  { key: 'out', names: ['out'], type: 'string', placeholder: 'DIR', description: 'output folder (created; must be empty)', required: true },
  { key: 'train', names: ['train'], type: 'integer', default: 3000, description: 'training images' },
  { key: 'test', names: ['test'], type: 'integer', default: 1000, description: 'test images' },
  { key: 'size', names: ['size'], type: 'integer', placeholder: 'PX', default: 64, description: 'image width and height in pixels' },
  { key: 'noiseRate', names: ['noise-rate'], type: 'number', placeholder: 'R', default: 0, description: 'fraction of training labels flipped to another class (the truth goes to truth.json)' },
  { key: 'ambiguousRate', names: ['ambiguous-rate'], type: 'number', placeholder: 'R', default: 0.1, description: 'fraction of images, per split, that blend two expressions' },
  { key: 'seed', names: ['seed'], type: 'integer', default: 0, description: 'the same seed and options give byte-identical files' },
  { key: 'quality', names: ['quality'], type: 'integer', default: 90, description: 'JPEG quality' },
  jsonFlag,
]

export function synthHelp(): string {
  return renderHelp(
    'man-fer synth --out DIR [options]',
    'Draws a synthetic facial-expression dataset of the seven RAF-DB classes in the RAF-DB layout\n(EmoLabel/list_patition_label.txt, Image/aligned/), with truth.json recording the true labels.',
    specs,
  )
}

export async function synthCommand(argv: string[], out: Output): Promise<number> {
  const parsed = parseArgs(argv, specs)
  if (parsed.help) {
    out.data(synthHelp())
    return 0
  }
  requireFlags(parsed, specs)
  const options: SynthesizeOptions = { out: valueOf<string>(parsed, 'out')! }
  for (const key of ['train', 'test', 'size', 'noiseRate', 'ambiguousRate', 'seed', 'quality'] as const) {
    const v = valueOf<number>(parsed, key)
    if (v !== undefined) options[key] = v
  }
  const started = performance.now()
  out.log(`man-fer: drawing ${options.train ?? 3000} + ${options.test ?? 1000} images into ${options.out}`)
  const summary = await synthesize(options).catch((err: unknown) => {
    throw nameFlags(err, parsed)
  })
  if (out.json) {
    out.event({ type: 'synth', ...summary })
    return 0
  }
  out.data(`wrote ${summary.train} training and ${summary.test} test images to ${summary.out} in ${duration(performance.now() - started)}`)
  out.data(`flipped training labels: ${summary.flipped}; blended images: ${summary.blended.train} train, ${summary.blended.test} test`)
  out.data(`train on it: man-fer train --data ${summary.out} --preset cpu-small`)
  return 0
}
