/**
 * Command-line manners: data to stdout, logs and progress to stderr, bars only
 * on a TTY, `--json` prints one JSON object per line on stdout and nothing else.
 */

export interface Output {
  readonly json: boolean
  /** A JSON event (with --json) on stdout. */
  event(obj: Record<string, unknown>): void
  /** Human-readable result data on stdout (without --json). */
  data(line: string): void
  /** Logs and progress, always on stderr. */
  log(line: string): void
  /** Whether live progress bars may be drawn. */
  readonly interactive: boolean
}

export function makeOutput(json: boolean, streams = { out: process.stdout, err: process.stderr }): Output {
  return {
    json,
    event: (obj) => {
      streams.out.write(JSON.stringify(obj) + '\n')
    },
    data: (line) => {
      if (!json) streams.out.write(line + '\n')
    },
    log: (line) => {
      streams.err.write(line + '\n')
    },
    interactive: !json && Boolean(streams.err.isTTY) && !process.env.CI,
  }
}

export const useColor = (): boolean => !process.env.NO_COLOR && Boolean(process.stderr.isTTY)
