/**
 * Runs `train()` in its own process for the SIGKILL-and-resume spec:
 *   node --import=tsx train-child.ts CONFIG_JSON [--resume RUN_DIR]
 * Prints one line per finished batch (`batch E B`) so the parent can kill it
 * at a chosen point, and a final `result {...}` line.
 */
import { train } from '../../ts/index.ts'

const [configJson, flag, runDir] = process.argv.slice(2)
const config = JSON.parse(configJson!)
const result = await train(config, {
  ...(flag === '--resume' ? { resume: runDir } : {}),
  onBatch: (b) => {
    process.stdout.write(`batch ${b.epoch} ${b.batch}\n`)
  },
})
process.stdout.write(`result ${JSON.stringify(result.history.map(finalFigures))}\n`)

export function finalFigures(e: (typeof result.history)[number]) {
  return { epoch: e.epoch, loss: e.loss, partition: e.partition, test: e.test, train: [e.trainAccuracy1, e.trainAccuracy2] }
}
