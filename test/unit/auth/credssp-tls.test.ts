/**
 * The CredSSP TLS pieces: trailer lengths (pyspnego's rule, notes/auth.md §1.5), HKDF-Expand
 * (RFC 5869 A.1) and HKDF-Expand-Label / TLS 1.2 PRF cross-checked against Node's own HKDF, the
 * handshake tunnel and our record layer against OpenSSL's TLS server (Node `tls` over an in-memory
 * stream) for TLS 1.2 and 1.3 with RSA and ECDSA certificates, SubjectPublicKey against Node's
 * X509Certificate, and the pubKeyAuth values of MS-CSSP 3.1.5. The fixtures are throw-away
 * self-signed test certificates.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createHash, hkdfSync } from 'node:crypto'
import { Duplex } from 'node:stream'
import { TLSSocket } from 'node:tls'
import { CryptoError, NotSupportedError, ProtocolError } from '../../../src/errors.ts'
import {
  TlsTunnel,
  aeadSuite,
  clientPubKeyAuthValue,
  hkdfExpand,
  hkdfExpandLabel,
  serverPubKeyAuthValue,
  splitTlsRecords,
  subjectPublicKey,
  tls12Prf,
  tlsTrailerLength,
  type TlsEstablished,
  type TlsVersion,
} from '../../../src/auth/credssp/index.ts'

const RSA_CERT = `-----BEGIN CERTIFICATE-----
MIIDJzCCAg+gAwIBAgIUESXkHPufKsBbCF5Os7FvMqaWDrwwDQYJKoZIhvcNAQEL
BQAwFzEVMBMGA1UEAwwMY3JlZHNzcC10ZXN0MCAXDTI2MTIwMjIyNTk0OVoYDzIx
MjYxMTA4MjI1OTQ5WjAXMRUwEwYDVQQDDAxjcmVkc3NwLXRlc3QwggEiMA0GCSqG
SIb3DQEBAQUAA4IBDwAwggEKAoIBAQDLOY8LKVfuymCa+d3iGXEBCtXltSuW11bC
bKnu3ukTevCbhEl5dOi0F/7BPiCA0cphDNzX21bIsfikRkIbDg6hOlkvQp/4zM7u
5nvP2r/J9VsISBcDuSv/v7XQ1RFicnedrdr9rVVsXQo1oh9FhJTciDwWS4ghql6g
QCBxbmKOLVpYQxNP3F633YX1ewVulyGLbnqxi2ZHuqvPxA66HvunfFxpZDsXpeWO
ECnMaNle6+zKtNJ+DJrwAhSkGNPI0WcDmEcAJNeYe99+JEn5zYHoiAQg/9i0H8/M
5BZTj4n+Cs/cyJSAXC2FpFbBSv/lCq4w3+zOa42MIxMgpHcBMFe3AgMBAAGjaTBn
MB0GA1UdDgQWBBQxw3a8doHSgdkEcntE9pTC+ktnkjAfBgNVHSMEGDAWgBQxw3a8
doHSgdkEcntE9pTC+ktnkjAPBgNVHRMBAf8EBTADAQH/MBQGA1UdEQQNMAuCCWxv
Y2FsaG9zdDANBgkqhkiG9w0BAQsFAAOCAQEAc3LHut16uBxKe8j/ChnbGeBWeM5g
Pc9oOdC1bbIjHsyW2h9j5MmudgQ176YGpGLOpnXtnt9DJida6IvK8jAUnNrbtKU0
jdlDsVG7J4v2RhYp4eT2iVpQD78PK+xfSKh+5/nDAneP1K7BSjipm5qvVFUX/an2
Kv6hOIrC9z99B8b+gEwpkg7g6panGgufwTDoL+MiAFFLRFGHxZeA9BmKPeR9pdAA
sQm1bjB5Y6XcaJvT+pmXDFyYt1bXTAYkRbtA7OFhUI7V/85hsDcD1uGc7Xf6n4dJ
Qqc032/UHc3FCwFtNZlkUG2EEmW/Hq0CHqA9O8Xl19/CiZ7VKgzj8kbKGA==
-----END CERTIFICATE-----
`
const RSA_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDLOY8LKVfuymCa
+d3iGXEBCtXltSuW11bCbKnu3ukTevCbhEl5dOi0F/7BPiCA0cphDNzX21bIsfik
RkIbDg6hOlkvQp/4zM7u5nvP2r/J9VsISBcDuSv/v7XQ1RFicnedrdr9rVVsXQo1
oh9FhJTciDwWS4ghql6gQCBxbmKOLVpYQxNP3F633YX1ewVulyGLbnqxi2ZHuqvP
xA66HvunfFxpZDsXpeWOECnMaNle6+zKtNJ+DJrwAhSkGNPI0WcDmEcAJNeYe99+
JEn5zYHoiAQg/9i0H8/M5BZTj4n+Cs/cyJSAXC2FpFbBSv/lCq4w3+zOa42MIxMg
pHcBMFe3AgMBAAECggEAWmvURPOSv9kEzb+iJVELkhqnnCqVZ+qNHDmsDG/bBYNc
Xd2osWU+iq7od0O0w4xUfwTxmAtsHCTvi+wEyrPg94SWHOyIb/N0mSAs84kRb4L/
C3rD3rC7rnG2rGG49/QVW694sgk26l2lRsLJJi287Dijf4oA2nXK34NYzA+Aw2AI
ibAQn+0F34VxC7DQjgzwgEta25u4mM6Me/uScXontCip0XhPqllge1oKEvK+Vby/
yx4A+u+u7zFkrrySq74gUfIBVgI4DEjVYfg763UdsCifXMKGwX4q+84JUHazViMr
rCPHSIuRC4sZTrwIsN0IZikfnDdWxYEGhyq/pLl/nQKBgQDluPZu694AQbrBwTpu
2yq1H5ExaLQxux2AF34Z3HoAG4JTvjw6nDfNP3rMi4evzwN6nBYgzpluwDca3GSk
q7rghJMxbfb0iR/f1iXG85P9Tf7GsgW5wHpJxiSqQ0gppbjCQ8xXUJAf4szWKln0
pTGwvrtDZxydkyWRLzRZRICpdQKBgQDieKgJS6o2XtLxxrtUVTWFjw63fuzBs96L
FI5vRnAOFN59L6/7t8zwcCshiWgtPadr/45MQjUnAgui50R/vW0Wto4LE0LEnQTQ
eT5OvM2WoAm5j4gan5Xf6LjspSz08MKEgq+yhgq2+GPzUagfrOOSN9t0Al5pOHQG
Aij7yakq+wKBgAGj9H6OSKOP1JmVm6k2/3MTqqHDsaW5RFip0ki0/loJ2EBo111D
yFI65dGYHXvv6oJxoubREt9rl/klIcLbRxZbXAG6W00bvZKHoPVuv9vLNsqMcuYE
rdrhA1oD6PwDJvKcMVVeSekwYW4WF1Zb56Lveb7deaLWbio/QAxzJMgRAoGAHoNf
MJFvR5ATH9xE1SH96hbSRsrlH1waueZ1Imz9IAiTyY4pSeMDy8lxJj2bOa0654Qx
KfkprC3MX5CFXCirkAncrYVU06TMR0JusLEjig3aAZRjJCMoUFjMwaWnnwDpVG0/
OvBwdSKWZOw1mL70knjQKps/GTIv/7c+yl3rWw0CgYA2AEAKffOk7Cnh4oQdIYKx
RsiuO0qFRM0SkGDcniVcWe4Ri5LGdBWobYdO+RVA7VeZGx16Wsudp4RiL8BO5gaV
51l4ByxPgcTF5QDsaNUpf9s91Y2R1Whxwsfxqrst6xoKmwzCl9fucZ2pxnWICdYl
w8Z9H5Wy1JlbmMc0oMVCEQ==
-----END PRIVATE KEY-----
`
const EC_CERT = `-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUd+x3bmUO1sbjeNuj5wuv8LEedC8wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKY3JlZHNzcC1lYzAgFw0yNjEyMDIyMjU5NDlaGA8yMTI2MTEw
ODIyNTk0OVowFTETMBEGA1UEAwwKY3JlZHNzcC1lYzBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABNP8bV5qMUzrbmpwcNT50bgroUb4VmD+fHZy64ZgHzBBQLwikEtT
Uj19iIDvha91Ceeo3iVfTZGVr3bvHDD0Sj6jUzBRMB0GA1UdDgQWBBQ/63VkfXuH
XYF7j2j4kT7zP8CTBDAfBgNVHSMEGDAWgBQ/63VkfXuHXYF7j2j4kT7zP8CTBDAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCMKE4zD+ZksIkSYbmz
l5WqmEAt9gG/RzaqNH+D6H9nbwIgB2qc7J1H1tnDDW9U+CduozCZBHUVwF3uP9iH
m7DBIMo=
-----END CERTIFICATE-----
`
const EC_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPijkmZq/cHUJay4Z
od7dXUlGKdQWeoiW/s4ppdpOePShRANCAATT/G1eajFM625qcHDU+dG4K6FG+FZg
/nx2cuuGYB8wQUC8IpBLU1I9fYiA74WvdQnnqN4lX02Rla927xww9Eo+
-----END PRIVATE KEY-----
`

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))
const der = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw)

test('trailer lengths follow pyspnego: TLS 1.3 17, GCM 16, CBC MAC + padding, RC4 MAC only', () => {
  assert.equal(tlsTrailerLength(100, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384'), 17)
  assert.equal(tlsTrailerLength(16384, 'TLSv1.3', 'TLS_AES_128_GCM_SHA256'), 17)
  assert.equal(tlsTrailerLength(100, 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384'), 16)
  assert.equal(tlsTrailerLength(5, 'TLSv1.2', 'AES128-GCM-SHA256'), 16)
  // AES-CBC with SHA-1: 100 + 20 = 120, padded to 128
  assert.equal(tlsTrailerLength(100, 'TLSv1.2', 'ECDHE-RSA-AES256-SHA'), 28)
  // AES-CBC with SHA-384: 96 + 48 = 144, a full block of padding
  assert.equal(tlsTrailerLength(96, 'TLSv1.2', 'ECDHE-RSA-AES256-SHA384'), 64)
  // AES-CBC with SHA-256: 100 + 32 = 132, padded to 144
  assert.equal(tlsTrailerLength(100, 'TLSv1.2', 'AES128-SHA256'), 44)
  // 3DES: 100 + 20 = 120, padded to a multiple of 8 (a full 8-byte block)
  assert.equal(tlsTrailerLength(100, 'TLSv1.2', 'DES-CBC3-SHA'), 28)
  assert.equal(tlsTrailerLength(100, 'TLSv1.2', 'RC4-MD5'), 16)
  assert.equal(tlsTrailerLength(100, 'TLSv1.2', 'RC4-SHA'), 20)
})

test('aeadSuite maps the GCM suites and refuses the others', () => {
  assert.deepEqual(aeadSuite('TLS_AES_256_GCM_SHA384'), {
    algorithm: 'aes-256-gcm',
    keyLength: 32,
    hash: 'sha384',
  })
  assert.deepEqual(aeadSuite('ECDHE-RSA-AES128-GCM-SHA256'), {
    algorithm: 'aes-128-gcm',
    keyLength: 16,
    hash: 'sha256',
  })
  assert.deepEqual(aeadSuite('AES256-GCM-SHA384'), {
    algorithm: 'aes-256-gcm',
    keyLength: 32,
    hash: 'sha384',
  })
  for (const name of ['ECDHE-RSA-AES256-SHA', 'TLS_CHACHA20_POLY1305_SHA256', 'RC4-MD5', '']) {
    assert.throws(() => aeadSuite(name), NotSupportedError, name)
  }
})

test('HKDF-Expand: RFC 5869 A.1, and agrees with Node hkdfSync for HKDF-Expand-Label inputs', () => {
  const prk = bytes('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5')
  const okm = hkdfExpand('sha256', prk, bytes('f0f1f2f3f4f5f6f7f8f9'), 42)
  assert.equal(
    hex(okm),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  )
  // hkdfSync = extract + expand; with the extract done by hand the expand must agree
  const ikm = new Uint8Array(22).fill(0x0b)
  const salt = bytes('000102030405060708090a0b0c')
  const viaNode = new Uint8Array(hkdfSync('sha256', ikm, salt, bytes('f0f1f2f3f4f5f6f7f8f9'), 42))
  assert.equal(hex(viaNode), hex(okm))
  // HKDF-Expand-Label("key") layout: uint16 length ‖ len ‖ "tls13 key" ‖ 0
  const secret = new Uint8Array(48).fill(7)
  const label = hkdfExpandLabel('sha384', secret, 'key', new Uint8Array(0), 32)
  const info = Uint8Array.of(0, 32, 9, ...new TextEncoder().encode('tls13 key'), 0)
  assert.equal(hex(label), hex(hkdfExpand('sha384', secret, info, 32)))
})

test('TLS 1.2 PRF is P_hash (RFC 5246 §5): output blocks chain through A(i)', () => {
  const secret = bytes('9bbe436ba940f017b17652849a71db35')
  const seed = bytes('a0ba9f936cda311827a6f796ffd5198c')
  const out = tls12Prf('sha256', secret, 'test label', seed, 100)
  assert.equal(out.length, 100)
  // the first 32 bytes are a prefix of a longer output (streaming property)
  assert.equal(hex(tls12Prf('sha256', secret, 'test label', seed, 32)), hex(out.subarray(0, 32)))
  assert.equal(
    hex(out),
    'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
  )
})

test('subjectPublicKey: PKCS#1 RSAPublicKey for RSA, the EC point for ECDSA (Node X509Certificate agrees)', () => {
  const rsa = new X509Certificate(RSA_CERT)
  const key = subjectPublicKey(der(RSA_CERT))
  assert.equal(hex(key), hex(new Uint8Array(rsa.publicKey.export({ type: 'pkcs1', format: 'der' }))))
  assert.equal(key[0], 0x30)
  const ec = new X509Certificate(EC_CERT)
  const spki = new Uint8Array(ec.publicKey.export({ type: 'spki', format: 'der' }))
  const point = subjectPublicKey(der(EC_CERT))
  assert.equal(point.length, 65)
  assert.equal(point[0], 0x04)
  assert.equal(hex(spki.subarray(spki.length - 65)), hex(point))
  assert.throws(() => subjectPublicKey(der(RSA_CERT).subarray(0, 200)), ProtocolError)
  assert.throws(() => subjectPublicKey(new Uint8Array([0x30, 0x00])), ProtocolError)
})

test('pubKeyAuth values (MS-CSSP 3.1.5): v2–v4 key and key+1, v5+ SHA-256 binding hashes with the nonce', () => {
  const key = subjectPublicKey(der(RSA_CERT))
  const nonce = new Uint8Array(32).map((_, i) => i)
  for (const v of [2, 3, 4]) {
    assert.equal(hex(clientPubKeyAuthValue(v, key)), hex(key))
    const server = serverPubKeyAuthValue(v, key)
    assert.equal(server[0], 0x31)
    assert.equal(hex(server.subarray(1)), hex(key.subarray(1)))
  }
  assert.equal(serverPubKeyAuthValue(2, Uint8Array.of(0xff, 1))[0], 0x00)
  const sha = (s: string): string =>
    createHash('sha256').update(Buffer.from(s, 'latin1')).update(nonce).update(key).digest('hex')
  for (const v of [5, 6]) {
    assert.equal(hex(clientPubKeyAuthValue(v, key, nonce)), sha('CredSSP Client-To-Server Binding Hash\0'))
    assert.equal(hex(serverPubKeyAuthValue(v, key, nonce)), sha('CredSSP Server-To-Client Binding Hash\0'))
    assert.throws(() => clientPubKeyAuthValue(v, key), ProtocolError)
    assert.throws(() => serverPubKeyAuthValue(v, key, new Uint8Array(31)), ProtocolError)
  }
})

test('splitTlsRecords frames records and refuses truncation and garbage', () => {
  const two = Uint8Array.of(23, 3, 3, 0, 2, 0xaa, 0xbb, 21, 3, 3, 0, 2, 1, 0)
  const recs = splitTlsRecords(two)
  assert.deepEqual(
    recs.map((r) => [r.type, r.version, hex(r.fragment)]),
    [
      [23, 0x303, 'aabb'],
      [21, 0x303, '0100'],
    ],
  )
  assert.throws(() => splitTlsRecords(two.subarray(0, 6)), ProtocolError)
  assert.throws(() => splitTlsRecords(two.subarray(0, 3)), ProtocolError)
  assert.throws(() => splitTlsRecords(Uint8Array.of(0x47, 0x45, 0x54, 0x20, 0x2f)), ProtocolError)
  assert.throws(() => splitTlsRecords(Uint8Array.of(23, 3, 3, 0x50, 0x00)), ProtocolError)
})

/** OpenSSL's TLS server over an in-memory stream. */
class MemoryServer {
  readonly received: Buffer[] = []
  readonly #out: Buffer[] = []
  readonly socket: TLSSocket
  constructor(cert: string, key: string, maxVersion: TlsVersion) {
    const out = this.#out
    const mem = new Duplex({
      write(chunk: Buffer, _e, cb) {
        out.push(Buffer.from(chunk))
        cb()
      },
      read() {},
    })
    this.mem = mem
    this.socket = new TLSSocket(mem, { isServer: true, cert, key, maxVersion, minVersion: 'TLSv1.2' })
    this.socket.on('data', (d: Buffer) => this.received.push(d))
  }
  readonly mem: Duplex
  push(b: Uint8Array): void {
    this.mem.push(Buffer.from(b))
  }
  async take(): Promise<Uint8Array> {
    for (let n = -1; n !== this.#out.length;) {
      n = this.#out.length
      await new Promise((r) => setImmediate(r))
    }
    const b = Buffer.concat(this.#out)
    this.#out.length = 0
    return new Uint8Array(b)
  }
  close(): void {
    this.socket.destroy()
    this.mem.destroy()
  }
}

async function handshake(
  server: MemoryServer,
  maxVersion: TlsVersion,
): Promise<{ est: TlsEstablished; pending: Uint8Array; legs: number }> {
  const tunnel = new TlsTunnel({ maxVersion })
  let out = await tunnel.start()
  let legs = 0
  while (tunnel.state === 'handshaking') {
    assert.ok(out.length > 0, 'the client sends something on every handshake leg')
    server.push(out)
    out = await tunnel.feed(await server.take())
    if (++legs > 5) throw new Error('handshake does not finish')
  }
  assert.equal(tunnel.state, 'established')
  return { est: tunnel.established as TlsEstablished, pending: out, legs }
}

for (const [maxVersion, certName] of [
  ['TLSv1.3', 'RSA'],
  ['TLSv1.2', 'RSA'],
  ['TLSv1.3', 'EC'],
  ['TLSv1.2', 'EC'],
] as const) {
  test(`tunnel + record layer interoperate with OpenSSL: ${maxVersion}, ${certName} certificate`, async () => {
    const [cert, key] = certName === 'RSA' ? [RSA_CERT, RSA_KEY] : [EC_CERT, EC_KEY]
    const server = new MemoryServer(cert, key, maxVersion)
    try {
      const { est, pending, legs } = await handshake(server, maxVersion)
      assert.equal(est.protocol, maxVersion)
      assert.match(est.cipher, /GCM/)
      assert.equal(hex(est.peerCertificate), hex(der(cert)))
      assert.equal(legs, maxVersion === 'TLSv1.3' ? 1 : 2)
      const rec = est.records
      if (maxVersion === 'TLSv1.3') {
        assert.ok(pending.length > 0, 'the client Finished is still to be sent')
        server.push(pending)
        // the server answers the Finished with NewSessionTickets: skipped, no data
        const tickets = await server.take()
        assert.ok(tickets.length > 0)
        assert.equal(rec.open(tickets).length, 0)
      } else {
        assert.equal(pending.length, 0)
      }
      // client → server: two records in one push, one of exactly 16 KiB
      const big = new Uint8Array(16384).map((_, i) => i & 0xff)
      const r1 = rec.seal(new TextEncoder().encode('hello'))
      const r2 = rec.seal(big)
      assert.equal(r2.length - 5 - 16384, rec.trailerLength(16384) + (maxVersion === 'TLSv1.3' ? 0 : 8))
      server.push(new Uint8Array([...r1, ...r2]))
      await server.take()
      const got = Buffer.concat(server.received)
      assert.equal(got.subarray(0, 5).toString(), 'hello')
      assert.equal(hex(got.subarray(5)), hex(big))
      assert.throws(() => rec.seal(new Uint8Array(16385)), /at most 16384/)
      assert.equal(splitTlsRecords(rec.sealAll(new Uint8Array(40_000))).length, 3)
      // server → client
      server.socket.write('reply one')
      const one = await server.take()
      assert.equal(new TextDecoder().decode(rec.open(one)), 'reply one')
      server.socket.write(Buffer.alloc(20_000, 0x41))
      const two = await server.take()
      assert.ok(splitTlsRecords(two).length >= 2)
      assert.equal(rec.open(two).length, 20_000)
      // a flipped bit does not authenticate; the layer is then unusable
      server.socket.write('tampered')
      const bad = (await server.take()).slice()
      bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
      assert.throws(() => rec.open(bad), CryptoError)
      assert.throws(() => rec.open(one), ProtocolError)
    } finally {
      server.close()
    }
  })
}

test('a server that only speaks TLS 1.2 is refused when the client requires TLS 1.3', async () => {
  const server = new MemoryServer(RSA_CERT, RSA_KEY, 'TLSv1.2')
  try {
    const tunnel = new TlsTunnel({ minVersion: 'TLSv1.3' })
    const hello = await tunnel.start()
    server.push(hello)
    const reply = await server.take()
    await assert.rejects(tunnel.feed(reply), (e: unknown) => {
      assert.ok(e instanceof Error && e.name === 'AuthenticationError', String(e))
      assert.match(e.message, /TLS handshake/)
      return true
    })
    assert.equal(tunnel.state, 'failed')
  } finally {
    server.close()
  }
})

test('a garbage server flight fails the handshake with a typed error', async () => {
  const tunnel = new TlsTunnel()
  await tunnel.start()
  await assert.rejects(
    tunnel.feed(new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n\r\n')),
    (e: unknown) => {
      assert.ok(e instanceof Error && ['AuthenticationError', 'ProtocolError'].includes(e.name), String(e))
      return true
    },
  )
  assert.throws(() => new TlsTunnel({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }), /minimum/)
})
