/**
 * CredSSP (MS-CSSP) end to end against the project's WinRM auth peer (test/peers/auth:
 * `credssp_acceptor.py`, a Python ssl.MemoryBIO TLS server with gss-ntlmssp as the inner NTLM
 * acceptor) in front of the WinRM bridge and real pwsh: TLS 1.3 and 1.2, CredSSP versions 6, 5 and
 * 2, WinRM message encryption with TLS records in 16 KiB parts (multipart/x-multi-encrypted both
 * ways), wrong passwords, and a whole PSRP session through `SecurityContextAuth({ scheme:
 * 'CredSSP' })`.
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
import { findPwsh, peerSkip } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import {
  ntlmPeerAvailable,
  startNtlmPeer,
  type NtlmPeer,
  type NtlmPeerCredSsp,
} from '../peers/auth/ntlm-peer.ts'
import { hasOpenssl, makeCertificates, type TestCertificates } from '../unit/transport-http/servers.ts'

const pwsh = findPwsh()
const skip =
  peerSkip(
    'pwsh',
    pwsh !== undefined,
    'install with dotnet tool install --global PowerShell --version 7.6.9',
  ) ||
  peerSkip('gss-ntlmssp NTLM peer', ntlmPeerAvailable(), 'apt-get install gss-ntlmssp python3-gssapi') ||
  peerSkip('openssl', hasOpenssl(), 'apt-get install openssl')

const DOMAIN = 'LAB'
const USER = 'alice'
const PASSWORD = 'credssp Pässw0rd!'
const USERS = [{ domain: DOMAIN, user: USER, password: PASSWORD }]

/** Rejects when `p` takes longer than `ms` (so nothing in this file can hang). */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

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
  return new WSManConnection({
    server: '127.0.0.1',
    port: peer.port,
    ssl: false,
    auth: credsspAuth(o),
    operationTimeout: 5,
    connectTimeout: 5000,
    readTimeout: 20_000,
    retries: { count: 0 },
  })
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
