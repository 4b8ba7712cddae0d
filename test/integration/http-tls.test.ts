/**
 * WSManHttpClient over HTTPS against real Node https servers on 127.0.0.1, with a throw-away PKI
 * made by the `openssl` CLI: certificate validation, Basic over TLS, client-certificate auth, and the
 * CONNECT proxy path for https targets.
 */
import assert from 'node:assert/strict'
import type { TLSSocket } from 'node:tls'
import { after, afterEach, before, describe, test } from 'node:test'
import { AuthenticationError, InvalidArgumentError, TransportError } from '../../src/errors.ts'
import {
  BasicAuth,
  CERTIFICATE_AUTH_HEADER,
  CertificateAuth,
  WSManHttpClient,
  type WSManHttpClientOptions,
} from '../../src/transport/http/index.ts'
import { hasOpenssl, peerSkip } from '../helpers/peers.ts'
import {
  makeCertificates,
  noAuth,
  ok,
  startProxy,
  startServer,
  type Handler,
  type TestCertificates,
  type TestServer,
} from '../helpers/http-servers.ts'

const skip = peerSkip(
  'openssl',
  hasOpenssl(),
  'install the openssl CLI (apt-get install openssl) to generate test certificates',
)

describe('WSManHttpClient over HTTPS', { skip }, () => {
  let pki: TestCertificates
  before(() => {
    pki = makeCertificates()
  })

  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  const saved = { ...process.env }
  after(() => {
    for (const k of ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  })

  async function httpsServer(
    handler: Handler,
    which: 'ca' | 'self' | 'other' = 'ca',
    requestCert = false,
  ): Promise<TestServer> {
    const [cert, key] = {
      ca: [pki.serverCert, pki.serverKey],
      self: [pki.selfSignedCert, pki.selfSignedKey],
      other: [pki.otherHostCert, pki.otherHostKey],
    }[which]
    const s = await startServer(handler, {
      cert,
      key,
      ...(requestCert ? { requestCert: true, rejectUnauthorized: false, ca: pki.ca } : {}),
    })
    cleanups.push(() => s.close())
    return s
  }

  function client(port: number, extra: Partial<WSManHttpClientOptions> = {}): WSManHttpClient {
    const c = new WSManHttpClient({
      server: '127.0.0.1',
      port,
      auth: noAuth,
      proxy: false,
      retries: { count: 2, backoffMs: 5 },
      ...extra,
    })
    cleanups.push(() => c.close())
    return c
  }

  test('a self-signed server certificate is rejected by default with a TransportError naming the cause', async () => {
    const s = await httpsServer((_req, res) => ok(res), 'self')
    const err = await client(s.port)
      .post('<a/>')
      .catch((e: unknown) => e)
    assert.ok(err instanceof TransportError)
    assert.match(err.message, /self-signed/)
    assert.match(err.message, /DEPTH_ZERO_SELF_SIGNED_CERT/)
    assert.equal(s.requests.length, 0)
  })

  test('a self-signed server certificate is accepted when passed as ca', async () => {
    const s = await httpsServer((_req, res) => ok(res, 'tls ok'), 'self')
    assert.equal((await client(s.port, { ca: pki.selfSignedCert }).post('<a/>')).body, 'tls ok')
  })

  test('a certificate from an unknown CA is rejected; trusted with ca; rejectUnauthorized: false skips checks', async () => {
    const s = await httpsServer((_req, res) => ok(res, 'tls ok'))
    const err = await client(s.port)
      .post('<a/>')
      .catch((e: unknown) => e)
    assert.ok(err instanceof TransportError)
    assert.match(err.message, /not signed by a trusted CA|issuer/)
    assert.equal(s.connections, 0, 'validation failures are not retried (no TLS session was established)')
    assert.equal((await client(s.port, { ca: pki.ca }).post('<a/>')).body, 'tls ok')
    assert.equal((await client(s.port, { rejectUnauthorized: false }).post('<a/>')).body, 'tls ok')
  })

  test('a host name that is not in the certificate is rejected', async () => {
    const s = await httpsServer((_req, res) => ok(res), 'other')
    const err = await client(s.port, { ca: pki.ca })
      .post('<a/>')
      .catch((e: unknown) => e)
    assert.ok(err instanceof TransportError)
    assert.match(err.message, /does not match the host name \(ERR_TLS_CERT_ALTNAME_INVALID\)/)
  })

  test('Basic authentication over HTTPS works and keeps one TLS connection', async () => {
    const expected = `Basic ${Buffer.from('alice:Passw0rd!').toString('base64')}`
    const s = await httpsServer((req, res) => {
      if (req.headers['authorization'] === expected) ok(res, 'hello alice')
      else res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="WSMAN"' }).end()
    })
    const c = client(s.port, { ca: pki.ca, auth: new BasicAuth('alice', 'Passw0rd!') })
    assert.equal((await c.post('<a/>')).body, 'hello alice')
    assert.equal((await c.post('<b/>')).body, 'hello alice')
    assert.equal(s.connections, 1)
    const bad = client(s.port, { ca: pki.ca, auth: new BasicAuth('alice', 'wrong-Pa55') })
    const err = await bad.post('<a/>').catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError)
    assert.ok(!err.message.includes('wrong-Pa55'))
  })

  test('certificate authentication: client certificate over TLS plus the WS-Man mutual header', async () => {
    const s = await httpsServer(
      (req, res) => {
        const socket = req.socket as TLSSocket
        const peer = socket.getPeerCertificate()
        if (
          socket.authorized &&
          peer.subject?.CN === 'alice' &&
          req.headers['authorization'] === CERTIFICATE_AUTH_HEADER
        ) {
          ok(res, 'mapped to alice')
        } else {
          res.writeHead(401).end()
        }
      },
      'ca',
      true,
    )
    const auth = new CertificateAuth({
      cert: pki.clientCert,
      key: pki.clientKey,
      passphrase: pki.clientKeyPassphrase,
    })
    assert.equal((await client(s.port, { ca: pki.ca, auth }).post('<a/>')).body, 'mapped to alice')
    // the certificate may also come from the client option
    const viaOption = client(s.port, {
      ca: pki.ca,
      auth: new CertificateAuth(),
      certificate: { cert: pki.clientCert, key: pki.clientKey, passphrase: pki.clientKeyPassphrase },
    })
    assert.equal((await viaOption.post('<a/>')).body, 'mapped to alice')
    // without a client certificate the server refuses: 401 → AuthenticationError
    const noCert = client(s.port, { ca: pki.ca, auth: noAuth })
    await assert.rejects(noCert.post('<a/>'), AuthenticationError)
  })

  test('certificate auth is refused over plain HTTP', () => {
    assert.throws(
      () =>
        new WSManHttpClient({
          server: '127.0.0.1',
          ssl: false,
          auth: new CertificateAuth({ cert: pki.clientCert, key: pki.clientKey }),
          proxy: false,
        }),
      InvalidArgumentError,
    )
  })

  test('https targets go through the proxy with CONNECT; NO_PROXY bypasses it', async () => {
    const s = await httpsServer((_req, res) => ok(res, 'tunnelled'))
    const p = await startProxy()
    cleanups.push(() => p.close())
    for (const k of ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) delete process.env[k]
    process.env['HTTPS_PROXY'] = p.url
    const c = client(s.port, { ca: pki.ca, proxy: undefined })
    assert.equal((await c.post('<a/>')).body, 'tunnelled')
    assert.equal((await c.post('<b/>')).body, 'tunnelled')
    assert.deepEqual(p.tunnels, [`127.0.0.1:${s.port}`], 'one tunnel, reused by keep-alive')
    process.env['NO_PROXY'] = 'localhost,127.0.0.1'
    assert.equal((await client(s.port, { ca: pki.ca, proxy: undefined }).post('<a/>')).body, 'tunnelled')
    assert.equal(p.tunnels.length, 1, 'NO_PROXY bypassed the proxy')
    for (const k of ['HTTPS_PROXY', 'NO_PROXY']) delete process.env[k]
  })

  test('a CONNECT proxy answering 407 gives AuthenticationError; credentials are sent and never echoed', async () => {
    const s = await httpsServer((_req, res) => ok(res, 'tunnelled'))
    const good = `Basic ${Buffer.from('pu:pp').toString('base64')}`
    const p = await startProxy(good)
    cleanups.push(() => p.close())
    const err = await client(s.port, { ca: pki.ca, proxy: `http://pu:bad-secret@127.0.0.1:${p.port}` })
      .post('<a/>')
      .catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError)
    assert.ok(!err.message.includes('bad-secret'))
    const c = client(s.port, { ca: pki.ca, proxy: `http://pu:pp@127.0.0.1:${p.port}` })
    assert.equal((await c.post('<a/>')).body, 'tunnelled')
    assert.ok(p.proxyAuthorizations.includes(good))
  })
})
