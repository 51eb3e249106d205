/**
 * Published noisy labels: a file in the RAF-DB label format (`train_00001.jpg 5`,
 * one training image a line, labels 1-based) that replaces the training
 * labels, such as the noise01/02/03.txt lists of the EAC repository (10/20/30%
 * of RAF-DB's training labels changed), so results compare with published
 * tables. The labels it replaces are kept as the true ones, so the changed
 * ones are scored like injected noise.
 *
 * A line names an image by its path relative to the dataset root, its file
 * name, or (RAF-DB) its file name without `_aligned`. Every training image
 * must be listed exactly once; test images cannot be relabelled.
 */
import { readFile } from 'node:fs/promises'
import { basename, relative, resolve, sep } from 'node:path'
import { DatasetError, formatProblem, sortProblems, type Problem } from './problems.ts'
import { dataError } from './problems.ts'
import type { DatasetIndex } from './types.ts'

export interface RelabelledDataset {
  index: DatasetIndex
  /** With skipBad: the problems ignored, each "file:line: problem". */
  skipped: string[]
}

/** The names a line may use for an image. */
function namesOf(root: string, path: string): string[] {
  const rel = relative(root, path).split(sep).join('/')
  const base = basename(path)
  const unaligned = base.replace(/_aligned(\.[^.]*)$/, '$1')
  return [...new Set([rel, base, unaligned])]
}

/** name → image index; a name two images share maps to -1 (it cannot say which). */
function nameMap(root: string, paths: string[]): Map<string, number> {
  const map = new Map<string, number>()
  paths.forEach((p, i) => {
    for (const name of namesOf(root, p)) map.set(name, map.has(name) ? -1 : i)
  })
  return map
}

export async function applyNoiseFile(index: DatasetIndex, file: string, skipBad: boolean): Promise<RelabelledDataset> {
  const path = resolve(file)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw dataError(`cannot read the noise label file ${path}: ${(err as Error).message}`, err)
  }
  const k = index.classNames.length
  const train = nameMap(index.root, index.train.paths)
  const test = nameMap(index.root, index.test.paths)
  const labels = Int32Array.from(index.train.labels)
  const listedAt = new Int32Array(labels.length)
  const problems: Problem[] = []
  const lines = text.replace(/^\uFEFF/, '').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    const problem = (message: string) => problems.push({ file: path, line: i + 1, message })
    const tokens = line.split(/\s+/)
    if (tokens.length !== 2) {
      problem(`malformed line (expected "<image name> <label 1-${k}>"): ${JSON.stringify(line)}`)
      continue
    }
    const [name, labelText] = tokens as [string, string]
    const label = /^\d+$/.test(labelText) ? Number(labelText) : NaN
    if (!(label >= 1 && label <= k)) {
      problem(`unknown label ${JSON.stringify(labelText)} for ${name} (labels are 1-${k}: ${index.classNames.join(', ')})`)
      continue
    }
    const at = train.get(name)
    if (at === undefined) {
      problem(test.has(name) ? `${name} is a test image: a noise file relabels training images only` : `${name} is not a training image of ${index.root}`)
      continue
    }
    if (at < 0) {
      problem(`${name} names several training images; use the path relative to ${index.root}`)
      continue
    }
    if (listedAt[at] !== 0) {
      problem(`duplicate entry for ${name} (first at line ${listedAt[at]})`)
      continue
    }
    listedAt[at] = i + 1
    labels[at] = label - 1
  }
  const unlisted = index.train.paths.filter((_, i) => listedAt[i] === 0)
  if (unlisted.length > 0) {
    const shown = unlisted.slice(0, 3).map((p) => namesOf(index.root, p)[0])
    problems.push({
      file: path,
      message: `${unlisted.length} training image(s) are not listed (${shown.join(', ')}${unlisted.length > 3 ? ', ...' : ''}); they would keep their clean labels`,
    })
  }
  const formatted = sortProblems(problems).map(formatProblem)
  if (formatted.length > 0 && !skipBad) throw new DatasetError(path, formatted)
  return {
    index: {
      ...index,
      train: { ...index.train, labels },
      trueTrainLabels: index.trueTrainLabels ?? index.train.labels,
      labelsFrom: path,
    },
    skipped: formatted,
  }
}
