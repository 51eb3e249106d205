/**
 * Pretrained backbones as users have them: a torch.save zip (`.pth`, with a
 * `state_dict` wrapper) and a legacy pickle (`.pth.tar`, with a `module.`
 * prefix), written by the torch in .venv during the test, load through the
 * addon and give the same logits as the safetensors copy of the same weights.
 */
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { callNative, callNativeSync } from '../../ts/errors.ts'
import { resolveConfig } from '../../ts/config/index.ts'
import { trainerOptions } from '../../ts/train/trainer-options.ts'
import { getBinding } from '../../ts/native/index.ts'
import { PACKAGE_ROOT } from '../../ts/native/loader.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { toySet } from '../helpers/toy-images.ts'

const python = join(PACKAGE_ROOT, '.venv', 'bin', 'python')

const WRITE_WEIGHTS = `
import sys, torch
sys.path.insert(0, sys.argv[1])
from man_reference import ResNet18
from safetensors.torch import save_file
torch.manual_seed(11)
net = ResNet18(1000)
with torch.no_grad():  # non-trivial BatchNorm statistics, so that they are checked too
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1); m.running_var.uniform_(0.5, 1.5)
            m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.1, 0.1)
sd = net.state_dict()
out = sys.argv[2]
torch.save({'state_dict': sd, 'epoch': 40}, out + '/resnet18.pth')
torch.save({'module.' + k: v for k, v in sd.items()}, out + '/resnet18_msceleb.pth.tar', _use_new_zipfile_serialization=False)
save_file({k: v.contiguous() for k, v in sd.items() if not k.endswith('num_batches_tracked')}, out + '/resnet18.safetensors')
`

const options = trainerOptions(resolveConfig({ train: { seed: 5 }, runtime: { device: 'cpu' } }), 7)

test('a .pth zip and a legacy .pth.tar load and give the same logits as the safetensors copy', async (t) => {
  t.true(existsSync(python), `${python} is missing: run npm run setup`)
  const dir = tempDir(t)
  execFileSync(python, ['-c', WRITE_WEIGHTS, join(PACKAGE_ROOT, '__test__', 'native', 'parity'), dir], { stdio: 'inherit' })

  const binding = getBinding()
  const images = toySet(4)
  const dataset = callNativeSync(() => binding.Dataset.fromBuffers(images.buffers, images.names, { imageSize: 64, seed: 1, cacheBytes: 1 << 24, threads: 1 }))
  const indices = Uint32Array.from([0, 1, 2, 3])
  const logitsOf = async (file: string) => {
    const trainer = callNativeSync(() => binding.Trainer.create(options))
    const report = await callNative(() => trainer.loadPretrained(join(dir, file)))
    t.true(report.skipped.includes('fc.weight'), `${file}: 1000-class head skipped`)
    t.deepEqual(report.headInitialised, ['fc.bias', 'fc.weight'], `${file}: the 7-class head keeps its initialisation`)
    t.true(report.loaded.includes('layer4.1.bn2.running_var'), `${file}: BatchNorm statistics loaded`)
    const one = await callNative(() => trainer.debugLogits(dataset, indices, 'test', 1, 0, false))
    const two = await callNative(() => trainer.debugLogits(dataset, indices, 'test', 1, 1, false))
    return [one, two]
  }
  const reference = await logitsOf('resnet18.safetensors')
  for (const file of ['resnet18.pth', 'resnet18_msceleb.pth.tar']) {
    const got = await logitsOf(file)
    t.deepEqual(got[0], reference[0], `${file}: network 1`)
    t.deepEqual(got[1], reference[1], `${file}: network 2`)
  }
  // Both networks received the same backbone; their heads differ (own initialisation).
  t.notDeepEqual(reference[0], reference[1])
  // And the weights really changed the networks: a trainer without them computes other logits.
  const fresh = callNativeSync(() => binding.Trainer.create(options))
  t.notDeepEqual(await callNative(() => fresh.debugLogits(dataset, indices, 'test', 1, 0, false)), reference[0])
})
