/**
 * The schema flattened into a list of options (`train.epochs`, ...) with
 * type, default, allowed values and description: what the CLI turns into
 * flags and help text.
 */
import type { z } from 'zod'

import { configSchema } from './schema.ts'

export interface ConfigOption {
  /** Dotted path, e.g. 'train.epochs'. */
  path: string
  type: 'integer' | 'number' | 'string' | 'boolean' | 'enum'
  /** The allowed values of an enum. */
  values?: string[]
  default?: unknown
  optional: boolean
  description: string
}

interface Def {
  type: string
  innerType?: z.ZodType
  defaultValue?: unknown
  shape?: Record<string, z.ZodType>
  entries?: Record<string, string>
}

function def(schema: z.ZodType): Def {
  return (schema as unknown as { def: Def }).def
}

function describeLeaf(path: string, schema: z.ZodType): ConfigOption {
  const description = schema.description ?? ''
  let current = schema
  let optional = false
  let defaultValue: unknown
  for (;;) {
    const d = def(current)
    if (d.type === 'default' || d.type === 'prefault') defaultValue = d.defaultValue
    else if (d.type === 'optional') optional = true
    else break
    current = d.innerType!
  }
  const d = def(current)
  const option: ConfigOption = { path, type: 'string', optional, description: description || (current.description ?? '') }
  if (defaultValue !== undefined) option.default = defaultValue
  if (d.type === 'number') option.type = (current as unknown as { isInt?: boolean }).isInt ? 'integer' : 'number'
  else if (d.type === 'boolean') option.type = 'boolean'
  else if (d.type === 'enum') {
    option.type = 'enum'
    option.values = Object.values(d.entries ?? {})
  }
  return option
}

function walk(prefix: string, schema: z.ZodType, out: ConfigOption[]): void {
  let current = schema
  while (def(current).type === 'prefault' || def(current).type === 'default') current = def(current).innerType!
  const d = def(current)
  if (d.type === 'object' && d.shape !== undefined) {
    for (const [key, child] of Object.entries(d.shape)) walk(prefix ? `${prefix}.${key}` : key, child, out)
    return
  }
  out.push(describeLeaf(prefix, schema))
}

/** Every leaf option of the configuration, in schema order. */
export function configOptions(): ConfigOption[] {
  const out: ConfigOption[] = []
  walk('', configSchema, out)
  return out
}
