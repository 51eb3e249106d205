/**
 * Configuration: one zod schema, named presets, and `resolveConfig`, which
 * reports every invalid field at once as `Invalid value for option a.b: why`.
 */
import { ConfigError } from '../errors.ts'
import { presets, type PresetName } from './presets.ts'
import { configSchema, type ConfigInput, type ManConfig } from './schema.ts'

export { configSchema, DATA_LIMITS, type ConfigInput, type ManConfig } from './schema.ts'
export { presets, type PresetName } from './presets.ts'

/** Identity with types: lets a config file get completion and checking. */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
}

/** Objects merge key by key; anything else in `over` replaces what is in `under`. */
export function deepMerge(under: unknown, over: unknown): unknown {
  if (!isPlainObject(under) || !isPlainObject(over)) return over === undefined ? under : over
  const out: Record<string, unknown> = { ...under }
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(under[k], v)
  return out
}

function optionLine(path: readonly PropertyKey[], why: string): string {
  const name = path.length === 0 ? '(root)' : path.map(String).join('.')
  return `Invalid value for option ${name}: ${why}`
}

interface CrossCheck {
  path: string[]
  /** Returns why the value is wrong, or undefined; only called when every field it reads is valid. */
  check(c: ManConfig): string | undefined
  reads: string[][]
}

const crossChecks: CrossCheck[] = [
  {
    path: ['train', 'warmup'],
    reads: [['train', 'warmup'], ['train', 'epochs']],
    check: (c) => (c.train.warmup > c.train.epochs ? `must be at most train.epochs (${c.train.epochs})` : undefined),
  },
  {
    path: ['noise', 'file'],
    reads: [['noise', 'file'], ['noise', 'rate']],
    check: (c) =>
      c.noise.file !== undefined && c.noise.rate > 0 ? 'replaces the labels itself: leave noise.rate at 0' : undefined,
  },
]

function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join('.')
}

/**
 * Merges schema defaults < preset < input, validates, and returns the
 * resolved config. Throws a ConfigError listing every problem.
 */
export function resolveConfig(input: ConfigInput = {}, preset?: PresetName): ManConfig {
  const issues: string[] = []
  let base: unknown = {}
  if (preset !== undefined) {
    if (!Object.hasOwn(presets, preset)) {
      throw new ConfigError([optionLine(['preset'], `unknown preset '${String(preset)}' (one of: ${Object.keys(presets).join(', ')})`)])
    }
    base = presets[preset]
  }
  if (!isPlainObject(input)) throw new ConfigError([optionLine([], 'expected an object')])
  const merged = deepMerge(base, input)
  const parsed = configSchema.safeParse(merged)
  const badPaths = new Set<string>()
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          issues.push(optionLine([...issue.path, key], 'unknown option'))
          badPaths.add(pathKey([...issue.path, key]))
        }
      } else {
        issues.push(optionLine(issue.path, issue.message))
        badPaths.add(pathKey(issue.path))
      }
    }
  }
  // Cross-field checks run even when other fields failed, on the defaults
  // filled in around the input, as long as the fields they read are valid.
  const candidate = parsed.success ? parsed.data : (deepMerge(configSchema.parse({}), merged) as ManConfig)
  for (const cc of crossChecks) {
    const readsBad = cc.reads.some((r) => [...badPaths].some((b) => b === pathKey(r) || pathKey(r).startsWith(`${b}.`)))
    if (readsBad) continue
    const why = cc.check(candidate)
    if (why !== undefined) issues.push(optionLine(cc.path, why))
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues)
  return parsed.data
}
export { configOptions, type ConfigOption } from './options.ts'
