/**
 * A small argv parser driven by flag specs, and the help text generated from
 * the same specs, so that what a command accepts and what its help says never
 * disagree. Values are typed here (an integer flag gets a number); ranges and
 * cross-field rules stay with whoever consumes the values (the config schema).
 */
import { ConfigError } from '../errors.ts'

export type FlagType = 'integer' | 'number' | 'string' | 'boolean' | 'enum'

export interface FlagSpec {
  /** Where the value goes, e.g. 'train.epochs' (a config path) or 'model'. */
  key: string
  /** Flag names without the leading dashes; the first is the canonical one. */
  names: string[]
  type: FlagType
  /** Allowed values of an enum. */
  values?: string[]
  default?: unknown
  /** Extra words after the default in the help, e.g. presets that change it. */
  defaultNote?: string
  description: string
  /** Placeholder in the help ('N', 'PATH'); derived from the type when absent. */
  placeholder?: string
  /** Heading the flag is listed under in the help. */
  group?: string
  required?: boolean
}

export const jsonFlag: FlagSpec = { key: 'json', names: ['json'], type: 'boolean', description: 'one JSON object per line on stdout' }

/** A wrong command line: unknown flag, missing value, missing argument. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface ParsedValue {
  value: unknown
  /** The flag as typed, e.g. '--epochs'. */
  flag: string
}

export interface ParsedArgs {
  /** By spec key; a flag given twice keeps its last value. */
  values: Map<string, ParsedValue>
  positionals: string[]
  help: boolean
}

/** `Invalid value for option train.epochs (--epochs): expected an integer`. */
export function invalidValue(key: string, flag: string, why: string): string {
  return `Invalid value for option ${key} (${flag}): ${why}`
}

function typeValue(spec: FlagSpec, flag: string, raw: string): unknown {
  const bad = (why: string) => new ConfigError([invalidValue(spec.key, flag, `${why}, got '${raw}'`)])
  switch (spec.type) {
    case 'integer':
      if (!/^[+-]?\d+$/.test(raw.trim())) throw bad('expected an integer')
      return Number(raw)
    case 'number': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw)
      if (!Number.isFinite(n)) throw bad('expected a number')
      return n
    }
    case 'boolean':
      if (raw === 'true' || raw === '1' || raw === 'yes') return true
      if (raw === 'false' || raw === '0' || raw === 'no') return false
      throw bad('expected true or false')
    case 'enum':
      if (!spec.values?.includes(raw)) throw bad(`expected one of ${spec.values?.join(', ')}`)
      return raw
    case 'string':
      if (raw === '') throw bad('expected a non-empty value')
      return raw
  }
}

export interface ParseOptions {
  /** Name of the positional arguments in messages; undefined = none accepted. */
  positionals?: string
}

/**
 * Parses `--name value`, `--name=value`, bare `--flag` for booleans, and
 * `--` (everything after it is positional). `-h`/`--help` sets `help`.
 */
export function parseArgs(argv: string[], specs: FlagSpec[], options: ParseOptions = {}): ParsedArgs {
  const byName = new Map<string, FlagSpec>()
  for (const spec of specs) for (const name of spec.names) byName.set(name, spec)
  const values = new Map<string, ParsedValue>()
  const positionals: string[] = []
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (arg === '-h' || arg === '--help') {
      help = true
      continue
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (options.positionals === undefined) throw new UsageError(`unexpected argument '${arg}'`)
      positionals.push(arg)
      continue
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown flag '${arg}' (flags are spelled --name)`)
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    const flag = `--${name}`
    const spec = byName.get(name)
    if (spec === undefined) throw new UsageError(`unknown flag '${flag}'${suggest(name, byName)}`)
    let raw: string
    if (eq !== -1) raw = arg.slice(eq + 1)
    else if (spec.type === 'boolean') raw = 'true'
    else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new UsageError(`flag '${flag}' needs a value`)
      raw = next
      i++
    }
    values.set(spec.key, { value: typeValue(spec, flag, raw), flag })
  }
  return { values, positionals, help }
}

/**
 * Whether `argv` asks for JSON output, read the way `parseArgs` reads
 * `jsonFlag` (`--json`, `--json=1`, `--json=no`, the last one wins, nothing
 * after `--`), before the command parses the rest. An invalid value counts as
 * no, and the command's own parse reports it.
 */
export function wantsJson(argv: string[]): boolean {
  let json = false
  for (const arg of argv) {
    if (arg === '--') break
    if (arg !== '--json' && !arg.startsWith('--json=')) continue
    try {
      json = typeValue(jsonFlag, '--json', arg === '--json' ? 'true' : arg.slice('--json='.length)) === true
    } catch {
      json = false
    }
  }
  return json
}

function suggest(name: string, byName: Map<string, FlagSpec>): string {
  const lower = name.toLowerCase()
  const close = [...byName.keys()].find((n) => n.toLowerCase() === lower || n.endsWith(`.${lower}`) || lower.endsWith(`.${n}`))
  return close === undefined ? '' : ` (did you mean --${close}?)`
}

/** Throws a UsageError for every required flag that is missing. */
export function requireFlags(parsed: ParsedArgs, specs: FlagSpec[]): void {
  const missing = specs.filter((s) => s.required && !parsed.values.has(s.key))
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((s) => `--${s.names[0]}`).join(', ')}`)
}

export function valueOf<T>(parsed: ParsedArgs, key: string): T | undefined {
  return parsed.values.get(key)?.value as T | undefined
}

function placeholder(spec: FlagSpec): string {
  if (spec.placeholder !== undefined) return spec.placeholder
  switch (spec.type) {
    case 'integer':
      return 'N'
    case 'number':
      return 'X'
    case 'boolean':
      return ''
    case 'enum':
      return spec.values!.join('|')
    case 'string':
      return 'VALUE'
  }
}

function flagSynopsis(spec: FlagSpec): string {
  const ph = placeholder(spec)
  return spec.names.map((n) => `--${n}`).join(', ') + (ph === '' ? '' : ` ${ph}`)
}

function formatDefault(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value)
}

/** The help text of a command: usage line, then its flags by group, each with its description and default. */
export function renderHelp(usage: string, summary: string, specs: FlagSpec[], width = 100): string {
  const lines = [`usage: ${usage}`, '', summary]
  const groups = new Map<string, FlagSpec[]>()
  for (const spec of specs) {
    const g = spec.group ?? 'options'
    groups.set(g, [...(groups.get(g) ?? []), spec])
  }
  for (const [group, members] of groups) {
    lines.push('', `${group}:`)
    for (const spec of members) {
      lines.push(`  ${flagSynopsis(spec)}`)
      let text = spec.description
      if (spec.required) text += ' (required)'
      else if (spec.default !== undefined || spec.defaultNote !== undefined) {
        const parts = [spec.default !== undefined ? `default ${formatDefault(spec.default)}` : '', spec.defaultNote ?? '']
        text += ` [${parts.filter((p) => p !== '').join('; ')}]`
      }
      lines.push(...wrap(text, width - 6).map((l) => `      ${l}`))
    }
  }
  return lines.join('\n')
}

function wrap(text: string, width: number): string[] {
  const out: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') out.push(line)
  return out
}

/**
 * Rewrites `Invalid value for option KEY: why` lines of a ConfigError to name
 * the flag the value came from (or `fallback`, e.g. `in config.json`).
 */
export function nameFlags(err: unknown, parsed: ParsedArgs, fallback?: (key: string) => string | undefined): unknown {
  if (!(err instanceof ConfigError)) return err
  const issues = err.issues.map((line) => {
    const m = /^Invalid value for option (\S+): /.exec(line)
    if (m === null) return line
    const key = m[1]!
    const source = parsed.values.get(key)?.flag ?? fallback?.(key)
    return source === undefined ? line : line.replace(`option ${key}: `, `option ${key} (${source}): `)
  })
  return new ConfigError(issues)
}
