/** src/internal/bytes.ts and src/internal/guid.ts: the byte and GUID helpers under the wire layer. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  ByteReader,
  ByteWriter,
  bytesEqual,
  concatBytes,
  fromBase64,
  fromHex,
  toBase64,
  toHex,
} from '../../../src/internal/bytes.ts'
import {
  guidFromBytes,
  guidToBytes,
  normalizeGuid,
  randomGuid,
  swapGuidByteOrder,
} from '../../../src/internal/guid.ts'
import { InvalidArgumentError, ProtocolError } from '../../../src/errors.ts'

test('ByteWriter/ByteReader: big- and little-endian fields round-trip at every width', () => {
  const w = new ByteWriter(1 + 2 + 2 + 4 + 4 + 8 + 8 + 3)
  w.u8(0xab).u16be(0x0102).u16le(0x0102).u32be(0x01020304).u32le(0x01020304)
  w.u64be(0x0102030405060708n)
    .u64le(0x0102030405060708n)
    .bytes(Uint8Array.of(9, 8, 7))
  const out = w.finish()
  assert.equal(
    toHex(out),
    'ab' + '0102' + '0201' + '01020304' + '04030201' + '0102030405060708' + '0807060504030201' + '090807',
  )
  const r = new ByteReader(out)
  assert.equal(r.u8(), 0xab)
  assert.equal(r.u16be(), 0x0102)
  assert.equal(r.u16le(), 0x0102)
  assert.equal(r.u32be(), 0x01020304)
  assert.equal(r.u32le(), 0x01020304)
  assert.equal(r.u64be(), 0x0102030405060708n)
  assert.equal(r.u64le(), 0x0102030405060708n)
  assert.deepEqual([...r.rest()], [9, 8, 7])
  assert.equal(r.remaining, 0)
})

test('ByteReader works on subarrays and reports truncation as a ProtocolError naming the structure', () => {
  const backing = Uint8Array.of(0xff, 0, 0, 0, 5, 0xff)
  const r = new ByteReader(backing.subarray(1, 5), 0, 'fragment header')
  assert.equal(r.u32be(), 5)
  assert.throws(
    () => r.u8(),
    (e: unknown) =>
      e instanceof ProtocolError && /fragment header truncated/.test(e.message) && e.side === 'remote',
  )
  assert.throws(() => new ByteWriter(2).u32be(1), RangeError)
  assert.throws(() => new ByteWriter(2).u8(1).finish(), /wrote 1 of 2/)
})

test('hex and base64: strict parsing, separators, round trips', () => {
  assert.equal(toHex(Uint8Array.of(0, 15, 255), ' '), '00 0f ff')
  assert.deepEqual([...(fromHex('0x00 0F:ff-10') as Uint8Array)], [0, 15, 255, 16])
  assert.equal(fromHex('abc'), undefined)
  assert.equal(fromHex('zz'), undefined)
  assert.equal(fromBase64('not base64!'), undefined)
  assert.equal(fromBase64('QUJD\nREVG')?.length, 6)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      assert.ok(bytesEqual(fromHex(toHex(b)) as Uint8Array, b))
      assert.ok(bytesEqual(fromBase64(toBase64(b)) as Uint8Array, b))
    }),
  )
  // strict, whatever the text: the same answer as the RFC 4648 grammar (whitespace removed first) on
  // text made of base64's alphabet, padding in any place, base64url's '-' and '_', whitespace and others
  const grammar = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
  const reference = (text: string): number[] | undefined => {
    const compact = text.replace(/\s+/g, '')
    return grammar.test(compact) ? [...Buffer.from(compact, 'base64')] : undefined
  }
  const hostile = fc.string({
    unit: fc.constantFrom(...'AQgw+/09=-_ \n!.\u00e9'.split('')),
    maxLength: 24,
  })
  fc.assert(
    fc.property(hostile, (text) => {
      const got = fromBase64(text)
      assert.deepEqual(got === undefined ? undefined : [...got], reference(text), JSON.stringify(text))
    }),
    { numRuns: 20_000 },
  )
  for (const text of ['QQ==QQ==', 'QQ=AQQ==', 'QUJD-A==', 'QUJD_A==', 'QUJDRA=', '====', 'QUJ\u00c9'])
    assert.equal(fromBase64(text), undefined, text)
  assert.deepEqual([...concatBytes([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)])], [1, 2, 3])
  assert.ok(!bytesEqual(Uint8Array.of(1), Uint8Array.of(1, 2)))
})

test('GUIDs: .NET ToByteArray() order vs RFC 4122 order', () => {
  // System.Guid("00112233-4455-6677-8899-aabbccddeeff").ToByteArray()
  const g = '00112233-4455-6677-8899-aabbccddeeff'
  assert.equal(toHex(guidToBytes(g)), '33221100554477668899aabbccddeeff')
  assert.equal(toHex(guidToBytes(g, 'be')), '00112233445566778899aabbccddeeff')
  assert.equal(guidFromBytes(fromHex('33221100554477668899aabbccddeeff') as Uint8Array), g)
  assert.equal(guidFromBytes(fromHex('00112233445566778899aabbccddeeff') as Uint8Array, 0, 'be'), g)
  assert.equal(swapGuidByteOrder(g), '33221100-5544-7766-8899-aabbccddeeff')
  assert.equal(normalizeGuid('{00112233-4455-6677-8899-AABBCCDDEEFF}'), g)
  fc.assert(
    fc.property(fc.uuid(), (u) => {
      assert.equal(guidFromBytes(guidToBytes(u)), u)
      assert.equal(swapGuidByteOrder(swapGuidByteOrder(u)), u)
    }),
  )
})

test('GUIDs: the default source is crypto.randomUUID (version 4), and sources are plain functions to inject', () => {
  const a = randomGuid()
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  assert.notEqual(a, randomGuid())
  let n = 0
  const fixed = (): string => `00000000-0000-0000-0000-${String(++n).padStart(12, '0')}`
  assert.equal(fixed(), '00000000-0000-0000-0000-000000000001')
})

test('GUIDs: malformed input', () => {
  assert.throws(
    () => normalizeGuid('nope'),
    (e: unknown) => e instanceof Error && 'code' in e,
  )
  assert.throws(() => normalizeGuid('nope'), InvalidArgumentError)
  assert.throws(() => normalizeGuid(undefined as unknown as string), InvalidArgumentError)
  assert.throws(() => guidToBytes('00112233-4455-6677-8899-aabbccddeef'), InvalidArgumentError)
  assert.throws(() => guidFromBytes(new Uint8Array(15)), ProtocolError)
  assert.throws(() => guidFromBytes(new Uint8Array(32), 17, 'be'), ProtocolError)
})
