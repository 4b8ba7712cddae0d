/**
 * TLS options of WSManConnection (issue 16 item 5) against local HTTPS servers with a test PKI:
 * `checkServerName: false` skips only the host-name check, `caFile` reads a CA bundle, `tlsOptions`
 * reach Node's TLS, and `NODE_EXTRA_CA_CERTS` is honoured for our sockets when `ca` is not given.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  InvalidArgumentError,
  TransportError,
  WSManConnection,
  type WSManConnectionOptions,
} from '../../src/index.ts'
import { hasOpenssl, peerSkip } from '../helpers/peers.ts'
import {
  makeCertificates,
  ok,
  startServer,
  type TestCertificates,
  type TestServer,
} from '../helpers/http-servers.ts'

const skip = peerSkip('openssl', hasOpenssl(), 'install the openssl CLI to generate test certificates')

describe('WSManConnection TLS options', { skip }, () => {
  let pki: TestCertificates
  let caPath: string
  const servers: TestServer[] = []
  before(() => {
    pki = makeCertificates()
    caPath = join(mkdtempSync(join(tmpdir(), 'psrp-ca-')), 'bundle.pem')
    writeFileSync(caPath, pki.ca)
  })
  after(async () => {
    for (const s of servers) await s.close()
  })
  async function server(which: 'ca' | 'other'): Promise<TestServer> {
    const [cert, key] =
      which === 'ca' ? [pki.serverCert, pki.serverKey] : [pki.otherHostCert, pki.otherHostKey]
    const s = await startServer((_req, res) => ok(res, 'tls ok'), { cert, key })
    servers.push(s)
    return s
  }
  async function post(port: number, extra: Partial<WSManConnectionOptions>): Promise<unknown> {
    const conn = new WSManConnection({
      server: `https://127.0.0.1:${port}/wsman`,
      auth: 'basic',
      username: 'u',
      password: 'p',
      proxy: false,
      retries: { count: 0 },
      ...extra,
    })
    try {
      return (await conn.http.post('<a/>')).body
    } catch (e) {
      return e
    } finally {
      await conn.close()
    }
  }

  test('checkServerName: false accepts a certificate for another name, still from a trusted CA only', async () => {
    const other = await server('other')
    const mismatch = await post(other.port, { ca: pki.ca })
    assert.ok(mismatch instanceof TransportError)
    assert.match(mismatch.message, /ALTNAME|name/i)
    assert.equal(await post(other.port, { ca: pki.ca, checkServerName: false }), 'tls ok')
    // the chain is still validated: without the CA it fails
    const untrusted = await post(other.port, { checkServerName: false })
    assert.ok(untrusted instanceof TransportError)
  })

  test('caFile trusts the PEM bundle it names; ca and caFile together, or a missing file, are refused', async () => {
    const s = await server('ca')
    assert.equal(await post(s.port, { caFile: caPath }), 'tls ok')
    assert.throws(
      () =>
        new WSManConnection({
          server: 'h',
          auth: 'basic',
          username: 'u',
          password: 'p',
          caFile: caPath,
          ca: pki.ca,
        }),
      InvalidArgumentError,
    )
    assert.throws(
      () =>
        new WSManConnection({
          server: 'h',
          auth: 'basic',
          username: 'u',
          password: 'p',
          caFile: '/nonexistent/ca.pem',
        }),
      /caFile \/nonexistent\/ca.pem cannot be read/,
    )
  })

  test('tlsOptions reach Node: a TLS version the server does not offer fails the handshake', async () => {
    const s = await server('ca')
    assert.equal(await post(s.port, { ca: pki.ca, tlsOptions: { minVersion: 'TLSv1.2' } }), 'tls ok')
    // the test server offers TLS 1.3 at most; asking for at most 1.1 cannot agree
    const e = await post(s.port, { ca: pki.ca, tlsOptions: { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' } })
    assert.ok(e instanceof TransportError)
  })

  test('NODE_EXTRA_CA_CERTS is honoured when ca is not given (Node adds it to the default roots)', async () => {
    const s = await server('ca')
    const script = `
      import { WSManConnection } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)}
      const conn = new WSManConnection({ server: 'https://127.0.0.1:${s.port}/wsman', auth: 'basic', username: 'u', password: 'p', proxy: false, retries: { count: 0 } })
      try { console.log((await conn.http.post('<a/>')).body) } catch (e) { console.log('failed: ' + e.message) } finally { await conn.close() }
    `
    // asynchronously: the server answers from this process's event loop
    const run = async (env: NodeJS.ProcessEnv): Promise<string> =>
      (
        await promisify(execFile)(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script],
          {
            env,
            encoding: 'utf8',
            timeout: 60_000,
          },
        )
      ).stdout.trim()
    const { NODE_EXTRA_CA_CERTS: _drop, ...base } = process.env
    assert.match(await run(base), /^failed: /)
    assert.equal(await run({ ...base, NODE_EXTRA_CA_CERTS: caPath }), 'tls ok')
  })
})
