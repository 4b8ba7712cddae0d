/**
 * The DER codec (src/auth/asn1): known encodings from X.690 and RFC examples, strictness (every
 * BER-but-not-DER form refused), round trips fuzzed with fast-check, malformed input never throwing
 * anything but a PsrpError, and the pyspnego corpus (Kerberos, CredSSP, GSS-framed tokens) decoded
 * and re-encoded byte for byte.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { PsrpError, ProtocolError } from '../../../src/errors.ts'
import {
  DerReader,
  TagClass,
  decodeDer,
  decodeDerTree,
  decodeGssInitialContextToken,
  decodeOidContent,
  derApplication,
  derBitString,
  derBoolean,
  derEnumerated,
  derField,
  derGeneralString,
  derGeneralizedTime,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derOptionalField,
  derRaw,
  derSequence,
  derTlv,
  encodeDer,
  encodeDerTree,
  encodeGssInitialContextToken,
  encodeOidContent,
  type DerTree,
} from '../../../src/auth/asn1/index.ts'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const isPsrp = (err: unknown): boolean => err instanceof PsrpError
const refuses = (h: string, read: (r: DerReader) => unknown): void => {
  assert.throws(() => decodeDer(unhex(h), read), ProtocolError, h)
}

test('INTEGER: minimal two’s complement both ways, bigint-safe', () => {
  const cases: [bigint, string][] = [
    [0n, '020100'],
    [127n, '02017f'],
    [128n, '02020080'],
    [256n, '02020100'],
    [-1n, '0201ff'],
    [-128n, '020180'],
    [-129n, '0202ff7f'],
    [2n ** 63n, '0209008000000000000000'],
    [-(2n ** 64n), '0209ff0000000000000000'],
  ]
  for (const [v, h] of cases) {
    assert.equal(hex(encodeDer(derInteger(v))), h, String(v))
    assert.equal(
      decodeDer(unhex(h), (r) => r.integer()),
      v,
    )
  }
  assert.equal(hex(encodeDer(derInteger(-2147483648))), '020480000000')
  assert.equal(hex(encodeDer(derInteger(Number.MAX_SAFE_INTEGER))), '02071fffffffffffff')
  assert.equal(
    decodeDer(unhex('02071fffffffffffff'), (r) => r.smallInteger()),
    Number.MAX_SAFE_INTEGER,
  )
  refuses('020820000000000000ff', (r) => r.smallInteger()) // beyond 2^53
  refuses('0200', (r) => r.integer())
  refuses('0202007f', (r) => r.integer()) // redundant 0x00
  refuses('0202ff80', (r) => r.integer()) // redundant 0xff
  assert.throws(() => derInteger(2 ** 53), ProtocolError)
})

test('lengths: short, long, and every non-DER form refused', () => {
  const big = new Uint8Array(300).fill(7)
  const enc = encodeDer(derOctetString(big))
  assert.equal(hex(enc.subarray(0, 4)), '0482012c')
  assert.deepEqual(
    decodeDer(enc, (r) => r.octetString()),
    big,
  )
  assert.equal(hex(encodeDer(derOctetString(new Uint8Array(128)))).slice(0, 6), '048180')
  refuses('0480', (r) => r.octetString()) // indefinite
  refuses('04810100', (r) => r.octetString()) // long form < 128
  refuses('0482000100', (r) => r.octetString()) // leading zero length octet
  refuses('0485010000000000', (r) => r.octetString()) // 5 length octets
  refuses('0403aabb', (r) => r.octetString()) // truncated
  refuses('04', (r) => r.octetString())
  refuses('040100ff', (r) => r.octetString()) // trailing data
  refuses('2400', (r) => r.octetString()) // constructed OCTET STRING (BER only)
})

test('tags: context [n] constructed, application, high tag numbers', () => {
  const v = encodeDer(
    derSequence([derField(0, derInteger(5)), derOptionalField(1, undefined), derField(30, derNull())]),
  )
  assert.equal(hex(v), '3009a003020105be020500')
  const seq = new DerReader(v).sequence()
  assert.equal(
    seq.field(0, (r) => r.smallInteger()),
    5,
  )
  assert.equal(
    seq.optionalField(1, (r) => r.integer()),
    undefined,
  )
  assert.equal(
    seq.field(30, (r) => r.null()),
    null,
  )
  seq.end()
  const hi = encodeDer(derTlv(TagClass.context, 200, [derBoolean(true)]))
  assert.equal(hex(hi), 'bf8148030101ff')
  assert.equal(
    decodeDer(hi, (r) => r.field(200, (x) => x.boolean())),
    true,
  )
  assert.equal(hex(encodeDer(derApplication(14, derSequence([])))), '6e023000')
  refuses('bf1e00', (r) => r.any()) // tag 30 in multi-byte form
  refuses('bf800100', (r) => r.any()) // leading 0x80 in tag number
  refuses('bf8f8f8f8f0100', (r) => r.any()) // 5-byte tag number
  refuses('a0023000', (r) => r.field(1, (x) => x.sequence()))
  refuses('a0043000', (r) => r.field(0, (x) => x.sequence()))
  refuses('a00430000500', (r) => r.field(0, (x) => x.sequence())) // two values in one explicit tag
  refuses('800100', (r) => r.field(0, (x) => x.integer())) // primitive where constructed expected
})

test('OID: X.690 examples, big arcs, strictness', () => {
  const cases: [string, string][] = [
    ['1.3.6.1.5.5.2', '06062b0601050502'],
    ['1.2.840.113554.1.2.2', '06092a864886f712010202'],
    ['1.2.840.48018.1.2.2', '06092a864882f712010202'],
    ['1.3.6.1.4.1.311.2.2.10', '060a2b06010401823702020a'],
    ['2.999.3', '0603883703'],
    ['0.0', '060100'],
  ]
  for (const [oid, h] of cases) {
    assert.equal(hex(encodeDer(derOid(oid))), h, oid)
    assert.equal(
      decodeDer(unhex(h), (r) => r.oid()),
      oid,
    )
  }
  const huge = '2.100.18446744073709551616.9007199254740993'
  assert.equal(decodeOidContent(encodeOidContent(huge)), huge)
  for (const bad of ['', '1', '3.1', '1.40', '1.2.', '1..2', '01.2', '1.2.a']) {
    assert.throws(() => derOid(bad), ProtocolError, bad)
  }
  refuses('0600', (r) => r.oid())
  refuses('06022a80', (r) => r.oid()) // truncated arc
  refuses('0603802a01', (r) => r.oid()) // leading 0x80
})

test('BIT STRING, BOOLEAN, NULL, ENUMERATED, strings', () => {
  assert.equal(hex(encodeDer(derBitString(Uint8Array.of(0x60), 5))), '03020560')
  assert.deepEqual(
    decodeDer(unhex('03020560'), (r) => r.bitString()),
    { bytes: Uint8Array.of(0x60), unusedBits: 5 },
  )
  assert.deepEqual(
    decodeDer(unhex('030100'), (r) => r.bitString()),
    { bytes: new Uint8Array(0), unusedBits: 0 },
  )
  refuses('03020561', (r) => r.bitString()) // padding bit set
  refuses('030108', (r) => r.bitString()) // unused bits with no data
  refuses('03020860', (r) => r.bitString()) // 8 unused bits
  refuses('0300', (r) => r.bitString())
  assert.throws(() => derBitString(Uint8Array.of(1), 1), ProtocolError)
  refuses('010101', (r) => r.boolean())
  refuses('0101', (r) => r.boolean())
  refuses('050100', (r) => r.null())
  assert.equal(hex(encodeDer(derEnumerated(2))), '0a0102')
  assert.equal(
    decodeDer(unhex('0a0103'), (r) => r.enumerated()),
    3,
  )
  assert.equal(hex(encodeDer(derGeneralString('LAB.TEST'))), '1b084c41422e54455354')
  assert.equal(
    decodeDer(unhex('1b084c41422e54455354'), (r) => r.generalString()),
    'LAB.TEST',
  )
  assert.equal(
    decodeDer(encodeDer(derGeneralString('Jörg')), (r) => r.generalString()),
    'Jörg',
  )
  refuses('1b01ff', (r) => r.generalString()) // invalid UTF-8
})

test('GeneralizedTime: Kerberos form, fractions, strictness', () => {
  const t = new Date(Date.UTC(2020, 5, 13, 21, 4, 23))
  assert.equal(hex(encodeDer(derGeneralizedTime(t))), '180f32303230303631333231303432335a')
  assert.equal(
    decodeDer(unhex('180f32303230303631333231303432335a'), (r) => r.generalizedTime()).getTime(),
    t.getTime(),
  )
  const ms = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 120))
  const enc = encodeDer(derGeneralizedTime(ms))
  assert.equal(Buffer.from(enc.subarray(2)).toString(), '20260102030405.12Z')
  assert.equal(decodeDer(enc, (r) => r.generalizedTime()).getTime(), ms.getTime())
  for (const bad of [
    '20200613210423',
    '20200613210423.0Z',
    '20200613210423.Z',
    '20201313210423Z',
    '20200230000000Z',
    '202006132104Z',
    '20200613210460Z',
    '20200613210423+0100',
  ]) {
    const h = hex(Uint8Array.of(0x18, bad.length, ...Buffer.from(bad)))
    refuses(h, (r) => r.generalizedTimeText())
    assert.throws(() => derGeneralizedTime(bad), ProtocolError, bad)
  }
})

test('GSS InitialContextToken framing (RFC 2743 §3.1)', () => {
  const inner = unhex('0100deadbeef')
  const tok = encodeGssInitialContextToken('1.2.840.113554.1.2.2', inner)
  assert.equal(hex(tok), '601106092a864886f7120102020100deadbeef')
  const d = decodeGssInitialContextToken(tok)
  assert.equal(d.mech, '1.2.840.113554.1.2.2')
  assert.deepEqual(d.innerToken, inner)
  assert.throws(() => decodeGssInitialContextToken(unhex('6003020100')), ProtocolError)
  assert.throws(() => decodeGssInitialContextToken(unhex('a0020500')), ProtocolError)
  assert.throws(() => decodeGssInitialContextToken(Uint8Array.of(...tok, 0)), ProtocolError)
  assert.throws(() => derRaw(Uint8Array.of(...tok, 0)), ProtocolError)
  assert.deepEqual(encodeDer(derSequence([derRaw(tok)])).subarray(2), tok)
})

// --- property tests -------------------------------------------------------------------------------

const leaf: fc.Arbitrary<DerTree> = fc.record({
  tagClass: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
  tag: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0x0fffffff })),
  value: fc.uint8Array({ maxLength: 300 }),
})
const { tree } = fc.letrec<{ tree: DerTree; node: DerTree }>((tie) => ({
  node: fc.record({
    tagClass: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
    tag: fc.integer({ min: 0, max: 300 }),
    children: fc.array(tie('tree'), { maxLength: 4 }),
  }),
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('node')),
}))

test('property: any DER tree round-trips byte for byte', () => {
  fc.assert(
    fc.property(tree, (t) => {
      const bytes = encodeDerTree(t)
      const back = decodeDerTree(bytes)
      assert.deepEqual(encodeDerTree(back), bytes)
    }),
    { numRuns: 500 },
  )
})

test('property: INTEGER, OID, OCTET STRING, BIT STRING, strings, time round-trip', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (v) => {
      assert.equal(
        decodeDer(encodeDer(derInteger(v)), (r) => r.integer()),
        v,
      )
    }),
  )
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), (v) => {
      assert.deepEqual(encodeDer(derInteger(v)), encodeDer(derInteger(BigInt(v))))
    }),
  )
  const oid = fc
    .tuple(
      fc.constantFrom(0, 1, 2),
      fc.integer({ min: 0, max: 39 }),
      fc.array(fc.bigInt({ min: 0n, max: 2n ** 70n }), { maxLength: 10 }),
    )
    .map(([a, b, rest]) => [a, a === 2 ? b * 1000 : b, ...rest].join('.'))
  fc.assert(
    fc.property(oid, (o) =>
      assert.equal(
        decodeDer(encodeDer(derOid(o)), (r) => r.oid()),
        o,
      ),
    ),
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 70000 }), (b) => {
      assert.deepEqual(
        decodeDer(encodeDer(derOctetString(b)), (r) => r.octetString()),
        b,
      )
    }),
    { numRuns: 30 },
  )
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 20 }),
      fc.integer({ min: 0, max: 7 }),
      (b, unused) => {
        const bytes = b.slice()
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) & (0xff << unused)
        const back = decodeDer(encodeDer(derBitString(bytes, unused)), (r) => r.bitString())
        assert.deepEqual(back, { bytes, unusedBits: unused })
      },
    ),
  )
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) =>
      assert.equal(
        decodeDer(encodeDer(derGeneralString(s)), (r) => r.generalString()),
        s,
      ),
    ),
  )
  fc.assert(
    fc.property(
      fc.date({
        min: new Date(Date.UTC(1, 0, 1)),
        max: new Date(Date.UTC(9999, 11, 31)),
        noInvalidDate: true,
      }),
      (d) => {
        assert.equal(
          decodeDer(encodeDer(derGeneralizedTime(d)), (r) => r.generalizedTime()).getTime(),
          d.getTime(),
        )
      },
    ),
  )
})

const readers: ((b: Uint8Array) => unknown)[] = [
  (b) => decodeDerTree(b),
  (b) => decodeDerTree(b, { maxDepth: 3 }),
  (b) => decodeGssInitialContextToken(b),
  (b) => decodeDer(b, (r) => r.integer()),
  (b) => decodeDer(b, (r) => r.oid()),
  (b) => decodeDer(b, (r) => r.bitString()),
  (b) => decodeDer(b, (r) => r.generalizedTime()),
  (b) => decodeDer(b, (r) => r.generalString()),
  (b) => decodeDer(b, (r) => r.enumerated()),
  (b) => decodeDer(b, (r) => r.sequenceOf((x) => x.field(0, (y) => y.integer()))),
  (b) =>
    decodeDer(b, (r) =>
      r
        .application(14)
        .sequence()
        .optionalField(3, (x) => x.octetString()),
    ),
]

function onlyPsrpErrors(bytes: Uint8Array): void {
  for (const read of readers) {
    try {
      read(bytes)
    } catch (err) {
      assert.ok(isPsrp(err), `non-PsrpError ${String(err)} for ${hex(bytes)}`)
    }
  }
}

test('fuzz: random bytes never throw anything but PsrpError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), onlyPsrpErrors), { numRuns: 3000 })
})

test('fuzz: mutated valid DER never throws anything but PsrpError', () => {
  fc.assert(
    fc.property(
      tree,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(),
      (t, flips, cut) => {
        const bytes = encodeDerTree(t).slice()
        for (const [i, v] of flips) if (bytes.length > 0) bytes[i % bytes.length] = v
        onlyPsrpErrors(bytes)
        onlyPsrpErrors(bytes.subarray(0, bytes.length === 0 ? 0 : cut % bytes.length))
      },
    ),
    { numRuns: 500 },
  )
})

test('deep nesting is bounded', () => {
  let b: Uint8Array = Uint8Array.of(0x05, 0x00)
  for (let i = 0; i < 100; i++) b = encodeDer(derSequence([derRaw(b)]))
  assert.throws(() => decodeDerTree(b), /nesting deeper than 64/)
  assert.doesNotThrow(() => decodeDerTree(b, { maxDepth: 200 }))
})

// --- corpus ---------------------------------------------------------------------------------------

const corpus = corpusDir()
const dataDir = corpus === undefined ? undefined : join(corpus, 'pyspnego/tests/data')
const skip = peerSkip(
  'pyspnego corpus',
  dataDir !== undefined && existsSync(join(dataDir, 'krb_as_req')),
  'put the shared folder beside the checkout (../shared/corpus)',
)

test('corpus: every DER file in pyspnego’s test data round-trips byte for byte', { skip }, () => {
  const dir = dataDir as string
  const names = readdirSync(dir).filter((n) => /^(krb_|credssp_|initial_context_token_|neg_token_)/.test(n))
  assert.ok(names.length >= 18, `found ${names.length}`)
  for (const name of names) {
    const bytes = new Uint8Array(readFileSync(join(dir, name)))
    assert.deepEqual(encodeDerTree(decodeDerTree(bytes)), bytes, name)
    if (name.startsWith('initial_context_token_')) {
      const { mech, innerToken } = decodeGssInitialContextToken(bytes)
      assert.deepEqual(encodeGssInitialContextToken(mech, innerToken), bytes, name)
    }
  }
  // A typed read of KRB-ERROR's SEQUENCE (RFC 4120 §5.9.1; stored without [APPLICATION 30]).
  const err = new DerReader(new Uint8Array(readFileSync(join(dir, 'krb_error'))), 'KRB-ERROR').sequence()
  assert.equal(
    err.field(0, (r) => r.smallInteger()),
    5,
  )
  assert.equal(
    err.field(1, (r) => r.smallInteger()),
    30,
  )
  assert.equal(
    err.optionalField(2, (r) => r.generalizedTimeText()),
    undefined,
  )
  assert.equal(
    err.optionalField(3, (r) => r.smallInteger()),
    undefined,
  )
  assert.equal(
    err.field(4, (r) => r.generalizedTimeText()),
    '20200613210423Z',
  )
})
