/**
 * The MAN losses on given logits, computed by the addon in float64: the same
 * code the training steps run, exposed for tests, parity checks and anyone
 * porting results from the reference implementation. Logits are `number[][]`
 * (rows = samples, columns = classes); labels are class indices.
 */
import { callNative, ManError } from './errors.ts'
import { getBinding } from './native/index.ts'

type Matrix = ReadonlyArray<ReadonlyArray<number>>

interface Packed {
  data: Float64Array
  rows: number
  cols: number
}

function pack(name: string, m: Matrix): Packed {
  const rows = m.length
  const cols = m[0]?.length ?? 0
  if (rows === 0 || cols === 0) throw new ManError('ERR_MAN_SHAPE', `${name} must have at least one row and one column`)
  const data = new Float64Array(rows * cols)
  m.forEach((row, i) => {
    if (row.length !== cols) {
      throw new ManError('ERR_MAN_SHAPE', `${name}[${i}] has ${row.length} columns, ${name}[0] has ${cols}`)
    }
    data.set(row, i * cols)
  })
  return { data, rows, cols }
}

function packPair(a: [string, Matrix], b: [string, Matrix]): [Packed, Packed] {
  const pa = pack(...a)
  const pb = pack(...b)
  if (pa.rows !== pb.rows || pa.cols !== pb.cols) {
    throw new ManError('ERR_MAN_SHAPE', `${a[0]} is ${pa.rows}×${pa.cols} but ${b[0]} is ${pb.rows}×${pb.cols}`)
  }
  return [pa, pb]
}

function packLabels(labels: ReadonlyArray<number>, rows: number, cols: number): Int32Array {
  if (labels.length !== rows) throw new ManError('ERR_MAN_SHAPE', `labels has ${labels.length} entries for ${rows} rows`)
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= cols) {
      throw new ManError('ERR_MAN_SHAPE', `labels[${i}] = ${y} is not a class index in [0, ${cols})`)
    }
  })
  return Int32Array.from(labels)
}

/** Mean cross-entropy of `logits` against `labels`. */
export function crossEntropy(logits: Matrix, labels: ReadonlyArray<number>): Promise<number> {
  const p = pack('logits', logits)
  const y = packLabels(labels, p.rows, p.cols)
  return callNative(() => getBinding().lossCrossEntropy(p.data, p.rows, p.cols, y))
}

/** KL(pred‖target) = mean over samples of Σc softmax(target)·(log softmax(target) − log softmax(pred)). */
export function kl(pred: Matrix, target: Matrix): Promise<number> {
  const [p, t] = packPair(['pred', pred], ['target', target])
  return callNative(() => getBinding().lossKl(p.data, t.data, p.rows, p.cols))
}

/** (1 − λ)·½(CE1 + CE2) + λ·½(KL(1‖2) + KL(2‖1)): the ambiguous subset's loss. */
export function mutual(logits1: Matrix, logits2: Matrix, labels: ReadonlyArray<number>, lambda: number): Promise<number> {
  const [a, b] = packPair(['logits1', logits1], ['logits2', logits2])
  const y = packLabels(labels, a.rows, a.cols)
  if (!(lambda >= 0 && lambda <= 1)) throw new ManError('ERR_MAN_CONFIG', `lambda must be in [0, 1], got ${lambda}`)
  return callNative(() => getBinding().lossMutual(a.data, b.data, a.rows, a.cols, y, lambda))
}

/** Mean squared error between softmax(weak) and softmax(strong), over samples and classes. */
export function consistency(weakLogits: Matrix, strongLogits: Matrix): Promise<number> {
  const [w, s] = packPair(['weakLogits', weakLogits], ['strongLogits', strongLogits])
  return callNative(() => getBinding().lossConsistency(w.data, s.data, w.rows, w.cols))
}
