/**
 * The ONNX protobuf messages, from the ONNX project's own `onnx.proto`
 * (proto/onnx.proto, shipped with the package) through protobufjs. Field
 * names are protobufjs's camelCase forms (`metadata_props` → `metadataProps`).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

import { ManError } from '../errors.ts'

/** TensorProto.DataType.FLOAT */
export const ONNX_FLOAT = 1

/** AttributeProto.AttributeType values this package writes. */
export const ATTR_FLOAT = 1
export const ATTR_INT = 2
export const ATTR_INTS = 7

export interface OnnxAttribute {
  name: string
  type: number
  f?: number
  i?: number
  ints?: number[]
}

export interface OnnxNode {
  name: string
  opType: string
  input: string[]
  output: string[]
  attribute: OnnxAttribute[]
  domain?: string
}

export interface OnnxTensor {
  name: string
  dims: number[]
  dataType: number
  rawData: Uint8Array
}

export interface OnnxDim {
  dimValue?: number
  dimParam?: string
}

export interface OnnxValueInfo {
  name: string
  type: { tensorType: { elemType: number; shape: { dim: OnnxDim[] } } }
}

export interface OnnxGraph {
  name: string
  node: OnnxNode[]
  initializer: OnnxTensor[]
  input: OnnxValueInfo[]
  output: OnnxValueInfo[]
  docString?: string
}

export interface OnnxModel {
  irVersion: number
  opsetImport: Array<{ domain: string; version: number }>
  producerName: string
  producerVersion: string
  docString?: string
  graph: OnnxGraph
  metadataProps: Array<{ key: string; value: string }>
}

// From ts/onnx (sources, run through tsx) and dist/onnx (built) alike, the package root is two levels up.
const PROTO = fileURLToPath(new URL('../../proto/onnx.proto', import.meta.url))

let modelType: protobuf.Type | undefined

function modelProto(): protobuf.Type {
  if (modelType === undefined) {
    if (!existsSync(PROTO)) throw new ManError('ERR_MAN_IO', `the ONNX schema ${PROTO} is missing from the man-fer package`)
    modelType = protobuf.loadSync(PROTO).lookupType('onnx.ModelProto')
  }
  return modelType
}

export function encodeModel(model: OnnxModel): Uint8Array {
  const type = modelProto()
  const problem = type.verify(model)
  // A bug in the exporter, not in the user's input.
  if (problem !== null) throw new Error(`the ONNX model does not fit onnx.proto: ${problem}`)
  return type.encode(type.fromObject(model)).finish()
}

/** Decodes an ONNX file's bytes; 64-bit integers come back as numbers, bytes as Uint8Arrays. */
export function decodeModel(bytes: Uint8Array, file: string): OnnxModel {
  const type = modelProto()
  let message: protobuf.Message
  try {
    message = type.decode(bytes)
  } catch (err) {
    throw new ManError('ERR_MAN_ONNX', `${file}: not an ONNX model (${(err as Error).message})`, { cause: err })
  }
  return type.toObject(message, { longs: Number, defaults: false, arrays: true }) as OnnxModel
}
