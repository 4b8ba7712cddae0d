/**
 * Property tests: corrupting real PSRP byte streams (the seed creationXml and one message of every
 * type) anywhere — flipped bits, overwritten bytes, cut or inserted bytes, forged header fields —
 * never crashes the decoders with anything but a PsrpError subclass, and never hangs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { params, typedWithinBudget } from './harness.ts'
import {
  ALL_MESSAGE_TYPES,
  Defragmenter,
  decodeMessage,
  decodeMessageBody,
  encodeFragment,
  encodeMessage,
  encodeMessageBody,
  Fragmenter,
  MessageType,
} from '../../src/psrp/index.ts'
import { sampleMessages } from '../unit/psrp/samples.ts'

const seed = Uint8Array.from(
  Buffer.from(
    readFileSync(new URL('../vectors/psrp/seed-creation-xml.b64', import.meta.url), 'utf8').trim(),
    'base64',
  ),
)

/** One stream holding every message type, fragmented at 200 bytes so most messages span fragments. */
function allTypesStream(): Uint8Array {
  const f = new Fragmenter()
  const frags: Uint8Array[] = []
  for (const type of ALL_MESSAGE_TYPES) {
    const body = encodeMessageBody(type, sampleMessages[type] as never)
    const msg = encodeMessage({
      destination: 'client',
      type: MessageType[type],
      rpid: '6e2f4cc5-3bd8-4a4a-9d52-27e5b0f0a6c1',
      pid: '4a2c1b8e-5f3d-4e6a-8b9c-0d1e2f3a4b5c',
      data: body,
      bom: true,
    })
    frags.push(...f.fragment(msg, 200).map(encodeFragment))
  }
  return Buffer.concat(frags)
}

const streams = [seed, allTypesStream()]

/** Feeds a stream through every decoding stage; returns how many messages decoded fully. */
function decodeAll(bytes: Uint8Array, chunk: number): number {
  const d = new Defragmenter({ maxObjectSize: 1 << 20 })
  let ok = 0
  for (let i = 0; i < bytes.length; i += chunk) {
    for (const raw of d.push(bytes.subarray(i, i + chunk))) {
      const msg = decodeMessage(raw)
      decodeMessageBody(msg.type, msg.data)
      ok++
    }
  }
  return ok
}

function onlyPsrpErrors(run: () => unknown): void {
  typedWithinBudget('PSRP decoders', undefined, run)
}

test('the uncorrupted streams decode completely', () => {
  assert.equal(decodeAll(streams[0] as Uint8Array, 1006), 2)
  assert.equal(decodeAll(streams[1] as Uint8Array, 97), ALL_MESSAGE_TYPES.length)
})

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }),
  }),
  // forge header fields of the fragment starting at a fragment boundary-ish offset
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.nat() }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

function mutate(src: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = Uint8Array.from(src)
  for (const m of muts) {
    if (b.length === 0) break
    const at = m.at % b.length
    switch (m.kind) {
      case 'flip':
        b[at] = (b[at] as number) ^ (1 << m.bit)
        break
      case 'set':
        b[at] = m.value
        break
      case 'cut':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.length)])
        break
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)])
        break
      case 'u32':
        if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, m.value % 0x100000000)
        break
    }
  }
  return b
}

test('corrupted streams only ever throw PsrpError subclasses', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: streams.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 4096 }),
      (which, muts, chunk) => {
        const bytes = mutate(streams[which] as Uint8Array, muts)
        onlyPsrpErrors(() => decodeAll(bytes, chunk))
      },
    ),
    params(3000),
  )
})

test('corrupted CLIXML bodies (text-level mutations) only ever throw PsrpError subclasses', () => {
  const bodies = ALL_MESSAGE_TYPES.map(
    (t) => [t, encodeMessageBody(t, sampleMessages[t] as never)] as const,
  ).filter(([, b]) => b !== '')
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: bodies.length - 1 }),
      fc.nat(),
      fc.nat(),
      fc.string({ maxLength: 12 }),
      (i, a, len, insert) => {
        const [type, body] = bodies[i] as (typeof bodies)[number]
        const at = a % body.length
        const mutated = body.slice(0, at) + insert + body.slice(at + (len % 16))
        onlyPsrpErrors(() => decodeMessageBody(MessageType[type], mutated))
      },
    ),
    params(3000),
  )
})
