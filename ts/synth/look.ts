/** Everything about a synthetic face except its expression: who, how posed, how lit, where. */
import type { Rng } from '../util/prng.ts'
import type { Pose, Rgb } from './raster.ts'

export interface Look {
  /** Face oval half-width and half-height, face units. */
  faceRx: number
  faceRy: number
  skin: Rgb
  hair: Rgb
  /** 0 bald, 1 short, 2 long. */
  hairStyle: number
  /** Hairline height on the forehead and its waviness phase. */
  fringe: number
  fringePhase: number
  iris: Rgb
  /** Head turn, as the sideways shift of the features (face units). */
  yaw: number
  /** Where the eyes look (face units). */
  gazeX: number
  pose: Pose
  /** Light: direction (radians) and strength of the brightness gradient. */
  lightAngle: number
  lightStrength: number
  background: Rgb
  /** Background texture: two plane waves (frequency in cycles per image, direction, amplitude). */
  waves: { freq: number; angle: number; amp: number; phase: number }[]
  /** Sensor noise, grey levels. */
  noise: number
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

const DARK_SKIN: Rgb = [85, 55, 40]
const LIGHT_SKIN: Rgb = [245, 210, 185]
const HAIR: Rgb[] = [[25, 20, 18], [60, 40, 28], [110, 75, 45], [200, 165, 110], [150, 150, 150], [140, 60, 30]]
const IRIS: Rgb[] = [[60, 40, 25], [40, 30, 20], [70, 100, 140], [80, 110, 70]]

export function drawLook(rng: Rng, size: number): Look {
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)]!
  const tone = mix(DARK_SKIN, LIGHT_SKIN, rng.next())
  const hue = rng.range(-12, 12)
  const hairStyle = rng.next() < 0.1 ? 0 : rng.next() < 0.6 ? 1 : 2
  return {
    faceRx: rng.range(0.7, 0.84),
    faceRy: rng.range(0.95, 1.06),
    skin: [tone[0] + hue, tone[1], tone[2] - hue],
    hair: mix(pick(HAIR), [0, 0, 0], rng.range(0, 0.3)),
    hairStyle,
    fringe: rng.range(-0.78, -0.5),
    fringePhase: rng.range(0, 2 * Math.PI),
    iris: pick(IRIS),
    yaw: rng.range(-0.09, 0.09),
    gazeX: rng.range(-0.03, 0.03),
    pose: {
      cx: size * (0.5 + rng.range(-0.04, 0.04)),
      cy: size * (0.5 + rng.range(-0.04, 0.04)),
      scale: size * rng.range(0.43, 0.49),
      angle: rng.range(-0.17, 0.17),
    },
    lightAngle: rng.range(0, 2 * Math.PI),
    lightStrength: rng.range(0, 0.3),
    background: [rng.range(20, 235), rng.range(20, 235), rng.range(20, 235)],
    waves: [0, 1].map(() => ({
      freq: rng.range(0.5, 6),
      angle: rng.range(0, Math.PI),
      amp: rng.next() < 0.5 ? 0 : rng.range(4, 20),
      phase: rng.range(0, 2 * Math.PI),
    })),
    noise: rng.range(1, 5),
  }
}
