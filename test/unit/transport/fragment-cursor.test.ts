/**
 * FragmentCursor (src/transport/fragment-cursor.ts): after a retried Receive, output the client already has
 * is dropped, the next fragment continues, and a jump (output lost with a response that never arrived)
 * is a TransportError.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TransportError } from '../../../src/errors.ts'
import { encodeFragment } from '../../../src/psrp/wire/fragment.ts'
import { FragmentCursor, ObjectIdLedger } from '../../../src/transport/fragment-cursor.ts'

function frag(objectId: number, fragmentId: number, start: boolean, end: boolean, text = 'x'): Uint8Array {
  return encodeFragment({
    objectId: BigInt(objectId),
    fragmentId: BigInt(fragmentId),
    start,
    end,
    data: new TextEncoder().encode(text),
  })
}

const whole = (id: number): Uint8Array => frag(id, 0, true, true, `m${id}`)
const cat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts)

test('without a retry every chunk passes unchanged, whatever its ids', () => {
  const c = new FragmentCursor('pipeline p')
  const a = cat(whole(1), whole(2))
  assert.equal(c.accept(a), a)
  assert.deepEqual(c.accept(whole(7)), whole(7))
  assert.deepEqual(c.accept(whole(3)), whole(3))
})

test('after a retry, repeats of delivered fragments are dropped and the next one continues', () => {
  const c = new FragmentCursor('pipeline p')
  c.accept(cat(whole(1), whole(2)))
  c.retried()
  assert.deepEqual(c.accept(cat(whole(2), whole(3))), whole(3))
  // checking stops once the stream continued
  assert.deepEqual(c.accept(whole(9)), whole(9))
})

test('after a retry, the next fragment of an unfinished message continues the stream', () => {
  const c = new FragmentCursor('the runspace pool')
  c.accept(frag(4, 0, true, false))
  c.retried()
  const next = frag(4, 1, false, true)
  assert.deepEqual(c.accept(next), next)
})

test('after a retry, a jump past the next fragment is a TransportError naming the stream', () => {
  const c = new FragmentCursor('pipeline p')
  c.accept(whole(1))
  c.retried()
  assert.throws(
    () => c.accept(whole(3)),
    (e: unknown) => e instanceof TransportError && /pipeline p/.test(e.message) && /lost/.test(e.message),
  )
  const d = new FragmentCursor('pipeline q')
  d.accept(frag(5, 0, true, false))
  d.retried()
  assert.throws(() => d.accept(frag(5, 2, false, true)), TransportError)
  assert.throws(() => d.accept(whole(6)), TransportError, 'the unfinished message 5 cannot be skipped')
})

test('a retry before any output: the stream must begin with the object after those the pool has seen', () => {
  const ledger = new ObjectIdLedger()
  ledger.record(1n)
  ledger.record(2n) // the pool's own messages at open
  const lost = new FragmentCursor('pipeline p', ledger)
  lost.retried()
  assert.throws(
    () => lost.accept(whole(4)),
    (e: unknown) => e instanceof TransportError && /before its first object/.test(e.message),
    'object 3 was in the response that never arrived',
  )
  const fine = new FragmentCursor('pipeline q', ledger)
  fine.retried()
  assert.deepEqual(fine.accept(whole(3)), whole(3))
  const tail = new FragmentCursor('pipeline r', ledger)
  tail.retried()
  assert.throws(() => tail.accept(frag(4, 1, false, true)), TransportError, 'a first fragment was lost')
})

test('ids between two objects of a stream that another stream of the pool delivered are no gap', () => {
  const ledger = new ObjectIdLedger()
  ledger.record(1n)
  const a = new FragmentCursor('pipeline a', ledger)
  const b = new FragmentCursor('pipeline b', ledger)
  a.accept(whole(2))
  b.accept(cat(whole(3), whole(4)))
  a.retried()
  assert.deepEqual(a.accept(whole(5)), whole(5), '3 and 4 went to pipeline b')
  b.accept(whole(6))
  a.retried()
  assert.throws(() => a.accept(whole(8)), TransportError, 'nobody received 7')
})

test('the ledger keeps ranges: in-order ids extend one, out-of-order ones fill holes', () => {
  const l = new ObjectIdLedger()
  assert.equal(l.max, -1n)
  for (const id of [1n, 2n, 3n, 7n, 5n, 9n, 6n, 4n]) l.record(id)
  assert.equal(l.max, 9n)
  assert.ok(l.coversBetween(0n, 8n), '1..7 are all seen')
  assert.ok(!l.coversBetween(6n, 10n), '8 is not')
  assert.ok(l.coversBetween(8n, 9n), 'nothing lies between 8 and 9')
})

test('data that is not whole fragments turns the checks off for the stream; a fresh pool judges nothing', () => {
  const c = new FragmentCursor('the runspace pool')
  c.retried()
  assert.deepEqual(c.accept(whole(5)), whole(5), 'no id seen on the pool yet: where its ids start is unknown')
  const odd = new Uint8Array([1, 2, 3])
  c.retried()
  assert.deepEqual(c.accept(odd), odd)
  c.retried()
  assert.deepEqual(c.accept(whole(40)), whole(40), 'after unframed data there is nothing to compare with')
})
