/**
 * The MAN losses on given logits, computed by the addon in float64: the same
 * code the training steps run, exposed for tests, parity checks and anyone
 * porting results from the reference implementation. Logits are `number[][]`
 * (rows = samples, columns = classes); labels are class indices.
 */
import { callNative, ManError } from './errors.ts'
import { argumentError, describe } from './util/arguments.ts'
import { getBinding } from './native/index.ts'

type Matrix = ReadonlyArray<ReadonlyArray<number>>

interface Packed {
  data: Float64Array
  rows: number
  cols: number
}

function isRow(row: unknown): row is ArrayLike<number> {
  return Array.isArray(row) || (ArrayBuffer.isView(row) && !(row instanceof DataView))
}

function pack(fn: string, name: string, m: Matrix): Packed {
  if (!Array.isArray(m)) throw argumentError(`losses.${fn}`, `${name} must be an array of rows (number[][]), got ${describe(m)}`)
  const rows = m.length
  const first: unknown = m[0]
  const cols = isRow(first) ? first.length : 0
  if (rows === 0 || cols === 0) {
    if (rows > 0 && !isRow(first)) throw argumentError(`losses.${fn}`, `${name}[0] must be an array of numbers, got ${describe(first)}`)
    throw new ManError('ERR_MAN_SHAPE', `${name} must have at least one row and one column`)
  }
  const data = new Float64Array(rows * cols)
  m.forEach((row: unknown, i) => {
    if (!isRow(row)) throw argumentError(`losses.${fn}`, `${name}[${i}] must be an array of numbers, got ${describe(row)}`)
    if (row.length !== cols) {
      throw new ManError('ERR_MAN_SHAPE', `${name}[${i}] has ${row.length} columns, ${name}[0] has ${cols}`)
    }
    for (let j = 0; j < cols; j++) {
      const v: unknown = row[j]
      // NaN or infinity would come back as a NaN loss, silently.
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw argumentError(`losses.${fn}`, `${name}[${i}][${j}] must be a finite number, got ${describe(v)}`)
      }
      data[i * cols + j] = v
    }
  })
  return { data, rows, cols }
}

function packPair(fn: string, a: [string, Matrix], b: [string, Matrix]): [Packed, Packed] {
  const pa = pack(fn, ...a)
  const pb = pack(fn, ...b)
  if (pa.rows !== pb.rows || pa.cols !== pb.cols) {
    throw new ManError('ERR_MAN_SHAPE', `${a[0]} is ${pa.rows}×${pa.cols} but ${b[0]} is ${pb.rows}×${pb.cols}`)
  }
  return [pa, pb]
}

function packLabels(fn: string, labels: ReadonlyArray<number>, rows: number, cols: number): Int32Array {
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw argumentError(`losses.${fn}`, `labels must be an array of class indices, got ${describe(labels)}`)
  }
  if (labels.length !== rows) throw new ManError('ERR_MAN_SHAPE', `labels has ${labels.length} entries for ${rows} rows`)
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= cols) {
      throw new ManError('ERR_MAN_SHAPE', `labels[${i}] = ${y} is not a class index in [0, ${cols})`)
    }
  })
  return Int32Array.from(labels)
}

/** Mean cross-entropy of `logits` against `labels`. */
export async function crossEntropy(logits: Matrix, labels: ReadonlyArray<number>): Promise<number> {
  const p = pack('crossEntropy', 'logits', logits)
  const y = packLabels('crossEntropy', labels, p.rows, p.cols)
  return callNative(() => getBinding().lossCrossEntropy(p.data, p.rows, p.cols, y))
}

/** KL(pred‖target) = mean over samples of Σc softmax(target)·(log softmax(target) − log softmax(pred)). */
export async function kl(pred: Matrix, target: Matrix): Promise<number> {
  const [p, t] = packPair('kl', ['pred', pred], ['target', target])
  return callNative(() => getBinding().lossKl(p.data, t.data, p.rows, p.cols))
}

/** (1 − λ)·½(CE1 + CE2) + λ·½(KL(1‖2) + KL(2‖1)): the ambiguous subset's loss. */
export async function mutual(logits1: Matrix, logits2: Matrix, labels: ReadonlyArray<number>, lambda: number): Promise<number> {
  const [a, b] = packPair('mutual', ['logits1', logits1], ['logits2', logits2])
  const y = packLabels('mutual', labels, a.rows, a.cols)
  if (!(lambda >= 0 && lambda <= 1)) throw new ManError('ERR_MAN_CONFIG', `lambda must be in [0, 1], got ${lambda}`)
  return callNative(() => getBinding().lossMutual(a.data, b.data, a.rows, a.cols, y, lambda))
}

/** Mean squared error between softmax(weak) and softmax(strong), over samples and classes. */
export async function consistency(weakLogits: Matrix, strongLogits: Matrix): Promise<number> {
  const [w, s] = packPair('consistency', ['weakLogits', weakLogits], ['strongLogits', strongLogits])
  return callNative(() => getBinding().lossConsistency(w.data, s.data, w.rows, w.cols))
}
