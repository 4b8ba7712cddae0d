/** Property tests for fragmentation: any sizes and interleavings round-trip; corruption gives typed errors. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { params } from './harness.ts'
import {
  Defragmenter,
  encodeFragment,
  Fragmenter,
  FRAGMENT_HEADER_SIZE,
  decodeMessage,
  decodeMessageBody,
} from '../../src/psrp/index.ts'
import { PsrpError } from '../../src/errors.ts'

test('fragment → interleave → split anywhere → defragment returns every message intact', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: FRAGMENT_HEADER_SIZE + 1, max: 200 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.integer({ min: 1, max: 64 }),
      (messages, size, picks, chunk) => {
        const f = new Fragmenter()
        const queues = messages.map((m) => f.fragment(m, size).map(encodeFragment))
        // interleave: repeatedly take the next fragment of a chosen object, keeping per-object order
        const stream: Uint8Array[] = []
        let k = 0
        while (queues.some((q) => q.length > 0)) {
          const live = queues.filter((q) => q.length > 0)
          const q = live[(picks[k++] ?? 0) % live.length] as Uint8Array[]
          stream.push(q.shift() as Uint8Array)
        }
        const bytes = Buffer.concat(stream)
        const d = new Defragmenter()
        const out: Uint8Array[] = []
        for (let i = 0; i < bytes.length; i += chunk) out.push(...d.push(bytes.subarray(i, i + chunk)))
        assert.equal(out.length, messages.length)
        const sortKey = (u: Uint8Array): string => Buffer.from(u).toString('hex')
        assert.deepEqual(out.map(sortKey).sort(), messages.map(sortKey).sort())
        assert.equal(d.incompleteObjects, 0)
      },
    ),
    params(500),
  )
})

test('random bytes through defragmenter, message and body decoders only ever throw PsrpError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        for (const m of new Defragmenter({ maxObjectSize: 4096 }).push(bytes)) {
          const msg = decodeMessage(m)
          decodeMessageBody(msg.type, msg.data)
        }
      } catch (e) {
        assert.ok(e instanceof PsrpError, `unexpected ${String(e)}`)
      }
      try {
        const msg = decodeMessage(bytes)
        decodeMessageBody(msg.type, msg.data)
      } catch (e) {
        assert.ok(e instanceof PsrpError, `unexpected ${String(e)}`)
      }
    }),
    params(3000),
  )
})
