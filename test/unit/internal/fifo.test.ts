import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { test } from 'node:test'
import { Fifo } from '../../../src/internal/fifo.ts'
import { collectGarbage } from '../../helpers/memory.ts'

test('Fifo: order and size across compactions, interleaved pushes and takes, clear', () => {
  const q = new Fifo<number>()
  let next = 0
  let expected = 0
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 97; i++) q.push(next++)
    for (let i = 0; i < 90; i++) assert.equal(q.shift(), expected++)
    assert.equal(q.size, next - expected)
  }
  while (q.size > 0) assert.equal(q.shift(), expected++)
  assert.equal(q.shift(), undefined)
  q.push(1)
  q.clear()
  assert.equal(q.size, 0)
  assert.equal(q.shift(), undefined)
})

test('Fifo: a taken value is not kept alive by the queue', async () => {
  const q = new Fifo<object>()
  for (let i = 0; i < 10; i++) q.push({ data: new Uint8Array(1024) })
  const refs: WeakRef<object>[] = []
  for (let i = 0; i < 10; i++) refs.push(new WeakRef(q.shift() as object))
  await tick() // a WeakRef target is held until the end of the job that made the WeakRef
  collectGarbage()
  assert.deepEqual(
    refs.map((r) => r.deref() === undefined),
    refs.map(() => true),
  )
})
