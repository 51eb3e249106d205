/**
 * The man-fer command line. Exit codes: 0 success, 1 error (one clear line on
 * stderr), 130 after Ctrl-C once the checkpoint is safely written.
 */
import { ManError } from '../errors.ts'
import { infoCommand } from './info.ts'
import { makeOutput } from './output.ts'

const USAGE = `usage: man-fer <command> [options]

commands:
  info [--json]        the runtime: torch version, device, threads

Run 'man-fer <command> --help' for a command's options.`

export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const json = rest.includes('--json')
  const out = makeOutput(json)
  try {
    switch (command) {
      case 'info':
        await infoCommand(out)
        return 0
      case undefined:
      case '-h':
      case '--help':
        out.log(USAGE)
        return command === undefined ? 1 : 0
      default:
        throw new UsageError(`unknown command '${command}'\n${USAGE}`)
    }
  } catch (err) {
    reportError(err, out.json)
    return 1
  }
}

function reportError(err: unknown, json: boolean): void {
  const code = err instanceof ManError ? err.code : err instanceof UsageError ? 'ERR_MAN_USAGE' : 'ERR_MAN_INTERNAL'
  const message = err instanceof Error ? err.message : String(err)
  if (json) process.stdout.write(JSON.stringify({ type: 'error', code, message }) + '\n')
  process.stderr.write(`man-fer: ${message}\n`)
  if (code === 'ERR_MAN_INTERNAL' && err instanceof Error && err.stack && process.env.MAN_DEBUG) {
    process.stderr.write(err.stack + '\n')
  }
}
