/**
 * The one configuration schema. Its defaults are the reference setting of
 * docs/method.md; the CLI derives its flags (and their help) from it, so the two
 * never disagree.
 */
import { z } from 'zod'

const positiveInt = () => z.number().int().positive()
const nonNegativeInt = () => z.number().int().nonnegative()
const seed = () => nonNegativeInt().max(0xffffffff)

/** Defaults of the data limits (applied where they are used, so a run's config hash stays as before them). */
export const DATA_LIMITS = { maxImageMB: 64, maxImagePixels: 40_000_000, maxClasses: 1000, allowEmptyClasses: false } as const

export const dataSchema = z
  .strictObject({
    path: z.string().min(1).optional().describe('dataset root: RAF-DB, FERPlus or AffectNet directory, image folder, or CSV file'),
    format: z.enum(['auto', 'rafdb', 'folder', 'csv', 'ferplus', 'affectnet']).default('auto').describe('dataset layout'),
    skipBad: z.boolean().default(false).describe('drop unreadable or unlabelled entries (listed in the run) instead of failing'),
    validationSplit: z
      .number()
      .min(0)
      .lt(1)
      .default(0)
      .describe('fraction of the training set held out, seeded, for model selection; 0 = none'),
    classes: z
      .number()
      .int()
      .min(7)
      .max(8)
      .optional()
      .describe("AffectNet protocol: 8 classes, or 7 without Contempt (default 8)"),
    // No defaults on the options added after the first release: a run's config hash (resume) stays what it was.
    crop: z.boolean().optional().describe('AffectNet: cut each image to the face box of its manifest row, for the uncropped originals (default false)'),
    maxImageMB: positiveInt().optional().describe(`largest image file read, in MiB; a bigger file is a bad entry (default ${DATA_LIMITS.maxImageMB})`),
    maxImagePixels: positiveInt()
      .optional()
      .describe(`largest image, width × height, checked from its header before decoding (default ${DATA_LIMITS.maxImagePixels})`),
    maxClasses: positiveInt()
      .optional()
      .describe(`most classes a dataset may declare: a label typo must not size the model (default ${DATA_LIMITS.maxClasses})`),
    allowEmptyClasses: z
      .boolean()
      .optional()
      .describe('train even when a class of a CSV or image-folder set has no training sample (default false: an error naming it)'),
  })
  .prefault({})

export const noiseSchema = z
  .strictObject({
    rate: z.number().min(0).lt(1).default(0).describe('fraction of training labels replaced by another class (symmetric noise)'),
    seed: seed().default(0).describe('seed of the noise injection'),
    file: z
      .string()
      .min(1)
      .optional()
      .describe('training labels from FILE (RAF-DB format, e.g. EAC\'s noise01.txt), scored against the clean ones'),
  })
  .prefault({})

export const modelSchema = z
  .strictObject({
    pretrained: z.string().min(1).optional().describe('ResNet-18 backbone weights loaded into both networks (e.g. resnet18_msceleb.pth)'),
  })
  .prefault({})

export const trainSchema = z
  .strictObject({
    epochs: positiveInt().default(100).describe('training epochs'),
    warmup: nonNegativeInt()
      .default(10)
      .describe("warm-up epochs (cross-entropy only) before co-division starts; with warmupEnd 'plateau', the most"),
    warmupEnd: z
      .enum(['fixed', 'plateau'])
      .default('fixed')
      .describe(
        "'fixed': warm up for train.warmup epochs (the reference); 'plateau': stop once the networks' agreement with the given training labels gains less than warmupPlateau in an epoch (at least warmupMin epochs, at most train.warmup)",
      ),
    warmupMin: nonNegativeInt().default(2).describe("with warmupEnd 'plateau': warm-up epochs before agreement is measured (train.warmup still caps warm-up)"),
    warmupPlateau: z
      .number()
      .min(0)
      .max(1)
      .default(0.01)
      .describe("with warmupEnd 'plateau': the gain in agreement per epoch below which warm-up ends"),
    // BatchNorm cannot train on a single sample.
    batchSize: z.number().int().min(2).default(128).describe('training batch size'),
    imageSize: z.number().int().min(16).max(1024).default(224).describe('input height and width in pixels'),
    lr: z.number().positive().default(1e-3).describe('Adam learning rate of epoch 1'),
    lrDecay: z.number().positive().max(1).default(0.9).describe('learning-rate factor applied after every epoch'),
    beta1: z.number().min(0).lt(1).default(0.9).describe('Adam β1'),
    beta2: z.number().min(0).lt(1).default(0.999).describe('Adam β2'),
    eps: z.number().positive().default(1e-8).describe('Adam ε'),
    weightDecay: z.number().min(0).default(1e-4).describe('weight decay added to the gradient (torch.optim.Adam, not AdamW)'),
    seed: seed().default(0).describe('seed of weights, data order, augmentation and the validation split'),
    sampler: z
      .enum(['shuffle', 'balanced'])
      .optional()
      .describe("'shuffle' (default): each sample once an epoch; 'balanced': classes drawn equally often (with replacement)"),
  })
  .prefault({})

export const manSchema = z
  .strictObject({
    lambdaMax: z.number().min(0).max(1).default(0.9).describe('λmax, the largest weight of mutual learning'),
    beta: z.number().min(0).default(0.65).describe('β, the steepness of the λ ramp'),
    rampFraction: z.number().positive().default(0.9).describe('epoch where λ peaks, as a fraction of epochs (er = rampFraction·epochs)'),
    omega: z.number().min(0).default(0.6).describe('ω, weight of the ambiguous-subset loss'),
    gamma: z.number().min(0).default(1).describe('γ, weight of the noisy-subset loss'),
    coDivisionView: z
      .enum(['weak', 'test'])
      .default('test')
      .describe("views co-division predicts on: 'weak' as the reference code, 'test' as the fix"),
    consistencyGradient: z
      .enum(['both', 'strong'])
      .default('strong')
      .describe(
        "views of a noisy sample the consistency loss trains: 'both' as the reference, 'strong' (the weak view's prediction is a fixed target)",
      ),
    subsetPasses: z
      .enum(['separate', 'joint'])
      .default('joint')
      .describe(
        "forward passes of a co-division step: 'separate' (one per subset, BatchNorm statistics from each subset, as the reference) or 'joint' (one per network over the whole batch and the noisy samples' strong views)",
      ),
    subsetWeighting: z
      .enum(['subset', 'batch'])
      .default('batch')
      .describe(
        "what each co-division term averages over: 'subset' (the mean over its subset, so a subset of one sample weighs as much as the clean subset, as the reference) or 'batch' (each term times its subset's share of the batch: every sample weighs alike)",
      ),
    lambdaRamp: z
      .enum(['run', 'co-division'])
      .default('co-division')
      .describe("what λ's ramp spans: 'run' (from epoch 1, as the reference) or 'co-division' (from the first co-division epoch)"),
    noisyBound: z
      .enum(['none', 'first'])
      .default('first')
      .describe(
        "'first': no co-division after the first holds more noisy samples than the first did; the excess (given label most likely) become ambiguous",
      ),
    noisyLoss: z
      .enum(['consistency', 'pseudo-label'])
      .default('consistency')
      .describe(
        "what the noisy subset learns: 'consistency' (MSE between the softmax of its weak and strong views, as the reference) or 'pseudo-label' (each network's strong view learns by cross-entropy the class of the two networks' mean prediction on the weak view, where that prediction's confidence reaches pseudoThreshold)",
      ),
    pseudoThreshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.95)
      .describe("with noisyLoss 'pseudo-label': the confidence a noisy sample's pseudo-label needs to train"),
    relabel: z
      .enum(['none', 'agreed'])
      .default('none')
      .describe(
        "'agreed': a noisy sample whose class both networks agree on trains as clean with that class for the epoch (its partition code stays noisy); 'none' as the reference",
      ),
  })
  .prefault({})

export const runtimeSchema = z
  .strictObject({
    device: z
      .string()
      .regex(/^(auto|cpu|cuda|cuda:\d+)$/, "expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
      .default('auto')
      .describe("'auto', 'cpu', 'cuda' or 'cuda:N'"),
    threads: nonNegativeInt().default(0).describe("libtorch intra-op threads; 0 = libtorch's default"),
    dataThreads: nonNegativeInt().default(0).describe('image pipeline threads; 0 = all cores'),
    cacheMB: nonNegativeInt().default(1024).describe('memory for decoded images, in MiB, shared by the splits'),
    mixedPrecision: z.boolean().default(false).describe("bf16 autocast on CUDA (ignored on CPU); the older switch: on CUDA the same as precision 'bf16'"),
    // No defaults (a run's config hash stays as before them); the defaults are applied in trainer-options.ts.
    precision: z
      .enum(['auto', 'fp32', 'bf16'])
      .optional()
      .describe("what the forward passes compute in: 'auto' (default) = bf16 autocast on a CPU with AMX or AVX-512-BF16 (see man-fer info), fp32 elsewhere; weights and Adam state stay fp32"),
    backward: z
      .enum(['per-network', 'once'])
      .optional()
      .describe("'per-network' (default): each network back-propagated before the other's forward passes, about half the peak memory, the same weights; 'once': both networks' graphs alive, one backward pass (the reference)"),
    allocator: z
      .enum(['lean', 'fast'])
      .optional()
      .describe("'lean' (default): tensors of 1 MiB or more are mapped and returned to the system when freed, the smallest peak memory; 'fast': blocks up to 32 MiB are kept for reuse, fewer page faults, faster steps, a higher peak (docs/performance.md). Process-wide, glibc only; MALLOC_MMAP_THRESHOLD_ in the environment wins"),
    evalBatchSize: positiveInt().default(256).describe('batch size of prediction passes (co-division, evaluation)'),
  })
  .prefault({})

export const reportSchema = z
  .strictObject({
    html: z.boolean().default(true).describe('write report.html (curves, suspect list) into the run directory when training ends'),
    top: nonNegativeInt().default(300).describe('suspects shown with a thumbnail in report.html'),
  })
  .prefault({})

export const configSchema = z.strictObject({
  data: dataSchema,
  noise: noiseSchema,
  method: z
    .enum(['man', 'ce'])
    .default('man')
    .describe("'man': co-division and tri-regularisation; 'ce': cross-entropy throughout (baseline)"),
  model: modelSchema,
  train: trainSchema,
  man: manSchema,
  runtime: runtimeSchema,
  report: reportSchema,
  out: z.string().min(1).optional().describe('run directory (created if missing)'),
})

/** What a user writes: every field optional. */
export type ConfigInput = z.input<typeof configSchema>
/** A resolved configuration: every default filled in. */
export type ManConfig = z.output<typeof configSchema>
