/**
 * Pretrained backbones as users have them, through train(), loadModel and the
 * spawned CLI on the real addon: a torchvision-named ResNet-18 written by the
 * torch in .venv with a 1000-way head (plain state dict, torch.save zip), one
 * as `{'state_dict': {'module.…': …}}` with a 500-way head and MS-Celeb's
 * `feature.*` layer, one as safetensors without a head. All train one epoch;
 * the run records how many tensors were loaded and that the head was
 * initialised. A file lacking `layer1.0.conv1.weight` fails naming it.
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { loadModel, ManError, synthesize, train, type ConfigInput, type TrainResult } from '../../ts/index.ts'
import { PACKAGE_ROOT } from '../../ts/native/loader.ts'
import { readCheckpointMeta } from '../../ts/train/checkpoint.ts'
import { cli, jsonLines } from '../helpers/cli.ts'
import { resnet18StateDictNames } from '../helpers/resnet18-names.ts'
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.ts'
import { decodeSafetensors } from '../../ts/util/safetensors.ts'

const readSafetensors = (file: string) => decodeSafetensors(readFileSync(file), file).tensors

const python = join(PACKAGE_ROOT, '.venv', 'bin', 'python')

/** Every file holds the same backbone; `backbone.safetensors` is its reference copy for the checks below. */
const WRITE_WEIGHTS = `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
from man_reference import ResNet18
from safetensors.torch import save_file
out = sys.argv[2]
torch.manual_seed(5)
net = ResNet18(1000)
with torch.no_grad():  # values no initialisation would give, so that a tensor not loaded shows
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1); m.running_var.uniform_(0.5, 1.5)
            m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.1, 0.1); m.num_batches_tracked.fill_(9)
sd = net.state_dict()
backbone = {k: v for k, v in sd.items() if not k.startswith('fc.') and not k.endswith('num_batches_tracked')}
torch.save(sd, out + '/resnet18_imagenet.pth')
msceleb = {'module.' + k: v for k, v in sd.items() if not k.startswith('fc.')}
msceleb['module.feature.weight'] = torch.randn(256, 512)
msceleb['module.feature.bias'] = torch.randn(256)
msceleb['module.fc.weight'] = torch.randn(500, 256)
msceleb['module.fc.bias'] = torch.randn(500)
torch.save({'state_dict': msceleb, 'epoch': 12, 'arch': 'resnet18'}, out + '/resnet18_msceleb.pth')
save_file({k: v.contiguous() for k, v in backbone.items()}, out + '/resnet18_headless.safetensors')
save_file({k: v.contiguous() for k, v in backbone.items()}, out + '/backbone.safetensors')
lacking = dict(sd)
del lacking['layer1.0.conv1.weight']
torch.save(lacking, out + '/resnet18_lacking.pth')
json.dump({'names': list(sd.keys()), 'backbone': len(backbone)}, open(out + '/written.json', 'w'))
`

interface Written {
  names: string[]
  /** Backbone tensors of the file as torch counts them: every name but `fc.*` and the BatchNorm counters. */
  backbone: number
}

const root = makeTempDir('man-fer-pretrained-train-')
const data = join(root, 'data')
const weights = (name: string) => join(root, name)
let written: Written

test.before(async () => {
  if (!existsSync(python)) throw new Error(`${python} is missing: run npm run setup`)
  execFileSync(python, ['-c', WRITE_WEIGHTS, join(PACKAGE_ROOT, '__test__', 'native', 'parity'), root], { stdio: 'inherit' })
  written = JSON.parse(readFileSync(join(root, 'written.json'), 'utf8')) as Written
  await synthesize({ out: data, train: 12, test: 6, size: 32, noiseRate: 0.2, seed: 4 })
})
test.after.always(() => removeTempDir(root))

const HEAD = ['fc.bias', 'fc.weight']
const counters = (w: Written) => w.names.filter((n) => n.endsWith('.num_batches_tracked'))
/** Each file, and the names of it the report must list as skipped (sorted). */
const FILES = [
  { file: 'resnet18_imagenet.pth', skipped: (w: Written) => [...counters(w), 'fc.bias', 'fc.weight'].sort() },
  { file: 'resnet18_msceleb.pth', skipped: (w: Written) => [...counters(w), 'fc.bias', 'fc.weight', 'feature.bias', 'feature.weight'].sort() },
  { file: 'resnet18_headless.safetensors', skipped: () => [] },
]

// A learning rate too small to move a weight measurably, so the checkpoint after an epoch still shows what was loaded.
const tiny = (out: string, pretrained: string): ConfigInput => ({
  data: { path: data },
  model: { pretrained },
  train: { epochs: 1, warmup: 1, batchSize: 8, imageSize: 32, seed: 2, lr: 1e-9 },
  runtime: { device: 'cpu', threads: 1, dataThreads: 1, evalBatchSize: 16 },
  out,
})

function sortedSkipped(report: unknown): unknown {
  const r = report as { skipped: string[] } | null
  return r === null ? null : { ...r, skipped: [...r.skipped].sort() }
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
}

function startEvent(runDir: string): Record<string, unknown> {
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')
  return JSON.parse(lines[0]!) as Record<string, unknown>
}

test.serial('the fake binding names the tensors a torch ResNet-18 state dict holds', (t) => {
  t.deepEqual(resnet18StateDictNames(), written.names)
  t.is(written.backbone, 100)
})

for (const { file, skipped } of FILES) {
  test.serial(`train() from ${file}: every backbone tensor loads, the head is initialised, the run says so`, async (t) => {
    const out = join(root, `api-${file}`)
    const result: TrainResult = await train(tiny(out, weights(file)))
    t.is(result.epochsCompleted, 1)
    const expected = { path: weights(file), loaded: written.backbone, headInitialised: HEAD }
    t.deepEqual(sortedSkipped(result.pretrained), { ...expected, skipped: skipped(written) })
    t.is(startEvent(out).event, 'start')
    t.deepEqual(startEvent(out).pretrained, result.pretrained, "metrics.jsonl's start event")
    t.deepEqual(readJson(join(out, 'run.json')).pretrained, result.pretrained, 'run.json')
    t.deepEqual((await readCheckpointMeta(result.checkpoints.last)).pretrained, result.pretrained, 'the checkpoint')

    // Both networks hold the file's backbone (BatchNorm's running statistics move in training; the rest cannot at this lr).
    const reference = readSafetensors(weights('backbone.safetensors'))
    const checkpoint = readSafetensors(join(out, 'checkpoints', 'last.safetensors'))
    for (const [name, want] of Object.entries(reference)) {
      if (name.includes('running_')) continue
      for (const net of ['net1', 'net2']) {
        const got = checkpoint[`${net}.${name}`]
        t.truthy(got, `${net}.${name} in the checkpoint`)
        const have = Array.from(got!.data, Number)
        const worst = Array.from(want.data, Number).reduce((m, v, i) => Math.max(m, Math.abs(v - have[i]!)), 0)
        if (worst > 1e-6) t.fail(`${net}.${name} differs from the file by ${worst}`)
      }
    }

    const model = await loadModel(out)
    const images = readdirSync(join(data, 'Image', 'aligned')).filter((f) => f.startsWith('test_')).slice(0, 2)
    const predictions = await model.predict(images.map((f) => join(data, 'Image', 'aligned', f)))
    t.is(predictions.length, 2)
    for (const p of predictions) t.true(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5)
  })
}

test.serial('train() from a file lacking layer1.0.conv1.weight fails naming it and writes no run', async (t) => {
  const out = join(root, 'api-lacking')
  const err = await t.throwsAsync(train(tiny(out, weights('resnet18_lacking.pth'))), { instanceOf: ManError })
  t.is(err?.code, 'ERR_MAN_WEIGHTS')
  t.true(err!.message.includes(weights('resnet18_lacking.pth')), err!.message)
  t.regex(err!.message, /layer1\.0\.conv1\.weight is missing from the file/)
  t.false(existsSync(out))
})

const CLI_TINY = ['--epochs', '1', '--warmup', '1', '--batch-size', '8', '--image-size', '32', '--device', 'cpu', '--lr', '1e-9']

for (const { file, skipped } of FILES) {
  test.serial(`man-fer train --pretrained ${file} trains and reports what it loaded`, async (t) => {
    const out = join(root, `cli-${file}`)
    const json = file.endsWith('.safetensors') || file.includes('msceleb')
    const run = await cli(['train', '--data', data, '--pretrained', weights(file), ...CLI_TINY, '--out', out, ...(json ? ['--json'] : [])])
    t.is(run.code, 0, run.stderr)
    const expected = { path: weights(file), loaded: written.backbone, headInitialised: HEAD, skipped: skipped(written) }
    const recorded = sortedSkipped(startEvent(out).pretrained)
    t.deepEqual(recorded, expected, "metrics.jsonl's start event")
    t.deepEqual(sortedSkipped(readJson(join(out, 'run.json')).pretrained), expected, 'run.json')
    if (json) {
      const result = jsonLines(run.stdout).at(-1)!
      t.like(result, { type: 'result', epochsCompleted: 1 })
      t.deepEqual(sortedSkipped(result.pretrained), expected, 'the result line')
    } else {
      t.true(
        run.stderr.includes(`pretrained ${weights(file)}: ${written.backbone} tensors loaded into both networks, head fc.bias, fc.weight initialised`),
        run.stderr,
      )
    }
  })
}

test.serial('man-fer train --pretrained with a file lacking layer1.0.conv1.weight exits 1 naming it', async (t) => {
  const out = join(root, 'cli-lacking')
  const run = await cli(['train', '--data', data, '--pretrained', weights('resnet18_lacking.pth'), ...CLI_TINY, '--out', out, '--json'])
  t.is(run.code, 1)
  const error = jsonLines(run.stdout).find((l) => l.type === 'error')
  t.like(error, { code: 'ERR_MAN_WEIGHTS' })
  t.regex(String(error?.message), /resnet18_lacking\.pth: .*layer1\.0\.conv1\.weight is missing from the file/)
  t.regex(run.stderr, /layer1\.0\.conv1\.weight/)
  t.false(existsSync(out))
})
