/**
 * Fragmenter/defragmenter properties (MS-PSRP 2.2.4, 3.1.5.1): size limits, id allocation, and that
 * any out-of-order, duplicated or missing fragment is a ProtocolError rather than a wrong message.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { params } from './harness.ts'
import {
  decodeFragment,
  Defragmenter,
  encodeFragment,
  FRAGMENT_HEADER_SIZE,
  Fragmenter,
  type Fragment,
} from '../../src/psrp/index.ts'
import { ProtocolError } from '../../src/errors.ts'

test('every fragment fits the size limit; ObjectIds count from 1; FragmentIds are consecutive from 0; S/E flags mark the ends', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: FRAGMENT_HEADER_SIZE + 1, max: 600 }),
      (sizes, max) => {
        const f = new Fragmenter()
        sizes.forEach((size, i) => {
          const frags = f.fragment(new Uint8Array(size), max)
          const blob = max - FRAGMENT_HEADER_SIZE
          assert.equal(frags.length, Math.max(1, Math.ceil(size / blob)))
          frags.forEach((x, j) => {
            assert.equal(x.objectId, BigInt(i + 1))
            assert.equal(x.fragmentId, BigInt(j))
            assert.equal(x.start, j === 0)
            assert.equal(x.end, j === frags.length - 1)
            const bytes = encodeFragment(x)
            assert.ok(bytes.length <= max)
            const back = decodeFragment(bytes)
            assert.deepEqual(back?.fragment, { ...x, data: Uint8Array.from(x.data) })
            assert.equal(back?.next, bytes.length)
          })
          assert.equal(
            frags.reduce((n, x) => n + x.data.length, 0),
            size,
          )
        })
        assert.equal(f.nextObjectId, BigInt(sizes.length + 1))
      },
    ),
    params(300),
  )
})

test('fragments of an object in any order, with drops and duplicates: exactly the in-order sequences yield messages, anything else is a ProtocolError', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
      (message, blob, picks) => {
        const frags = new Fragmenter().fragment(message, FRAGMENT_HEADER_SIZE + blob)
        const order = picks.map((p) => p % frags.length)
        // reference model (MS-PSRP 3.1.5.1.2): an object starts at fragment 0 and continues 1, 2, … to
        // its end; a completed object may start again (ObjectIds are not remembered once complete)
        let next: number | undefined
        let expectedMessages = 0
        let expectedErrorAt: number | undefined
        for (const [step, i] of order.entries()) {
          if ((next === undefined && i !== 0) || (next !== undefined && i !== next)) {
            expectedErrorAt = step
            break
          }
          next = i + 1
          if (next === frags.length) {
            expectedMessages++
            next = undefined
          }
        }
        const d = new Defragmenter()
        let out: Uint8Array[] = []
        for (const [step, i] of order.entries()) {
          if (step === expectedErrorAt) {
            assert.throws(
              () => d.push(encodeFragment(frags[i] as Fragment)),
              (e: unknown) => e instanceof ProtocolError && e.side === 'remote',
            )
            return
          }
          out = out.concat(d.push(encodeFragment(frags[i] as Fragment)))
        }
        assert.equal(out.length, expectedMessages)
        for (const m of out) assert.deepEqual(m, message)
      },
    ),
    params(2000),
  )
})

test('the object size limit applies to the reassembled total, not only to one fragment', () => {
  const frags = new Fragmenter().fragment(new Uint8Array(100), FRAGMENT_HEADER_SIZE + 30)
  const d = new Defragmenter({ maxObjectSize: 99 })
  assert.throws(() => frags.forEach((x) => d.push(encodeFragment(x))), /exceeds the limit of 99 bytes/)
  const ok = new Defragmenter({ maxObjectSize: 100 })
  assert.equal(frags.flatMap((x) => ok.push(encodeFragment(x))).length, 1)
  // a single header announcing more than the limit is refused before its blob arrives
  const header = encodeFragment({
    objectId: 1n,
    fragmentId: 0n,
    start: true,
    end: true,
    data: new Uint8Array(200),
  })
  assert.throws(
    () => new Defragmenter({ maxObjectSize: 100 }).push(header.subarray(0, FRAGMENT_HEADER_SIZE)),
    ProtocolError,
  )
})
