/**
 * NegotiateContext end to end against a SPNEGO acceptor written here from RFC 4178 §5 / MS-SPNG over
 * an NTLM server built from the NTLM module's server-side pieces (encodeChallenge, decodeAuthenticate,
 * NtlmSessionSecurity) and the MS-NLMP 3.2.5.1.2 checks (NTProofStr, MIC, key exchange): mechListMIC
 * both ways with the RC4 reset, wrap/unwrap after it, the server choosing NTLM over a (fake) Kerberos
 * offered first, reject, tampered or missing mechListMIC, and misbehaving servers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import {
  AvId,
  MIC_OFFSET,
  NegotiateFlags,
  NtlmContext,
  NtlmSessionSecurity,
  computeMic,
  decodeAuthenticate,
  decodeNegotiate,
  encodeChallenge,
  ntowfv1,
  ntowfv2,
} from '../../../src/auth/ntlm/index.ts'
import { hmacMd5 } from '../../../src/auth/ntlm/crypto.ts'
import { rc4 } from '../../../src/auth/crypto/rc4.ts'
import {
  KERBEROS_OID,
  MS_KERBEROS_OID,
  NTLM_OID,
  NegotiateContext,
  decodeSpnegoToken,
  encodeMechTypeList,
  encodeNegTokenResp,
  type NegState,
  type NegTokenResp,
  type NegotiateMechanism,
  type NegotiateMechanismContext,
} from '../../../src/auth/spnego/index.ts'
import {
  AuthenticationError,
  CryptoError,
  InvalidArgumentError,
  InvalidStateError,
  NotSupportedError,
  ProtocolError,
} from '../../../src/errors.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b))
const u16 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'))
const u64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, v, true)
  return b
}

const SERVER_FLAGS =
  NegotiateFlags.NEGOTIATE_UNICODE |
  NegotiateFlags.REQUEST_TARGET |
  NegotiateFlags.NEGOTIATE_SIGN |
  NegotiateFlags.NEGOTIATE_SEAL |
  NegotiateFlags.NEGOTIATE_NTLM |
  NegotiateFlags.NEGOTIATE_ALWAYS_SIGN |
  NegotiateFlags.TARGET_TYPE_DOMAIN |
  NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY |
  NegotiateFlags.NEGOTIATE_TARGET_INFO |
  NegotiateFlags.NEGOTIATE_VERSION |
  NegotiateFlags.NEGOTIATE_128 |
  NegotiateFlags.NEGOTIATE_KEY_EXCH |
  NegotiateFlags.NEGOTIATE_56

/** MS-NLMP 3.2.5.1.2 acceptor: one account, a server timestamp (so the client sends a MIC). */
class NtlmServer {
  negotiate: Uint8Array | undefined
  challenge: Uint8Array | undefined
  security: NtlmSessionSecurity | undefined
  user = ''
  readonly serverChallenge = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])

  constructor(readonly password = 'Passw0rd!') {}

  challengeFor(negotiate: Uint8Array): Uint8Array {
    this.negotiate = negotiate
    const neg = decodeNegotiate(negotiate)
    assert.ok(neg.flags & NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY)
    this.challenge = encodeChallenge({
      flags: SERVER_FLAGS,
      targetName: 'LAB',
      serverChallenge: this.serverChallenge,
      targetInfo: [
        { id: AvId.MsvAvNbDomainName, value: u16('LAB') },
        { id: AvId.MsvAvNbComputerName, value: u16('SRV') },
        { id: AvId.MsvAvTimestamp, value: u64(133_000_000_000_000_000n) },
      ],
      version: { major: 10, minor: 0, build: 20348, revision: 15 },
    })
    return this.challenge
  }

  /** Throws AuthenticationError for a wrong password or MIC. */
  accept(authBytes: Uint8Array): void {
    assert.ok(this.negotiate && this.challenge)
    const auth = decodeAuthenticate(authBytes)
    const responseKey = ntowfv2(ntowfv1(this.password), auth.user, auth.domain)
    const nt = auth.ntChallengeResponse
    if (!eq(hmacMd5(responseKey, this.serverChallenge, nt.subarray(16)), nt.subarray(0, 16))) {
      throw new AuthenticationError('test server: wrong password')
    }
    const keyExchangeKey = hmacMd5(responseKey, nt.subarray(0, 16))
    const exported = rc4(keyExchangeKey, auth.encryptedRandomSessionKey)
    const zeroed = authBytes.slice()
    zeroed.fill(0, MIC_OFFSET, MIC_OFFSET + 16)
    assert.ok(auth.mic !== undefined)
    if (!eq(computeMic(exported, this.negotiate, this.challenge, zeroed), auth.mic)) {
      throw new AuthenticationError('test server: MIC mismatch')
    }
    this.user = `${auth.domain}\\${auth.user}`
    this.security = new NtlmSessionSecurity(exported, auth.flags, 'server')
  }
}

interface ServerOptions {
  /** Answer the first token with this negState (e.g. reject). */
  firstState?: NegState
  /** Send mechListMIC with accept-completed (default true). */
  sendMic?: boolean
  /** Flip a bit in the server's mechListMIC. */
  tamperMic?: boolean
  /** Force supportedMech. */
  supportedMech?: string
  password?: string
  /** Called between verifying the client's mechListMIC and signing ours (CredSSP unseals pubKeyAuth here). */
  afterClientMic?: (sec: NtlmSessionSecurity) => void
}

/** RFC 4178 §5 acceptor that supports only NTLM. */
class SpnegoServer {
  readonly ntlm: NtlmServer
  mechTypes: string[] = []
  clientMicVerified = false
  seenOptimisticToken: Uint8Array | undefined
  constructor(readonly options: ServerOptions = {}) {
    this.ntlm = new NtlmServer(options.password)
  }

  handle(token: Uint8Array): Uint8Array {
    const { token: t, framed } = decodeSpnegoToken(token)
    if (t.kind === 'negTokenInit') {
      assert.ok(framed, 'the initial token carries the RFC 2743 framing')
      this.mechTypes = [...t.mechTypes]
      this.seenOptimisticToken = t.mechToken
      if (this.options.firstState === 'reject') return encodeNegTokenResp({ negState: 'reject' })
      const supportedMech = this.options.supportedMech ?? NTLM_OID
      if (t.mechTypes[0] === NTLM_OID && supportedMech === NTLM_OID) {
        const challenge = this.ntlm.challengeFor(t.mechToken ?? assert.fail('no optimistic token'))
        return encodeNegTokenResp({ negState: 'accept-incomplete', supportedMech, responseToken: challenge })
      }
      // Not the initiator's first choice: ignore its optimistic token, ask for mechListMIC.
      return encodeNegTokenResp({ negState: 'request-mic', supportedMech })
    }
    assert.ok(!framed)
    const resp: NegTokenResp = t
    const mechToken = resp.responseToken ?? assert.fail('no responseToken')
    const type = new DataView(mechToken.buffer, mechToken.byteOffset).getUint32(8, true)
    if (type === 1) {
      return encodeNegTokenResp({
        negState: 'accept-incomplete',
        responseToken: this.ntlm.challengeFor(mechToken),
      })
    }
    this.ntlm.accept(mechToken)
    const sec = this.ntlm.security as NtlmSessionSecurity
    const list = encodeMechTypeList(this.mechTypes)
    assert.ok(resp.mechListMIC !== undefined, 'client sends mechListMIC with AUTHENTICATE (NTLM MIC present)')
    sec.verify(list, resp.mechListMIC)
    sec.resetRc4(false, true) // incoming only, as MS-SPNG 3.3.5.1 / pyspnego do
    this.clientMicVerified = true
    this.options.afterClientMic?.(sec)
    if (this.options.sendMic === false) return encodeNegTokenResp({ negState: 'accept-completed' })
    const mic = sec.sign(list)
    sec.resetRc4(true, false) // outgoing only
    if (this.options.tamperMic === true) mic[5] = (mic[5] as number) ^ 1
    return encodeNegTokenResp({ negState: 'accept-completed', mechListMIC: mic })
  }
}

const ntlmMech = (password = 'Passw0rd!'): NegotiateMechanism => ({
  oid: NTLM_OID,
  create: () => new NtlmContext({ username: 'LAB\\alice', password, spn: 'HTTP/srv.lab.test' }),
})

/** A Kerberos stand-in: produces one opaque first token and must never be used afterwards. */
function fakeKerberos(oid = KERBEROS_OID): NegotiateMechanism & { created: number; token: Uint8Array } {
  const token = Uint8Array.from([0x60, 0x03, 0x06, 0x01, 0x00])
  const mech = {
    oid,
    created: 0,
    token,
    create: (): NegotiateMechanismContext => {
      mech.created++
      let stepped = false
      return {
        mechanism: 'Kerberos',
        complete: false,
        async step(input?: Uint8Array) {
          // Never continued in these tests: the server always picks NTLM.
          if (input !== undefined || stepped) throw new AuthenticationError('fake Kerberos cannot continue')
          stepped = true
          return token
        },
        wrap: () => assert.fail('wrap on Kerberos'),
        unwrap: () => assert.fail('unwrap on Kerberos'),
      }
    },
  }
  return mech
}

async function handshake(ctx: NegotiateContext, server: SpnegoServer): Promise<string[]> {
  const trace: string[] = []
  let out = await ctx.step()
  for (let i = 0; i < 6 && out !== undefined; i++) {
    trace.push(decodeSpnegoToken(out).token.kind)
    const reply = server.handle(out)
    out = await ctx.step(reply)
  }
  return trace
}

function sealRoundTrip(ctx: NegotiateContext, server: SpnegoServer): void {
  const sec = server.ntlm.security as NtlmSessionSecurity
  for (const body of ['<s:Envelope>one</s:Envelope>', 'two', '']) {
    const sealed = ctx.wrap(enc(body))
    assert.equal(sealed.header.length, 16)
    assert.equal(dec(sec.unseal(sealed)), body)
    assert.equal(dec(ctx.unwrap(sec.seal(enc(`re: ${body}`)))), `re: ${body}`)
  }
}

test('Negotiate(NTLM): NegTokenInit, mechListMIC both ways, RC4 reset, then wrap/unwrap', async () => {
  const ctx = new NegotiateContext({ mechanisms: [ntlmMech()] })
  const server = new SpnegoServer()
  assert.equal(ctx.mechanism, 'Negotiate')
  assert.equal(ctx.complete, false)
  const first = await ctx.step()
  assert.ok(first !== undefined)
  const init = decodeSpnegoToken(first)
  assert.ok(init.framed && init.token.kind === 'negTokenInit')
  assert.deepEqual(init.token.mechTypes, [NTLM_OID])
  assert.equal(
    Buffer.from(init.token.mechToken ?? [])
      .subarray(0, 8)
      .toString('latin1'),
    'NTLMSSP\0',
  )
  assert.equal(ctx.mechanism, 'Negotiate', 'not chosen before the server answered')

  const authTok = await ctx.step(server.handle(first))
  assert.equal(ctx.mechanism, 'NTLM')
  assert.equal(ctx.negotiatedMechOid, NTLM_OID)
  assert.equal(ctx.complete, false)
  assert.ok(ctx.mechListMicSent)
  assert.ok(authTok !== undefined)
  const auth = decodeSpnegoToken(authTok)
  assert.ok(!auth.framed && auth.token.kind === 'negTokenResp')
  assert.equal(auth.token.mechListMIC?.length, 16)
  assert.equal(auth.token.negState, undefined)

  assert.equal(await ctx.step(server.handle(authTok)), undefined)
  assert.ok(ctx.complete)
  assert.ok(server.clientMicVerified)
  assert.ok(ctx.mechListMicVerified)
  assert.equal(server.ntlm.user, 'LAB\\alice')
  sealRoundTrip(ctx, server)
  assert.equal(await ctx.step(), undefined)
  assert.deepEqual(ctx.toJSON(), { mechanism: 'NTLM', state: 'complete', mechTypes: [NTLM_OID] })
})

test('CredSSP order: wrapGss between the two mechListMICs; each reset touches its own direction only', async () => {
  const ctx = new NegotiateContext({ mechanisms: [ntlmMech()] })
  const sep = (t: Uint8Array): { header: Uint8Array; data: Uint8Array } => ({
    header: t.subarray(0, 16),
    data: t.subarray(16),
  })
  let serverGot: string | undefined
  const server = new SpnegoServer({
    afterClientMic: (sec) => {
      serverGot = dec(sec.unseal(sep(pubKeyAuth)))
    },
  })
  const authTok = await ctx.step(server.handle((await ctx.step()) ?? assert.fail('no first token')))
  assert.ok(authTok !== undefined && ctx.mechListMicSent && !ctx.complete)
  // As CredSSP does: the mechanism is complete, so a GSS token can be sealed before SPNEGO completes.
  const pubKeyAuth = ctx.wrapGss(enc('client pubKeyAuth'))
  assert.equal(
    new DataView(pubKeyAuth.buffer, pubKeyAuth.byteOffset).getUint32(12, true),
    1,
    'seq 1 after the MIC',
  )
  const reply = server.handle(authTok)
  assert.equal(serverGot, 'client pubKeyAuth')
  const sec = server.ntlm.security as NtlmSessionSecurity
  const answer = sec.seal(enc('server pubKeyAuth'))
  assert.equal(await ctx.step(reply), undefined)
  assert.ok(ctx.complete && ctx.mechListMicVerified)
  const joined = new Uint8Array([...answer.header, ...answer.data])
  assert.equal(dec(ctx.unwrapGss(joined)), 'server pubKeyAuth')
  // The outgoing handle was not reset by the verification: authInfo continues the stream.
  assert.equal(dec(sec.unseal(sep(ctx.wrapGss(enc('authInfo'))))), 'authInfo')
  assert.throws(() => ctx.unwrapGss(joined), CryptoError, 'a replayed token does not verify')
})

test('wrapGss/unwrapGss go to the chosen mechanism, only once it is complete', async () => {
  const calls: string[] = []
  const oneLeg = (withGss: boolean): NegotiateMechanism => ({
    oid: KERBEROS_OID,
    create: (): NegotiateMechanismContext => {
      let done = false
      return {
        mechanism: 'Kerberos',
        get complete() {
          return done
        },
        async step(input?: Uint8Array) {
          if (input === undefined) return Uint8Array.of(0x60, 0x01, 0x00)
          done = true
          return undefined
        },
        wrap: () => assert.fail('WinRM wrap is not GSS wrap'),
        unwrap: () => assert.fail('WinRM unwrap is not GSS unwrap'),
        ...(withGss
          ? {
              wrapGss: (p: Uint8Array) => (calls.push(`wrap ${dec(p)}`), Uint8Array.of(1, ...p)),
              unwrapGss: (t: Uint8Array) => (calls.push(`unwrap ${t.length}`), t.subarray(1)),
            }
          : {}),
      }
    },
  })
  const accept = encodeNegTokenResp({
    negState: 'accept-completed',
    supportedMech: KERBEROS_OID,
    responseToken: Uint8Array.of(2),
  })
  for (const withGss of [true, false]) {
    const ctx = new NegotiateContext({ mechanisms: [oneLeg(withGss)] })
    await ctx.step()
    assert.throws(() => ctx.wrapGss(enc('early')), InvalidStateError)
    assert.equal(await ctx.step(accept), undefined)
    assert.ok(ctx.complete)
    if (withGss) {
      const token = ctx.wrapGss(enc('pub'))
      assert.deepEqual([...token], [1, ...enc('pub')])
      assert.equal(dec(ctx.unwrapGss(token)), 'pub')
      assert.deepEqual(calls, ['wrap pub', 'unwrap 4'])
    } else {
      assert.throws(() => ctx.wrapGss(enc('x')), NotSupportedError)
      assert.throws(() => ctx.unwrapGss(enc('x')), NotSupportedError)
    }
  }
})

test('NtlmContext.resetCryptoState resets only the asked direction', async () => {
  const server = new NtlmServer()
  const client = new NtlmContext({ username: 'LAB\\alice', password: 'Passw0rd!' })
  server.accept(client.authenticate(server.challengeFor(client.negotiate())))
  const sec = server.security as NtlmSessionSecurity
  const msg = enc('same text')
  const a = client.wrapGss(msg)
  client.resetCryptoState(false, true)
  const b = client.wrapGss(msg)
  assert.ok(!eq(a.subarray(16), b.subarray(16)), 'outgoing stream continued (not reset)')
  client.resetCryptoState(true, false)
  const c = client.wrapGss(msg)
  assert.ok(eq(a.subarray(16), c.subarray(16)), 'outgoing stream restarted (same keystream as the first)')
  // The server follows: it consumed a and b, then resets its incoming handle for c.
  assert.equal(dec(sec.unseal({ header: a.subarray(0, 16), data: a.subarray(16) })), 'same text')
  assert.equal(dec(sec.unseal({ header: b.subarray(0, 16), data: b.subarray(16) })), 'same text')
  sec.resetRc4(false, true)
  assert.equal(dec(sec.unseal({ header: c.subarray(0, 16), data: c.subarray(16) })), 'same text')
  assert.throws(() => client.unwrapGss(new Uint8Array(8)), ProtocolError)
})

test('Kerberos offered first, server picks NTLM: optimistic token dropped, NTLM started', async () => {
  const krb = fakeKerberos()
  const msKrb = fakeKerberos(MS_KERBEROS_OID)
  const ctx = new NegotiateContext({ mechanisms: [msKrb, krb, ntlmMech()] })
  const server = new SpnegoServer()
  const trace = await handshake(ctx, server)
  assert.deepEqual(trace, ['negTokenInit', 'negTokenResp', 'negTokenResp'])
  assert.deepEqual(server.mechTypes, [MS_KERBEROS_OID, KERBEROS_OID, NTLM_OID])
  assert.deepEqual(
    server.seenOptimisticToken,
    msKrb.token,
    'the first mechanism’s token was sent optimistically',
  )
  assert.equal(msKrb.created, 1)
  assert.equal(krb.created, 0, 'later mechanisms are not started unless chosen')
  assert.ok(ctx.complete)
  assert.equal(ctx.mechanism, 'NTLM')
  assert.ok(ctx.mechListMicSent && ctx.mechListMicVerified)
  sealRoundTrip(ctx, server)
})

test('a mechanism that cannot start is left out of mechTypes', async () => {
  const broken: NegotiateMechanism = {
    oid: KERBEROS_OID,
    create: () => {
      throw new AuthenticationError('no Kerberos ticket')
    },
  }
  const ctx = new NegotiateContext({ mechanisms: [broken, ntlmMech()] })
  const server = new SpnegoServer()
  await handshake(ctx, server)
  assert.deepEqual(ctx.mechTypes, [NTLM_OID])
  assert.deepEqual(server.mechTypes, [NTLM_OID])
  assert.ok(ctx.complete)
  assert.deepEqual(ctx.skippedMechanisms, ['no Kerberos ticket'])
  const none = new NegotiateContext({ mechanisms: [broken] })
  await assert.rejects(
    none.step(),
    (e: unknown) => e instanceof AuthenticationError && /no Kerberos ticket/.test(e.message),
  )
})

test('an error the mechanism calls final ends the negotiation: the next mechanism is not started', async () => {
  let ntlmStarted = 0
  const refused = new AuthenticationError('the password was wrong')
  const kerberos: NegotiateMechanism = {
    oid: KERBEROS_OID,
    create: () => {
      throw refused
    },
    isFinal: (e) => e === refused,
  }
  const ntlm: NegotiateMechanism = {
    oid: NTLM_OID,
    create: () => {
      ntlmStarted++
      return ntlmMech().create()
    },
  }
  const ctx = new NegotiateContext({ mechanisms: [kerberos, ntlm] })
  await assert.rejects(ctx.step(), (e: unknown) => e === refused)
  assert.equal(ntlmStarted, 0)
  assert.equal(ctx.state, 'failed')
  // an error it does not call final still falls through to NTLM
  const other: NegotiateMechanism = { ...kerberos, isFinal: () => false }
  const fallback = new NegotiateContext({ mechanisms: [other, ntlm] })
  await handshake(fallback, new SpnegoServer())
  assert.equal(ntlmStarted, 1)
  assert.equal(fallback.mechanism, 'NTLM')
})

test('reject → AuthenticationError, then the context is failed', async () => {
  const ctx = new NegotiateContext({ mechanisms: [ntlmMech()] })
  const server = new SpnegoServer({ firstState: 'reject' })
  const first = (await ctx.step()) as Uint8Array
  await assert.rejects(ctx.step(server.handle(first)), AuthenticationError)
  assert.equal(ctx.state, 'failed')
  await assert.rejects(ctx.step(), InvalidStateError)
  assert.throws(() => ctx.wrap(enc('x')), InvalidStateError)
})

test('wrong password: the server refuses (reject) → AuthenticationError', async () => {
  const ctx = new NegotiateContext({ mechanisms: [ntlmMech('wrong')] })
  const server = new SpnegoServer()
  const first = (await ctx.step()) as Uint8Array
  const auth = (await ctx.step(server.handle(first))) as Uint8Array
  assert.throws(() => server.handle(auth), AuthenticationError)
  await assert.rejects(ctx.step(encodeNegTokenResp({ negState: 'reject' })), AuthenticationError)
})

test('tampered server mechListMIC → AuthenticationError caused by CryptoError', async () => {
  const ctx = new NegotiateContext({ mechanisms: [ntlmMech()] })
  const server = new SpnegoServer({ tamperMic: true })
  await assert.rejects(
    handshake(ctx, server),
    (e: unknown) => e instanceof AuthenticationError && e.cause instanceof CryptoError,
  )
  assert.equal(ctx.state, 'failed')
})

test('no server mechListMIC: accepted as pyspnego/Windows do, or refused when required', async () => {
  const lax = new NegotiateContext({ mechanisms: [ntlmMech()] })
  await handshake(lax, new SpnegoServer({ sendMic: false }))
  assert.ok(lax.complete)
  assert.ok(lax.mechListMicSent)
  assert.equal(lax.mechListMicVerified, false)
  const strict = new NegotiateContext({ mechanisms: [ntlmMech()], requireServerMechListMic: true })
  await assert.rejects(handshake(strict, new SpnegoServer({ sendMic: false })), AuthenticationError)
})

test('misbehaving servers → ProtocolError / AuthenticationError', async () => {
  const start = async (): Promise<NegotiateContext> => {
    const ctx = new NegotiateContext({ mechanisms: [fakeKerberos(), ntlmMech()] })
    await ctx.step()
    return ctx
  }
  // A mechanism we never offered.
  await assert.rejects(
    (await start()).step(encodeNegTokenResp({ negState: 'accept-incomplete', supportedMech: '1.2.3.4' })),
    ProtocolError,
  )
  // A responseToken for the mechanism whose token was never sent.
  await assert.rejects(
    (await start()).step(
      encodeNegTokenResp({
        negState: 'accept-incomplete',
        supportedMech: NTLM_OID,
        responseToken: Uint8Array.of(1),
      }),
    ),
    ProtocolError,
  )
  // Garbage and empty answers.
  await assert.rejects((await start()).step(Uint8Array.of(1, 2, 3)), ProtocolError)
  await assert.rejects((await start()).step(), AuthenticationError)
  // A NegTokenInit where a NegTokenResp belongs.
  const ctx = new NegotiateContext({ mechanisms: [ntlmMech()] })
  const first = (await ctx.step()) as Uint8Array
  await assert.rejects(ctx.step(first), ProtocolError)
  // mechListMIC before the mechanism completed.
  const early = new NegotiateContext({ mechanisms: [ntlmMech()] })
  const srv = new NtlmServer()
  const neg = decodeSpnegoToken((await early.step()) as Uint8Array).token
  assert.ok(neg.kind === 'negTokenInit')
  const challenge = srv.challengeFor(neg.mechToken as Uint8Array)
  await assert.rejects(
    early.step(
      encodeNegTokenResp({
        negState: 'accept-incomplete',
        supportedMech: NTLM_OID,
        mechListMIC: new Uint8Array(16),
        responseToken: challenge.subarray(0, 20),
      }),
    ),
    ProtocolError,
  )
})

test('argument checks and state errors', async () => {
  assert.throws(() => new NegotiateContext({ mechanisms: [] }), InvalidArgumentError)
  assert.throws(() => new NegotiateContext({ mechanisms: [ntlmMech(), ntlmMech()] }), InvalidArgumentError)
  const ctx = new NegotiateContext({ mechanisms: [ntlmMech()] })
  assert.throws(() => ctx.wrap(enc('x')), InvalidStateError)
  await ctx.step()
  assert.throws(() => ctx.unwrap({ header: new Uint8Array(16), data: new Uint8Array(0) }), InvalidStateError)
})

/** A toy Kerberos-like mechanism: AP-REQ → AP-REP, with sign/verify (HMAC-SHA256 over a shared key). */
function toyKerberos(oid: string): NegotiateMechanism & { signed: number; verified: number } {
  const mac = (m: Uint8Array): Uint8Array =>
    new Uint8Array(createHmac('sha256', 'k').update(m).digest().subarray(0, 12))
  const mech = {
    oid,
    signed: 0,
    verified: 0,
    create: (): NegotiateMechanismContext => {
      let complete = false
      return {
        mechanism: 'Kerberos',
        get complete() {
          return complete
        },
        async step(input?: Uint8Array) {
          if (input === undefined) return enc('AP-REQ')
          assert.equal(dec(input), 'AP-REP')
          complete = true
          return undefined
        },
        wrap: (p: Uint8Array) => ({ header: mac(p), data: p }),
        unwrap: (m) => m.data,
        sign: (m: Uint8Array) => {
          mech.signed++
          return mac(m)
        },
        verify: (m: Uint8Array, sig: Uint8Array) => {
          mech.verified++
          if (!eq(mac(m), sig)) throw new CryptoError('toy MIC mismatch')
        },
      }
    },
  }
  return mech
}

test('Kerberos OIDs are aliases: supportedMech 1.2.840.113554.1.2.2 answers an MS-KRB5 token', async () => {
  const krb = toyKerberos(MS_KERBEROS_OID)
  const ctx = new NegotiateContext({ mechanisms: [krb, ntlmMech()] })
  const init = decodeSpnegoToken((await ctx.step()) as Uint8Array).token
  assert.ok(init.kind === 'negTokenInit')
  assert.equal(dec(init.mechToken as Uint8Array), 'AP-REQ')
  const out = await ctx.step(
    encodeNegTokenResp({
      negState: 'accept-completed',
      supportedMech: KERBEROS_OID,
      responseToken: enc('AP-REP'),
    }),
  )
  assert.equal(out, undefined)
  assert.ok(ctx.complete)
  assert.equal(ctx.mechanism, 'Kerberos')
  assert.equal(ctx.negotiatedMechOid, KERBEROS_OID)
  assert.equal(krb.signed + krb.verified, 0, 'no mechListMIC for the preferred mechanism')
  assert.deepEqual(ctx.wrap(enc('x')).data, enc('x'))
})

test('server mechListMIC with the final token: verified, and ours is sent after completion', async () => {
  const krb = toyKerberos(KERBEROS_OID)
  const ctx = new NegotiateContext({ mechanisms: [krb, ntlmMech()] })
  await ctx.step()
  const list = encodeMechTypeList([KERBEROS_OID, NTLM_OID])
  const mic = new Uint8Array(createHmac('sha256', 'k').update(list).digest().subarray(0, 12))
  const out = await ctx.step(
    encodeNegTokenResp({
      negState: 'accept-completed',
      supportedMech: KERBEROS_OID,
      responseToken: enc('AP-REP'),
      mechListMIC: mic,
    }),
  )
  assert.ok(ctx.complete && ctx.mechListMicVerified && ctx.mechListMicSent)
  const resp = decodeSpnegoToken(out as Uint8Array).token
  assert.ok(resp.kind === 'negTokenResp')
  assert.deepEqual(resp.mechListMIC, mic)
  assert.equal(resp.responseToken, undefined)
  // request-mic when the mechanism cannot sign is an AuthenticationError.
  const unsigned = toyKerberos(KERBEROS_OID)
  const nosign = new NegotiateContext({
    mechanisms: [
      {
        oid: KERBEROS_OID,
        create: () => {
          const c = unsigned.create()
          delete (c as { sign?: unknown }).sign
          return c
        },
      },
    ],
  })
  await nosign.step()
  await assert.rejects(
    nosign.step(
      encodeNegTokenResp({
        negState: 'request-mic',
        supportedMech: KERBEROS_OID,
        responseToken: enc('AP-REP'),
      }),
    ),
    AuthenticationError,
  )
})

test('fuzz: random or mutated server tokens only ever raise PsrpError', async () => {
  const { PsrpError } = await import('../../../src/errors.ts')
  const fc = (await import('fast-check')).default
  const valid = [
    encodeNegTokenResp({
      negState: 'accept-incomplete',
      supportedMech: NTLM_OID,
      responseToken: new NtlmServer().challengeFor(
        new NtlmContext({ username: 'a', password: 'b' }).negotiate(),
      ),
    }),
    encodeNegTokenResp({ negState: 'request-mic', supportedMech: NTLM_OID }),
    encodeNegTokenResp({ negState: 'accept-completed', mechListMIC: new Uint8Array(16) }),
  ]
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      )
      .map(([v, flips]) => {
        const b = v.slice()
        for (const [i, x] of flips) b[i % b.length] = x
        return b
      }),
  )
  await fc.assert(
    fc.asyncProperty(input, async (bytes) => {
      const ctx = new NegotiateContext({ mechanisms: [fakeKerberos(), ntlmMech()] })
      await ctx.step()
      try {
        await ctx.step(bytes)
      } catch (err) {
        assert.ok(err instanceof PsrpError, String(err))
      }
    }),
    { numRuns: 500 },
  )
})
