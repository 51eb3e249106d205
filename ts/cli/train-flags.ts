/**
 * The flags of `man-fer train`, derived from the config schema: every option
 * gets `--<path in kebab case>` (`--train.batch-size`), the common ones a
 * short alias (`--batch-size`). A config file, a preset and the flags merge
 * into one input (flags win), validated by the schema, whose complaints are
 * rewritten to name the flag the user typed.
 */
import { promises as fs } from 'node:fs'

import { configOptions, deepMerge, presets, resolveConfig, type ConfigInput, type ManConfig, type PresetName } from '../config/index.ts'
import { ManError } from '../errors.ts'
import { nameFlags, UsageError, type FlagSpec, type ParsedArgs } from './args.ts'

/** Short flags of the most used options. */
const ALIASES: Record<string, string> = {
  'data.path': 'data',
  'data.format': 'format',
  'train.epochs': 'epochs',
  'train.warmup': 'warmup',
  'train.batchSize': 'batch-size',
  'train.imageSize': 'image-size',
  'train.lr': 'lr',
  'train.seed': 'seed',
  'noise.rate': 'noise-rate',
  'noise.seed': 'noise-seed',
  'model.pretrained': 'pretrained',
  'runtime.device': 'device',
}

const PLACEHOLDERS: Record<string, string> = {
  'data.path': 'PATH',
  'model.pretrained': 'FILE',
  'noise.file': 'FILE',
  'data.classes': '7|8',
  out: 'DIR',
  'train.imageSize': 'PX',
  'runtime.device': 'auto|cpu|cuda|cuda:N',
}

const GROUPS: Record<string, string> = {
  data: 'data',
  noise: 'label noise (injected, or from a file)',
  method: 'method',
  model: 'model',
  train: 'training',
  man: 'MAN',
  runtime: 'runtime',
  report: 'report',
  out: 'output',
}

/** `train.batchSize` → `train.batch-size`; a run of capitals is one word (`runtime.cacheMB` → `runtime.cache-mb`). */
export function kebab(path: string): string {
  return path.replace(/[A-Z]+/g, (c) => `-${c.toLowerCase()}`)
}

function getPath(obj: unknown, path: string): unknown {
  let cur = obj
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) {
    cur[part] ??= {}
    cur = cur[part] as Record<string, unknown>
  }
  cur[parts.at(-1)!] = value
}

/** Keys of the flags that are not config options. */
export const PRESET_KEY = '@preset'
export const CONFIG_FILE_KEY = '@config'
export const RESUME_KEY = '@resume'
export const JSON_KEY = '@json'

const presetNames = Object.keys(presets) as PresetName[]

/** One spec per config option, then the command's own flags. */
export function trainFlagSpecs(): FlagSpec[] {
  const specs: FlagSpec[] = [
    {
      key: CONFIG_FILE_KEY,
      names: ['config'],
      type: 'string',
      placeholder: 'FILE',
      description: 'JSON config file (same shape as config.json of a run); flags override it',
      group: 'general',
    },
    {
      key: PRESET_KEY,
      names: ['preset'],
      type: 'enum',
      values: presetNames,
      description: `named starting point under the config file and flags: ${presetNames.join(', ')}`,
      group: 'general',
    },
    {
      key: RESUME_KEY,
      names: ['resume'],
      type: 'string',
      placeholder: 'DIR',
      description: 'continue the run in DIR where it stopped, with its saved configuration',
      group: 'general',
    },
    { key: JSON_KEY, names: ['json'], type: 'boolean', description: 'one JSON object per line on stdout (batch, epoch, result)', group: 'general' },
  ]
  for (const option of configOptions()) {
    const names = [kebab(option.path)]
    const alias = ALIASES[option.path]
    if (alias !== undefined && alias !== names[0]) names.unshift(alias)
    const spec: FlagSpec = {
      key: option.path,
      names,
      type: option.type,
      description: option.description,
      group: GROUPS[option.path.split('.')[0]!] ?? 'options',
    }
    if (option.values !== undefined) spec.values = option.values
    if (option.default !== undefined) spec.default = option.default
    const ph = PLACEHOLDERS[option.path]
    if (ph !== undefined) spec.placeholder = ph
    const byPreset = presetNames
      .map((p) => [p, getPath(presets[p], option.path)] as const)
      .filter(([, v]) => v !== undefined && v !== option.default)
      .map(([p, v]) => `${p}: ${typeof v === 'string' ? `'${v}'` : String(v)}`)
    if (byPreset.length > 0) spec.defaultNote = byPreset.join(', ')
    if (option.path === 'out') spec.defaultNote = 'runs/<time>-<method>'
    specs.push(spec)
  }
  return specs
}

/** True for a key that belongs to the config (not --preset, --config, --resume, --json). */
export function isConfigKey(key: string): boolean {
  return !key.startsWith('@')
}

async function readConfigFile(file: string): Promise<{ input: Record<string, unknown>; preset?: string }> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    throw new ManError('ERR_MAN_CONFIG', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ManError('ERR_MAN_CONFIG', `config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManError('ERR_MAN_CONFIG', `config file ${file} must hold a JSON object`)
  }
  // A run's config.json can be used as a config file; its `preset` key, if any, names a preset.
  const { preset, ...input } = value as Record<string, unknown>
  if (preset !== undefined && typeof preset !== 'string') {
    throw new ManError('ERR_MAN_CONFIG', `Invalid value for option preset (in ${file}): expected a string`)
  }
  return preset === undefined ? { input } : { input, preset }
}

/** Config file < flags, over the preset; resolved and validated, errors naming the flag or the file. */
export async function configFromArgs(parsed: ParsedArgs): Promise<ManConfig> {
  const file = parsed.values.get(CONFIG_FILE_KEY)?.value as string | undefined
  const fromFile = file === undefined ? { input: {} } : await readConfigFile(file)
  const fromFlags: Record<string, unknown> = {}
  for (const [key, { value }] of parsed.values) if (isConfigKey(key)) setPath(fromFlags, key, value)
  const preset = (parsed.values.get(PRESET_KEY)?.value as string | undefined) ?? fromFile.preset
  const input = deepMerge(fromFile.input, fromFlags) as ConfigInput
  try {
    return resolveConfig(input, preset as PresetName | undefined)
  } catch (err) {
    throw nameFlags(err, parsed, (key) =>
      key === 'preset' ? parsed.values.get(PRESET_KEY)?.flag : file !== undefined ? `in ${file}` : undefined,
    )
  }
}

/** --resume takes the run's saved configuration: other config flags would be silently ignored, so they are refused. */
export function assertResumeAlone(parsed: ParsedArgs): void {
  const extra = [...parsed.values.entries()].filter(([key]) => key !== RESUME_KEY && key !== JSON_KEY).map(([, v]) => v.flag)
  if (extra.length > 0) {
    throw new UsageError(`--resume continues a run with its saved configuration; drop ${extra.join(', ')}`)
  }
}
