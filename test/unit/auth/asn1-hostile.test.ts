/**
 * Hostile shapes for the DER decoders: an INTEGER's length is checked before it is converted (and
 * large ones convert in linear time to the right value), a GeneralizedTime of absurd length is refused
 * before any text is built, a KDC's very long ETYPE-INFO2 list gives a typed error, and TLS records
 * are framed one at a time so a bad record stops the rest from being framed. Timings are in
 * test/unit/complexity/auth-http.test.ts; these check the behaviour.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { AuthenticationError, ProtocolError } from '../../../src/errors.ts'
import { decodeDer, derInteger, derTlv, encodeDer, TagClass } from '../../../src/auth/asn1/index.ts'
import { decodeTsRequest, encodeTsRequest } from '../../../src/auth/credssp/ts-request.ts'
import { serverRandomFromFlight, tlsRecords } from '../../../src/auth/credssp/tls-record.ts'
import { requestTgt } from '../../../src/auth/kerberos/kdc-exchange.ts'
import { encodeKrbError } from '../../../src/auth/kerberos/messages/krb-error.ts'
import { encodeEtypeInfo2, encodeMethodData } from '../../../src/auth/kerberos/messages/pa-data.ts'

const integerTlv = (content: Uint8Array): Uint8Array => encodeDer(derTlv(TagClass.universal, 2, content))

/** Reference two's-complement conversion, one byte at a time. */
function reference(c: Uint8Array): bigint {
  let v = 0n
  for (const b of c) v = (v << 8n) | BigInt(b)
  return (c[0] as number) & 0x80 ? v - (1n << BigInt(8 * c.length)) : v
}

test('INTEGER: every size converts to the right value, both signs', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (raw) => {
      const c = Uint8Array.from(raw)
      // make it minimal: the first 9 bits must not be all equal
      if (
        c.length > 1 &&
        ((c[0] === 0 && (c[1] as number) < 0x80) || (c[0] === 0xff && (c[1] as number) >= 0x80))
      ) {
        c[0] = 0x40
      }
      assert.equal(
        decodeDer(integerTlv(c), (r) => r.integer()),
        reference(c),
      )
    }),
  )
  for (const n of [15, 16, 17, 4096, 100_000]) {
    for (const fill of [0x11, 0xab]) {
      const c = new Uint8Array(n).fill(fill)
      assert.equal(
        decodeDer(integerTlv(c), (r) => r.integer()),
        reference(c),
        `${n} bytes of ${fill}`,
      )
    }
  }
  assert.equal(
    decodeDer(encodeDer(derInteger(-(2n ** 200n))), (r) => r.integer()),
    -(2n ** 200n),
  )
})

test('INTEGER: maxBytes and smallInteger refuse longer contents before converting them', () => {
  const long = integerTlv(new Uint8Array(8).fill(0x11))
  assert.throws(
    () => decodeDer(long, (r) => r.integer(7)),
    (e: unknown) => e instanceof ProtocolError && /INTEGER out of range/.test(e.message),
  )
  assert.equal(
    decodeDer(long, (r) => r.integer(8)),
    0x1111111111111111n,
  )
  assert.throws(
    () => decodeDer(long, (r) => r.smallInteger()),
    (e: unknown) => e instanceof ProtocolError && /INTEGER out of range/.test(e.message),
  )
  assert.equal(
    decodeDer(encodeDer(derInteger(Number.MIN_SAFE_INTEGER)), (r) => r.smallInteger()),
    Number.MIN_SAFE_INTEGER,
  )
})

test('CredSSP TSRequest: errorCode holds any 32-bit NTSTATUS, a longer INTEGER is refused', () => {
  const ok = decodeTsRequest(encodeTsRequest({ version: 6, errorCode: 0xffffffff }))
  assert.equal(ok.errorCode, 0xffffffff)
  assert.equal(decodeTsRequest(encodeTsRequest({ version: 6, errorCode: 0xc000006d })).errorCode, 0xc000006d)
  const six = encodeDer(
    derTlv(TagClass.universal, 16, [
      derTlv(TagClass.context, 0, [derInteger(6)]),
      derTlv(TagClass.context, 4, [derTlv(TagClass.universal, 2, Uint8Array.of(0x01, 0, 0, 0, 0, 0))]),
    ]),
  )
  assert.throws(
    () => decodeTsRequest(six),
    (e: unknown) => e instanceof ProtocolError && /INTEGER out of range/.test(e.message),
  )
})

test('GeneralizedTime: longer than any real time is refused as too long', () => {
  const long = encodeDer(derTlv(TagClass.universal, 24, new Uint8Array(65).fill(0x31)))
  assert.throws(
    () => decodeDer(long, (r) => r.generalizedTime()),
    (e: unknown) => e instanceof ProtocolError && /GeneralizedTime of 65 bytes is too long/.test(e.message),
  )
  const fraction = `20260101000000.${'1'.repeat(48)}Z`
  assert.equal(
    decodeDer(encodeDer(derTlv(TagClass.universal, 24, new TextEncoder().encode(fraction))), (r) =>
      r.generalizedTimeText(),
    ),
    fraction,
  )
})

test('AS exchange: a KDC listing 140 000 unusable enctypes gets a typed error, not a stack overflow', async () => {
  const entries = new Array(140_000).fill({ etype: 99 })
  const reply = encodeKrbError({
    stime: new Date(0),
    susec: 0,
    errorCode: 25, // KDC_ERR_PREAUTH_REQUIRED
    realm: 'R',
    sname: { nameType: 2, components: ['krbtgt', 'R'] },
    eData: encodeDer(encodeMethodData([{ type: 19, value: encodeEtypeInfo2(entries) }])),
  })
  assert.ok(reply.length < 1024 * 1024, 'fits a KDC reply')
  await assert.rejects(
    requestTgt(
      { client: { nameType: 1, components: ['u'], realm: 'R' }, secret: { password: 'p' } },
      () => Promise.resolve(reply),
      { now: () => new Date(0), random: (k) => new Uint8Array(k) },
    ),
    (e: unknown) => e instanceof AuthenticationError && /offers no enctype/.test(e.message),
  )
})

test('TLS records are framed one at a time: a consumer stops at a bad record', () => {
  const good = Uint8Array.of(22, 3, 3, 0, 1, 7)
  const bytes = new Uint8Array([...good, ...good, 0x47, 0x45, 0x54, 0x20, 0x2f])
  const it = tlsRecords(bytes)
  assert.deepEqual([...(it.next().value?.fragment ?? [])], [7])
  assert.deepEqual([...(it.next().value?.fragment ?? [])], [7])
  assert.throws(() => it.next(), ProtocolError)
  // the ServerHello search stops as soon as it has the 38 bytes it needs
  const hello = new Uint8Array(5 + 38)
  hello.set([22, 3, 3, 0, 38, 2])
  hello.fill(0xaa, 5 + 6)
  const flight = new Uint8Array([...hello, 0x47, 0x45, 0x54])
  assert.deepEqual(serverRandomFromFlight(flight), new Uint8Array(32).fill(0xaa))
})
