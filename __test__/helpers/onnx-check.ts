/**
 * Checker-level validation of a decoded ONNX model, the rules of the `onnx`
 * checker that matter for a plain inference graph: an IR version and a default
 * opset are declared; every initializer's data fits its dims; every node
 * input is defined before use (graph input, initializer or an earlier node's
 * output), so the node list is in topological order; no value is produced
 * twice; every graph output is produced; every attribute carries its type.
 * Returns the problems found (empty when the model is valid).
 */
import type { OnnxModel } from '../../ts/onnx/schema.ts'

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 7: 8, 11: 8 }

export function checkOnnxModel(model: OnnxModel): string[] {
  const problems: string[] = []
  if (!(model.irVersion >= 3)) problems.push(`ir_version ${model.irVersion} is missing or too old`)
  const defaultOpset = (model.opsetImport ?? []).filter((o) => (o.domain ?? '') === '')
  if (defaultOpset.length !== 1 || !(defaultOpset[0]!.version >= 1)) problems.push('no single default-domain opset is declared')
  const g = model.graph
  if (g === undefined) return [...problems, 'no graph']
  const defined = new Set<string>()
  const define = (name: string, what: string) => {
    if (name === '') return problems.push(`${what} has an empty name`)
    if (defined.has(name)) problems.push(`${what} '${name}' is defined twice`)
    defined.add(name)
  }
  for (const input of g.input ?? []) define(input.name, 'graph input')
  for (const init of g.initializer ?? []) {
    define(init.name, 'initializer')
    const count = (init.dims ?? []).reduce((a, b) => a * b, 1)
    const bytes = ELEMENT_BYTES[init.dataType]
    if (bytes === undefined) problems.push(`initializer '${init.name}' has unexpected data type ${init.dataType}`)
    else if ((init.rawData?.length ?? 0) !== count * bytes) {
      problems.push(`initializer '${init.name}' holds ${init.rawData?.length ?? 0} bytes for dims [${(init.dims ?? []).join(', ')}]`)
    }
  }
  for (const [i, node] of (g.node ?? []).entries()) {
    const label = `node #${i} (${node.opType} '${node.name}')`
    if (!node.opType) problems.push(`${label} has no op_type`)
    for (const input of node.input ?? []) {
      if (input !== '' && !defined.has(input)) problems.push(`${label} reads '${input}', which is not defined before it`)
    }
    for (const attr of node.attribute ?? []) {
      if (!attr.name || !(attr.type >= 1)) problems.push(`${label} has an attribute without name or type`)
    }
    for (const output of node.output ?? []) define(output, `output of ${label}`)
  }
  for (const output of g.output ?? []) {
    if (!defined.has(output.name)) problems.push(`graph output '${output.name}' is never produced`)
  }
  return problems
}
