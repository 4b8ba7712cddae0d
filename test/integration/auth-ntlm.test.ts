/**
 * PSRP over WinRM with NTLM authentication and WinRM message encryption, end to end against real
 * pwsh: the WinRM bridge (no authentication) hosts the shells, and the project's NTLM peer
 * (test/peers/auth, gss-ntlmssp's C acceptor through python3-gssapi) sits in front of it, so every
 * request is authenticated, decrypted and re-encrypted by an implementation that is not ours.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import {
  AuthenticationError,
  PowerShell,
  RunspacePool,
  WSManConnection,
  type WSManConnectionOptions,
} from '../../src/index.ts'
import { md4 } from '../../src/auth/crypto/md4.ts'
import { filetimeFromUnixMs, NtlmContext } from '../../src/auth/ntlm/index.ts'
import { SecurityContextAuth, type MessageEncryption } from '../../src/transport/http/gss-auth.ts'
import { ntlmFrontSkip, peerEndpoint, startNtlmFront, type AuthFront } from '../helpers/auth-fronts.ts'
import { bounded } from '../helpers/bounded.ts'
import { findPwsh, opensslSkip } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { startNtlmPeer, type NtlmPeer } from '../peers/auth/ntlm-peer.ts'
import { makeCertificates, type TestCertificates } from '../helpers/http-servers.ts'
import { sessionRoundTrip } from '../helpers/round-trip.ts'
import { definePoolScenarios } from './pool-scenarios.ts'

const pwsh = findPwsh()
const skip = ntlmFrontSkip(pwsh)
const tlsSkip = skip || opensslSkip()

const DOMAIN = 'LAB'
const USER = 'alice'
const PASSWORD = 'ntlm Pässw0rd!'
const USERS = [{ domain: DOMAIN, user: USER, password: PASSWORD }]

interface NtlmClientOptions {
  readonly password?: string
  readonly encryption?: MessageEncryption
  readonly allowUnencrypted?: boolean
  readonly ca?: string
}

function connectionOptions(peer: NtlmPeer, o: NtlmClientOptions = {}): WSManConnectionOptions {
  return {
    ...peerEndpoint(peer),
    username: `${DOMAIN}\\${USER}`,
    password: o.password ?? PASSWORD,
    ...(o.encryption === undefined ? {} : { encryption: o.encryption }),
    ...(o.allowUnencrypted === undefined ? {} : { allowUnencrypted: o.allowUnencrypted }),
    ...(o.ca === undefined ? {} : { ca: o.ca }),
  }
}

/** `auth: 'ntlm'` as users write it. */
function connection(peer: NtlmPeer, o: NtlmClientOptions = {}): WSManConnection {
  return new WSManConnection({ ...connectionOptions(peer, o), auth: 'ntlm' })
}

/**
 * The NTLM authenticator built from its parts with the TLS channel bindings left out (WSManConnection
 * always sends them over HTTPS), as an old client or one behind a TLS-terminating proxy would.
 */
function connectionWithoutChannelBindings(peer: NtlmPeer, o: NtlmClientOptions = {}): WSManConnection {
  const auth = new SecurityContextAuth({
    scheme: 'Negotiate',
    createContext: (c) =>
      new NtlmContext({
        username: `${DOMAIN}\\${USER}`,
        password: PASSWORD,
        spn: `HTTP/${c.host}`,
        now: () => filetimeFromUnixMs(Date.now()),
      }),
  })
  return new WSManConnection({ ...connectionOptions(peer, o), auth })
}

describe('NTLM over HTTP with message encryption (gss-ntlmssp peer, real pwsh)', { skip }, () => {
  let bridge: WinRMBridge
  let peer: NtlmPeer
  let front: AuthFront | undefined
  before(async () => {
    front = await startNtlmFront(pwsh as string, USERS)
    ;({ bridge, peer } = front)
  })
  after(() => front?.close())

  test(
    'a pool, output and errors, 1 MiB of input, close: every SOAP body encrypted',
    { timeout: 120_000 },
    async () => {
      const t0 = Date.now()
      const conn = connection(peer)
      const opened = await sessionRoundTrip(conn, {
        inputBytes: 1024 * 1024,
        fill: 'z',
        openMs: 60_000,
        callMs: 30_000,
      })
      await conn.close()

      const s = await peer.status()
      assert.equal(s.plaintextRequests, 0, 'no SOAP body travelled in clear text')
      assert.equal(s.decryptFailures, 0)
      assert.ok(s.encryptedRequests >= 10, `${s.encryptedRequests} encrypted requests`)
      assert.equal(s.encryptedReplies, s.forwarded)
      assert.ok(
        s.largestEncryptedRequest > 100_000,
        `largest encrypted body ${s.largestEncryptedRequest} bytes`,
      )
      assert.ok(s.authenticated >= 2, 'one authentication per connection (main lane + a Receive lane)')
      assert.equal(s.authFailures, 0)
      assert.deepEqual(s.users, [`${DOMAIN}\\${USER}`])
      const ops = bridge.requests.map((r) => r.action.replace(/^.*\//, ''))
      assert.ok(ops.includes('Create') && ops.includes('Delete') && ops.includes('Send'), ops.join(','))
      console.log(`# NTLM/HTTP: open ${opened} ms, total ${Date.now() - t0} ms, ${JSON.stringify(s)}`)
    },
  )

  test('a wrong password is an AuthenticationError naming NTLM, without the password, promptly', async () => {
    const wrong = 'not-the-Pässw0rd-42'
    const before = (await peer.status()).authFailures
    const t0 = Date.now()
    await assert.rejects(
      bounded(RunspacePool.open(connection(peer, { password: wrong }), { timeout: 30_000 }), 30_000, 'open'),
      (e: unknown) => {
        assert.ok(e instanceof AuthenticationError, String(e))
        assert.match(e.message, /NTLM/)
        assert.ok(!e.message.includes(wrong) && !e.message.includes(PASSWORD), e.message)
        assert.ok(!JSON.stringify(e).includes(wrong))
        return true
      },
    )
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`)
    assert.ok((await peer.status()).authFailures > before)
  })
  test('secrets stay out of traces, util.inspect, JSON and errors', { timeout: 90_000 }, async () => {
    const ntHash = Buffer.from(md4(Buffer.from(PASSWORD, 'utf16le')))
    const secrets = [PASSWORD, ntHash.toString('hex'), ntHash.toString('base64'), 'TlRMTVNT' /* "NTLMSS" */]
    const leaks = (text: string, where: string): void => {
      for (const s of secrets)
        assert.ok(
          !text.includes(s) && !text.includes(s.toLowerCase()),
          `${where} shows ${s}: ${text.slice(Math.max(0, text.indexOf(s) - 200), text.indexOf(s) + 100)}`,
        )
    }
    const deep = (v: unknown): string => inspect(v, { depth: Infinity, showHidden: true, getters: true })
    const lines: string[] = []
    for (const options of [
      { password: PASSWORD },
      { ntHash: ntHash.toString('hex') },
      { ntHash: new Uint8Array(ntHash) },
    ]) {
      const conn = new WSManConnection({
        ...connectionOptions(peer),
        password: undefined,
        ...options,
        auth: 'ntlm',
        trace: (line) => lines.push(line),
      })
      const pool = await bounded(RunspacePool.open(conn, { timeout: 60_000 }), 60_000, 'open')
      assert.deepEqual(await new PowerShell(pool).addScript('6 * 7').invoke(), [42])
      leaks(deep(conn), 'util.inspect(connection)')
      leaks(deep(pool), 'util.inspect(pool)')
      leaks(JSON.stringify(conn) ?? '', 'JSON.stringify(connection)')
      assert.doesNotMatch(deep(conn), /Buffer|Uint8Array/, 'no key material in util.inspect(connection)')
      await pool.close()
      await conn.close()
    }
    const wrong = await RunspacePool.open(connection(peer, { password: 'Wr0ng-secret' }), {
      timeout: 30_000,
    }).catch((e: unknown) => e)
    assert.ok(wrong instanceof AuthenticationError)
    assert.ok(!deep(wrong).includes('Wr0ng-secret'), 'util.inspect(error) with its cause chain')
    // the trace shows the exchanges, with tokens reduced to their length
    assert.ok(
      lines.some((l) => /POST \/wsman 0 bytes .* Authorization: Negotiate <\d+ bytes>/.test(l)),
      lines.join('\n'),
    )
    assert.ok(
      lines.some((l) => /HTTP 401 .*WWW-Authenticate: Negotiate <\d+ bytes>/.test(l)),
      lines.join('\n'),
    )
    assert.ok(
      lines.some((l) => /multipart\/encrypted \(application\/HTTP-SPNEGO-session-encrypted\)/.test(l)),
    )
    leaks(lines.join('\n'), 'the trace')
  })

  test('clear-text SOAP over HTTP (encryption never) is refused by the peer (401) with AuthenticationError', async () => {
    const before = (await peer.status()).plaintextRefused
    await assert.rejects(
      bounded(
        RunspacePool.open(connection(peer, { encryption: 'never', allowUnencrypted: true }), {
          timeout: 20_000,
        }),
        20_000,
        'open',
      ),
      AuthenticationError,
    )
    assert.ok((await peer.status()).plaintextRefused > before)
  })
})

describe('NTLM over HTTPS with channel bindings (gss-ntlmssp peer, real pwsh)', { skip: tlsSkip }, () => {
  let bridge: WinRMBridge
  let peer: NtlmPeer
  let certs: TestCertificates
  before(async () => {
    certs = makeCertificates()
    bridge = await startWinRMBridge({ pwsh: pwsh as string })
    peer = await startNtlmPeer({
      upstream: bridge.url,
      users: USERS,
      tls: { cert: certs.serverCert, key: certs.serverKey },
      requireCbt: true,
    })
  })
  after(async () => {
    await peer?.close()
    await bridge?.close()
  })

  test('channel-bound NTLM over HTTPS runs a pipeline', { timeout: 90_000 }, async () => {
    const conn = connection(peer, { ca: certs.ca })
    const pool = await bounded(RunspacePool.open(conn, { timeout: 60_000 }), 60_000, 'open')
    assert.deepEqual(
      await bounded(new PowerShell(pool).addScript('1..3').invoke(), 30_000, 'invoke'),
      [1, 2, 3],
    )
    await bounded(pool.close(), 30_000, 'close')
    await conn.close()
    const s = await peer.status()
    assert.ok(s.channelBound >= 1 && s.channelBound === s.authenticated, JSON.stringify(s))
    assert.equal(s.cbtRefused, 0)
  })

  test("encryption 'always' also seals the messages inside TLS", { timeout: 90_000 }, async () => {
    const before = await peer.status()
    const conn = connection(peer, { ca: certs.ca, encryption: 'always' })
    const pool = await bounded(RunspacePool.open(conn, { timeout: 60_000 }), 60_000, 'open')
    assert.deepEqual(await bounded(new PowerShell(pool).addScript('"sealed"').invoke(), 30_000, 'invoke'), [
      'sealed',
    ])
    await bounded(pool.close(), 30_000, 'close')
    await conn.close()
    const after = await peer.status()
    assert.ok(after.encryptedRequests - before.encryptedRequests >= 4, JSON.stringify(after))
    assert.equal(after.plaintextRequests, before.plaintextRequests)
    assert.equal(after.decryptFailures, 0)
  })

  test(
    'a client without channel bindings is refused with AuthenticationError',
    { timeout: 30_000 },
    async () => {
      const before = (await peer.status()).cbtRefused
      await assert.rejects(
        bounded(
          RunspacePool.open(connectionWithoutChannelBindings(peer, { ca: certs.ca }), { timeout: 20_000 }),
          20_000,
          'open',
        ),
        (e: unknown) => {
          assert.ok(e instanceof AuthenticationError, String(e))
          assert.match(e.message, /NTLM/)
          assert.match(e.message, /channel bindings/)
          return true
        },
      )
      assert.ok((await peer.status()).cbtRefused > before)
    },
  )
})

describe(
  'issue-3 scenarios over NTLM with message encryption (gss-ntlmssp peer, real pwsh)',
  { skip },
  () => {
    let bridge: WinRMBridge | undefined
    let peer: NtlmPeer | undefined
    before(async () => {
      bridge = await startWinRMBridge({ pwsh: pwsh as string })
      peer = await startNtlmPeer({ upstream: bridge.url, users: USERS })
    })
    after(async () => {
      const s = await peer?.status()
      await peer?.close()
      await bridge?.close()
      if (s !== undefined) {
        console.log(`# NTLM scenarios: ${JSON.stringify(s)}`)
        assert.equal(s.plaintextRequests, 0)
        assert.equal(s.decryptFailures, 0)
        assert.equal(s.authFailures, 0)
      }
    })
    definePoolScenarios({
      label: 'WSMan HTTP + NTLM + encryption',
      skip,
      connect: () => connection(peer as NtlmPeer),
      streamItems: 20_000,
    })
  },
)
