/**
 * RFC 4120 message codecs: round trips of every structure, the GSS 0x8003 checksum, and malformed
 * input → ProtocolError only (fast-check over random bytes and mutations of valid encodings).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeDer } from '../../../src/auth/asn1/index.ts'
import {
  ApOption,
  decodeApRep,
  decodeApReq,
  decodeAuthenticator,
  decodeEncApRepPart,
  decodeEncKdcRepPart,
  decodeEncKrbCredPart,
  decodeEtypeInfo2,
  decodeGssChecksum,
  decodeKdcRep,
  decodeKdcReq,
  decodeKrbCred,
  decodeKrbError,
  decodeMethodData,
  decodePaEncTsEnc,
  decodeTicket,
  encodeApRep,
  encodeApReq,
  encodeAuthenticator,
  encodeEncApRepPart,
  encodeEncKdcRepPart,
  encodeEncKrbCredPart,
  encodeEtypeInfo2,
  encodeGssChecksum,
  encodeKdcRep,
  encodeKdcReq,
  encodeKdcReqBody,
  encodeKrbCred,
  encodeKrbError,
  encodeMethodData,
  encodePaEncTsEnc,
  flagsOf,
  GssFlag,
  hasFlag,
  KdcOption,
  krbErrorName,
  parsePrincipal,
  principalToString,
} from '../../../src/auth/kerberos/messages/index.ts'
import {
  derApplication,
  derField,
  derGeneralString,
  derGeneralizedTime as derGeneralizedTimeOf,
  derInteger,
  derOctetString,
  derSequence,
} from '../../../src/auth/asn1/index.ts'
import { encodePrincipalName } from '../../../src/auth/kerberos/messages/principal.ts'
import { InvalidArgumentError, ProtocolError, PsrpError } from '../../../src/errors.ts'

const realm = 'EXAMPLE.COM'
const sname = { nameType: 2, components: ['krbtgt', realm] }
const cname = { nameType: 1, components: ['alice'] }
const t = new Date('2024-05-06T07:08:09Z')
const bytes = (n: number, v = 0xab): Uint8Array => new Uint8Array(n).fill(v)

const ticket = encodeDer(
  derApplication(
    1,
    derSequence([
      derField(0, derInteger(5)),
      derField(1, derGeneralString(realm)),
      derField(2, encodePrincipalName(sname)),
      derField(
        3,
        derSequence([
          derField(0, derInteger(18)),
          derField(1, derInteger(2)),
          derField(2, derOctetString(bytes(40))),
        ]),
      ),
    ]),
  ),
)

test('Ticket keeps its exact DER', () => {
  const tk = decodeTicket(ticket)
  assert.equal(tk.realm, realm)
  assert.deepEqual(tk.sname, sname)
  assert.equal(tk.encPart.kvno, 2)
  assert.deepEqual(tk.encoded, ticket)
})

test('KDC-REQ round trip (AS-REQ and TGS-REQ), KDCOptions bits', () => {
  const body = {
    kdcOptions: flagsOf([KdcOption.FORWARDABLE, KdcOption.CANONICALIZE, KdcOption.RENEWABLE_OK]),
    cname,
    realm,
    sname,
    till: t,
    nonce: 0x7fffffff,
    etypes: [18, 17, 20, 19],
  }
  const bodyDer = encodeKdcReqBody(body)
  for (const type of [10, 12] as const) {
    const padata = [{ type: 2, value: bytes(5) }]
    const req = decodeKdcReq(encodeKdcReq(type, padata, bodyDer))
    assert.equal(req.msgType, type)
    assert.deepEqual(req.padata, padata)
    assert.deepEqual(req.bodyEncoded, bodyDer)
    assert.equal(req.body.nonce, 0x7fffffff)
    assert.deepEqual(req.body.etypes, [18, 17, 20, 19])
    assert.deepEqual(req.body.cname, cname)
    assert.equal(req.body.till.getTime(), t.getTime())
    assert.ok(hasFlag(req.body.kdcOptions, KdcOption.FORWARDABLE))
    assert.ok(hasFlag(req.body.kdcOptions, KdcOption.CANONICALIZE))
    assert.ok(!hasFlag(req.body.kdcOptions, KdcOption.FORWARDED))
  }
  // KerberosTime carries no fractions.
  const withMs = encodeKdcReqBody({ ...body, till: new Date(t.getTime() + 999) })
  assert.deepEqual(withMs, bodyDer)
})

test('KDC-REP and EncKDCRepPart (tags 25 and 26) round trip', () => {
  const rep = {
    msgType: 11,
    padata: [],
    crealm: realm,
    cname,
    ticket: { encoded: ticket },
    encPart: { etype: 18, kvno: 1, cipher: bytes(60) },
  }
  const d = decodeKdcRep(encodeKdcRep(rep))
  assert.equal(d.msgType, 11)
  assert.deepEqual(d.ticket.encoded, ticket)
  assert.deepEqual(d.encPart.cipher, bytes(60))
  const part = {
    key: { enctype: 18, value: bytes(32, 1) },
    nonce: 12345,
    flags: flagsOf([1, 8, 9]),
    authtime: t,
    endtime: new Date(t.getTime() + 3600_000),
    srealm: realm,
    sname,
  }
  for (const tag of [25, 26] as const) {
    const p = decodeEncKdcRepPart(encodeEncKdcRepPart(part, tag))
    assert.deepEqual(p.key, part.key)
    assert.equal(p.nonce, 12345)
    assert.equal(p.flags, part.flags)
    assert.equal(p.starttime, undefined)
  }
})

test('AP-REQ, Authenticator, AP-REP, EncAPRepPart round trip; negative seq-number read as UInt32', () => {
  const apReq = decodeApReq(
    encodeApReq({
      apOptions: flagsOf([ApOption.MUTUAL_REQUIRED]),
      ticket,
      authenticator: { etype: 18, cipher: bytes(80) },
    }),
  )
  assert.ok(hasFlag(apReq.apOptions, ApOption.MUTUAL_REQUIRED))
  assert.deepEqual(apReq.ticket.encoded, ticket)
  const a = {
    crealm: realm,
    cname,
    cksum: { checksumType: 0x8003, checksum: bytes(24) },
    cusec: 999999,
    ctime: t,
    subkey: { enctype: 17, value: bytes(16) },
    seqNumber: 0xfffffffe,
  }
  assert.deepEqual(decodeAuthenticator(encodeAuthenticator(a)), a)
  const enc = decodeApRep(encodeApRep({ etype: 18, cipher: bytes(50) }))
  assert.deepEqual(enc, { etype: 18, kvno: undefined, cipher: bytes(50) })
  const p = { ctime: t, cusec: 5, subkey: { enctype: 18, value: bytes(32) }, seqNumber: 42 }
  assert.deepEqual(decodeEncApRepPart(encodeEncApRepPart(p)), p)
  // Old MIT/Windows encode seq-number as a signed Int32: -2 is read as 0xfffffffe.
  const noSeq = encodeEncApRepPart({ ctime: t, cusec: 0 })
  const signedSeq = encodeDer(
    derApplication(
      27,
      derSequence([
        derField(0, derGeneralizedTimeOf(t)),
        derField(1, derInteger(0)),
        derField(3, derInteger(-2)),
      ]),
    ),
  )
  assert.equal(decodeEncApRepPart(signedSeq).seqNumber, 0xfffffffe)
  assert.equal(decodeEncApRepPart(noSeq).seqNumber, undefined)
  assert.throws(
    () =>
      decodeEncApRepPart(encodeDer(derApplication(27, derSequence([derField(0, derGeneralString('x'))])))),
    ProtocolError,
  )
})

test('KRB-ERROR with METHOD-DATA / ETYPE-INFO2 e-data', () => {
  const info = [
    { etype: 18, salt: 'EXAMPLE.COMalice', s2kparams: Uint8Array.of(0, 0, 0x10, 0) },
    { etype: 17, salt: undefined, s2kparams: undefined },
  ]
  const eData = encodeDer(
    encodeMethodData([
      { type: 19, value: encodeEtypeInfo2(info) },
      { type: 2, value: new Uint8Array(0) },
    ]),
  )
  const e = { stime: t, susec: 1, errorCode: 25, realm, sname, eText: 'NEEDED_PREAUTH', eData }
  const d = decodeKrbError(encodeKrbError(e))
  assert.equal(d.errorCode, 25)
  assert.equal(krbErrorName(d.errorCode), 'KDC_ERR_PREAUTH_REQUIRED')
  assert.equal(krbErrorName(9999), 'error 9999')
  const md = decodeMethodData(d.eData as Uint8Array)
  assert.deepEqual(decodeEtypeInfo2((md[0] as { value: Uint8Array }).value), info)
  const ts = decodePaEncTsEnc(encodePaEncTsEnc(t, 123))
  assert.equal(ts.time.getTime(), t.getTime())
  assert.equal(ts.usec, 123)
})

test('KRB-CRED and EncKrbCredPart round trip', () => {
  const info = {
    key: { enctype: 18, value: bytes(32) },
    prealm: realm,
    pname: cname,
    flags: flagsOf([1, 2]),
    authtime: t,
    starttime: t,
    endtime: t,
    renewTill: undefined,
    srealm: realm,
    sname,
  }
  const part = decodeEncKrbCredPart(encodeEncKrbCredPart({ ticketInfo: [info], timestamp: t, usec: 7 }))
  assert.deepEqual(part.ticketInfo[0], info)
  assert.equal(part.usec, 7)
  const cred = decodeKrbCred(encodeKrbCred([ticket], { etype: 18, cipher: bytes(30) }))
  assert.deepEqual(cred.tickets[0]?.encoded, ticket)
})

test('GSS 0x8003 checksum with and without delegation (RFC 4121 §4.1.1)', () => {
  const flags = GssFlag.MUTUAL | GssFlag.REPLAY | GssFlag.SEQUENCE | GssFlag.CONF | GssFlag.INTEG
  const plain = encodeGssChecksum({ bnd: bytes(16, 7), flags })
  assert.equal(plain.length, 24)
  assert.deepEqual([...plain.subarray(0, 4)], [16, 0, 0, 0])
  assert.deepEqual([...plain.subarray(20)], [0x3e, 0, 0, 0])
  assert.deepEqual(decodeGssChecksum(plain), { bnd: bytes(16, 7), flags, deleg: undefined })
  const withDeleg = encodeGssChecksum({ bnd: bytes(16, 0), flags, deleg: bytes(100) })
  const d = decodeGssChecksum(withDeleg)
  assert.equal(d.flags & GssFlag.DELEG, GssFlag.DELEG)
  assert.deepEqual(d.deleg, bytes(100))
  assert.throws(() => decodeGssChecksum(plain.subarray(0, 10)), ProtocolError)
})

test('principal text form', () => {
  assert.deepEqual(parsePrincipal('HTTP/host.example.com@EXAMPLE.COM'), {
    nameType: 1,
    components: ['HTTP', 'host.example.com'],
    realm,
  })
  assert.deepEqual(parsePrincipal('alice', 'R').realm, 'R')
  assert.deepEqual(parsePrincipal('a\\@b@R').components, ['a@b'])
  assert.equal(principalToString({ components: ['a@b', 'c'] }, 'R'), 'a\\@b/c@R')
  assert.throws(() => parsePrincipal('alice'), InvalidArgumentError)
  assert.throws(() => parsePrincipal('a//b@R'), InvalidArgumentError)
})

const decoders: [string, (b: Uint8Array) => unknown][] = [
  ['Ticket', decodeTicket],
  ['KDC-REQ', decodeKdcReq],
  ['KDC-REP', decodeKdcRep],
  ['EncKDCRepPart', decodeEncKdcRepPart],
  ['AP-REQ', decodeApReq],
  ['Authenticator', decodeAuthenticator],
  ['AP-REP', decodeApRep],
  ['EncAPRepPart', decodeEncApRepPart],
  ['KRB-ERROR', decodeKrbError],
  ['KRB-CRED', decodeKrbCred],
  ['EncKrbCredPart', decodeEncKrbCredPart],
  ['METHOD-DATA', decodeMethodData],
  ['ETYPE-INFO2', decodeEtypeInfo2],
  ['PA-ENC-TS-ENC', decodePaEncTsEnc],
  ['GSS checksum', decodeGssChecksum],
]

const seeds: Uint8Array[] = [
  ticket,
  encodeKdcReq(
    10,
    [{ type: 128, value: bytes(3) }],
    encodeKdcReqBody({ kdcOptions: 0, cname, realm, sname, till: t, nonce: 1, etypes: [18] }),
  ),
  encodeKdcRep({
    msgType: 13,
    padata: [],
    crealm: realm,
    cname,
    ticket: { encoded: ticket },
    encPart: { etype: 18, cipher: bytes(20) },
  }),
  encodeEncKdcRepPart(
    {
      key: { enctype: 18, value: bytes(32) },
      nonce: 1,
      flags: 0,
      authtime: t,
      endtime: t,
      srealm: realm,
      sname,
    },
    25,
  ),
  encodeApReq({ apOptions: 0, ticket, authenticator: { etype: 18, cipher: bytes(20) } }),
  encodeAuthenticator({ crealm: realm, cname, cusec: 0, ctime: t, seqNumber: 1 }),
  encodeApRep({ etype: 18, cipher: bytes(20) }),
  encodeEncApRepPart({ ctime: t, cusec: 1, seqNumber: 5 }),
  encodeKrbError({ stime: t, susec: 0, errorCode: 6, realm, sname, eText: 'x' }),
  encodeKrbCred([ticket], { etype: 18, cipher: bytes(10) }),
  encodeEtypeInfo2([{ etype: 18, salt: 's' }]),
  encodeGssChecksum({ bnd: bytes(16), flags: 2, deleg: bytes(4) }),
]

function onlyPsrpErrors(input: Uint8Array): void {
  for (const [name, decode] of decoders) {
    try {
      decode(input)
    } catch (err) {
      if (!(err instanceof PsrpError)) throw new Error(`${name}: ${String(err)}`)
    }
  }
}

test('malformed input → ProtocolError only (random bytes)', () => {
  for (const [, decode] of decoders) {
    assert.throws(() => decode(new Uint8Array(0)), ProtocolError)
    assert.throws(() => decode(Uint8Array.of(0x30, 0x80)), ProtocolError)
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (b) => onlyPsrpErrors(b)),
    { numRuns: 1500 },
  )
})

test('malformed input → ProtocolError only (mutations and truncations of valid messages)', () => {
  for (const s of seeds) {
    for (let n = 0; n < s.length; n++) {
      try {
        onlyPsrpErrors(s.subarray(0, n))
      } catch (err) {
        assert.fail(String(err))
      }
    }
  }
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (seed, edits) => {
        const b = seed.slice()
        for (const [i, v] of edits) b[i % b.length] = v
        onlyPsrpErrors(b)
      },
    ),
    { numRuns: 3000 },
  )
})
