/**
 * The pure-TypeScript Kerberos client against a real MIT KDC (test/peers/kdc) and MIT's GSSAPI
 * acceptor (python3-gssapi): AS/TGS exchanges for both AES families, error mapping, ccache and
 * keytab credentials, AP-REQ/AP-REP with and without channel bindings, WinRM-layout wrap/unwrap and
 * MICs both ways, SPNEGO with NTLM fallback, and delegation.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { KerberosContext, type KerberosContextOptions } from '../../src/auth/kerberos/context.ts'
import { defaultRandom } from '../../src/auth/kerberos/crypto/index.ts'
import { requestServiceTicket, requestTgt, type KdcSender } from '../../src/auth/kerberos/kdc-exchange.ts'
import { decodeKdcRep } from '../../src/auth/kerberos/messages/kdc-rep.ts'
import { NtlmContext } from '../../src/auth/ntlm/context.ts'
import { NegotiateContext } from '../../src/auth/spnego/context.ts'
import { KERBEROS_OID, NTLM_OID } from '../../src/auth/spnego/oids.ts'
import {
  AuthenticationError,
  CryptoError,
  PsrpError,
  TimeoutError,
  TransportError,
} from '../../src/errors.ts'
import { createKerberosContext, kdcSender } from '../../src/transport/kdc.ts'
import { freePort } from '../helpers/net.ts'
import { peerSkip } from '../helpers/peers.ts'
import { gssapiAvailable, startAcceptor } from '../peers/kdc/acceptor.ts'
import { kdcAvailable, startKdc, type KdcPeer } from '../peers/kdc/kdc.ts'

const skip = peerSkip('MIT KDC', kdcAvailable(), 'apt-get install krb5-kdc krb5-admin-server krb5-user')
const skipGss =
  skip ||
  peerSkip('python3-gssapi', gssapiAvailable(), 'apt-get install python3-gssapi (Debian /usr/bin/python3)')
const b64 = (u: Uint8Array | undefined): string => Buffer.from(u ?? new Uint8Array(0)).toString('base64')
const unb64 = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(String(s ?? ''), 'base64'))
const env = { now: () => new Date(), random: defaultRandom }
const CERT_HASH = createHash('sha256').update('not a real certificate').digest()
const cbtAppData = (h: Uint8Array): Uint8Array => Buffer.concat([Buffer.from('tls-server-end-point:'), h])

describe('Kerberos against MIT krb5', { skip: skipGss === false ? skip : skipGss }, () => {
  let kdc: KdcPeer
  let send: KdcSender
  const ctxOpts = (o: Partial<KerberosContextOptions> = {}): KerberosContextOptions => ({
    username: 'alice',
    password: kdc.password,
    hostname: 'localhost',
    realm: kdc.realm,
    sendKdc: send,
    ...o,
  })

  before(async () => {
    const t = performance.now()
    kdc = await startKdc()
    send = kdcSender({ kdc: [kdc.kdcAddress], timeout: 3000 })
    console.log(`# KDC up in ${Math.round(performance.now() - t)} ms at ${kdc.kdcAddress}`)
  })
  after(async () => kdc?.close())

  for (const [user, etype] of [
    ['alice', 18],
    ['bob', 20],
    ['dave', 18],
  ] as const) {
    test(`TGT and service ticket from a password: ${user} (AS-REP enctype ${etype})`, async () => {
      const replies: Uint8Array[] = []
      const spy: KdcSender = async (realm, req) => {
        const r = await send(realm, req)
        replies.push(r)
        return r
      }
      const t = performance.now()
      const tgt = await requestTgt(
        { client: { nameType: 1, components: [user], realm: kdc.realm }, secret: { password: kdc.password } },
        spy,
        env,
      )
      const st = await requestServiceTicket(
        tgt,
        { nameType: 3, components: ['HTTP', 'localhost'], realm: kdc.realm },
        spy,
        env,
      )
      console.log(
        `# ${user}: AS+TGS ${Math.round(performance.now() - t)} ms, ${replies.length} KDC round trips`,
      )
      const asRep = replies.find((r) => r[0] === 0x6b) as Uint8Array
      assert.equal(decodeKdcRep(asRep).encPart.etype, etype)
      assert.deepEqual(tgt.server.components, ['krbtgt', kdc.realm])
      assert.deepEqual(st.server.components, ['HTTP', 'localhost'])
      assert.equal(replies.length, user === 'dave' ? 2 : 3) // pre-auth required: one extra round trip
    })
  }

  test('wrong password → AuthenticationError that says so and does not contain the password', async () => {
    for (const user of ['alice', 'dave']) {
      await assert.rejects(
        requestTgt(
          {
            client: { nameType: 1, components: [user], realm: kdc.realm },
            secret: { password: 'Wr0ng-Secret' },
          },
          send,
          env,
        ),
        (err: unknown) => {
          assert.ok(err instanceof AuthenticationError)
          assert.match(err.message, /password for .* was wrong/)
          assert.doesNotMatch(err.message + String(err.stack), /Wr0ng-Secret/)
          return true
        },
      )
    }
  })

  test('unknown user → AuthenticationError naming the principal', async () => {
    await assert.rejects(
      requestTgt(
        { client: { nameType: 1, components: ['mallory'], realm: kdc.realm }, secret: { password: 'x' } },
        send,
        env,
      ),
      (err: unknown) => err instanceof AuthenticationError && /mallory@PSRP\.TEST/.test(err.message),
    )
  })

  test('unknown service → AuthenticationError naming the SPN', async () => {
    const ctx = new KerberosContext(ctxOpts({ hostname: 'nosuchhost' }))
    await assert.rejects(
      ctx.step(),
      (err: unknown) => err instanceof AuthenticationError && /HTTP\/nosuchhost/.test(err.message),
    )
  })

  test('unreachable KDC → typed error naming host:port, within the timeout', async () => {
    const port = await freePort()
    const t = performance.now()
    await assert.rejects(
      kdcSender({ kdc: [`127.0.0.1:${port}`], timeout: 1000 })(kdc.realm, new Uint8Array(10)),
      (err: unknown) => err instanceof TransportError && err.message.includes(`127.0.0.1:${port}`),
    )
    // A listener that never answers: TimeoutError.
    const silent = createServer(() => undefined)
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const sp = (silent.address() as { port: number }).port
    const t2 = performance.now()
    await assert.rejects(
      kdcSender({ kdc: [`127.0.0.1:${sp}`], timeout: 300 })(kdc.realm, new Uint8Array(10)),
      (err: unknown) => err instanceof TimeoutError && err.message.includes(`127.0.0.1:${sp}`),
    )
    const waited = performance.now() - t2
    silent.close()
    console.log(`# refused in ${Math.round(t2 - t)} ms, timeout after ${Math.round(waited)} ms`)
    assert.ok(waited < 1500)
    // Through the context: the error surfaces from step().
    const ctx = new KerberosContext(
      ctxOpts({ sendKdc: kdcSender({ kdc: [`127.0.0.1:${port}`], timeout: 500 }) }),
    )
    await assert.rejects(ctx.step(), TransportError)
  })

  async function handshake(ctx: KerberosContext, o: { spnego?: boolean; cbt?: Uint8Array } = {}) {
    const acc = await startAcceptor(kdc, o)
    const token = await ctx.step()
    const r = await acc.call({ op: 'accept', token: b64(token) })
    return { acc, r }
  }

  async function roundTrips(
    ctx: KerberosContext,
    acc: Awaited<ReturnType<typeof startAcceptor>>,
  ): Promise<void> {
    for (const size of [0, 1, 15, 16, 17, 100, 5000]) {
      const msg = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff)
      const sealed = ctx.wrap(msg)
      const api = size % 2 === 0 ? 'unwrap_iov' : 'unwrap'
      const r1 = await acc.call({
        op: 'unwrap_winrm',
        api,
        header: b64(sealed.header),
        data: b64(sealed.data),
      })
      assert.equal(r1['error'], undefined, String(r1['error']))
      assert.deepEqual(unb64(r1['plaintext']), msg)
      const r2 = await acc.call({ op: 'wrap_winrm', plaintext: b64(msg) })
      assert.deepEqual(ctx.unwrap({ header: unb64(r2['header']), data: unb64(r2['data']) }), msg)
    }
    // Plain GSS wrap (RRC 0) both ways.
    const m = new TextEncoder().encode('credssp inner message')
    const r3 = await acc.call({ op: 'unwrap', token: b64(ctx.wrapGss(m)) })
    assert.deepEqual(unb64(r3['plaintext']), m)
    assert.equal(r3['encrypted'], true)
    const r4 = await acc.call({ op: 'wrap', plaintext: b64(m) })
    assert.deepEqual(ctx.unwrapGss(unb64(r4['token'])), m)
    // MICs both ways, and a tampered one.
    const r5 = await acc.call({ op: 'verify_mic', message: b64(m), token: b64(ctx.sign(m)) })
    assert.equal(r5['ok'], true, String(r5['error']))
    const r6 = await acc.call({ op: 'get_mic', message: b64(m) })
    ctx.verify(m, unb64(r6['token']))
    const r7 = await acc.call({ op: 'get_mic', message: b64(m) })
    assert.throws(() => ctx.verify(Uint8Array.of(1, 2, 3), unb64(r7['token'])), CryptoError)
  }

  test('AP-REQ accepted by MIT, mutual auth, WinRM wrap/unwrap, GSS wrap, MICs both ways', async () => {
    const t = performance.now()
    const ctx = new KerberosContext(ctxOpts())
    const { acc, r } = await handshake(ctx)
    try {
      assert.equal(r['complete'], true, String(r['error']))
      assert.equal(r['initiator'], `alice@${kdc.realm}`)
      assert.equal(r['mutual'], true)
      assert.equal(r['channel_bound'], false)
      assert.equal(r['delegated'], false)
      assert.equal(await ctx.step(unb64(r['token'])), undefined)
      assert.equal(ctx.complete, true)
      console.log(`# password → AP-REQ → AP-REP: ${Math.round(performance.now() - t)} ms`)
      await roundTrips(ctx, acc)
      assert.doesNotMatch(JSON.stringify(ctx) + inspect(ctx), new RegExp(kdc.password.replace('!', '\\!')))
    } finally {
      await acc.close()
    }
  })

  test('channel bindings: matching → channel bound; absent → accepted unbound; wrong → refused', async () => {
    const good = new KerberosContext(ctxOpts({ channelBindings: { tlsServerEndPoint: CERT_HASH } }))
    const a = await handshake(good, { cbt: cbtAppData(CERT_HASH) })
    assert.equal(a.r['complete'], true, String(a.r['error']))
    assert.equal(a.r['channel_bound'], true)
    await good.step(unb64(a.r['token']))
    await a.acc.close()

    const none = new KerberosContext(ctxOpts())
    const b = await handshake(none, { cbt: cbtAppData(CERT_HASH) })
    assert.equal(b.r['complete'], true, String(b.r['error']))
    assert.equal(b.r['channel_bound'], false)
    await b.acc.close()

    const wrong = new KerberosContext(ctxOpts({ channelBindings: { tlsServerEndPoint: new Uint8Array(32) } }))
    const c = await handshake(wrong, { cbt: cbtAppData(CERT_HASH) })
    assert.match(String(c.r['error']), /binding/i)
    await c.acc.close()
  })

  test('credential cache from kinit (v4 and v3) and a keytab', async () => {
    for (const ccacheType of [4, 3]) {
      const path = join(kdc.dir, `alice-${ccacheType}.ccache`)
      kdc.kinit(path, { ccacheType })
      const ctx = createKerberosContext({
        hostname: 'localhost',
        ccache: `FILE:${path}`,
        krb5Config: kdc.krb5ConfPath,
      })
      const { acc, r } = await handshake(ctx)
      assert.equal(r['complete'], true, String(r['error']))
      await ctx.step(unb64(r['token']))
      await roundTrips(ctx, acc)
      await acc.close()
    }
    const kt = createKerberosContext({
      username: `alice@${kdc.realm}`,
      keytab: kdc.userKeytab,
      hostname: 'localhost',
      krb5Config: kdc.krb5ConfPath,
    })
    const { acc, r } = await handshake(kt)
    assert.equal(r['complete'], true, String(r['error']))
    assert.equal(r['initiator'], `alice@${kdc.realm}`)
    await acc.close()
  })

  test('delegation: the acceptor gets a delegated credential', async () => {
    const ctx = new KerberosContext(ctxOpts({ delegate: true }))
    const { acc, r } = await handshake(ctx)
    try {
      assert.equal(r['complete'], true, String(r['error']))
      assert.equal(r['delegated'], true)
      assert.equal(ctx.delegated, true)
      await ctx.step(unb64(r['token']))
      await roundTrips(ctx, acc)
    } finally {
      await acc.close()
    }
  })

  test('SPNEGO: completes with Kerberos against an MIT SPNEGO acceptor', async () => {
    const neg = new NegotiateContext({
      mechanisms: [
        { oid: KERBEROS_OID, create: () => new KerberosContext(ctxOpts()) },
        { oid: NTLM_OID, create: () => new NtlmContext({ username: 'alice', password: kdc.password }) },
      ],
    })
    const acc = await startAcceptor(kdc, { spnego: true })
    try {
      let token = await neg.step()
      for (let i = 0; i < 4 && token !== undefined; i++) {
        const r = await acc.call({ op: 'accept', token: b64(token) })
        assert.equal(r['error'], undefined, String(r['error']))
        token = r['token'] === null ? undefined : await neg.step(unb64(r['token']))
        if (r['complete'] === true) {
          assert.equal(r['initiator'], `alice@${kdc.realm}`)
          break
        }
      }
      assert.equal(neg.complete, true)
      assert.equal(neg.mechanism, 'Kerberos')
      const m = new TextEncoder().encode('<s:Envelope/>')
      const sealed = neg.wrap(m)
      const r = await acc.call({ op: 'unwrap_winrm', header: b64(sealed.header), data: b64(sealed.data) })
      assert.deepEqual(unb64(r['plaintext']), m)
    } finally {
      await acc.close()
    }
  })

  test('SPNEGO falls back to NTLM when Kerberos cannot start (no ticket, no password)', async () => {
    const neg = new NegotiateContext({
      mechanisms: [
        {
          oid: KERBEROS_OID,
          create: () => new KerberosContext({ hostname: 'localhost', sendKdc: send, env: {} }),
        },
        { oid: NTLM_OID, create: () => new NtlmContext({ username: 'alice', password: kdc.password }) },
      ],
    })
    await neg.step()
    assert.deepEqual(neg.mechTypes, [NTLM_OID])
    // The Kerberos context alone: a PsrpError saying why.
    await assert.rejects(
      new KerberosContext({ hostname: 'localhost', env: {} }).step(),
      (e: unknown) => e instanceof PsrpError && /KRB5CCNAME|kinit/.test(e.message),
    )
  })
})
