/**
 * The one configuration schema. Its defaults are the reference setting of
 * METHOD.md; the CLI derives its flags from it, so the two never disagree.
 */
import { z } from 'zod'

const positiveInt = () => z.number().int().positive()
const nonNegativeInt = () => z.number().int().nonnegative()
const fraction = () => z.number().min(0).max(1)

export const dataSchema = z
  .strictObject({
    /** Dataset root (RAF-DB directory, image folder, or CSV file). */
    path: z.string().min(1).optional(),
    format: z.enum(['auto', 'rafdb', 'folder', 'csv']).default('auto'),
    /** Drop unreadable or unlabelled entries (listed in the run directory) instead of failing. */
    skipBad: z.boolean().default(false),
    /** Fraction of the training set held out, seeded, for model selection; 0 = none. */
    validationSplit: z.number().min(0).lt(1).default(0),
  })
  .prefault({})

export const noiseSchema = z
  .strictObject({
    /** Fraction of training labels replaced by a different class (symmetric noise); 0 = none. */
    rate: z.number().min(0).lt(1).default(0),
    seed: nonNegativeInt().max(0xffffffff).default(0),
  })
  .prefault({})

export const modelSchema = z
  .strictObject({
    /** A ResNet-18 backbone (e.g. resnet18_msceleb.pth) loaded into both networks. */
    pretrained: z.string().min(1).optional(),
  })
  .prefault({})

export const trainSchema = z
  .strictObject({
    epochs: positiveInt().default(100),
    warmup: nonNegativeInt().default(10),
    /** At least 2: BatchNorm cannot train on a single sample. */
    batchSize: z.number().int().min(2).default(128),
    imageSize: z.number().int().min(16).max(1024).default(224),
    lr: z.number().positive().default(1e-3),
    /** Factor applied to the learning rate after every epoch. */
    lrDecay: z.number().positive().max(1).default(0.9),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    eps: z.number().positive().default(1e-8),
    /** Coupled (torch.optim.Adam) weight decay. */
    weightDecay: z.number().min(0).default(1e-4),
    seed: nonNegativeInt().max(0xffffffff).default(0),
  })
  .prefault({})

export const manSchema = z
  .strictObject({
    lambdaMax: fraction().default(0.9),
    beta: z.number().min(0).default(0.65),
    /** er = rampFraction · epochs. */
    rampFraction: z.number().positive().default(0.9),
    /** Weight of the ambiguous-subset loss. */
    omega: z.number().min(0).default(0.6),
    /** Weight of the noisy-subset loss. */
    gamma: z.number().min(0).default(1),
    /** Views co-division predicts on: 'weak' as the reference code, 'test' as the fix. */
    coDivisionView: z.enum(['weak', 'test']).default('weak'),
  })
  .prefault({})

export const runtimeSchema = z
  .strictObject({
    device: z
      .string()
      .regex(/^(auto|cpu|cuda|cuda:\d+)$/, "expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
      .default('auto'),
    /** libtorch intra-op threads; 0 = libtorch's default. */
    threads: nonNegativeInt().default(0),
    /** Image pipeline threads; 0 = all cores. */
    dataThreads: nonNegativeInt().default(0),
    /** Memory for decoded images, in MiB, shared by the splits. */
    cacheMB: nonNegativeInt().default(1024),
    /** bf16 autocast on CUDA; ignored on CPU. */
    mixedPrecision: z.boolean().default(false),
    evalBatchSize: positiveInt().default(256),
  })
  .prefault({})

export const configSchema = z.strictObject({
  data: dataSchema,
  noise: noiseSchema,
  /** 'man': co-division and tri-regularisation; 'ce': both networks with cross-entropy throughout (baseline). */
  method: z.enum(['man', 'ce']).default('man'),
  model: modelSchema,
  train: trainSchema,
  man: manSchema,
  runtime: runtimeSchema,
  /** Run directory; created if missing. */
  out: z.string().min(1).optional(),
})

/** What a user writes: every field optional. */
export type ConfigInput = z.input<typeof configSchema>
/** A resolved configuration: every default filled in. */
export type ManConfig = z.output<typeof configSchema>
