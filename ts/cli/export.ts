/** `man-fer export`: a trained model as an ONNX file for ONNX Runtime (no libtorch needed to export or to run it). */
import path from 'node:path'

import { nameFlags, jsonFlag, parseArgs, renderHelp, requireFlags, valueOf, type FlagSpec } from './args.ts'
import { DEFAULT_OPSET, exportOnnx, MAX_OPSET, MIN_OPSET, type ExportOnnxOptions } from '../onnx/export.ts'
import type { OnnxNetwork } from '../onnx/metadata.ts'
import type { Output } from './output.ts'

const specs: FlagSpec[] = [
  {
    key: 'model',
    names: ['model'],
    type: 'string',
    placeholder: 'RUN',
    description: 'run directory (its best checkpoint, else its last) or a checkpoint file',
    required: true,
  },
  {
    key: 'out',
    names: ['out'],
    type: 'string',
    placeholder: 'FILE',
    description: 'the ONNX file to write; default model.onnx (model-net1.onnx, model-net2.onnx) in the run directory',
  },
  {
    key: 'network',
    names: ['network'],
    type: 'enum',
    values: ['ensemble', '1', '2'],
    default: 'ensemble',
    description: "what to export: the mean of both networks' logits (what man-fer predicts with), or one network",
  },
  { key: 'opset', names: ['opset'], type: 'integer', default: DEFAULT_OPSET, description: `ONNX operator set, ${MIN_OPSET} to ${MAX_OPSET}` },
  { key: 'checkpoint', names: ['checkpoint'], type: 'enum', values: ['best', 'last'], default: 'best', description: 'which checkpoint of a run directory' },
  jsonFlag,
]

export function exportHelp(): string {
  return renderHelp(
    'man-fer export --model RUN [--out model.onnx] [--network ensemble|1|2] [--opset N]',
    'Writes a trained model as ONNX: input images float32 [N,3,S,S] (normalised), output logits [N,classes]; ' +
      'class names, input size and normalisation in its metadata. See docs/deploy.md.',
    specs,
  )
}

export async function exportCommand(argv: string[], out: Output): Promise<number> {
  const parsed = parseArgs(argv, specs)
  if (parsed.help) {
    out.data(exportHelp())
    return 0
  }
  requireFlags(parsed, specs)
  const options: ExportOnnxOptions = {}
  const file = valueOf<string>(parsed, 'out')
  const network = valueOf<string>(parsed, 'network')
  const opset = valueOf<number>(parsed, 'opset')
  const checkpoint = valueOf<'best' | 'last'>(parsed, 'checkpoint')
  if (file !== undefined) options.out = file
  if (network !== undefined) options.network = (network === 'ensemble' ? 'ensemble' : Number(network)) as OnnxNetwork
  if (opset !== undefined) options.opset = opset
  if (checkpoint !== undefined) options.checkpoint = checkpoint
  let result
  try {
    result = await exportOnnx(valueOf<string>(parsed, 'model')!, options)
  } catch (err) {
    throw nameFlags(err, parsed)
  }
  const { info } = result
  if (out.json) {
    out.event({
      type: 'export',
      file: result.file,
      bytes: result.bytes,
      checkpoint: result.checkpoint,
      opset: result.opset,
      irVersion: result.irVersion,
      ...info,
    })
    return 0
  }
  const what = info.network === 'ensemble' ? 'ensemble of 2 ResNet-18s' : `ResNet-18 (network ${info.network})`
  const rel = path.relative(process.cwd(), result.file)
  out.data(`${rel === '' || rel.startsWith('..') ? result.file : rel}: ${(result.bytes / 1e6).toFixed(1)} MB, ${what}, ` +
    `${info.classNames.length} classes, input images [N,3,${info.imageSize},${info.imageSize}], output logits, opset ${result.opset}`)
  return 0
}
