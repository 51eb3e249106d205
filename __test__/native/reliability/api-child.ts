/**
 * Calls the library with bad inputs in a process of its own (a bug here once
 * grew the heap until the host died) and prints, as one JSON line, the code
 * and message each call threw.
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'

import { coDivide, loadModel, losses } from '../../../ts/index.ts'
import { toyJpeg } from '../../helpers/toy-images.ts'

const [runDir] = process.argv.slice(2)
const model = await loadModel(runDir!)
const good = toyJpeg(true, 1)
const goodPath = path.join(runDir!, '..', 'api-child-good.jpg')
await fs.writeFile(goodPath, good)

const calls: Record<string, () => unknown> = {
  'predict [undefined]': () => model.predict([undefined as unknown as string]),
  'predict [path, 42]': () => model.predict([goodPath, 42 as unknown as string]),
  'predict [URL]': () => model.predict([new URL('file:///x.jpg') as unknown as string]),
  'predict "x.jpg"': () => model.predict('x.jpg' as unknown as string[]),
  'predict one bad buffer at #2': () => model.predict([good, good, Buffer.from('not an image'), good]),
  'predict a bad buffer after a path': () => model.predict([goodPath, Buffer.from('nope')]),
  'predict good': () => model.predict([good, goodPath]),
  'coDivide undefined labels': () => coDivide(new Int32Array(2), new Int32Array(2), undefined as unknown as Int32Array),
  'crossEntropy(null)': () => losses.crossEntropy(null as unknown as number[][], [0]),
  'crossEntropy NaN': () => losses.crossEntropy([[0, NaN]], [0]),
  'kl Infinity': () => losses.kl([[0, 1], [1, 0]], [[0, 1], [Infinity, 0]]),
}

const results: Record<string, { code?: string; message?: string; value?: unknown }> = {}
for (const [name, call] of Object.entries(calls)) {
  try {
    results[name] = { value: await call() }
  } catch (err) {
    const e = err as { code?: string; message?: string }
    results[name] = { code: e.code ?? 'NO_CODE', message: e.message }
  }
}
await fs.rm(goodPath, { force: true })
process.stdout.write(`${JSON.stringify(results)}\n`)
