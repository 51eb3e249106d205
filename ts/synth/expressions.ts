/**
 * The seven expressions as a handful of continuous face parameters, so that
 * intensity and ambiguity are just interpolation between parameter vectors.
 * Classes and order are RAF-DB's.
 */
import type { Rng } from '../util/prng.ts'
import { RAFDB_CLASSES } from '../data/rafdb.ts'

export const EXPRESSION_NAMES: readonly string[] = RAFDB_CLASSES

export interface Expression {
  /** Brow height: + raised, − lowered. */
  browRaise: number
  /** Brow slant: + inner ends down (anger), − inner ends up (sadness, fear). */
  browTilt: number
  /** Eye opening: 1 normal, >1 wide, <1 narrowed, ~0 closed. */
  eyeOpen: number
  /** Mouth line: + smile (corners up), − frown. */
  mouthCurve: number
  /** Lip separation: 0 closed, 1 a round O. */
  mouthOpen: number
  /** Mouth width relative to neutral. */
  mouthWidth: number
  /** How much of the open mouth shows upper teeth, 0-1. */
  teeth: number
  /** One corner pulled up and the nose wrinkled (the disgust sneer). */
  sneer: number
}

const NEUTRAL: Expression = {
  browRaise: 0, browTilt: 0, eyeOpen: 1, mouthCurve: 0, mouthOpen: 0, mouthWidth: 1, teeth: 0, sneer: 0,
}

// prettier-ignore
const PROTOTYPES: Expression[] = [
  /* Surprise  */ { browRaise: 1.0, browTilt: 0, eyeOpen: 1.7, mouthCurve: 0, mouthOpen: 1.0, mouthWidth: 0.6, teeth: 0, sneer: 0 },
  /* Fear      */ { browRaise: 0.6, browTilt: -0.9, eyeOpen: 1.6, mouthCurve: -0.4, mouthOpen: 0.45, mouthWidth: 1.2, teeth: 0.7, sneer: 0 },
  /* Disgust   */ { browRaise: -0.5, browTilt: 0.4, eyeOpen: 0.5, mouthCurve: -0.5, mouthOpen: 0.2, mouthWidth: 0.85, teeth: 0.5, sneer: 1 },
  /* Happiness */ { browRaise: 0.1, browTilt: 0, eyeOpen: 0.35, mouthCurve: 1.0, mouthOpen: 0.35, mouthWidth: 1.3, teeth: 0.9, sneer: 0 },
  /* Sadness   */ { browRaise: 0.1, browTilt: -1.0, eyeOpen: 0.6, mouthCurve: -1.0, mouthOpen: 0, mouthWidth: 0.9, teeth: 0, sneer: 0 },
  /* Anger     */ { browRaise: -1.0, browTilt: 1.2, eyeOpen: 0.6, mouthCurve: -0.15, mouthOpen: 0, mouthWidth: 0.8, teeth: 0, sneer: 0 },
  /* Neutral   */ NEUTRAL,
]

const KEYS = Object.keys(NEUTRAL) as (keyof Expression)[]

export function mixExpressions(a: Expression, b: Expression, t: number): Expression {
  const out = { ...a }
  for (const k of KEYS) out[k] = a[k] + (b[k] - a[k]) * t
  return out
}

/**
 * One face's expression: the prototype at a random intensity (how far from
 * neutral) plus per-parameter jitter, so each class is a cloud, not a point.
 */
export function drawExpression(rng: Rng, cls: number): Expression {
  const proto = PROTOTYPES[cls]
  if (!proto) throw new RangeError(`no expression class ${cls}`)
  const e = mixExpressions(NEUTRAL, proto, rng.range(0.8, 1.1))
  for (const k of KEYS) e[k] += 0.07 * rng.normal()
  e.eyeOpen = Math.max(0.05, e.eyeOpen)
  e.mouthOpen = Math.max(0, e.mouthOpen)
  e.teeth = Math.min(1, Math.max(0, e.teeth))
  e.mouthWidth = Math.max(0.4, e.mouthWidth)
  return e
}
