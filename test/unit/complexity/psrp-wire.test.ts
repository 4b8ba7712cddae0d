/**
 * PSRP reassembly fed by a hostile or merely slow peer: a large object arriving a few bytes per read,
 * and many tiny OutOfProc `<Data>` packets, cost time and memory linear in the bytes received
 * (MS-PSRP 3.1.5.1.2; the defragmenter used to re-join everything pending on every read).
 */
import { test } from 'node:test'
import { Defragmenter, encodeFragment } from '../../../src/psrp/index.ts'
import { assertLinear } from './measure.ts'

/** One object of `n` bytes as a single fragment, cut into reads of `step` bytes. */
function reads(n: number, step: number): Uint8Array[] {
  const whole = encodeFragment({
    objectId: 1n,
    fragmentId: 0n,
    start: true,
    end: true,
    data: new Uint8Array(n).fill(0x41),
  })
  const out: Uint8Array[] = []
  for (let i = 0; i < whole.length; i += step) out.push(whole.subarray(i, i + step))
  return out
}

function feed(chunks: Uint8Array[]): void {
  const d = new Defragmenter({ maxObjectSize: 64 * 1024 * 1024 })
  let messages = 0
  for (const c of chunks) messages += d.push(c).length
  if (messages !== 1) throw new Error(`expected one message, got ${messages}`)
}

test('defragmenter: an object arriving 16 bytes per read is linear', () => {
  assertLinear('16-byte reads', (n) => reads(n, 16), feed, {
    n: 64 * 1024,
    sizeOf: (c) => (c as Uint8Array[]).length * 16,
  })
})

test('defragmenter: an object arriving one byte per read is linear', () => {
  assertLinear('1-byte reads', (n) => reads(n, 1), feed, {
    n: 16 * 1024,
    sizeOf: (c) => (c as Uint8Array[]).length,
  })
})
