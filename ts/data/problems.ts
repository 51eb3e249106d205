/**
 * Problems found while scanning a dataset. A scan collects every problem
 * before failing, so one run shows the user everything to fix.
 */
import { ManError } from '../errors.ts'

export interface Problem {
  /** The label file, CSV or folder the problem is in. */
  file: string
  /** 1-based line, when the problem is on a line. */
  line?: number
  message: string
}

export function formatProblem(p: Problem): string {
  return p.line === undefined ? `${p.file}: ${p.message}` : `${p.file}:${p.line}: ${p.message}`
}

/** Orders problems as a reader goes through the files: by file, then by line. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) =>
    a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1,
  )
}

/** How many problems the message spells out; `problems` always holds them all. */
const LISTED_IN_MESSAGE = 1000

/** The one error a failed scan throws: `problems` lists every "file:line: problem". */
export class DatasetError extends ManError {
  readonly problems: string[]
  constructor(root: string, problems: string[]) {
    const n = problems.length
    const shown = problems.slice(0, LISTED_IN_MESSAGE)
    const more = n > shown.length ? [`... and ${n - shown.length} more (all in error.problems)`] : []
    super(
      'ERR_MAN_DATA',
      [
        `${n} problem${n === 1 ? '' : 's'} in dataset ${root} (fix them, or pass skipBad to drop the bad entries):`,
        ...shown.map((p) => `  ${p}`),
        ...more,
      ].join('\n'),
    )
    this.name = 'DatasetError'
    this.problems = problems
  }
}

export function dataError(message: string, cause?: unknown): ManError {
  return new ManError('ERR_MAN_DATA', message, cause === undefined ? undefined : { cause })
}
