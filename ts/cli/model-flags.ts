/** Flags shared by the commands that load a trained model (eval, predict). */
import { ConfigError } from '../errors.ts'
import { loadModel, type Model } from '../model.ts'
import { valueOf, type FlagSpec, type ParsedArgs } from './args.ts'

export const modelFlags: FlagSpec[] = [
  {
    key: 'model',
    names: ['model'],
    type: 'string',
    placeholder: 'DIR',
    description: 'run directory (its best checkpoint, else its last), a checkpoint file, or an .onnx file from man-fer export (run by ONNX Runtime)',
    required: true,
  },
  {
    key: 'checkpoint',
    names: ['checkpoint'],
    type: 'enum',
    values: ['best', 'last'],
    default: 'best',
    description: 'which checkpoint of a run directory',
  },
  { key: 'device', names: ['device'], type: 'string', placeholder: 'auto|cpu|cuda|cuda:N', default: 'auto', description: 'where to run the networks' },
  { key: 'batchSize', names: ['batch-size'], type: 'integer', default: 64, description: 'images per forward pass' },
]

export async function modelFromArgs(parsed: ParsedArgs): Promise<Model> {
  const options: Parameters<typeof loadModel>[1] = {}
  const checkpoint = valueOf<'best' | 'last'>(parsed, 'checkpoint')
  const device = valueOf<string>(parsed, 'device')
  const batchSize = valueOf<number>(parsed, 'batchSize')
  if (checkpoint !== undefined) options.checkpoint = checkpoint
  if (device !== undefined) options.device = device
  if (batchSize !== undefined) {
    if (batchSize < 1) throw new ConfigError([`Invalid value for option batchSize (--batch-size): must be at least 1, got ${batchSize}`])
    options.batchSize = batchSize
  }
  return loadModel(valueOf<string>(parsed, 'model')!, options)
}
