/**
 * Authentication options pypsrp users expect (issue 16 item 5), against the gss-ntlmssp NTLM peer
 * (with its Python CredSSP acceptor) in front of the WinRM bridge and real pwsh:
 * `channelBindings: false` (pypsrp `negotiate_send_cbt`), `credssp.authMechanism` and
 * `credssp.minimumVersion` (pypsrp `credssp_auth_mechanism`, `credssp_minimum_version`).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  AuthenticationError,
  InvalidArgumentError,
  PowerShell,
  RunspacePool,
  WSManConnection,
  type WSManConnectionOptions,
} from '../../src/index.ts'
import { peerEndpoint } from '../helpers/auth-fronts.ts'
import { bounded } from '../helpers/bounded.ts'
import { findPwsh, opensslSkip, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { ntlmPeerAvailable, startNtlmPeer, type NtlmPeer } from '../peers/auth/ntlm-peer.ts'
import { makeCertificates, type TestCertificates } from '../helpers/http-servers.ts'

const pwsh = findPwsh()
const skip =
  pwshSkip(pwsh) ||
  peerSkip('gss-ntlmssp NTLM peer', ntlmPeerAvailable(), 'apt-get install gss-ntlmssp python3-gssapi') ||
  opensslSkip()

const DOMAIN = 'LAB'
const USER = 'alice'
const PASSWORD = 'options Pässw0rd!'
const USERS = [{ domain: DOMAIN, user: USER, password: PASSWORD }]

function options(peer: NtlmPeer, extra: Partial<WSManConnectionOptions>): WSManConnectionOptions {
  return { ...peerEndpoint(peer), username: `${DOMAIN}\\${USER}`, password: PASSWORD, ...extra }
}

async function runs(conn: WSManConnection): Promise<void> {
  try {
    const pool = await bounded(RunspacePool.open(conn, { timeout: 60_000 }), 60_000, 'open')
    assert.deepEqual(await bounded(new PowerShell(pool).addScript('1..2').invoke(), 30_000, 'invoke'), [1, 2])
    await bounded(pool.close(), 30_000, 'close')
  } finally {
    await conn.close()
  }
}

describe('auth options (gss-ntlmssp peer, real pwsh)', { skip }, () => {
  let bridge: WinRMBridge
  let certs: TestCertificates
  const peers: NtlmPeer[] = []
  before(async () => {
    certs = makeCertificates()
    bridge = await startWinRMBridge({ pwsh: pwsh as string })
  })
  after(async () => {
    for (const p of peers) await p.close()
    await bridge?.close()
  })

  test(
    'channelBindings: false sends none: a peer that requires them refuses, one that does not accepts',
    { timeout: 120_000 },
    async () => {
      const strict = await startNtlmPeer({
        upstream: bridge.url,
        users: USERS,
        tls: { cert: certs.serverCert, key: certs.serverKey },
        requireCbt: true,
      })
      peers.push(strict)
      await runs(new WSManConnection({ ...options(strict, { ca: certs.ca }), auth: 'ntlm' }))
      const before = (await strict.status()).cbtRefused
      const off = new WSManConnection({
        ...options(strict, { ca: certs.ca, channelBindings: false }),
        auth: 'ntlm',
      })
      await assert.rejects(
        bounded(RunspacePool.open(off, { timeout: 20_000 }), 20_000, 'open'),
        (e: unknown) => e instanceof AuthenticationError,
      )
      await off.close()
      assert.ok((await strict.status()).cbtRefused > before)
      const lax = await startNtlmPeer({
        upstream: bridge.url,
        users: USERS,
        tls: { cert: certs.serverCert, key: certs.serverKey },
      })
      peers.push(lax)
      await runs(
        new WSManConnection({ ...options(lax, { ca: certs.ca, channelBindings: false }), auth: 'ntlm' }),
      )
      const s = await lax.status()
      assert.equal(s.channelBound, 0, JSON.stringify(s))
    },
  )

  test(
    'credssp.authMechanism ntlm runs; minimumVersion 5 refuses a v2 server; a bad mechanism is refused',
    { timeout: 120_000 },
    async () => {
      const v6 = await startNtlmPeer({
        upstream: bridge.url,
        users: USERS,
        credssp: { cert: certs.serverCert, key: certs.serverKey, tlsMaxVersion: '1.3', version: 6 },
      })
      peers.push(v6)
      await runs(
        new WSManConnection({
          ...options(v6, { credssp: { authMechanism: 'ntlm', minimumVersion: 6 } }),
          auth: 'credssp',
        }),
      )
      const v2 = await startNtlmPeer({
        upstream: bridge.url,
        users: USERS,
        credssp: { cert: certs.serverCert, key: certs.serverKey, tlsMaxVersion: '1.2', version: 2 },
      })
      peers.push(v2)
      const old = new WSManConnection({ ...options(v2, { credssp: { minimumVersion: 5 } }), auth: 'credssp' })
      await assert.rejects(
        bounded(RunspacePool.open(old, { timeout: 20_000 }), 20_000, 'open'),
        /below the required minimum 5/,
      )
      await old.close()
      assert.throws(
        () =>
          new WSManConnection({
            ...options(v6, { credssp: { authMechanism: 'ntlmv1' as 'ntlm' } }),
            auth: 'credssp',
          }),
        InvalidArgumentError,
      )
    },
  )
})
