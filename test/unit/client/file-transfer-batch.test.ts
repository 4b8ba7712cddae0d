/**
 * How a directory transfer groups its files ({@link planBatches}): files of at most half a chunk go in
 * batches of at most one chunk of data and BATCH_MAX_FILES files, in listing order; larger files and a
 * batch that would hold one file go alone.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BATCH_MAX_FILES, planBatches } from '../../../src/client/file-transfer-batch.ts'

const files = (...sizes: number[]): { id: number; size: number }[] => sizes.map((size, id) => ({ id, size }))
const ids = (list: { id: number }[]): number[] => list.map((f) => f.id)

test('small files fill batches of at most one chunk, in order; larger ones go alone', () => {
  const plan = planBatches(files(100, 500, 0, 600, 512, 513, 300, 1024, 200), 1024)
  // 600, 513 and 1024 are more than half a chunk; 512 would overflow the first batch (600 + 512)
  assert.deepEqual(plan.batches.map(ids), [
    [0, 1, 2],
    [4, 6, 8],
  ])
  assert.deepEqual(ids(plan.single), [3, 5, 7])
})

test('a batch holds at most BATCH_MAX_FILES files, however small', () => {
  const plan = planBatches(files(...Array.from({ length: BATCH_MAX_FILES * 2 + 1 }, () => 0)), 1024)
  assert.deepEqual(
    plan.batches.map((b) => b.length),
    [BATCH_MAX_FILES, BATCH_MAX_FILES],
  )
  assert.equal(plan.single.length, 1, 'the one left over goes alone')
})

test('nothing to batch: an empty tree, or only large files', () => {
  assert.deepEqual(planBatches([], 1024), { batches: [], single: [] })
  const plan = planBatches(files(2000, 3000), 1024)
  assert.deepEqual(plan.batches, [])
  assert.deepEqual(ids(plan.single), [0, 1])
})
