import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { test } from 'node:test'
import { AsyncEventQueue } from '../../../src/transport/event-queue.ts'
import { collectGarbage } from '../../helpers/memory.ts'

test('AsyncEventQueue: a pulled value is not kept alive by the queue', async () => {
  const q = new AsyncEventQueue<{ data: Uint8Array }>()
  // fewer than the 1024 pulled values after which the queue compacts its buffer
  for (let i = 0; i < 10; i++) q.push({ data: new Uint8Array(1024) })
  // pulled in a function of its own: a suspended async function's frame can keep its last values
  const pullAll = async (): Promise<WeakRef<object>[]> => {
    const refs: WeakRef<object>[] = []
    for (let i = 0; i < 10; i++) {
      const r = await q.next()
      assert.equal(r.done, false)
      refs.push(new WeakRef(r.value as object))
    }
    return refs
  }
  const refs = await pullAll()
  q.push({ data: new Uint8Array(1) }) // still buffered: must stay
  await tick() // a WeakRef target is held until the end of the job that made the WeakRef
  collectGarbage()
  assert.deepEqual(
    refs.map((r) => r.deref() === undefined),
    refs.map(() => true),
  )
  assert.equal(q.size, 1)
  assert.equal((await q.next()).value?.data.length, 1)
})
