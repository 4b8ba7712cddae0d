/**
 * The complexity helper itself: a quadratic cost (time or allocation) must fail, a linear one pass, so
 * that the other complexity tests cannot go green by measuring nothing.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { assertLinear, measureScaling } from './measure.ts'

/** Quadratic time, no allocation: every character compared with every other. */
function pairs(s: string): number {
  let same = 0
  for (let i = 0; i < s.length; i++) {
    for (let j = i + 1; j < s.length; j++) if (s.charCodeAt(i) === s.charCodeAt(j)) same++
  }
  return same
}

/** Quadratic allocation: a prefix of the input kept per character. */
function prefixes(s: string): number {
  const kept: number[][] = []
  for (let i = 0; i < s.length; i++) kept.push(new Array<number>(i).fill(0))
  return kept.length
}

/** Linear: one pass. */
function count(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 97) n++
  return n
}

test('assertLinear fails a quadratic time', () => {
  assert.throws(
    () => assertLinear('pairs', (n) => 'ab'.repeat(n), pairs, { n: 400, attempts: 1 }),
    /time grows/,
  )
})

test('assertLinear fails a quadratic allocation', () => {
  const s = measureScaling((n) => 'a'.repeat(n), prefixes, { n: 300 })
  assert.ok(s.allocationRatio > 10, `allocation ratio ${s.allocationRatio}`)
  assert.throws(
    () => assertLinear('prefixes', (n) => 'a'.repeat(n), prefixes, { n: 300, attempts: 1 }),
    /grows faster than linear/,
  )
})

test('assertLinear passes a linear pass over the input', () => {
  const s = assertLinear('count', (n) => 'ab'.repeat(n), count, { n: 100_000 })
  assert.ok(s.timeRatio < 6)
})
