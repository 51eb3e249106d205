/** The synthetic FER benchmark: procedurally drawn faces in the RAF-DB layout, with known noise and ambiguity. */
export { synthesize, type SynthesizeOptions, type SynthesisSummary } from './synthesize.ts'
export { EXPRESSION_NAMES } from './expressions.ts'
