/**
 * The state-dict names of torchvision's (and timm's) ResNet-18, in the order
 * `state_dict()` lists them: what the fake binding pretends a weights file
 * holds, and what the real addon's report is checked against.
 */

function batchNorm(prefix: string): string[] {
  return ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((n) => `${prefix}.${n}`)
}

/** Every name, BatchNorm counters and the `fc` head included (122). */
export function resnet18StateDictNames(): string[] {
  const names = ['conv1.weight', ...batchNorm('bn1')]
  for (let layer = 1; layer <= 4; layer++) {
    for (let block = 0; block < 2; block++) {
      const p = `layer${layer}.${block}`
      names.push(`${p}.conv1.weight`, ...batchNorm(`${p}.bn1`), `${p}.conv2.weight`, ...batchNorm(`${p}.bn2`))
      if (layer > 1 && block === 0) names.push(`${p}.downsample.0.weight`, ...batchNorm(`${p}.downsample.1`))
    }
  }
  names.push('fc.weight', 'fc.bias')
  return names
}

export const isHead = (name: string): boolean => name.startsWith('fc.')
export const isCounter = (name: string): boolean => name.endsWith('.num_batches_tracked')

/** What a ResNet-18 model variable gets from a full file: every name but the counters and the head (100). */
export function resnet18BackboneNames(): string[] {
  return resnet18StateDictNames().filter((n) => !isHead(n) && !isCounter(n))
}
