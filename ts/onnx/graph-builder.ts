/** Collects the nodes and initializers of an ONNX graph, with unique names. */
import { ATTR_FLOAT, ATTR_INT, ATTR_INTS, ONNX_FLOAT, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './schema.ts'

export type AttributeValue = number | number[] | { float: number }

function attribute(name: string, value: AttributeValue): OnnxAttribute {
  if (Array.isArray(value)) return { name, type: ATTR_INTS, ints: value }
  if (typeof value === 'number') return { name, type: ATTR_INT, i: value }
  return { name, type: ATTR_FLOAT, f: value.float }
}

/** Float32 data as little-endian bytes, without a copy (every platform man-fer ships for is little-endian). */
function rawBytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = []
  readonly initializers: OnnxTensor[] = []
  private readonly names = new Set<string>()

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: the name '${name}' is used twice`)
    this.names.add(name)
    return name
  }

  /** A float32 initializer; returns its name. */
  constant(name: string, dims: number[], data: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1)
    if (count !== data.length) throw new Error(`ONNX graph: initializer '${name}' has ${data.length} values for dims [${dims.join(', ')}]`)
    this.initializers.push({ name: this.claim(name), dims, dataType: ONNX_FLOAT, rawData: rawBytes(data) })
    return name
  }

  /** One node with one output named `output` (also the node's name); returns the output's name. */
  node(opType: string, inputs: string[], output: string, attributes: Record<string, AttributeValue> = {}): string {
    this.nodes.push({
      name: this.claim(output),
      opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    })
    return output
  }
}
