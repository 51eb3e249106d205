/**
 * `man-fer train`: trains (or resumes) a run, shows its progress, and ends by
 * saying where the model and the report are and which training images look
 * mislabelled. Ctrl-C (or SIGTERM) stops at the next batch boundary with
 * checkpoints/last written, and exits 130 (143) with the command that resumes.
 */
import path from 'node:path'

import { resolveConfig, type ConfigInput, type ManConfig } from '../config/index.ts'
import { ManError } from '../errors.ts'
import { checkpointPath, CONFIG_FILE, defaultRunDir, METRICS_FILE, PARTITIONS_DIR, readEvents, readJson, readPartition } from '../train/run-dir.ts'
import { resumeTrain, train } from '../train/train.ts'
import type { PretrainedReport, TrainResult } from '../train/types.ts'
import { PARTITION_NOISY } from '../native/binding.ts'
import { parseArgs, renderHelp } from './args.ts'
import { duration, pct } from './format.ts'
import type { Output } from './output.ts'
import { TrainReporter } from './progress.ts'
import { assertResumeAlone, configFromArgs, RESUME_KEY, trainFlagSpecs } from './train-flags.ts'

export const EXIT_INTERRUPTED = 130
/** 128 + SIGTERM, what `kill`, Docker and Kubernetes expect after they ask a process to stop. */
export const EXIT_TERMINATED = 143
/** Skipped entries named on stderr; all of them are in metrics.jsonl. */
const SHOWN_SKIPPED = 5
/** Suspicious samples listed by name at the end of a human-readable run. */
const SHOWN_SUSPICIOUS = 10
/** ... and in the JSON result. */
const JSON_SUSPICIOUS = 100

const USAGE = 'man-fer train --data PATH [options]   |   man-fer train --resume DIR'
const SUMMARY = `Trains two ResNet-18s with MAN (or the cross-entropy baseline) and writes a run directory:
config.json, metrics.jsonl (one line per epoch), partitions/ (clean/ambiguous/noisy per epoch),
checkpoints/best and checkpoints/last, and when it ends report.html (see man-fer report --help).
Every option of the config schema has a flag; a config file (--config) and a preset go under the
flags. Ctrl-C stops cleanly; --resume continues.`

export function trainHelp(): string {
  return renderHelp(USAGE, SUMMARY, trainFlagSpecs())
}

type StopSignal = 'SIGINT' | 'SIGTERM'

export interface SignalSource {
  on(signal: StopSignal, handler: () => void): unknown
  off(signal: StopSignal, handler: () => void): unknown
}

const EXIT_CODE: Record<StopSignal, number> = { SIGINT: EXIT_INTERRUPTED, SIGTERM: EXIT_TERMINATED }

export interface TrainCommandDeps {
  signals?: SignalSource
  /** Exits at once (a second Ctrl-C). */
  exit?: (code: number) => void
}

export async function trainCommand(argv: string[], out: Output, deps: TrainCommandDeps = {}): Promise<number> {
  const specs = trainFlagSpecs()
  const parsed = parseArgs(argv, specs)
  if (parsed.help) {
    out.data(trainHelp())
    return 0
  }
  const resume = parsed.values.get(RESUME_KEY)?.value as string | undefined
  let runDir: string
  let epochs: number
  let config: ManConfig | undefined
  if (resume !== undefined) {
    assertResumeAlone(parsed)
    runDir = path.resolve(resume)
    const saved = await readJson<ConfigInput>(path.join(runDir, CONFIG_FILE)).catch((err: unknown) => {
      throw new ManError('ERR_MAN_RUN_DIR', `${runDir} is not a run directory: ${(err as Error).message}`, { cause: err })
    })
    epochs = resolveConfig(saved).train.epochs
  } else {
    config = await configFromArgs(parsed)
    if (config.data.path === undefined) {
      throw new ManError('ERR_MAN_CONFIG', 'Invalid value for option data.path (--data): required: the dataset to train on')
    }
    // Chosen here, not by train(), so that an interrupted run can say where it is.
    runDir = path.resolve(config.out ?? defaultRunDir(config))
    config = { ...config, out: runDir }
    epochs = config.train.epochs
  }

  const reporter = new TrainReporter(out)
  reporter.totalEpochs = epochs
  const controller = new AbortController()
  const signals = deps.signals ?? process
  let interrupts = 0
  // SIGTERM (kill, docker stop, Kubernetes) is handled as Ctrl-C is: checkpoint, then exit.
  const onSignal = (signal: StopSignal) => {
    interrupts++
    if (interrupts === 1) {
      const again = signal === 'SIGINT' ? 'Ctrl-C again' : 'a second signal'
      out.log(`man-fer: ${signal}: stopping at the next batch boundary to save the run (${again} to quit without saving)`)
      controller.abort(new Interrupted(signal))
    } else {
      out.clearStatus()
      out.log(`man-fer: quit without saving; the run can still resume from its last checkpoint: man-fer train --resume ${runDir}`)
      ;(deps.exit ?? process.exit)(EXIT_CODE[signal])
    }
  }
  const onSigint = () => onSignal('SIGINT')
  const onSigterm = () => onSignal('SIGTERM')
  signals.on('SIGINT', onSigint)
  signals.on('SIGTERM', onSigterm)

  out.log(`man-fer: ${resume !== undefined ? 'resuming' : 'training'} in ${runDir}`)
  if (out.json) out.event({ type: 'start', runDir, resume: resume !== undefined })
  let announced = resume !== undefined
  const options = {
    signal: controller.signal,
    onBatch: async (info: Parameters<TrainReporter['onBatch']>[0]) => {
      if (!announced) {
        announced = true
        await announceStart(runDir, out)
      }
      reporter.onBatch(info)
    },
    onEpoch: reporter.onEpoch,
    onWarning: (message: string) => {
      if (out.json) out.event({ type: 'warning', message })
      out.log(`man-fer: warning: ${message}`)
    },
  }
  const started = performance.now()
  let result: TrainResult
  try {
    result = resume !== undefined ? await resumeTrain(runDir, options) : await train(config!, options)
  } catch (err) {
    reporter.finish()
    if (controller.signal.aborted && err === controller.signal.reason) {
      const signal = (err as Interrupted).signal
      const resumeCommand = `man-fer train --resume ${runDir}`
      if (out.json) {
        out.event({ type: 'interrupted', signal, runDir, checkpoint: checkpointPath(runDir, 'last'), resume: resumeCommand })
      }
      out.log(`man-fer: interrupted; saved ${checkpointPath(runDir, 'last')}`)
      out.log(`man-fer: continue with: ${resumeCommand}`)
      return EXIT_CODE[signal]
    }
    throw err
  } finally {
    signals.off('SIGINT', onSigint)
    signals.off('SIGTERM', onSigterm)
  }
  reporter.finish()
  await report(result, out, performance.now() - started)
  return 0
}

class Interrupted extends Error {
  constructor(readonly signal: StopSignal) {
    super(`interrupted (${signal})`)
    this.name = 'Interrupted'
  }
}

/** The dataset and device line, read from the run's start event once training is under way. */
async function announceStart(runDir: string, out: Output): Promise<void> {
  const start = (await readEvents(runDir).catch(() => [])).findLast((e) => e.event === 'start')
  if (start === undefined) return
  const skipped = Array.isArray(start.skipped) ? (start.skipped as string[]) : []
  if (skipped.length > 0) {
    if (out.json) out.event({ type: 'skipped', count: skipped.length, first: skipped.slice(0, SHOWN_SKIPPED) })
    out.log(`man-fer: skipped ${skipped.length} bad entr${skipped.length === 1 ? 'y' : 'ies'} (data.skipBad)${skipped.length > SHOWN_SKIPPED ? `, first ${SHOWN_SKIPPED}` : ''}:`)
    for (const line of skipped.slice(0, SHOWN_SKIPPED)) out.log(`man-fer:   ${line}`)
    if (skipped.length > SHOWN_SKIPPED) out.log(`man-fer:   (all of them: the start line of ${path.join(runDir, METRICS_FILE)})`)
  }
  if (out.json) return
  const noise = start.noise as { rate: number; flipped: number; file?: string | null } | null
  const parts = [
    `${start.train} training images`,
    ...(Number(start.validation) > 0 ? [`${start.validation} validation`] : []),
    `${start.test} test`,
    `${(start.classNames as string[]).length} classes`,
    `device ${start.device}`,
  ]
  if (noise?.file) parts.push(`labels from ${noise.file} (${noise.flipped} differ from the clean ones, ${pct(noise.rate, 1)})`)
  else if (noise !== null) parts.push(`injected noise ${pct(noise.rate, 0)} (${noise.flipped} labels flipped)`)
  out.log(`man-fer: ${parts.join(', ')}`)
  for (const note of (start.dataNotes as string[] | undefined) ?? []) out.log(`man-fer: ${note}`)
  const pretrained = start.pretrained as PretrainedReport | null | undefined
  if (pretrained) out.log(`man-fer: ${describePretrained(pretrained)}`)
}

function describePretrained(p: PretrainedReport): string {
  const head =
    p.headInitialised.length > 0
      ? `head ${p.headInitialised.join(', ')} initialised (the file has no head for this class count)`
      : 'head loaded too'
  return `pretrained ${p.path}: ${p.loaded} tensors loaded into both networks, ${head}`
}

interface Suspicious {
  epoch: number
  /** Size of the epoch's noisy subset. */
  count: number
  /** Sorted by name. */
  names: string[]
  file: string
}

/** The last co-division's noisy subset: the training images both networks disagree with the label on. */
async function suspiciousSamples(result: TrainResult): Promise<Suspicious | null> {
  const last = result.history.findLast((h) => h.partition !== null)
  if (last === undefined) return null
  const partition = await readPartition(result.runDir, last.epoch)
  const names: string[] = []
  partition.codes.forEach((code, i) => {
    if (code === PARTITION_NOISY) names.push(partition.names[i]!)
  })
  names.sort()
  const file = path.join(result.runDir, PARTITIONS_DIR, `epoch-${String(last.epoch).padStart(3, '0')}.json`)
  return { epoch: last.epoch, count: names.length, names, file }
}

async function report(result: TrainResult, out: Output, wallMs: number): Promise<void> {
  const last = result.history.at(-1)
  const suspicious = await suspiciousSamples(result)
  const metrics = path.join(result.runDir, METRICS_FILE)
  if (out.json) {
    out.event({
      type: 'result',
      runDir: result.runDir,
      stopped: result.stopped,
      epochsCompleted: result.epochsCompleted,
      best: result.best,
      lastTestAccuracy: result.lastTestAccuracy,
      meanLast5TestAccuracy: result.meanLast5TestAccuracy,
      meanClassAccuracy: last?.test.meanClassAccuracy ?? null,
      bestMeanClassAccuracy: result.history.find((h) => h.epoch === result.best?.epoch)?.test.meanClassAccuracy ?? null,
      noiseDetection: last?.noiseDetection ?? null,
      checkpoints: result.checkpoints,
      pretrained: result.pretrained,
      metrics,
      report: result.report,
      suspicious: suspicious === null ? null : { ...suspicious, names: suspicious.names.slice(0, JSON_SUSPICIOUS) },
      wallMs,
    })
    return
  }
  const best = result.best
  out.data(`done: ${result.epochsCompleted} epoch(s) in ${duration(wallMs)}${result.stopped ? ' (stopped early)' : ''}`)
  out.data(
    `test accuracy: best ${pct(best?.testAccuracy)}${best ? ` (epoch ${best.epoch}, chosen by ${best.selectedBy})` : ''}, ` +
      `last ${pct(result.lastTestAccuracy)}, mean of last ${Math.min(5, result.history.length)} ${pct(result.meanLast5TestAccuracy)}`,
  )
  if (last !== undefined) out.data(`mean class accuracy: last ${pct(last.test.meanClassAccuracy)}`)
  if (last?.noiseDetection) {
    const d = last.noiseDetection
    out.data(
      `noise detection (epoch ${last.epoch}): precision ${pct(d.precision)}, recall ${pct(d.recall)} ` +
        `(flipped labels in clean ${d.flippedIn.clean}, ambiguous ${d.flippedIn.ambiguous}, noisy ${d.flippedIn.noisy})`,
    )
  }
  out.data(`model:  ${result.checkpoints.best ?? result.checkpoints.last}${result.checkpoints.best ? ` (best; last: ${result.checkpoints.last})` : ''}`)
  if (result.report !== null && 'file' in result.report) out.data(`report: ${result.report.file} (open it in a browser)`)
  if (result.report !== null && 'error' in result.report) out.data(`report: not written: ${result.report.error} (retry: man-fer report ${result.runDir})`)
  out.data(`metrics: ${metrics} (one line per epoch), config ${path.join(result.runDir, CONFIG_FILE)}`)
  if (suspicious !== null) {
    const shown = suspicious.names.slice(0, SHOWN_SUSPICIOUS)
    out.data(
      `possibly mislabelled: ${suspicious.count} training image(s) in the noisy subset of epoch ${suspicious.epoch}` +
        (suspicious.count > shown.length ? `, first ${shown.length} by name:` : suspicious.count > 0 ? ':' : ''),
    )
    for (const name of shown) out.data(`  ${name}`)
    if (suspicious.count > 0) out.data(`  (all of them: ${suspicious.file})`)
  }
  out.data(`next: man-fer eval --model ${result.runDir}   |   man-fer predict --model ${result.runDir} IMAGE...`)
}
