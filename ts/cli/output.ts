/**
 * Command-line manners: data to stdout, logs and progress to stderr, bars only
 * on a TTY, `--json` prints one JSON object per line on stdout and nothing else.
 */

export interface OutStream {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
}

export interface Streams {
  out: OutStream
  err: OutStream
}

export interface Output {
  readonly json: boolean
  /** A JSON event (with --json) on stdout. */
  event(obj: Record<string, unknown>): void
  /** Human-readable result data on stdout (without --json). */
  data(line: string): void
  /** Logs and progress, always on stderr (above the status lines, if any). */
  log(line: string): void
  /** Whether live progress bars may be drawn. */
  readonly interactive: boolean
  /** Whether stderr may carry ANSI colours. */
  readonly color: boolean
  /** Replaces the live status lines at the bottom of stderr (TTY only; a no-op otherwise). */
  status(lines: string[]): void
  /** Removes the status lines. */
  clearStatus(): void
}

const CLEAR_LINE = '\r\x1b[2K'
const UP = '\x1b[1A'

export function makeOutput(
  json: boolean,
  streams: Streams = { out: process.stdout, err: process.stderr },
  env: NodeJS.ProcessEnv = process.env,
): Output {
  const interactive = !json && Boolean(streams.err.isTTY) && !env.CI
  let shown = 0
  const erase = () => {
    if (shown === 0) return
    streams.err.write(CLEAR_LINE + (UP + CLEAR_LINE).repeat(shown - 1))
    shown = 0
  }
  let current: string[] = []
  const draw = () => {
    if (current.length === 0) return
    const width = Math.max(20, (streams.err.columns || 80) - 1)
    streams.err.write(current.map((l) => (visibleLength(l) > width ? truncate(l, width) : l)).join('\n'))
    shown = current.length
  }
  return {
    json,
    event: (obj) => {
      streams.out.write(JSON.stringify(obj) + '\n')
    },
    data: (line) => {
      if (!json) streams.out.write(line + '\n')
    },
    log: (line) => {
      erase()
      streams.err.write(line + '\n')
      draw()
    },
    interactive,
    color: useColor(env, streams.err),
    status: (lines) => {
      if (!interactive) return
      erase()
      current = lines
      draw()
    },
    clearStatus: () => {
      erase()
      current = []
    },
  }
}

export function useColor(env: NodeJS.ProcessEnv = process.env, err: OutStream = process.stderr): boolean {
  return (env.NO_COLOR === undefined || env.NO_COLOR === '') && Boolean(err.isTTY)
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g

function visibleLength(s: string): number {
  return s.replace(ANSI, '').length
}

function truncate(s: string, width: number): string {
  // Colour codes would be cut mid-sequence; a truncated line is drawn plain.
  return s.replace(ANSI, '').slice(0, width)
}

export interface Paint {
  bold(s: string): string
  dim(s: string): string
  green(s: string): string
}

export function paint(enabled: boolean): Paint {
  const wrap = (code: string) => (s: string) => (enabled ? `\x1b[${code}m${s}\x1b[0m` : s)
  return { bold: wrap('1'), dim: wrap('2'), green: wrap('32') }
}
