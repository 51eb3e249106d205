/**
 * The man-fer command line. Exit codes: 0 success, 1 error (one clear line on
 * stderr; with --json also a {"type":"error"} line on stdout), 130 after
 * Ctrl-C once the checkpoint is safely written.
 */
import { readFileSync } from 'node:fs'

import { ManError } from '../errors.ts'
import { PACKAGE_ROOT } from '../native/loader.ts'
import { UsageError, wantsJson } from './args.ts'
import { evalCommand } from './eval.ts'
import { exportCommand } from './export.ts'
import { infoCommand } from './info.ts'
import { makeOutput, type Output, type Streams } from './output.ts'
import { predictCommand } from './predict.ts'
import { reportCommand } from './report.ts'
import { setupCommand } from './setup.ts'
import { synthCommand } from './synth.ts'
import { trainCommand, type TrainCommandDeps } from './train.ts'

export { UsageError } from './args.ts'

const USAGE = `usage: man-fer <command> [options]

commands:
  train --data PATH [options]        train with MAN (or --method ce); --resume DIR continues a run
  eval --model DIR [--data PATH]     accuracy, mean class accuracy and confusion matrix on the test split
  predict --model DIR IMAGE...       label and class probabilities of each image (DIR or an .onnx file)
  export --model DIR [--out FILE]    the trained model as ONNX, for ONNX Runtime without libtorch
  synth --out DIR [options]          write the synthetic FER benchmark (RAF-DB layout, known noise)
  report RUN [--out FILE.html]       HTML report of a run: curves, and the training images ranked by suspicion
  info [--json]                      the runtime: torch version, device, threads
  setup [--check]                    install libtorch 2.11.0 (PyPI torch) into man-fer's cache folder if none is found

Run 'man-fer <command> --help' for a command's options. Set MAN_DEBUG=1 for stack traces.`

export interface MainDeps extends TrainCommandDeps {
  streams?: Streams
  env?: NodeJS.ProcessEnv
}

function version(): string {
  const pkg = JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string }
  return pkg.version
}

export async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const [command, ...rest] = argv
  const json = wantsJson(rest)
  const env = deps.env ?? process.env
  const out = makeOutput(json, deps.streams, env)
  try {
    switch (command) {
      case 'train':
        return await trainCommand(rest, out, deps)
      case 'eval':
        return await evalCommand(rest, out)
      case 'predict':
        return await predictCommand(rest, out)
      case 'export':
        return await exportCommand(rest, out)
      case 'synth':
        return await synthCommand(rest, out)
      case 'report':
        return await reportCommand(rest, out)
      case 'info':
        return await infoCommand(rest, out)
      case 'setup':
        return await setupCommand(rest, out)
      case '--version':
      case '-v':
        out.data(version())
        return 0
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        if (command === undefined) out.log(USAGE)
        else out.data(USAGE)
        return command === undefined ? 1 : 0
      default:
        throw new UsageError(`unknown command '${command}' (one of: train, eval, predict, export, synth, report, info, setup; see man-fer --help)`)
    }
  } catch (err) {
    out.clearStatus()
    reportError(err, out, env, command)
    return 1
  }
}

function errorCode(err: unknown): string {
  if (err instanceof ManError) return err.code
  if (err instanceof UsageError) return 'ERR_MAN_USAGE'
  return 'ERR_MAN_INTERNAL'
}

function reportError(err: unknown, out: Output, env: NodeJS.ProcessEnv, command: string | undefined): void {
  const code = errorCode(err)
  const message = err instanceof Error ? err.message : String(err)
  if (out.json) out.event({ type: 'error', code, message })
  // Every line of a multi-line message (a ConfigError lists each bad field) gets the prefix.
  for (const line of message.split('\n')) out.log(`man-fer: ${line}`)
  if (err instanceof UsageError) {
    const known = ['train', 'eval', 'predict', 'export', 'synth', 'report', 'info', 'setup'].includes(command ?? '')
    out.log(`man-fer: see 'man-fer ${known ? `${command} ` : ''}--help'`)
  }
  if (env.MAN_DEBUG === '1' && err instanceof Error && err.stack) out.log(err.stack)
}
