/**
 * Hostile input to the HTTP/1.1 response parser, the KDC reply framing and every ASN.1 / NTLM /
 * SPNEGO / Kerberos / CredSSP decoder costs time and memory linear in its size: each shape is run at
 * n, 2n and 4n with `assertLinear` (`measure.ts`: fails when 4n costs more than 6 times n, or one input
 * under 1 MB takes over a second). A malicious server, KDC or man in the middle before encryption
 * starts can send any of these.
 *
 * Set `PSRP_COMPLEXITY_REPORT=1` to print every measurement.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { ProtocolError } from '../../../src/errors.ts'
import { ResponseParser, type ResponseParserOptions } from '../../../src/transport/http/http1.ts'
import { KdcReplyReader } from '../../../src/transport/kdc.ts'
import {
  DerReader,
  decodeDer,
  decodeDerTree,
  decodeGssInitialContextToken,
  decodeOidContent,
} from '../../../src/auth/asn1/index.ts'
import { decodeTsRequest } from '../../../src/auth/credssp/ts-request.ts'
import { decodeTsCredentials, decodeTsPasswordCreds } from '../../../src/auth/credssp/ts-credentials.ts'
import { serverRandomFromFlight, tlsRecords } from '../../../src/auth/credssp/tls-record.ts'
import { subjectPublicKey } from '../../../src/auth/credssp/public-key.ts'
import { decodeSpnegoToken } from '../../../src/auth/spnego/tokens.ts'
import { decodeChallenge } from '../../../src/auth/ntlm/challenge.ts'
import { decodeAvPairs } from '../../../src/auth/ntlm/av-pairs.ts'
import { decodeKrbError } from '../../../src/auth/kerberos/messages/krb-error.ts'
import { decodeKdcRep } from '../../../src/auth/kerberos/messages/kdc-rep.ts'
import { decodeKrbCred } from '../../../src/auth/kerberos/messages/krb-cred.ts'
import { decodeApRep } from '../../../src/auth/kerberos/messages/ap-rep.ts'
import { decodeEtypeInfo2, decodeMethodData } from '../../../src/auth/kerberos/messages/pa-data.ts'
import { assertLinear, describeScaling } from './measure.ts'

// ---------------------------------------------------------------------------------------------------
// measuring

const report: string[] = []
after(() => {
  if (process.env['PSRP_COMPLEXITY_REPORT'] !== undefined) console.log(report.join('\n'))
})

const sizeOf = (input: unknown): number =>
  input instanceof Uint8Array ? input.length : typeof input === 'string' ? input.length : 0

/**
 * `assertLinear` at n, 2n and 4n. Sizes are realistic and small enough that all three allocate in
 * the same regime of the V8 heap: an object over 128 KiB (a string of 128 Ki characters, an array of
 * 16 Ki elements) goes to the large-object space, which costs more per byte, so a 4n that crosses
 * that line looks super-linear when it is not. Shapes that cost little (refused at once, decoded
 * without copying) are run many times in a row per sample.
 */
function linear<T>(name: string, build: (n: number) => T, run: (input: T) => unknown, n: number): void {
  const s = assertLinear(name, build, run, { n, sizeOf, minMs: 8, maxRuns: 10_000 })
  report.push(describeScaling(name, s))
}

/** Runs `fn`, which must throw a ProtocolError. */
function refuses(fn: () => unknown): void {
  assert.throws(fn, ProtocolError)
}

// ---------------------------------------------------------------------------------------------------
// building DER (never with spread arguments: the pieces can be many)

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')

function tlv(id: number, content: Uint8Array | readonly Uint8Array[] = []): Buffer {
  const body = content instanceof Uint8Array ? content : Buffer.concat(content)
  const n = body.length
  const len: number[] = []
  if (n < 0x80) len.push(n)
  else {
    for (let x = n; x > 0; x = Math.floor(x / 256)) len.unshift(x & 0xff)
    len.unshift(0x80 | len.length)
  }
  return Buffer.concat([Buffer.from([id]), Buffer.from(len), body])
}
const seq = (items: readonly Uint8Array[]): Buffer => tlv(0x30, items)
const ctx = (n: number, inner: Uint8Array): Buffer => tlv(0xa0 + n, inner)
const app = (n: number, inner: Uint8Array): Buffer => tlv(0x60 + n, inner)
const many = (n: number, item: Uint8Array): Uint8Array[] => new Array<Uint8Array>(n).fill(item)
function int(v: number): Buffer {
  const b: number[] = []
  let x = v
  do {
    b.unshift(x & 0xff)
    x = Math.floor(x / 256)
  } while (x > 0)
  if (((b[0] as number) & 0x80) !== 0) b.unshift(0)
  return tlv(0x02, Buffer.from(b))
}
/** A minimal positive INTEGER of `n` contents bytes. */
const hugeInt = (n: number): Buffer => tlv(0x02, Buffer.alloc(n, 0x11))
const octets = (b: Uint8Array): Buffer => tlv(0x04, b)
const gstr = (s: string): Buffer => tlv(0x1b, Buffer.from(s, 'utf8'))
const time = (): Buffer => tlv(0x18, latin1('20260101000000Z'))
const principal = (components: readonly string[]): Buffer =>
  seq([ctx(0, int(1)), ctx(1, seq(components.map(gstr)))])
const encData = (cipher: Uint8Array): Buffer => seq([ctx(0, int(18)), ctx(2, octets(cipher))])
const ticket = (cipher: Uint8Array = Buffer.alloc(16)): Buffer =>
  app(
    1,
    seq([ctx(0, int(5)), ctx(1, gstr('R')), ctx(2, principal(['krbtgt', 'R'])), ctx(3, encData(cipher))]),
  )

function krbError(o: {
  pvno?: Buffer
  errorCode?: Buffer
  sname?: Buffer
  eText?: Buffer
  eData?: Buffer
}): Buffer {
  return app(
    30,
    seq([
      ctx(0, o.pvno ?? int(5)),
      ctx(1, int(30)),
      ctx(4, time()),
      ctx(5, int(0)),
      ctx(6, o.errorCode ?? int(6)),
      ctx(9, gstr('R')),
      ctx(10, o.sname ?? principal(['krbtgt', 'R'])),
      ...(o.eText === undefined ? [] : [ctx(11, o.eText)]),
      ...(o.eData === undefined ? [] : [ctx(12, octets(o.eData))]),
    ]),
  )
}

/** Feeds `wire` to a fresh parser `step` bytes per read; returns the response. */
function feed(wire: Buffer, step: number, options?: ResponseParserOptions) {
  const p = new ResponseParser(options)
  let res
  for (let i = 0; i < wire.length; i += step) res = p.push(wire.subarray(i, i + step)) ?? res
  res ??= p.end()
  assert.ok(res !== undefined)
  return res
}

const BIG_HEAD = { maxHeaderSize: 4 * 1024 * 1024 }
const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'

// ---------------------------------------------------------------------------------------------------

describe('HTTP/1.1 response parser: linear in the bytes received, whatever the read sizes', () => {
  test('a head with one long header, one byte per read, up to the default 64 KiB limit', () => {
    linear(
      'head: long header, 1 byte/read',
      (n) => latin1(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(n)}\r\nContent-Length: 0\r\n\r\n`),
      (wire) => feed(wire, 1),
      15_000,
    )
  })

  test('a head beyond the limit, one byte per read, is refused at the limit', () => {
    linear(
      'head: over the limit, 1 byte/read',
      (n) => latin1(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(n)}`),
      (wire) => refuses(() => feed(wire, 1)),
      64 * 1024,
    )
  })

  test('many empty headers of one name, in one read and one byte per read', () => {
    const build = (n: number): Buffer =>
      latin1(`HTTP/1.1 200 OK\r\n${'X:\r\n'.repeat(n)}Content-Length: 0\r\n\r\n`)
    linear('head: same-name empty headers, one read', build, (w) => feed(w, w.length, BIG_HEAD), 3_000)
    linear('head: same-name empty headers, 1 byte/read', build, (w) => feed(w, 1, BIG_HEAD), 4_000)
  })

  test('many distinct headers, in one read', () => {
    linear(
      'head: distinct headers, one read',
      (n) => {
        let h = 'HTTP/1.1 200 OK\r\n'
        for (let i = 0; i < n; i++) h += `X-${i}: v\r\n`
        return latin1(`${h}Content-Length: 0\r\n\r\n`)
      },
      (w) => feed(w, w.length, BIG_HEAD),
      3_000,
    )
  })

  test('interim 100 Continue heads, many in one read', () => {
    linear(
      'head: 100 Continue heads',
      (n) => latin1(`${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(n)}HTTP/1.1 204 No Content\r\n\r\n`),
      (w) => assert.equal(feed(w, w.length).status, 204),
      8_000,
    )
  })

  test('chunked: one-byte chunks, one byte per read and in one read', () => {
    const build = (n: number): Buffer => latin1(`${CHUNKED}${'1\r\nx\r\n'.repeat(n)}0\r\n\r\n`)
    linear('chunked: 1-byte chunks, 1 byte/read', build, (w) => feed(w, 1), 3_000)
    linear('chunked: 1-byte chunks, one read', build, (w) => feed(w, w.length), 10_000)
  })

  test('chunked: a large chunk, long chunk extensions and many trailers, one byte per read', () => {
    linear(
      'chunked: large chunk, 1 byte/read',
      (n) => latin1(`${CHUNKED}${n.toString(16)}\r\n${'y'.repeat(n)}\r\n0\r\n\r\n`),
      (w) => feed(w, 1),
      40_000,
    )
    linear(
      'chunked: 1000-byte extensions, 1 byte/read',
      (n) => latin1(`${CHUNKED}${`1;${'e'.repeat(1000)}\r\nx\r\n`.repeat(n)}0\r\n\r\n`),
      (w) => feed(w, 1),
      20,
    )
    linear(
      'chunked: trailers, 1 byte/read',
      (n) => latin1(`${CHUNKED}1\r\nx\r\n0\r\n${'T: v\r\n'.repeat(n)}\r\n`),
      (w) => feed(w, 1),
      2_500,
    )
  })

  test('Content-Length and read-to-EOF bodies, one byte per read', () => {
    linear(
      'body: Content-Length, 1 byte/read',
      (n) => latin1(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\n\r\n${'z'.repeat(n)}`),
      (w) => feed(w, 1),
      40_000,
    )
    linear(
      'body: to EOF, 1 byte/read',
      (n) => latin1(`HTTP/1.0 200 OK\r\n\r\n${'z'.repeat(n)}`),
      (w) => feed(w, 1),
      40_000,
    )
  })
})

describe('KDC reply framing', () => {
  test('a reply fed one byte per read', () => {
    linear(
      'KDC reply, 1 byte/read',
      (n) => {
        const f = Buffer.alloc(4 + n, 0x5a)
        f.writeUInt32BE(n, 0)
        return f
      },
      (wire) => {
        const r = new KdcReplyReader('k:88')
        let got: Uint8Array | undefined
        for (let i = 0; i < wire.length; i++) got = r.push(wire.subarray(i, i + 1)) ?? got
        assert.equal(got?.length, wire.length - 4)
      },
      40_000,
    )
  })
})

describe('ASN.1 INTEGER: length checked before conversion, conversion linear', () => {
  test('KRB-ERROR with a huge pvno or error-code is refused at once', () => {
    linear(
      'KRB-ERROR: huge pvno',
      (n) => krbError({ pvno: hugeInt(n) }),
      (b) => refuses(() => decodeKrbError(b)),
      64 * 1024,
    )
    linear(
      'KRB-ERROR: huge error-code',
      (n) => krbError({ errorCode: hugeInt(n) }),
      (b) => refuses(() => decodeKrbError(b)),
      64 * 1024,
    )
  })

  test('CredSSP TSRequest with a huge version or errorCode is refused at once', () => {
    linear(
      'TSRequest: huge version',
      (n) => seq([ctx(0, hugeInt(n))]),
      (b) => refuses(() => decodeTsRequest(b)),
      64 * 1024,
    )
    linear(
      'TSRequest: huge errorCode',
      (n) => seq([ctx(0, int(6)), ctx(4, hugeInt(n))]),
      (b) => refuses(() => decodeTsRequest(b)),
      64 * 1024,
    )
  })

  test('SPNEGO negState: a huge ENUMERATED is refused at once', () => {
    linear(
      'SPNEGO: huge ENUMERATED',
      (n) => ctx(1, seq([ctx(0, tlv(0x0a, Buffer.alloc(n, 0x11)))])),
      (b) => refuses(() => decodeSpnegoToken(b)),
      64 * 1024,
    )
  })

  test('an INTEGER of any size converts in linear time', () => {
    linear(
      'DerReader.integer(), n bytes',
      (n) => tlv(0x02, Buffer.alloc(n, 0xab)),
      (b) => assert.ok(decodeDer(b, (r) => r.integer()) < 0n),
      8 * 1024,
    )
  })
})

describe('ASN.1 structure: nesting, many elements, lengths, OIDs, times', () => {
  test('decodeDerTree: many elements; nesting beyond the limit is refused', () => {
    linear(
      'DER tree: many elements',
      (n) => seq(many(n, tlv(0x05))),
      (b) => decodeDerTree(b),
      3_000,
    )
    linear(
      'DER tree: deep nesting',
      (n) => {
        let b: Buffer = tlv(0x05)
        for (let i = 0; i < n; i++) b = seq([b])
        return b
      },
      (b) => refuses(() => decodeDerTree(b)),
      500,
    )
  })

  test('a length claiming more than is there is refused at once', () => {
    linear(
      'DER: length beyond the data',
      (n) => Buffer.concat([Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(n)]),
      (b) => refuses(() => new DerReader(b).sequence()),
      256 * 1024,
    )
  })

  test('OBJECT IDENTIFIER: a long arc and too many arcs are refused at once; many OIDs are linear', () => {
    linear(
      'OID: one long arc',
      (n) => Buffer.concat([Buffer.alloc(n, 0x81), Buffer.from([0x01])]),
      (b) => refuses(() => decodeOidContent(b)),
      64 * 1024,
    )
    linear(
      'OID: many arcs',
      (n) => Buffer.alloc(n, 0x01),
      (b) => refuses(() => decodeOidContent(b)),
      64 * 1024,
    )
    const oid = tlv(0x06, Buffer.from([0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]))
    linear(
      'SPNEGO: NegTokenInit with many mechTypes',
      (n) => ctx(0, seq([ctx(0, seq(many(n, oid)))])),
      (b) => assert.equal(decodeSpnegoToken(b).token.kind, 'negTokenInit'),
      3_000,
    )
  })

  test('GSS InitialContextToken with a long inner token; a long GeneralizedTime is refused at once', () => {
    const krb5 = tlv(0x06, Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]))
    linear(
      'GSS token: long inner token',
      (n) => app(0, Buffer.concat([krb5, Buffer.alloc(n)])),
      (b) => decodeGssInitialContextToken(b),
      64 * 1024,
    )
    linear(
      'GeneralizedTime: n bytes',
      (n) => tlv(0x18, Buffer.alloc(n, 0x31)),
      (b) => refuses(() => decodeDer(b, (r) => r.generalizedTime())),
      64 * 1024,
    )
  })
})

describe('SPNEGO, Kerberos, CredSSP and NTLM messages with many or long parts', () => {
  test('SPNEGO NegTokenResp: a long token; many extension fields', () => {
    const negState = ctx(0, tlv(0x0a, Buffer.from([1])))
    linear(
      'NegTokenResp: long responseToken',
      (n) => ctx(1, seq([negState, ctx(2, octets(Buffer.alloc(n)))])),
      (b) => decodeSpnegoToken(b),
      64 * 1024,
    )
    linear(
      'NegTokenResp: many extensions',
      (n) => ctx(1, seq([negState, ...many(n, ctx(9, tlv(0x05)))])),
      (b) => decodeSpnegoToken(b),
      5_000,
    )
  })

  test('KRB-ERROR: many sname components; long e-text and e-data', () => {
    linear(
      'KRB-ERROR: many components',
      (n) => krbError({ sname: principal(new Array<string>(n).fill('c')) }),
      (b) => decodeKrbError(b),
      3_000,
    )
    linear(
      'KRB-ERROR: long e-text and e-data',
      (n) => krbError({ eText: gstr('e'.repeat(n)), eData: Buffer.alloc(n) }),
      (b) => decodeKrbError(b),
      8 * 1024,
    )
  })

  test('METHOD-DATA and ETYPE-INFO2 with many entries', () => {
    const etypeInfo = (n: number): Buffer => seq(many(n, seq([ctx(0, int(99))])))
    linear(
      'METHOD-DATA: many PA-DATA',
      (n) => seq(many(n, seq([ctx(1, int(19)), ctx(2, octets(Buffer.alloc(2)))]))),
      (b) => decodeMethodData(b),
      3_000,
    )
    linear('ETYPE-INFO2: many entries', etypeInfo, (b) => decodeEtypeInfo2(b), 3_000)
  })

  test('KDC-REP with a long ticket or many PA-DATA; KRB-CRED with many tickets; AP-REP', () => {
    const kdcRep = (padata: number, cipher: number): Buffer =>
      app(
        11,
        seq([
          ctx(0, int(5)),
          ctx(1, int(11)),
          ctx(2, seq(many(padata, seq([ctx(1, int(3)), ctx(2, octets(Buffer.alloc(1)))])))),
          ctx(3, gstr('R')),
          ctx(4, principal(['u'])),
          ctx(5, ticket(Buffer.alloc(cipher))),
          ctx(6, encData(Buffer.alloc(16))),
        ]),
      )
    linear(
      'KDC-REP: long ticket',
      (n) => kdcRep(1, n),
      (b) => decodeKdcRep(b),
      16 * 1024,
    )
    linear(
      'KDC-REP: many PA-DATA',
      (n) => kdcRep(n, 16),
      (b) => decodeKdcRep(b),
      3_000,
    )
    linear(
      'KRB-CRED: many tickets',
      (n) =>
        app(
          22,
          seq([
            ctx(0, int(5)),
            ctx(1, int(22)),
            ctx(2, seq(many(n, ticket()))),
            ctx(3, encData(Buffer.alloc(16))),
          ]),
        ),
      (b) => decodeKrbCred(b),
      1_000,
    )
    linear(
      'AP-REP: long enc-part',
      (n) => app(15, seq([ctx(0, int(5)), ctx(1, int(15)), ctx(2, encData(Buffer.alloc(n)))])),
      (b) => decodeApRep(b),
      64 * 1024,
    )
  })

  test('CredSSP: TSRequest with many negoTokens; TSCredentials and TSPasswordCreds with long fields', () => {
    linear(
      'TSRequest: many negoTokens',
      (n) => seq([ctx(0, int(6)), ctx(1, seq(many(n, seq([ctx(0, octets(Buffer.alloc(4)))]))))]),
      (b) => assert.ok(decodeTsRequest(b).negoTokens?.length),
      3_000,
    )
    linear(
      'TSPasswordCreds: long fields',
      (n) => seq([0, 1, 2].map((i) => ctx(i, octets(Buffer.alloc(2 * n, 0x41))))),
      (b) => decodeTsPasswordCreds(b),
      4 * 1024,
    )
    linear(
      'TSCredentials: long credentials',
      (n) => seq([ctx(0, int(1)), ctx(1, octets(Buffer.alloc(n)))]),
      (b) => decodeTsCredentials(b),
      64 * 1024,
    )
  })

  test('CredSSP TLS: many records; a flight of records before the ServerHello; a long X.509 field', () => {
    const record = Buffer.from([23, 3, 3, 0, 1, 0])
    linear(
      'TLS: many records',
      (n) => Buffer.concat(many(n, record)),
      (b) => {
        let count = 0
        for (const _ of tlsRecords(b)) count++
        assert.ok(count > 0)
      },
      5_000,
    )
    linear(
      'TLS: records before a ChangeCipherSpec, no ServerHello',
      (n) => Buffer.concat([...many(n, record), Buffer.from([20, 3, 3, 0, 1, 1])]),
      (b) => refuses(() => serverRandomFromFlight(b)),
      5_000,
    )
    linear(
      'X.509: long issuer',
      (n) =>
        seq([
          seq([
            ctx(0, int(2)),
            int(1),
            seq([]),
            seq([octets(Buffer.alloc(n))]),
            seq([]),
            seq([]),
            seq([seq([]), tlv(0x03, Buffer.from([0, 1]))]),
          ]),
        ]),
      (b) => subjectPublicKey(b),
      64 * 1024,
    )
  })

  test('NTLM: an AV_PAIR list and a CHALLENGE_MESSAGE with many pairs or a long target name', () => {
    const pairs = (n: number): Buffer => {
      const b = Buffer.alloc(n * 6 + 4)
      for (let i = 0; i < n; i++) {
        b.writeUInt16LE(1, i * 6)
        b.writeUInt16LE(2, i * 6 + 2)
        b.writeUInt16LE(0x41, i * 6 + 4)
      }
      return b
    }
    const challenge = (targetName: Buffer, info: Buffer): Buffer => {
      const head = Buffer.alloc(48)
      head.write('NTLMSSP\0', 0, 'latin1')
      head.writeUInt32LE(2, 8)
      head.writeUInt16LE(targetName.length, 12)
      head.writeUInt16LE(targetName.length, 14)
      head.writeUInt32LE(48, 16)
      head.writeUInt32LE(0x00000001, 20) // NTLMSSP_NEGOTIATE_UNICODE
      head.writeUInt16LE(info.length, 40)
      head.writeUInt16LE(info.length, 42)
      head.writeUInt32LE(48 + targetName.length, 44)
      return Buffer.concat([head, targetName, info])
    }
    linear('NTLM: AV_PAIR list', pairs, (b) => decodeAvPairs(b), 2_500)
    linear(
      'NTLM CHALLENGE: many AV pairs',
      (n) => challenge(Buffer.alloc(0), pairs(n)),
      (b) => decodeChallenge(b),
      2_500,
    )
    linear(
      'NTLM CHALLENGE: long target name',
      (n) => challenge(Buffer.alloc(2 * n, 0x41), pairs(0)),
      (b) => decodeChallenge(b),
      8_000,
    )
  })
})
