/**
 * The partition codes cross as the addon's `Partition` enum (defined once, in
 * man-core); TypeScript's run-time copy is type-checked against the
 * generated declarations, and here against the addon itself.
 */
import test from 'ava'

import { Partition } from '../../ts/native/binding.ts'
import { getBinding } from '../../ts/native/index.ts'

test('the addon exports the Partition enum with the names and values TypeScript uses', (t) => {
  const exported = (getBinding() as unknown as { Partition?: Record<string, unknown> }).Partition
  t.truthy(exported, 'the addon exports Partition')
  for (const [name, value] of Object.entries(Partition)) t.is(exported?.[name], value, name)
  const numeric = Object.entries(exported ?? {}).filter(([, v]) => typeof v === 'number')
  t.is(numeric.length, Object.keys(Partition).length)
})
