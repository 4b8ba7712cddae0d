/**
 * FragmentCursor (src/transport/wsman-psrp.ts): after a retried Receive, output the client already has
 * is dropped, the next fragment continues, and a jump (output lost with a response that never arrived)
 * is a TransportError.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TransportError } from '../../../src/errors.ts'
import { encodeFragment } from '../../../src/psrp/wire/fragment.ts'
import { FragmentCursor } from '../../../src/transport/wsman-psrp.ts'

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

test('a retry before any output checks nothing; data that is not whole fragments passes unchecked', () => {
  const c = new FragmentCursor('pipeline p')
  c.retried()
  assert.deepEqual(c.accept(whole(5)), whole(5))
  const odd = new Uint8Array([1, 2, 3])
  c.retried()
  assert.deepEqual(c.accept(odd), odd)
  c.retried()
  assert.deepEqual(c.accept(whole(40)), whole(40), 'after unframed data there is nothing to compare with')
})
