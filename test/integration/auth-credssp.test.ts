/**
 * CredSSP (MS-CSSP) end to end against the project's WinRM auth peer (test/peers/auth:
 * `credssp_acceptor.py`, a Python ssl.MemoryBIO TLS server with gss-ntlmssp as the inner NTLM
 * acceptor) in front of the WinRM bridge and real pwsh: TLS 1.3 and 1.2, CredSSP versions 6, 5 and
 * 2, WinRM message encryption with TLS records in 16 KiB parts (multipart/x-multi-encrypted both
 * ways), wrong passwords, and a whole PSRP session through `SecurityContextAuth({ scheme:
 * 'CredSSP' })`.
 *
 * Then `new WSManConnection({ auth: 'credssp' })` itself, whose inner context is SPNEGO offering
 * Kerberos then NTLM: inner NTLM (no realm), inner Kerberos (the MIT test KDC, the peer's acceptor
 * using the HTTP/localhost keytab), and Kerberos offered but refused by an acceptor without a keytab
 * (SPNEGO switches to NTLM, mechListMIC both ways) — each a full session over TLS 1.3 and 1.2 with a
 * 100 KiB reply and a 100 KiB argument; the peer's status names the inner mechanism.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import {
  AuthenticationError,
  ErrorRecord,
  PowerShell,
  RunspacePool,
  WSManConnection,
} from '../../src/index.ts'
import { CredSspContext, spnegoNtlmInner } from '../../src/auth/credssp/index.ts'
import { SecurityContextAuth } from '../../src/transport/http/gss-auth.ts'
import { peerEndpoint } from '../helpers/auth-fronts.ts'
import { bounded } from '../helpers/bounded.ts'
import { findPwsh, opensslSkip, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import {
  ntlmPeerAvailable,
  startNtlmPeer,
  type NtlmPeer,
  type NtlmPeerCredSsp,
  type NtlmPeerStatus,
} from '../peers/auth/ntlm-peer.ts'
import { makeCertificates, type TestCertificates } from '../helpers/http-servers.ts'
import { kdcAvailable, startKdc, type KdcPeer } from '../peers/kdc/kdc.ts'

const pwsh = findPwsh()
const skip =
  pwshSkip(pwsh) ||
  peerSkip('gss-ntlmssp NTLM peer', ntlmPeerAvailable(), 'apt-get install gss-ntlmssp python3-gssapi') ||
  opensslSkip()

const DOMAIN = 'LAB'
const USER = 'alice'
const PASSWORD = 'credssp Pässw0rd!'
const USERS = [{ domain: DOMAIN, user: USER, password: PASSWORD }]

interface ClientOptions {
  readonly password?: string
  readonly spnego?: boolean
  readonly minVersion?: number
}

/** The authenticator the lead's `auth: 'credssp'` will build: SecurityContextAuth over CredSspContext. */
function credsspAuth(o: ClientOptions = {}): SecurityContextAuth {
  const username = `${DOMAIN}\\${USER}`
  const password = o.password ?? PASSWORD
  return new SecurityContextAuth({
    scheme: 'CredSSP',
    createContext: () =>
      new CredSspContext({
        username,
        password,
        ...(o.spnego === true ? { inner: spnegoNtlmInner({ username, password }) } : {}),
        ...(o.minVersion === undefined ? {} : { minVersion: o.minVersion }),
      }),
  })
}

function connection(peer: NtlmPeer, o: ClientOptions = {}): WSManConnection {
  return new WSManConnection({ ...peerEndpoint(peer), auth: credsspAuth(o) })
}

describe(
  'CredSSP over HTTP with message encryption (Python CredSSP acceptor + gss-ntlmssp, real pwsh)',
  { skip },
  () => {
    let bridge: WinRMBridge
    let certs: TestCertificates
    const peers: NtlmPeer[] = []
    const peer = async (credssp: Omit<NtlmPeerCredSsp, 'cert' | 'key'>): Promise<NtlmPeer> => {
      const p = await startNtlmPeer({
        upstream: bridge.url,
        users: USERS,
        credssp: { cert: certs.serverCert, key: certs.serverKey, ...credssp },
      })
      peers.push(p)
      return p
    }
    before(async () => {
      certs = makeCertificates()
      bridge = await startWinRMBridge({ pwsh: pwsh as string })
    })
    after(async () => {
      for (const p of peers) await p.close()
      await bridge?.close()
    })

    test(
      'TLS 1.3, CredSSP v6: a PSRP session with output, errors and >16 KiB both ways, all encrypted',
      { timeout: 120_000 },
      async () => {
        const p = await peer({ tlsMaxVersion: '1.3', version: 6 })
        const t0 = Date.now()
        const conn = connection(p)
        const pool = await bounded(RunspacePool.open(conn, { timeout: 60_000 }), 60_000, 'open')
        const opened = Date.now() - t0
        assert.equal(pool.state, 'Opened')
        assert.deepEqual(
          await bounded(new PowerShell(pool).addScript('1..3').invoke(), 30_000, 'invoke'),
          [1, 2, 3],
        )

        const ps = new PowerShell(pool).addScript("'a'; Write-Error 'credssp error'; 'b'")
        assert.deepEqual(await bounded(ps.invoke(), 30_000, 'invoke'), ['a', 'b'])
        assert.ok(ps.streams.error[0] instanceof ErrorRecord)
        assert.equal(ps.streams.error[0].message, 'credssp error')

        const big = 'q'.repeat(40_000)
        const out = await bounded(
          new PowerShell(pool).addScript('$input | ForEach-Object { $_.Length; $_ + $_ }').invoke([big]),
          60_000,
          'big payload',
        )
        assert.deepEqual(out, [big.length, big + big])
        await bounded(pool.close(), 30_000, 'close')
        assert.equal(pool.state, 'Closed')
        await conn.close()

        const s = await p.status()
        assert.equal(s.plaintextRequests, 0, 'no SOAP body in clear text')
        assert.equal(s.decryptFailures, 0)
        assert.equal(s.authFailures, 0)
        assert.ok(
          s.credsspAuthenticated >= 1 && s.credsspAuthenticated === s.authenticated,
          JSON.stringify(s),
        )
        assert.equal(s.credsspVersion, 6)
        assert.equal(s.credsspClientVersion, 6)
        assert.equal(s.tlsVersion, 'TLSv1.3')
        assert.deepEqual(s.credsspUsers, [`${DOMAIN}\\${USER}`])
        assert.ok(s.multipartRequests >= 1 && s.maxRequestParts >= 3, `request parts ${s.maxRequestParts}`)
        assert.ok(s.multipartReplies >= 1 && s.maxReplyParts >= 3, `reply parts ${s.maxReplyParts}`)
        assert.equal(s.encryptedReplies, s.forwarded)
        const ops = bridge.requests.map((r) => r.action.replace(/^.*\//, ''))
        assert.ok(ops.includes('Create') && ops.includes('Delete'), ops.join(','))
        console.log(`# CredSSP TLS1.3 v6: open ${opened} ms, total ${Date.now() - t0} ms, ${s.tlsCipher}`)
      },
    )

    test(
      'TLS 1.2, CredSSP v2 (no nonce, +1 rule): a pipeline and a >16 KiB reply',
      { timeout: 90_000 },
      async () => {
        const p = await peer({ tlsMaxVersion: '1.2', version: 2 })
        const conn = connection(p)
        const pool = await bounded(RunspacePool.open(conn, { timeout: 60_000 }), 60_000, 'open')
        assert.deepEqual(
          await bounded(new PowerShell(pool).addScript('1..3').invoke(), 30_000, 'invoke'),
          [1, 2, 3],
        )
        const [long] = await bounded(new PowerShell(pool).addScript("'x' * 50000").invoke(), 30_000, 'invoke')
        assert.equal(long, 'x'.repeat(50_000))
        await bounded(pool.close(), 30_000, 'close')
        await conn.close()
        const s = await p.status()
        assert.equal(s.credsspVersion, 2)
        assert.equal(s.tlsVersion, 'TLSv1.2')
        assert.match(s.tlsCipher, /GCM/)
        assert.ok(s.multipartReplies >= 1, JSON.stringify(s))
        assert.equal(s.decryptFailures, 0)
        assert.equal(s.authFailures, 0)
      },
    )

    test('TLS 1.2, CredSSP v5 (nonce-hashed pubKeyAuth)', { timeout: 90_000 }, async () => {
      const p = await peer({ tlsMaxVersion: '1.2', version: 5 })
      const conn = connection(p)
      const pool = await bounded(RunspacePool.open(conn, { timeout: 60_000 }), 60_000, 'open')
      assert.deepEqual(await bounded(new PowerShell(pool).addScript('"v5"').invoke(), 30_000, 'invoke'), [
        'v5',
      ])
      await bounded(pool.close(), 30_000, 'close')
      await conn.close()
      const s = await p.status()
      assert.equal(s.credsspVersion, 5)
      assert.equal(s.tlsVersion, 'TLSv1.2')
    })

    test(
      'minVersion 5 refuses a v2 server before any credentials are sent',
      { timeout: 30_000 },
      async () => {
        const p = await peer({ tlsMaxVersion: '1.3', version: 2 })
        await assert.rejects(
          bounded(RunspacePool.open(connection(p, { minVersion: 5 }), { timeout: 20_000 }), 20_000, 'open'),
          (e: unknown) => {
            assert.ok(e instanceof AuthenticationError, String(e))
            assert.match(e.message, /version 2, below the required minimum 5/)
            return true
          },
        )
        assert.equal((await p.status()).credsspAuthenticated, 0)
      },
    )

    for (const version of [6, 2] as const) {
      test(
        `a wrong password (CredSSP v${version}) is an AuthenticationError about refused credentials, without the password`,
        { timeout: 30_000 },
        async () => {
          const p = await peer({ tlsMaxVersion: '1.3', version })
          const wrong = 'not-the-Pässw0rd-42'
          const t0 = Date.now()
          await assert.rejects(
            bounded(
              RunspacePool.open(connection(p, { password: wrong }), { timeout: 20_000 }),
              20_000,
              'open',
            ),
            (e: unknown) => {
              assert.ok(e instanceof AuthenticationError, String(e))
              assert.match(e.message, /CredSSP/)
              assert.match(e.message, /credentials/)
              if (version >= 3) assert.match(e.message, /STATUS_LOGON_FAILURE 0xC000006D/)
              for (const text of [e.message, JSON.stringify(e), inspect(e)]) {
                assert.ok(!text.includes(wrong) && !text.includes(PASSWORD), text)
              }
              return true
            },
          )
          assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`)
          const s = await p.status()
          assert.ok(s.credsspFailures >= 1 && s.credsspAuthenticated === 0, JSON.stringify(s))
        },
      )
    }

    test('the context never shows the password', () => {
      const ctx = new CredSspContext({ username: 'LAB\\alice', password: PASSWORD })
      for (const text of [
        inspect(ctx),
        JSON.stringify(ctx),
        inspect(credsspAuth()),
        JSON.stringify(credsspAuth()),
      ]) {
        assert.ok(!text.includes(PASSWORD), text)
      }
    })
  },
)

/** The peer's counters plus the CredSSP inner-mechanism fields its status reports. */
type CredSspStatus = NtlmPeerStatus & {
  readonly credsspInnerMech?: string | null
  readonly credsspInnerSpnego?: boolean
}

const kdcSkip = peerSkip('MIT KDC', kdcAvailable(), 'apt-get install krb5-kdc krb5-admin-server krb5-user')
const KIB100 = 100 * 1024

/**
 * One whole PSRP session over `conn`: open, output and an error record, a 100 KiB reply and a
 * 100 KiB argument (both well over the 16 KiB CredSSP part size), close.
 */
async function fullSession(conn: WSManConnection): Promise<void> {
  const pool = await bounded(RunspacePool.open(conn, { timeout: 60_000 }), 60_000, 'open')
  assert.equal(pool.state, 'Opened')
  const ps = new PowerShell(pool).addScript("'a'; Write-Error 'credssp error'; 'b'")
  assert.deepEqual(await bounded(ps.invoke(), 30_000, 'invoke'), ['a', 'b'])
  assert.ok(ps.streams.error[0] instanceof ErrorRecord)
  assert.equal(ps.streams.error[0].message, 'credssp error')

  const [long] = await bounded(
    new PowerShell(pool).addScript(`'r' * ${KIB100} + 'end'`).invoke(),
    30_000,
    'big reply',
  )
  assert.equal(long, 'r'.repeat(KIB100) + 'end')

  const arg = Array.from({ length: KIB100 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('')
  const out = await bounded(
    new PowerShell(pool)
      .addScript(
        'param($s) $s.Length; $s.Substring($s.Length - 26); ($s.ToCharArray() | Group-Object | Measure-Object).Count',
      )
      .addParameter('s', arg)
      .invoke(),
    30_000,
    'big argument',
  )
  assert.deepEqual(out, [KIB100, arg.slice(-26), 26])
  await bounded(pool.close(), 30_000, 'close')
  assert.equal(pool.state, 'Closed')
  await conn.close()
}

function assertEncrypted(s: CredSspStatus, tls: 'TLSv1.2' | 'TLSv1.3'): void {
  const detail = JSON.stringify(s)
  assert.ok(s.credsspAuthenticated >= 1 && s.credsspAuthenticated === s.authenticated, detail)
  assert.equal(s.authFailures, 0, detail)
  assert.equal(s.plaintextRequests, 0, 'no SOAP body in clear text')
  assert.equal(s.decryptFailures, 0, detail)
  assert.ok(s.encryptedRequests >= 5 && s.encryptedReplies === s.forwarded, detail)
  assert.equal(s.tlsVersion, tls)
  assert.equal(s.credsspVersion, 6)
  assert.equal(s.credsspInnerSpnego, true, 'the inner tokens were SPNEGO')
  // 100 KiB each way: many 16 KiB TLS-record parts in multipart/x-multi-encrypted bodies.
  assert.ok(s.multipartRequests >= 1 && s.maxRequestParts >= 3, `request parts ${s.maxRequestParts}`)
  assert.ok(s.multipartReplies >= 1 && s.maxReplyParts >= 3, `reply parts ${s.maxReplyParts}`)
}

describe(
  "WSManConnection auth: 'credssp' (inner SPNEGO: Kerberos, else NTLM) against the CredSSP peer and real pwsh",
  { skip },
  () => {
    let bridge: WinRMBridge
    let certs: TestCertificates
    let kdc: KdcPeer | undefined
    const peers: NtlmPeer[] = []
    /** `krb5`: the realm's account in the user file too; `keytab`: the acceptor can do Kerberos. */
    const peer = async (tlsMaxVersion: '1.2' | '1.3', krb5: boolean, keytab = krb5): Promise<NtlmPeer> => {
      const k = kdc as KdcPeer
      const p = await startNtlmPeer({
        upstream: bridge.url,
        // The same account for NTLM (gss-ntlmssp's user file) and for checking delegated passwords.
        users: [...USERS, ...(krb5 ? [{ domain: 'PSRP', user: USER, password: k.password }] : [])],
        credssp: { cert: certs.serverCert, key: certs.serverKey, tlsMaxVersion, version: 6 },
        ...(keytab ? { krb5: { config: k.krb5ConfPath, keytab: k.serviceKeytab } } : {}),
      })
      peers.push(p)
      return p
    }
    const conn = (
      p: NtlmPeer,
      o: { username: string; password: string; tls: '1.2' | '1.3'; krb5Config?: string },
    ): WSManConnection =>
      new WSManConnection({
        ...peerEndpoint(p),
        auth: 'credssp',
        username: o.username,
        password: o.password,
        kerberos: {
          hostname: 'localhost',
          ...(o.krb5Config === undefined ? {} : { krb5Config: o.krb5Config }),
        },
        credsspTlsVersions: { max: o.tls },
      })

    before(async () => {
      certs = makeCertificates()
      bridge = await startWinRMBridge({ pwsh: pwsh as string })
      if (!kdcSkip) kdc = await startKdc()
    })
    after(async () => {
      for (const p of peers) await p.close()
      await bridge?.close()
      await kdc?.close()
    })

    for (const tls of ['1.3', '1.2'] as const) {
      test(
        `inner NTLM (no realm configured, so Kerberos cannot start), TLS ${tls}: full session, 100 KiB both ways`,
        { timeout: 60_000 },
        async () => {
          const p = await peer(tls, false)
          const t0 = Date.now()
          await fullSession(conn(p, { username: `${DOMAIN}\\${USER}`, password: PASSWORD, tls }))
          const s: CredSspStatus = await p.status()
          assertEncrypted(s, `TLSv${tls}`)
          assert.equal(s.credsspInnerMech, 'NTLM')
          assert.deepEqual(s.credsspUsers, [`${DOMAIN}\\${USER}`])
          console.log(
            `# credssp+SPNEGO/NTLM TLS ${tls}: ${Date.now() - t0} ms, ${s.tlsCipher}, parts ${s.maxRequestParts}/${s.maxReplyParts}`,
          )
        },
      )
    }

    for (const tls of ['1.3', '1.2'] as const) {
      test(
        `inner Kerberos (MIT KDC, HTTP/localhost keytab), TLS ${tls}: full session, 100 KiB both ways`,
        { timeout: 60_000, skip: kdcSkip },
        async () => {
          const k = kdc as KdcPeer
          const p = await peer(tls, true)
          const t0 = Date.now()
          await fullSession(
            conn(p, {
              username: `${USER}@${k.realm}`,
              password: k.password,
              tls,
              krb5Config: k.krb5ConfPath,
            }),
          )
          const s: CredSspStatus = await p.status()
          assertEncrypted(s, `TLSv${tls}`)
          assert.equal(s.credsspInnerMech, 'Kerberos')
          assert.deepEqual(s.credsspUsers, [`${USER}@${k.realm}`])
          console.log(
            `# credssp+SPNEGO/Kerberos TLS ${tls}: ${Date.now() - t0} ms, ${s.tlsCipher}, parts ${s.maxRequestParts}/${s.maxReplyParts}`,
          )
        },
      )
    }

    test(
      'a wrong password (inner NTLM) is an AuthenticationError about refused credentials',
      { timeout: 30_000 },
      async () => {
        const p = await peer('1.3', false)
        const wrong = 'wrong-Pässw0rd-7'
        await assert.rejects(
          bounded(
            RunspacePool.open(conn(p, { username: `${DOMAIN}\\${USER}`, password: wrong, tls: '1.3' }), {
              timeout: 20_000,
            }),
            20_000,
            'open',
          ),
          (e: unknown) => {
            assert.ok(e instanceof AuthenticationError, String(e))
            assert.match(e.message, /CredSSP: the server refused the credentials \(STATUS_LOGON_FAILURE/)
            for (const text of [e.message, JSON.stringify(e), inspect(e)])
              assert.ok(!text.includes(wrong), text)
            return true
          },
        )
        const s: CredSspStatus = await p.status()
        assert.ok(s.credsspFailures >= 1 && s.credsspAuthenticated === 0, JSON.stringify(s))
      },
    )

    test(
      'Kerberos offered first but the acceptor has no keytab: SPNEGO switches to NTLM inside CredSSP',
      { timeout: 60_000, skip: kdcSkip },
      async () => {
        const k = kdc as KdcPeer
        const p = await peer('1.3', true, false)
        const c = conn(p, {
          username: `PSRP\\${USER}`,
          password: k.password,
          tls: '1.3',
          krb5Config: k.krb5ConfPath,
        })
        const pool = await bounded(RunspacePool.open(c, { timeout: 60_000 }), 60_000, 'open')
        assert.deepEqual(
          await bounded(new PowerShell(pool).addScript('6 * 7').invoke(), 30_000, 'invoke'),
          [42],
        )
        await bounded(pool.close(), 30_000, 'close')
        await c.close()
        const s: CredSspStatus = await p.status()
        assert.equal(s.credsspInnerMech, 'NTLM')
        assert.equal(s.credsspInnerSpnego, true)
        assert.deepEqual(s.credsspUsers, [`PSRP\\${USER}`])
        assert.equal(s.plaintextRequests, 0)
        assert.equal(s.decryptFailures, 0)
      },
    )

    test(
      'a wrong password (Kerberos realm configured): the KDC refuses pre-authentication, which is final (no NTLM logon follows)',
      { timeout: 30_000, skip: kdcSkip },
      async () => {
        const k = kdc as KdcPeer
        const p = await peer('1.3', true)
        const wrong = 'wrong-Passw0rd-8'
        await assert.rejects(
          bounded(
            RunspacePool.open(
              conn(p, {
                username: `${USER}@${k.realm}`,
                password: wrong,
                tls: '1.3',
                krb5Config: k.krb5ConfPath,
              }),
              { timeout: 20_000 },
            ),
            20_000,
            'open',
          ),
          (e: unknown) => {
            assert.ok(e instanceof AuthenticationError, String(e))
            assert.match(e.message, /the password for .* was wrong .*KDC_ERR_PREAUTH_FAILED/)
            for (const text of [e.message, JSON.stringify(e), inspect(e)])
              assert.ok(!text.includes(wrong), text)
            console.log(`# Kerberos wrong password: ${e.message}`)
            return true
          },
        )
        const s: CredSspStatus = await p.status()
        assert.equal(s.credsspAuthenticated, 0, JSON.stringify(s))
      },
    )
  },
)
