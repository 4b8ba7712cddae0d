/**
 * KerberosContext, sans-IO, against an in-memory KDC and acceptor built from the message codecs:
 * pre-authentication with the KDC's salt, the TGS checksum, the AP-REQ contents (0x8003 flags, Bnd =
 * MD5 of the channel bindings, subkey, sequence number, KRB-CRED for delegation), AP-REP handling
 * with and without an acceptor subkey, Windows EC=16 tokens, KRB-ERROR tokens, and no secrets in
 * inspect/JSON/errors.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import {
  decodeDer,
  decodeGssInitialContextToken,
  derApplication,
  derField,
  derGeneralString,
  derInteger,
  derSequence,
  encodeDer,
  encodeGssInitialContextToken,
} from '../../../src/auth/asn1/index.ts'
import { KerberosContext, type KerberosContextOptions } from '../../../src/auth/kerberos/context.ts'
import { KerberosTicketCache } from '../../../src/auth/kerberos/ticket-cache.ts'
import {
  decrypt,
  encrypt,
  KeyUsage,
  stringToKey,
  verifyChecksum,
  type KerberosKey,
} from '../../../src/auth/kerberos/crypto/index.ts'
import type { KdcSender } from '../../../src/auth/kerberos/kdc-exchange.ts'
import {
  decodeApReq,
  decodeAuthenticator,
  decodeEncKrbCredPart,
  decodeGssChecksum,
  decodeKdcReq,
  decodeKrbCred,
  decodePaEncTsEnc,
  encodeApRep,
  encodeEncApRepPart,
  encodeEncKdcRepPart,
  encodeEncryptedData,
  encodeEtypeInfo2,
  encodeKdcRep,
  encodeKrbError,
  encodeMethodData,
  encodePrincipalName,
  GssFlag,
  hasFlag,
  KdcOption,
  readEncryptedData,
  type PrincipalName,
} from '../../../src/auth/kerberos/messages/index.ts'
import { getMic, unwrapWinRM, verifyMic, wrapWinRM } from '../../../src/auth/kerberos/wrap-token.ts'
import { channelBindingsStruct } from '../../../src/auth/ntlm/channel-bindings.ts'
import { KERBEROS_OID } from '../../../src/auth/spnego/oids.ts'
import {
  AuthenticationError,
  CryptoError,
  InvalidArgumentError,
  InvalidStateError,
} from '../../../src/errors.ts'

const R = 'FAKE.TEST'
const PASSWORD = 'S3cret-Pa55'
const SALT = 'FAKE.TESTcustomsalt'
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n))
const key18 = (): KerberosKey => ({ enctype: 18, value: rnd(32) })

/** Ticket whose enc-part is just the session key encrypted under the service key (enough for a fake). */
function makeTicket(sname: PrincipalName, serviceKey: KerberosKey, session: KerberosKey): Uint8Array {
  const cipher = encrypt(
    serviceKey,
    KeyUsage.KDC_REP_TICKET,
    encodeDer(
      derSequence([
        derField(0, derInteger(session.enctype)),
        derField(1, derGeneralString(Buffer.from(session.value).toString('hex'))),
      ]),
    ),
  )
  return encodeDer(
    derApplication(
      1,
      derSequence([
        derField(0, derInteger(5)),
        derField(1, derGeneralString(R)),
        derField(2, encodePrincipalName(sname)),
        derField(3, encodeEncryptedData({ etype: serviceKey.enctype, kvno: 1, cipher })),
      ]),
    ),
  )
}
function ticketSession(ticket: Uint8Array, serviceKey: KerberosKey): KerberosKey {
  const t = decodeApReqTicket(ticket)
  const plain = decrypt(serviceKey, KeyUsage.KDC_REP_TICKET, t)
  return decodeDer(plain, (r) => {
    const s = r.sequence()
    const enctype = s.field(0, (x) => x.smallInteger())
    const hex = s.field(1, (x) => x.generalString())
    return { enctype, value: new Uint8Array(Buffer.from(hex, 'hex')) }
  })
}
function decodeApReqTicket(ticket: Uint8Array): Uint8Array {
  return decodeDer(ticket, (r) => {
    const s = r.application(1).sequence()
    s.field(0, (x) => x.smallInteger())
    s.field(1, (x) => x.generalString())
    s.field(2, (x) => x.any())
    return s.field(3, readEncryptedData).cipher
  })
}

interface Fake {
  send: KdcSender
  userKey: KerberosKey
  krbtgtKey: KerberosKey
  serviceKey: KerberosKey
  log: string[]
}

function fakeKdc(): Fake {
  const userKey = stringToKey(18, PASSWORD, SALT)
  const krbtgtKey = key18()
  const serviceKey = key18()
  const log: string[] = []
  const now = new Date()
  const end = new Date(now.getTime() + 3600_000)
  const err = (code: number, eData?: Uint8Array): Uint8Array =>
    encodeKrbError({
      stime: now,
      susec: 0,
      errorCode: code,
      realm: R,
      sname: { nameType: 2, components: ['krbtgt', R] },
      ...(eData === undefined ? {} : { eData }),
    })
  const send: KdcSender = async (realm, bytes) => {
    assert.equal(realm, R)
    const req = decodeKdcReq(bytes)
    const session = key18()
    if (req.msgType === 10) {
      const ts = req.padata.find((p) => p.type === 2)
      if (ts === undefined) {
        log.push('AS no-preauth')
        return err(
          25,
          encodeDer(encodeMethodData([{ type: 19, value: encodeEtypeInfo2([{ etype: 18, salt: SALT }]) }])),
        )
      }
      const enc = decodeDer(ts.value, readEncryptedData)
      try {
        decodePaEncTsEnc(decrypt(userKey, KeyUsage.AS_REQ_PA_ENC_TIMESTAMP, enc.cipher))
      } catch {
        log.push('AS bad-preauth')
        return err(24)
      }
      log.push(`AS ok forwardable=${hasFlag(req.body.kdcOptions, KdcOption.FORWARDABLE)}`)
      const sname = { nameType: 2, components: ['krbtgt', R] }
      const part = encodeEncKdcRepPart(
        {
          key: session,
          nonce: req.body.nonce,
          flags: 0x40e00000,
          authtime: now,
          endtime: end,
          srealm: R,
          sname,
        },
        25,
      )
      return encodeKdcRep({
        msgType: 11,
        padata: [],
        crealm: R,
        cname: req.body.cname as PrincipalName,
        ticket: { encoded: makeTicket(sname, krbtgtKey, session) },
        encPart: { etype: 18, cipher: encrypt(userKey, KeyUsage.AS_REP_ENC_PART, part) },
      })
    }
    const ap = decodeApReq((req.padata[0] as { value: Uint8Array }).value)
    const tgtSession = ticketSession(ap.ticket.encoded, krbtgtKey)
    const auth = decodeAuthenticator(decrypt(tgtSession, KeyUsage.TGS_REQ_AUTH, ap.authenticator.cipher))
    verifyChecksum(
      tgtSession,
      KeyUsage.TGS_REQ_AUTH_CKSUM,
      req.bodyEncoded,
      auth.cksum as { checksumType: number; checksum: Uint8Array },
    )
    const sname = req.body.sname as PrincipalName
    const isTgt = sname.components[0] === 'krbtgt'
    log.push(
      `TGS ${sname.components.join('/')} forwarded=${hasFlag(req.body.kdcOptions, KdcOption.FORWARDED)}`,
    )
    const part = encodeEncKdcRepPart(
      {
        key: session,
        nonce: req.body.nonce,
        flags: 0x40a00000,
        authtime: now,
        endtime: end,
        srealm: R,
        sname,
      },
      25,
    )
    return encodeKdcRep({
      msgType: 13,
      padata: [],
      crealm: R,
      cname: auth.cname,
      ticket: { encoded: makeTicket(sname, isTgt ? krbtgtKey : serviceKey, session) },
      encPart: { etype: 18, cipher: encrypt(tgtSession, KeyUsage.TGS_REP_ENC_PART_SESSION_KEY, part) },
    })
  }
  return { send, userKey, krbtgtKey, serviceKey, log }
}

/** Accepts the AP-REQ token; returns what it saw and the AP-REP token. */
function accept(fake: Fake, token: Uint8Array, opts: { acceptorSubkey: boolean }) {
  const t = decodeGssInitialContextToken(token)
  assert.equal(t.mech, KERBEROS_OID)
  assert.deepEqual([...t.innerToken.subarray(0, 2)], [1, 0])
  const ap = decodeApReq(t.innerToken.subarray(2))
  const session = ticketSession(ap.ticket.encoded, fake.serviceKey)
  const auth = decodeAuthenticator(decrypt(session, KeyUsage.AP_REQ_AUTH, ap.authenticator.cipher))
  assert.equal(auth.cksum?.checksumType, 0x8003)
  const cksum = decodeGssChecksum(auth.cksum?.checksum as Uint8Array)
  const subkey = opts.acceptorSubkey ? key18() : undefined
  const seq = 0x1234
  const encPart = encodeEncApRepPart({ ctime: auth.ctime, cusec: auth.cusec, subkey, seqNumber: seq })
  const apRep = encodeApRep({ etype: 18, cipher: encrypt(session, KeyUsage.AP_REP_ENC_PART, encPart) })
  const reply = encodeGssInitialContextToken(KERBEROS_OID, Uint8Array.of(2, 0, ...apRep))
  const deleg =
    cksum.deleg === undefined
      ? undefined
      : decodeEncKrbCredPart(
          decrypt(session, KeyUsage.KRB_CRED_ENC_PART, decodeKrbCred(cksum.deleg).encPart.cipher),
        )
  return {
    ap,
    auth,
    cksum,
    reply,
    key: subkey ?? (auth.subkey as KerberosKey),
    acceptorSubkey: subkey !== undefined,
    seq,
    deleg,
    session,
  }
}

const base = (fake: Fake, o: Partial<KerberosContextOptions> = {}): KerberosContextOptions => ({
  username: `alice@${R}`,
  password: PASSWORD,
  hostname: 'web.fake.test',
  sendKdc: fake.send,
  ...o,
})

test('password → AS with the KDC salt → TGS → AP-REQ; AP-REP with acceptor subkey; wrap/MIC both ways incl. Windows EC=16', async () => {
  const fake = fakeKdc()
  const cbHash = createHash('sha256').update('cert').digest()
  const ctx = new KerberosContext(base(fake, { channelBindings: { tlsServerEndPoint: cbHash } }))
  const token = (await ctx.step()) as Uint8Array
  assert.deepEqual(fake.log, [
    'AS no-preauth',
    'AS ok forwardable=false',
    'TGS HTTP/web.fake.test forwarded=false',
  ])
  const a = accept(fake, token, { acceptorSubkey: true })
  assert.ok(hasFlag(a.ap.apOptions, 2), 'mutual-required')
  assert.equal(
    a.cksum.flags,
    GssFlag.MUTUAL | GssFlag.REPLAY | GssFlag.SEQUENCE | GssFlag.CONF | GssFlag.INTEG,
  )
  const md5 = createHash('md5')
    .update(channelBindingsStruct({ tlsServerEndPoint: cbHash }))
    .digest()
  assert.deepEqual(a.cksum.bnd, new Uint8Array(md5))
  assert.equal(a.auth.subkey?.enctype, 18)
  assert.ok(a.auth.seqNumber !== undefined)
  assert.equal(ctx.complete, false)
  assert.equal(await ctx.step(a.reply), undefined)
  assert.equal(ctx.complete, true)

  const msg = new TextEncoder().encode('<s:Envelope>hello</s:Envelope>')
  const sealed = ctx.wrap(msg)
  assert.equal(sealed.header.length, 60)
  assert.deepEqual(
    unwrapWinRM(a.key, sealed, { usage: 24, acceptorSubkey: true, expectedSequenceNumber: a.auth.seqNumber }),
    msg,
  )
  const mic = ctx.sign(msg)
  verifyMic(a.key, msg, mic, {
    sentByAcceptor: false,
    expectedSequenceNumber: (a.auth.seqNumber as number) + 1,
  })
  // Server → client: RFC rotation (EC 0) and Windows EC=16 rotation, then a MIC.
  assert.deepEqual(ctx.unwrap(wrapWinRM(a.key, a.seq, msg, 22)), msg)
  assert.deepEqual(ctx.unwrap(wrapWinRM(a.key, a.seq + 1, msg, 22, { ec: 16 })), msg)
  ctx.verify(msg, getMic(a.key, msg, { sequenceNumber: a.seq + 2, sentByAcceptor: true }))
  // Out of order / replayed → CryptoError.
  assert.throws(() => ctx.unwrap(wrapWinRM(a.key, a.seq, msg, 22)), CryptoError)

  const shown = inspect(ctx) + JSON.stringify(ctx)
  assert.doesNotMatch(shown, /S3cret/)
  assert.match(shown, /alice@FAKE\.TEST/)
  assert.match(shown, /HTTP\/web\.fake\.test@FAKE\.TEST/)
})

test('no acceptor subkey: tokens use our subkey without the AcceptorSubkey flag', async () => {
  const fake = fakeKdc()
  const ctx = new KerberosContext(base(fake))
  const a = accept(fake, (await ctx.step()) as Uint8Array, { acceptorSubkey: false })
  await ctx.step(a.reply)
  const msg = Uint8Array.of(1, 2, 3)
  assert.deepEqual(unwrapWinRM(a.key, ctx.wrap(msg), { usage: 24, acceptorSubkey: false }), msg)
  assert.deepEqual(ctx.unwrap(wrapWinRM(a.key, a.seq, msg, 22, { acceptorSubkey: false })), msg)
})

test('delegation: forwardable TGT, forwarded TGT in KRB-CRED under the session key, DELEG flag', async () => {
  const fake = fakeKdc()
  const ctx = new KerberosContext(base(fake, { delegate: true }))
  const a = accept(fake, (await ctx.step()) as Uint8Array, { acceptorSubkey: true })
  assert.deepEqual(fake.log, [
    'AS no-preauth',
    'AS ok forwardable=true',
    `TGS HTTP/web.fake.test forwarded=false`,
    `TGS krbtgt/${R} forwarded=true`,
  ])
  assert.equal(a.cksum.flags & GssFlag.DELEG, GssFlag.DELEG)
  assert.deepEqual(a.deleg?.ticketInfo[0]?.sname?.components, ['krbtgt', R])
  assert.equal(ctx.delegated, true)
})

test('a ticket cache: later contexts reuse the TGT and service ticket; another host costs one TGS; ending tickets are replaced; a refusal clears it', async () => {
  const fake = fakeKdc()
  const tickets = new KerberosTicketCache()
  const first = new KerberosContext(base(fake, { ticketCache: tickets }))
  const a1 = accept(fake, (await first.step()) as Uint8Array, { acceptorSubkey: true })
  await first.step(a1.reply)
  assert.deepEqual(fake.log, [
    'AS no-preauth',
    'AS ok forwardable=false',
    'TGS HTTP/web.fake.test forwarded=false',
  ])
  assert.equal(tickets.size, 2)

  // the same user and service: no KDC request, a fresh authenticator and subkey
  const second = new KerberosContext(base(fake, { ticketCache: tickets }))
  const a2 = accept(fake, (await second.step()) as Uint8Array, { acceptorSubkey: true })
  await second.step(a2.reply)
  assert.equal(second.complete, true)
  assert.equal(fake.log.length, 3, fake.log.join('; '))
  assert.notDeepEqual(a2.auth.subkey?.value, a1.auth.subkey?.value)

  // another host: the cached TGT buys its ticket
  await new KerberosContext(base(fake, { ticketCache: tickets, hostname: 'db.fake.test' })).step()
  assert.deepEqual(fake.log.slice(3), ['TGS HTTP/db.fake.test forwarded=false'])

  // within a minute of the tickets' end (an hour away): logged in again
  const late = (): Date => new Date(Date.now() + 3600_000 - 30_000)
  await new KerberosContext(base(fake, { ticketCache: tickets, now: late })).step()
  assert.deepEqual(fake.log.slice(4), [
    'AS no-preauth',
    'AS ok forwardable=false',
    'TGS HTTP/web.fake.test forwarded=false',
  ])

  // the acceptor refuses a ticket: the cache is emptied
  const refused = new KerberosContext(base(fake, { ticketCache: tickets }))
  await refused.step()
  const krbErr = encodeKrbError({
    stime: new Date(),
    susec: 0,
    errorCode: 41, // KRB_AP_ERR_MODIFIED
    realm: R,
    sname: { nameType: 3, components: ['HTTP', 'web.fake.test'] },
  })
  await assert.rejects(
    refused.step(encodeGssInitialContextToken(KERBEROS_OID, Uint8Array.of(3, 0, ...krbErr))),
    AuthenticationError,
  )
  assert.equal(tickets.size, 0)

  // it never shows what it holds
  const shown = inspect(tickets) + JSON.stringify(tickets)
  assert.equal(shown, 'KerberosTicketCache { tickets: 0 }{"tickets":0}')
})

test('wrong password: AuthenticationError saying so, without the password', async () => {
  const fake = fakeKdc()
  const ctx = new KerberosContext(base(fake, { password: 'not-the-S3cret' }))
  await assert.rejects(
    ctx.step(),
    (e: unknown) =>
      e instanceof AuthenticationError &&
      /password for alice@FAKE\.TEST was wrong/.test(e.message) &&
      !e.message.includes('not-the'),
  )
  assert.equal(ctx.state, 'failed')
  await assert.rejects(ctx.step(), InvalidStateError)
})

test('acceptor KRB-ERROR token, forged AP-REP and state misuse', async () => {
  const fake = fakeKdc()
  const ctx = new KerberosContext(base(fake))
  await ctx.step()
  const krbErr = encodeKrbError({
    stime: new Date(),
    susec: 0,
    errorCode: 37,
    realm: R,
    sname: { nameType: 3, components: ['HTTP', 'web'] },
  })
  await assert.rejects(
    ctx.step(encodeGssInitialContextToken(KERBEROS_OID, Uint8Array.of(3, 0, ...krbErr))),
    (e: unknown) => e instanceof AuthenticationError && /clock/.test(e.message),
  )

  const ctx2 = new KerberosContext(base(fakeKdc()))
  const fake2 = fakeKdc()
  const ctx3 = new KerberosContext(base(fake2))
  const a = accept(fake2, (await ctx3.step()) as Uint8Array, { acceptorSubkey: true })
  await ctx2.step()
  // ctx2's session key differs: the AP-REP meant for ctx3 does not decrypt.
  await assert.rejects(
    ctx2.step(a.reply),
    (e: unknown) => e instanceof AuthenticationError && /mutual authentication failed/.test(e.message),
  )
  assert.throws(() => ctx2.wrap(Uint8Array.of(1)), InvalidStateError)
})

test('options: validation, and no credentials at all', async () => {
  assert.throws(() => new KerberosContext({ hostname: '' }), InvalidArgumentError)
  assert.throws(() => new KerberosContext({ hostname: 'h', password: 'x' }), InvalidArgumentError)
  assert.throws(
    () => new KerberosContext({ hostname: 'h', username: 'u', password: 'x', ccache: 'FILE:/x' }),
    InvalidArgumentError,
  )
  await assert.rejects(new KerberosContext({ hostname: 'h', env: {} }).step(), AuthenticationError)
  await assert.rejects(
    new KerberosContext({ hostname: 'h', ccache: 'KEYRING:persistent:0' }).step(),
    /not supported/,
  )
  // DOMAIN\user: realm from the prefix.
  const fake = fakeKdc()
  const ctx = new KerberosContext(base(fake, { username: 'fake.test\\alice' }))
  await ctx.step()
  assert.equal(ctx.clientPrincipal, `alice@${R}`)
})
