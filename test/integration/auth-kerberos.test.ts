/**
 * PSRP over WinRM with Kerberos and Negotiate, end to end against real peers: a throwaway MIT KDC
 * (test/peers/kdc), MIT's GSSAPI acceptor with the service keytab inside the project's WinRM auth
 * proxy (test/peers/auth/winrm_auth_proxy.py, python3-gssapi; gss-ntlmssp for the NTLM fallback),
 * and the WinRM bridge hosting real pwsh behind it. Every SOAP body over HTTP is encrypted by our
 * client and decrypted by MIT's gss_unwrap_iov (and the other way round); over HTTPS the acceptor
 * checks the channel bindings.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { inspect } from 'node:util'
import {
  AuthenticationError,
  PowerShell,
  RunspacePool,
  TimeoutError,
  TransportError,
  WSManConnection,
  type WSManConnectionOptions,
} from '../../src/index.ts'
import type { WSManKerberosOptions } from '../../src/index.ts'
import { parseCCache } from '../../src/auth/kerberos/ccache.ts'
import { parseKeytab } from '../../src/auth/kerberos/keytab.ts'
import { SecurityContextAuth } from '../../src/transport/http/gss-auth.ts'
import { createKerberosContext } from '../../src/transport/kdc.ts'
import {
  kerberosFrontSkip,
  peerEndpoint,
  startKerberosFront,
  type KerberosFront,
} from '../helpers/auth-fronts.ts'
import { bounded } from '../helpers/bounded.ts'
import { findPwsh, opensslSkip } from '../helpers/peers.ts'
import { freePort } from '../helpers/net.ts'
import type { WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { startNtlmPeer, type NtlmPeer, type NtlmPeerStatus } from '../peers/auth/ntlm-peer.ts'
import type { KdcPeer } from '../peers/kdc/kdc.ts'
import { makeCertificates, type TestCertificates } from '../helpers/http-servers.ts'
import { sessionRoundTrip } from '../helpers/round-trip.ts'
import { definePoolScenarios } from './pool-scenarios.ts'

const pwsh = findPwsh()
const skip = kerberosFrontSkip(pwsh)
const tlsSkip = skip || opensslSkip()

const KERBEROS_ENCRYPTED = 'application/HTTP-Kerberos-session-encrypted'
const SPNEGO_ENCRYPTED = 'application/HTTP-SPNEGO-session-encrypted'
/** A user only gss-ntlmssp knows (the KDC has no such principal). */
const NTLM_ONLY = { domain: 'LAB', user: 'carol', password: 'ntlm-only Pässw0rd' }

/** The proxy's counters, with the Kerberos ones winrm_auth_proxy.py adds when it has a keytab. */
interface KerberosPeerStatus extends NtlmPeerStatus {
  readonly kerberosAuthenticated: number
  readonly ntlmAuthenticated: number
  /** Kerberos authentications that delegated a forwarded TGT to the acceptor. */
  readonly delegated: number
  /** `<HTTP scheme>/<mechanism>` of every authentication, e.g. `Negotiate/Kerberos`. */
  readonly authMechs: readonly string[]
  /** The `protocol=` of every encrypted request. */
  readonly encryptionProtocols: readonly string[]
}

const status = async (peer: NtlmPeer): Promise<KerberosPeerStatus> => {
  const s = (await peer.status()) as KerberosPeerStatus
  assert.equal(typeof s.kerberosAuthenticated, 'number', 'the proxy reports Kerberos counters')
  return s
}

const deep = (v: unknown): string => inspect(v, { depth: Infinity, showHidden: true, getters: true })

describe('Kerberos and Negotiate against an MIT KDC and acceptor (real pwsh)', { skip }, () => {
  let kdc: KdcPeer
  let bridge: WinRMBridge
  let peer: NtlmPeer

  /** Options for the HTTP peer: alice, her password, the realm's krb5.conf, SPN HTTP/localhost. */
  const options = (
    target: NtlmPeer,
    auth: 'kerberos' | 'negotiate',
    o: Partial<WSManConnectionOptions> = {},
    kerberos: WSManKerberosOptions = {},
  ): WSManConnectionOptions => ({
    ...peerEndpoint(target),
    auth,
    username: 'alice',
    password: kdc.password,
    kerberos: { hostname: 'localhost', krb5Config: kdc.krb5ConfPath, kdcTimeout: 3000, ...kerberos },
    ...o,
  })

  /** Tickets the KDC has issued to alice so far, from its log: logins (AS) and service tickets (TGS). */
  const kdcIssued = (): { as: number; tgs: number } => {
    const log = readFileSync(join(kdc.dir, 'kdc.log'), 'utf8').split('\n')
    const issued = (kind: string): number =>
      log.filter((l) => l.includes(`${kind}_REQ`) && l.includes('ISSUE') && l.includes(`alice@${kdc.realm}`))
        .length
    return { as: issued('AS'), tgs: issued('TGS') }
  }

  let front: KerberosFront | undefined
  before(async () => {
    // alice has the same password for NTLM, so Negotiate can fall back for her too
    front = await startKerberosFront(pwsh as string, [NTLM_ONLY])
    ;({ kdc, bridge, peer } = front)
  })
  after(() => front?.close())

  test(
    "auth 'negotiate' with a password chooses Kerberos: pool, output and errors, 256 KiB input, close, all encrypted",
    { timeout: 60_000 },
    async () => {
      const before = await status(peer)
      const kdcBefore = kdcIssued()
      const lines: string[] = []
      const t0 = Date.now()
      const conn = new WSManConnection({ ...options(peer, 'negotiate'), trace: (l) => lines.push(l) })
      const opened = await sessionRoundTrip(conn, {
        inputBytes: 256 * 1024,
        fill: 'k',
        openMs: 30_000,
        callMs: 20_000,
      })
      await conn.close()

      const s = await status(peer)
      const auths = s.authenticated - before.authenticated
      assert.ok(auths >= 2, `${auths} authentications (main lane + a Receive lane)`)
      assert.equal(s.kerberosAuthenticated - before.kerberosAuthenticated, auths, 'every one by Kerberos')
      // the connection's ticket cache: one login and one service ticket for all its HTTP connections
      const kdcAfter = kdcIssued()
      assert.equal(kdcAfter.as - kdcBefore.as, 1, `AS exchanges for ${auths} authentications`)
      assert.equal(kdcAfter.tgs - kdcBefore.tgs, 1, `TGS exchanges for ${auths} authentications`)
      assert.equal(s.ntlmAuthenticated, before.ntlmAuthenticated, 'no NTLM')
      assert.ok(s.authMechs.includes('Negotiate/Kerberos'), s.authMechs.join())
      assert.ok(s.users.includes(`alice@${kdc.realm}`), s.users.join())
      assert.deepEqual(s.encryptionProtocols, [SPNEGO_ENCRYPTED])
      assert.ok(s.encryptedRequests - before.encryptedRequests >= 6, JSON.stringify(s))
      assert.ok(s.largestEncryptedRequest > 100_000, `largest encrypted body ${s.largestEncryptedRequest}`)
      assert.equal(s.plaintextRequests, 0, 'no SOAP body travelled in clear text')
      assert.equal(s.decryptFailures, 0)
      assert.equal(s.authFailures, before.authFailures)
      // the client's own view: SPNEGO under Negotiate, a 200 carrying the acceptor's final token
      assert.ok(
        lines.some((l) => /Authorization: Negotiate <\d+ bytes>/.test(l)),
        lines.join('\n'),
      )
      assert.ok(
        lines.some((l) => /HTTP 200 .*WWW-Authenticate: Negotiate <\d+ bytes>/.test(l)),
        lines.join('\n'),
      )
      console.log(`# Negotiate(Kerberos)/HTTP: open ${opened} ms, total ${Date.now() - t0} ms`)
    },
  )

  test(
    "auth 'negotiate' falls back to NTLM for a user the KDC does not know",
    { timeout: 30_000 },
    async () => {
      const before = await status(peer)
      const conn = new WSManConnection(
        options(peer, 'negotiate', {
          username: `${NTLM_ONLY.domain}\\${NTLM_ONLY.user}`,
          password: NTLM_ONLY.password,
        }),
      )
      const pool = await bounded(RunspacePool.open(conn, { timeout: 20_000 }), 20_000, 'open')
      assert.deepEqual(await new PowerShell(pool).addScript('"ntlm " + (6 * 7)').invoke(), ['ntlm 42'])
      await pool.close()
      await conn.close()
      const s = await status(peer)
      assert.ok(s.ntlmAuthenticated > before.ntlmAuthenticated, JSON.stringify(s))
      assert.equal(s.kerberosAuthenticated, before.kerberosAuthenticated, 'no Kerberos')
      assert.ok(s.authMechs.includes('Negotiate/NTLM'), s.authMechs.join())
      assert.ok(s.users.includes('LAB\\carol'), s.users.join())
      assert.equal(s.plaintextRequests, 0)
      assert.equal(s.decryptFailures, 0)
    },
  )

  test(
    "auth 'negotiate' falls back to NTLM, promptly, when the KDC is unreachable",
    { timeout: 30_000 },
    async () => {
      const port = await freePort()
      const before = await status(peer)
      const t0 = Date.now()
      const conn = new WSManConnection(
        options(peer, 'negotiate', { username: 'LAB\\alice' }, { kdc: [`127.0.0.1:${port}`] }),
      )
      const pool = await bounded(RunspacePool.open(conn, { timeout: 20_000 }), 20_000, 'open')
      const took = Date.now() - t0
      assert.deepEqual(await new PowerShell(pool).addScript('1 + 1').invoke(), [2])
      await pool.close()
      await conn.close()
      const s = await status(peer)
      assert.ok(s.ntlmAuthenticated > before.ntlmAuthenticated, JSON.stringify(s))
      assert.equal(s.kerberosAuthenticated, before.kerberosAuthenticated, 'no Kerberos')
      assert.ok(s.users.includes('LAB\\alice'), s.users.join())
      assert.ok(took < 10_000, `open took ${took} ms`)
    },
  )

  test(
    "auth 'negotiate' refused through NTLM says why Kerberos was not tried",
    { timeout: 30_000 },
    async () => {
      const port = await freePort()
      const wrong = 'Not-the-Passw0rd-31'
      const err = await bounded(
        RunspacePool.open(
          new WSManConnection(
            options(
              peer,
              'negotiate',
              { username: 'LAB\\alice', password: wrong },
              { kdc: [`127.0.0.1:${port}`] },
            ),
          ),
          { timeout: 20_000 },
        ).catch((e: unknown) => e),
        20_000,
        'open',
      )
      assert.ok(err instanceof AuthenticationError, String(err))
      assert.match(err.message, /rejected Negotiate \(NTLM\) authentication/)
      assert.match(err.message, new RegExp(`not tried: Kerberos: .*127\\.0\\.0\\.1:${port}`))
      assert.ok(!deep(err).includes(wrong), deep(err))
    },
  )

  test(
    "auth 'kerberos' (HTTP Kerberos scheme, HTTP-Kerberos-session-encrypted): from a password, a kinit ccache and a keytab",
    { timeout: 60_000 },
    async () => {
      const ccache = join(kdc.dir, 'alice-client.ccache')
      kdc.kinit(ccache)
      const sources: [string, Partial<WSManConnectionOptions>, WSManKerberosOptions][] = [
        ['password', {}, {}],
        ['ccache', { username: undefined, password: undefined }, { ccache: `FILE:${ccache}` }],
        ['keytab', { password: undefined }, { keytab: kdc.userKeytab }],
        // nothing given: the cache KRB5CCNAME names
        ['KRB5CCNAME', { username: undefined, password: undefined }, {}],
      ]
      const savedCcName = process.env['KRB5CCNAME']
      const restoreCcName = (): void => {
        if (savedCcName === undefined) delete process.env['KRB5CCNAME']
        else process.env['KRB5CCNAME'] = savedCcName
      }
      for (const [what, o, k] of sources) {
        const before = await status(peer)
        const lines: string[] = []
        const conn = new WSManConnection({ ...options(peer, 'kerberos', o, k), trace: (l) => lines.push(l) })
        // read whenever a new HTTP connection authenticates (the pool's Receive lane too), as MIT does
        if (what === 'KRB5CCNAME') process.env['KRB5CCNAME'] = `FILE:${ccache}`
        try {
          const pool = await bounded(RunspacePool.open(conn, { timeout: 20_000 }), 20_000, `open (${what})`)
          assert.deepEqual(await new PowerShell(pool).addScript(`'${what}'; 6 * 7`).invoke(), [what, 42])
          await pool.close()
          await conn.close()
        } finally {
          restoreCcName()
        }
        const s = await status(peer)
        const auths = s.authenticated - before.authenticated
        assert.ok(auths >= 1, what)
        assert.equal(s.kerberosAuthenticated - before.kerberosAuthenticated, auths, `${what}: Kerberos`)
        assert.ok(s.authMechs.includes('Kerberos/Kerberos'), s.authMechs.join())
        assert.ok(s.encryptionProtocols.includes(KERBEROS_ENCRYPTED), s.encryptionProtocols.join())
        assert.ok(s.encryptedRequests - before.encryptedRequests >= 4, `${what}: ${JSON.stringify(s)}`)
        assert.equal(s.plaintextRequests, 0)
        assert.equal(s.decryptFailures, 0)
        assert.ok(
          lines.some((l) => /Authorization: Kerberos <\d+ bytes>/.test(l)),
          `${what}: ${lines.join('\n')}`,
        )
        assert.ok(
          lines.some((l) => /HTTP 200 .*WWW-Authenticate: Kerberos <\d+ bytes>/.test(l)),
          `${what}: the 200 carries the AP-REP: ${lines.join('\n')}`,
        )
        assert.ok(
          lines.some((l) => l.includes(`multipart/encrypted (${KERBEROS_ENCRYPTED})`)),
          lines.join('\n'),
        )
      }
      assert.deepEqual(
        (await status(peer)).users.filter((u) => u.includes('@')),
        [`alice@${kdc.realm}`],
      )
    },
  )

  test('kerberos.delegate forwards a TGT the acceptor receives; without it none', async () => {
    for (const delegate of [true, false]) {
      const before = await status(peer)
      const conn = new WSManConnection(options(peer, 'kerberos', {}, { delegate }))
      const pool = await bounded(RunspacePool.open(conn, { timeout: 20_000 }), 20_000, 'open')
      assert.deepEqual(await new PowerShell(pool).addScript('"d"').invoke(), ['d'])
      await pool.close()
      await conn.close()
      const s = await status(peer)
      const auths = s.kerberosAuthenticated - before.kerberosAuthenticated
      assert.ok(auths >= 1)
      assert.equal(s.delegated - before.delegated, delegate ? auths : 0, `delegate ${delegate}`)
    }
  })

  test('a wrong password is an AuthenticationError saying the password/pre-authentication failed', async () => {
    const wrong = 'Not-the-Passw0rd-17'
    const t0 = Date.now()
    const err = await bounded(
      RunspacePool.open(new WSManConnection(options(peer, 'kerberos', { password: wrong })), {
        timeout: 20_000,
      }).catch((e: unknown) => e),
      20_000,
      'open',
    )
    assert.ok(err instanceof AuthenticationError, String(err))
    assert.match(err.message, /password|pre-?auth/i)
    assert.match(err.message, /alice@PSRP\.TEST/)
    assert.ok(!deep(err).includes(wrong) && !deep(err).includes(kdc.password), deep(err))
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`)
  })

  test("auth 'negotiate' with a wrong password: the KDC's refusal is final, no NTLM logon is tried", async () => {
    const wrong = 'Not-the-Passw0rd-23'
    const before = await status(peer)
    const t0 = Date.now()
    const err = await bounded(
      RunspacePool.open(new WSManConnection(options(peer, 'negotiate', { password: wrong })), {
        timeout: 20_000,
      }).catch((e: unknown) => e),
      20_000,
      'open',
    )
    // a second (NTLM) logon with the same wrong password would only count toward lockout
    assert.ok(err instanceof AuthenticationError, String(err))
    assert.match(err.message, /password for alice@PSRP\.TEST was wrong/)
    assert.match(err.message, /KDC_ERR_PREAUTH_FAILED/)
    assert.ok(!deep(err).includes(wrong), deep(err))
    const s = await status(peer)
    assert.equal(s.authFailures, before.authFailures, 'no token reached the server')
    assert.equal(s.ntlmAuthenticated, before.ntlmAuthenticated)
    assert.equal(s.authenticated, before.authenticated)
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`)
  })

  test('an unreachable KDC is an error naming host:port within a few seconds', async () => {
    const port = await freePort()
    const t0 = Date.now()
    const refused = await bounded(
      RunspacePool.open(new WSManConnection(options(peer, 'kerberos', {}, { kdc: [`127.0.0.1:${port}`] })), {
        timeout: 20_000,
      }).catch((e: unknown) => e),
      10_000,
      'open',
    )
    assert.ok(refused instanceof TransportError, String(refused))
    assert.match(refused.message, new RegExp(`KDC 127\\.0\\.0\\.1:${port}`))
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`)

    // a KDC that accepts the connection and never answers: the kdcTimeout bounds it
    const silent: Server = createServer(() => undefined)
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const silentPort = (silent.address() as { port: number }).port
    try {
      const t1 = Date.now()
      const timedOut = await bounded(
        RunspacePool.open(
          new WSManConnection(
            options(peer, 'kerberos', {}, { kdc: [`127.0.0.1:${silentPort}`], kdcTimeout: 1000 }),
          ),
          { timeout: 20_000 },
        ).catch((e: unknown) => e),
        10_000,
        'open',
      )
      assert.ok(timedOut instanceof TimeoutError, String(timedOut))
      assert.match(timedOut.message, new RegExp(`KDC 127\\.0\\.0\\.1:${silentPort}.*1000 ms`))
      assert.ok(Date.now() - t1 < 5000, `took ${Date.now() - t1} ms`)
    } finally {
      silent.close()
    }
  })

  test('secrets stay out of util.inspect, JSON and errors', { timeout: 60_000 }, async () => {
    const ccachePath = join(kdc.dir, 'alice-secrets.ccache')
    kdc.kinit(ccachePath)
    const cache = parseCCache(new Uint8Array(readFileSync(ccachePath)))
    const keytab = parseKeytab(new Uint8Array(readFileSync(kdc.userKeytab)))
    const b = (u: Uint8Array): Buffer => Buffer.from(u)
    const secrets = [
      kdc.password,
      ...cache.credentials.flatMap((c) => [
        b(c.sessionKey.value).toString('hex'),
        b(c.sessionKey.value).toString('base64'),
        b(c.ticket.subarray(c.ticket.length - 48)).toString('base64'),
      ]),
      ...keytab.flatMap((e) => [b(e.key.value).toString('hex'), b(e.key.value).toString('base64')]),
    ]
    assert.ok(secrets.length >= 6)
    const leaks = (text: string, where: string): void => {
      for (const s of secrets) {
        const i = text.indexOf(s)
        assert.ok(i < 0, `${where} shows a secret: ${text.slice(Math.max(0, i - 200), i + 100)}`)
      }
    }
    for (const [auth, o, k] of [
      ['negotiate', {}, {}],
      ['kerberos', { username: undefined, password: undefined }, { ccache: ccachePath }],
      ['kerberos', { password: undefined }, { keytab: kdc.userKeytab }],
    ] as const) {
      const conn = new WSManConnection(options(peer, auth, o, k))
      const pool = await bounded(RunspacePool.open(conn, { timeout: 20_000 }), 20_000, 'open')
      assert.deepEqual(await new PowerShell(pool).addScript('6 * 7').invoke(), [42])
      leaks(deep(conn), 'util.inspect(connection)')
      leaks(deep(pool), 'util.inspect(pool)')
      leaks(JSON.stringify(conn) ?? '', 'JSON.stringify(connection)')
      assert.doesNotMatch(deep(conn), /Buffer|Uint8Array/, 'no key material in util.inspect(connection)')
      await pool.close()
      await conn.close()
    }
    const wrong = await RunspacePool.open(
      new WSManConnection(options(peer, 'kerberos', { password: 'Wr0ng-secret' })),
      { timeout: 20_000 },
    ).catch((e: unknown) => e)
    assert.ok(wrong instanceof AuthenticationError)
    assert.ok(!deep(wrong).includes('Wr0ng-secret'), 'util.inspect(error) with its cause chain')
    leaks(deep(wrong), 'util.inspect(error)')
  })

  describe('issue-3 scenarios over Negotiate(Kerberos) with message encryption', () => {
    after(async () => {
      const s = await status(peer)
      console.log(`# Kerberos HTTP peer: ${JSON.stringify(s)}`)
      assert.equal(s.plaintextRequests, 0)
      assert.equal(s.decryptFailures, 0)
    })
    definePoolScenarios({
      label: 'WSMan HTTP + Negotiate(Kerberos) + encryption',
      skip,
      connect: () => new WSManConnection(options(peer, 'negotiate')),
      streamItems: 5000,
    })
  })

  describe('over HTTPS with channel bindings (acceptor requires them)', { skip: tlsSkip }, () => {
    let tlsPeer: NtlmPeer
    let certs: TestCertificates
    before(async () => {
      certs = makeCertificates()
      tlsPeer = await startNtlmPeer({
        upstream: bridge.url,
        users: [{ domain: 'LAB', user: 'alice', password: kdc.password }],
        tls: { cert: certs.serverCert, key: certs.serverKey },
        requireCbt: true,
        krb5: { config: kdc.krb5ConfPath, keytab: kdc.serviceKeytab },
      })
    })
    after(async () => tlsPeer?.close())

    for (const auth of ['kerberos', 'negotiate'] as const) {
      test(
        `auth '${auth}' over HTTPS is channel-bound and runs a pipeline`,
        { timeout: 30_000 },
        async () => {
          const before = await status(tlsPeer)
          const conn = new WSManConnection(options(tlsPeer, auth, { ca: certs.ca }))
          const pool = await bounded(RunspacePool.open(conn, { timeout: 20_000 }), 20_000, 'open')
          assert.deepEqual(await new PowerShell(pool).addScript('1..3').invoke(), [1, 2, 3])
          await pool.close()
          await conn.close()
          const s = await status(tlsPeer)
          const auths = s.authenticated - before.authenticated
          assert.ok(auths >= 1)
          assert.equal(s.kerberosAuthenticated - before.kerberosAuthenticated, auths, JSON.stringify(s))
          assert.equal(s.channelBound - before.channelBound, auths, 'every authentication channel-bound')
          assert.equal(s.cbtRefused, before.cbtRefused)
          assert.ok(s.authMechs.includes(auth === 'kerberos' ? 'Kerberos/Kerberos' : 'Negotiate/Kerberos'))
          // encryption 'auto': TLS protects the bodies
          assert.equal(s.encryptedRequests, before.encryptedRequests)
          assert.ok(s.plaintextRequests > before.plaintextRequests)
        },
      )
    }

    test(
      'Kerberos without channel bindings is refused with AuthenticationError',
      { timeout: 30_000 },
      async () => {
        const before = await status(tlsPeer)
        // the Kerberos context built from its parts with the TLS channel bindings left out
        const auth = new SecurityContextAuth({
          scheme: 'Kerberos',
          createContext: () =>
            createKerberosContext({
              hostname: 'localhost',
              username: 'alice',
              password: kdc.password,
              krb5Config: kdc.krb5ConfPath,
            }),
        })
        const conn = new WSManConnection({ ...options(tlsPeer, 'kerberos', { ca: certs.ca }), auth })
        await assert.rejects(
          bounded(RunspacePool.open(conn, { timeout: 20_000 }), 20_000, 'open'),
          (e: unknown) => {
            assert.ok(e instanceof AuthenticationError, String(e))
            assert.match(e.message, /Kerberos/)
            assert.match(e.message, /channel bindings/)
            return true
          },
        )
        await conn.close()
        assert.ok((await status(tlsPeer)).cbtRefused > before.cbtRefused)
      },
    )
  })
})
