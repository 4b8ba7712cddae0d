/**
 * {@link SecurityContextAuth} against a real local HTTP(S) server that plays a WinRM-like 2-leg
 * Negotiate handshake with a fake mechanism (XOR "sealing" keyed by the handshake, 16-byte HMAC
 * header), insists on the exact `multipart/encrypted` bytes of notes/auth.md §1.2, and answers
 * encrypted.
 */
import assert from 'node:assert/strict'
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, before, describe, test } from 'node:test'
import type { SealedMessage, SecurityContext } from '../../../src/auth/security-context.ts'
import { AuthenticationError, CryptoError, InvalidArgumentError, ProtocolError } from '../../../src/errors.ts'
import {
  findSchemeToken,
  SecurityContextAuth,
  type GssHttpScheme,
  type MessageEncryption,
} from '../../../src/transport/http/gss-auth.ts'
import { WSManHttpClient, type AuthConnectionContext } from '../../../src/transport/http/index.ts'
import { makeCertificates, type TestCertificates } from '../../helpers/http-servers.ts'
import { hasOpenssl } from '../../helpers/peers.ts'

// ---------------------------------------------------------------- the fake mechanism (both sides)

const PASSWORD = 'S3cret-Passw0rd!'
const NEGOTIATE = Buffer.from('FAKE-NEGOTIATE')

const hmac = (key: Uint8Array | string, ...parts: Array<Uint8Array | string>): Buffer => {
  const h = createHmac('sha256', key)
  for (const p of parts) h.update(p)
  return h.digest()
}
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}
function keystream(key: Uint8Array, dir: string, seq: number, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let block = 0; block * 32 < length; block++) {
    const k = createHash('sha256').update(key).update(dir).update(u32(seq)).update(u32(block)).digest()
    k.copy(out, block * 32, 0, Math.min(32, length - block * 32))
  }
  return out
}
const xor = (a: Uint8Array, b: Uint8Array): Buffer => Buffer.from(a.map((v, i) => v ^ (b[i] ?? 0)))

/** One direction of the fake sealing: XOR keystream, header = HMAC(key, dir ‖ seq ‖ plaintext)[:16]. */
function sealer(key: Uint8Array, dir: string) {
  let seq = 0
  return {
    seal(plain: Uint8Array): SealedMessage {
      const s = seq++
      return {
        header: hmac(key, dir, u32(s), plain).subarray(0, 16),
        data: xor(plain, keystream(key, dir, s, plain.length)),
      }
    },
    unseal(m: SealedMessage): Uint8Array {
      const s = seq++
      const plain = xor(m.data, keystream(key, dir, s, m.data.length))
      const expected = hmac(key, dir, u32(s), plain).subarray(0, 16)
      if (m.header.length !== 16 || !timingSafeEqual(expected, m.header)) {
        throw new CryptoError('fake signature does not verify')
      }
      return plain
    },
  }
}

/** Client side: NEGOTIATE → (CHAL nonce) → AUTH hmac → [mutual: DONE proof on the 200]. */
class FakeContext implements SecurityContext {
  readonly mechanism = 'NTLM' as const
  complete = false
  #step = 0
  #key: Buffer | undefined
  #out: ReturnType<typeof sealer> | undefined
  #in: ReturnType<typeof sealer> | undefined
  readonly #password: string
  readonly #mutual: boolean
  readonly connection: AuthConnectionContext
  constructor(password: string, mutual: boolean, connection: AuthConnectionContext) {
    this.#password = password
    this.#mutual = mutual
    this.connection = connection
  }
  async step(input?: Uint8Array): Promise<Uint8Array | undefined> {
    await Promise.resolve()
    const step = this.#step++
    if (step === 0 && input === undefined) return NEGOTIATE
    if (step === 1 && input !== undefined && Buffer.from(input).subarray(0, 4).toString() === 'CHAL') {
      const nonce = input.subarray(4)
      this.#key = hmac(this.#password, 'key', nonce)
      this.#out = sealer(this.#key, 'c2s')
      this.#in = sealer(this.#key, 's2c')
      this.complete = !this.#mutual
      return Buffer.concat([Buffer.from('AUTH'), hmac(this.#password, 'auth', nonce)])
    }
    if (step === 2 && this.#mutual && input !== undefined && this.#key !== undefined) {
      if (!Buffer.from(input).equals(Buffer.concat([Buffer.from('DONE'), hmac(this.#key, 'server')]))) {
        throw new AuthenticationError('fake mutual authentication failed')
      }
      this.complete = true
      return undefined
    }
    throw new ProtocolError('unexpected fake token')
  }
  wrap(plaintext: Uint8Array): SealedMessage {
    if (!this.complete || this.#out === undefined) throw new Error('not complete')
    return this.#out.seal(plaintext)
  }
  unwrap(message: SealedMessage): Uint8Array {
    if (!this.complete || this.#in === undefined) throw new Error('not complete')
    return this.#in.unseal(message)
  }
}

// ---------------------------------------------------------------- the server

interface Seen {
  readonly connection: number
  readonly authorization: string | undefined
  readonly contentType: string | undefined
  readonly body: Buffer
}

interface PeerOptions {
  scheme?: GssHttpScheme | undefined
  protocol?: string
  mutual?: 'good' | 'bad' | 'missing'
  /** Expect and answer encrypted bodies after the handshake (default true). */
  encrypted?: boolean
  /** Destroy the socket after answering this many SOAP requests on a connection. */
  dropAfter?: number
  /** Answer 401 to the first SOAP message on an authenticated connection. */
  forget?: boolean
  /** Offer only this `WWW-Authenticate` value. */
  offer?: string
  /** Corrupt the signature of encrypted replies. */
  tamper?: boolean
  /** Answer with Exchange-style `-- Encrypted Boundary` and no final CRLF. */
  exchangeStyle?: boolean
  /** Answer SOAP requests with a clear-text 200. */
  plainReply?: boolean
  /** Reply bodies this long (to test multi-part replies). */
  replyPad?: number
  /** Answer the first encrypted SOAP request with 503 without reading it (HTTP.sys queue full). */
  busyOnce?: boolean
  /** Answer every handshake leg carrying a token with this status instead of 401/200. */
  handshakeStatus?: number
}

const EXACT = (protocol: string) =>
  new RegExp(
    '^--Encrypted Boundary\\r\\n' +
      `\\tContent-Type: ${protocol.replace(/[/+]/g, '\\$&')}\\r\\n` +
      '\\tOriginalContent: type=application/soap\\+xml;charset=UTF-8;Length=(\\d+)\\r\\n' +
      '--Encrypted Boundary\\r\\n' +
      '\\tContent-Type: application/octet-stream\\r\\n' +
      '([\\s\\S]{4})([\\s\\S]*)$',
  )

/** Strict server-side parser: exactly the notes' bytes, one or more pairs, single closing boundary. */
function parseExact(body: Buffer, protocol: string, unseal: (m: SealedMessage) => Uint8Array): Buffer {
  let text = body.toString('latin1')
  assert.ok(text.endsWith('--Encrypted Boundary--\r\n'), 'closing boundary with CRLF')
  text = text.slice(0, -'--Encrypted Boundary--\r\n'.length)
  const parts = text.split(/(?=--Encrypted Boundary\r\n\tContent-Type: application\/HTTP-)/)
  const out: Buffer[] = []
  for (const part of parts) {
    const m = EXACT(protocol).exec(part)
    assert.ok(m !== null, 'part has the exact framing')
    const hlen = Buffer.from(m[2] ?? '', 'latin1').readUInt32LE()
    const rest = Buffer.from(m[3] ?? '', 'latin1')
    const plain = unseal({ header: rest.subarray(0, hlen), data: rest.subarray(hlen) })
    assert.equal(plain.length, Number(m[1]), 'Length= is the plaintext length')
    out.push(Buffer.from(plain))
  }
  return Buffer.concat(out)
}

function buildReply(
  plain: Buffer,
  protocol: string,
  seal: (p: Uint8Array) => SealedMessage,
  exchange: boolean,
  chunk: number,
): Buffer {
  const d = exchange ? '-- Encrypted Boundary' : '--Encrypted Boundary'
  const pieces: Buffer[] = []
  for (let i = 0; i === 0 || i < plain.length; i += chunk) {
    const c = plain.subarray(i, i + chunk)
    const s = seal(c)
    pieces.push(
      Buffer.from(
        `${d}\r\n\tContent-Type: ${protocol}\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${c.length}\r\n` +
          `${d}\r\n\tContent-Type: application/octet-stream\r\n`,
        'latin1',
      ),
      u32(s.header.length),
      Buffer.from(s.header),
      Buffer.from(s.data),
    )
  }
  pieces.push(Buffer.from(exchange ? `${d}--` : `${d}--\r\n`, 'latin1'))
  return Buffer.concat(pieces)
}

interface Peer {
  readonly port: number
  readonly seen: Seen[]
  readonly errors: string[]
  readonly connections: number
  close(): Promise<void>
}

async function startPeer(options: PeerOptions = {}, tls?: TestCertificates): Promise<Peer> {
  const scheme = options.scheme ?? 'Negotiate'
  const protocol = options.protocol ?? 'application/HTTP-SPNEGO-session-encrypted'
  const encrypted = options.encrypted ?? true
  const multi = scheme === 'CredSSP'
  const seen: Seen[] = []
  const errors: string[] = []
  let connections = 0
  const ids = new WeakMap<Socket, number>()
  interface ConnState {
    nonce?: Buffer | undefined
    key?: Buffer
    in?: ReturnType<typeof sealer>
    out?: ReturnType<typeof sealer>
    authed: boolean
    soap: number
  }
  const states = new Map<number, ConnState>()
  let busyDone = false
  const challengeHeader = (token?: Buffer): string =>
    token === undefined ? scheme : `${scheme} ${token.toString('base64')}`

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const id = ids.get(req.socket) ?? -1
    const authorization = req.headers.authorization
    seen.push({ connection: id, authorization, contentType: req.headers['content-type'], body })
    let st = states.get(id)
    if (st === undefined) states.set(id, (st = { authed: false, soap: 0 }))
    const deny = (token?: Buffer): void => {
      res
        .writeHead(401, {
          'WWW-Authenticate': options.offer ?? challengeHeader(token),
          'Content-Length': '0',
        })
        .end()
    }
    if (!st.authed) {
      if (encrypted && body.length > 0) errors.push('a body was sent before the handshake completed')
      const m = new RegExp(`^${scheme} (\\S+)$`).exec(authorization ?? '')
      if (options.offer !== undefined || m === null) return deny()
      if (options.handshakeStatus !== undefined) {
        return void res.writeHead(options.handshakeStatus, { 'Content-Length': '0' }).end()
      }
      const token = Buffer.from(m[1] ?? '', 'base64')
      if (token.equals(NEGOTIATE)) {
        st.nonce = createHash('sha256').update(`nonce-${id}-${seen.length}`).digest().subarray(0, 16)
        return deny(Buffer.concat([Buffer.from('CHAL'), st.nonce]))
      }
      if (
        st.nonce !== undefined &&
        token.equals(Buffer.concat([Buffer.from('AUTH'), hmac(PASSWORD, 'auth', st.nonce)]))
      ) {
        st.key = hmac(PASSWORD, 'key', st.nonce)
        st.in = sealer(st.key, 'c2s')
        st.out = sealer(st.key, 's2c')
        st.authed = true
        const headers: Record<string, string> = { 'Content-Length': '0' }
        if (options.mutual === 'good') {
          headers['WWW-Authenticate'] = challengeHeader(
            Buffer.concat([Buffer.from('DONE'), hmac(st.key, 'server')]),
          )
        } else if (options.mutual === 'bad') {
          headers['WWW-Authenticate'] = challengeHeader(Buffer.from('DONE-forged'))
        }
        if (body.length === 0) return void res.writeHead(200, headers).end()
        // unencrypted mode: the final leg carries the SOAP body
        const reply = Buffer.from(`<reply>${body.toString('utf8')}</reply>`)
        headers['Content-Type'] = 'application/soap+xml;charset=UTF-8'
        headers['Content-Length'] = String(reply.length)
        return void res.writeHead(200, headers).end(reply)
      }
      st.nonce = undefined
      return deny() // wrong credentials: bare challenge
    }
    st.soap++
    if (options.busyOnce === true && !busyDone) {
      busyDone = true
      return void res.writeHead(503, { 'Content-Length': '0' }).end()
    }
    if (options.forget === true) return deny()
    if (!encrypted || options.plainReply === true) {
      if (body.toString('latin1').includes('Encrypted Boundary')) errors.push('encrypted although disabled')
      const reply = Buffer.from(`<reply>${body.toString('utf8')}</reply>`)
      res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' }).end(reply)
      return
    }
    const expectedType = `multipart/${
      multi && body.length > 16384 ? 'x-multi-encrypted' : 'encrypted'
    };protocol="${protocol}";boundary="Encrypted Boundary"`
    if (req.headers['content-type'] !== expectedType)
      errors.push(`content type ${req.headers['content-type']}`)
    let plain: Buffer
    try {
      const inbound = st.in
      assert.ok(inbound !== undefined)
      plain = parseExact(body, protocol, (m) => inbound.unseal(m))
    } catch (err) {
      errors.push(`bad encrypted request: ${(err as Error).message}`)
      res.writeHead(400).end()
      return
    }
    const replyPlain = Buffer.from(
      `<reply>${plain.toString('utf8')}</reply>${'.'.repeat(options.replyPad ?? 0)}`,
    )
    const outbound = st.out
    assert.ok(outbound !== undefined)
    let reply = buildReply(
      replyPlain,
      protocol,
      (p) => outbound.seal(p),
      options.exchangeStyle === true,
      multi ? 16384 : Infinity,
    )
    if (options.tamper === true) {
      reply = Buffer.from(reply)
      const at = reply.indexOf(Buffer.from('octet-stream\r\n')) + 14 + 4
      reply[at] = (reply[at] ?? 0) ^ 1
    }
    const subtype = multi && replyPlain.length > 16384 ? 'x-multi-encrypted' : 'encrypted'
    res.writeHead(200, {
      'Content-Type': `multipart/${subtype};protocol="${protocol}";boundary="Encrypted Boundary"`,
      'Content-Length': String(reply.length),
    })
    res.end(reply)
    if (options.dropAfter !== undefined && st.soap >= options.dropAfter) {
      res.on('finish', () => setTimeout(() => req.socket.destroy(), 5))
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handle(req, res, Buffer.concat(chunks)))
  }
  const server =
    tls === undefined
      ? createHttpServer(listener)
      : createHttpsServer({ cert: tls.serverCert, key: tls.serverKey }, listener)
  server.keepAliveTimeout = 10_000
  server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
    ids.set(socket, connections++)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    errors,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

// ---------------------------------------------------------------- harness

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface Setup {
  scheme?: GssHttpScheme
  encryption?: MessageEncryption
  allowUnencrypted?: boolean
  password?: string
  mutual?: boolean
  tls?: TestCertificates
}

async function setup(peerOptions: PeerOptions = {}, o: Setup = {}) {
  const peer = await startPeer({ scheme: o.scheme, ...peerOptions }, o.tls)
  cleanups.push(() => peer.close())
  const contexts: FakeContext[] = []
  const auth = new SecurityContextAuth({
    scheme: o.scheme ?? 'Negotiate',
    encryption: o.encryption ?? 'auto',
    ...(o.allowUnencrypted === undefined ? {} : { allowUnencrypted: o.allowUnencrypted }),
    createContext: (ctx) => {
      const c = new FakeContext(o.password ?? PASSWORD, o.mutual ?? false, ctx)
      contexts.push(c)
      return c
    },
  })
  const client = new WSManHttpClient({
    server: '127.0.0.1',
    port: peer.port,
    ssl: o.tls !== undefined,
    ...(o.tls === undefined ? {} : { ca: o.tls.ca }),
    auth,
    proxy: false,
    retries: { count: 1, backoffMs: 1 },
  })
  cleanups.push(() => client.close())
  return { peer, client, contexts, auth }
}

const b64 = (b: Buffer): string => b.toString('base64')
const SOAP = '<s:Envelope><s:Body>Get-Secret-Stuff ünïcødé</s:Body></s:Envelope>'

// ---------------------------------------------------------------- tests

describe('SecurityContextAuth over HTTP: handshake and message encryption', () => {
  test('handshake on empty POSTs, then exact multipart/encrypted bodies; the reply is decrypted', async () => {
    const { peer, client, contexts } = await setup()
    const res = await client.post(SOAP)
    assert.equal(res.status, 200)
    assert.equal(res.body, `<reply>${SOAP}</reply>`)
    assert.deepEqual(peer.errors, [])
    assert.equal(peer.seen.length, 3)
    const [neg, auth, soap] = peer.seen
    assert.equal(neg?.authorization, `Negotiate ${b64(NEGOTIATE)}`)
    assert.equal(neg?.body.length, 0)
    assert.match(auth?.authorization ?? '', /^Negotiate QVVUS/) // "AUTH…"
    assert.equal(auth?.body.length, 0)
    assert.equal(soap?.authorization, undefined)
    assert.equal(
      soap?.contentType,
      'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"',
    )
    assert.deepEqual(
      peer.seen.map((s) => s.connection),
      [0, 0, 0],
    )
    // the server never sees the plaintext
    for (const s of peer.seen) {
      assert.equal(s.body.includes(Buffer.from('Get-Secret-Stuff')), false)
      assert.equal(s.body.includes(Buffer.from(SOAP)), false)
    }
    // the authenticated connection is reused: no new handshake, sequence numbers continue
    assert.equal((await client.post('<two/>')).body, '<reply><two/></reply>')
    assert.equal(peer.seen.length, 4)
    assert.equal(contexts.length, 1)
    assert.deepEqual(peer.errors, [])
    assert.deepEqual(contexts[0]?.connection, {
      tls: false,
      host: '127.0.0.1',
      port: peer.port,
      peerCertificate: undefined,
    })
  })

  test('a 503 to an encrypted message is retried on a fresh, freshly authenticated connection', async () => {
    // the refused message advanced the client's sequence number, which the server never saw: the
    // retry must not reuse that context
    const { client, peer, contexts } = await setup({ busyOnce: true })
    const res = await client.post(SOAP)
    assert.equal(res.status, 200)
    assert.equal(res.body, `<reply>${SOAP}</reply>`)
    assert.deepEqual(peer.errors, [])
    assert.equal(contexts.length, 2)
    assert.deepEqual(
      peer.seen.map((s) => s.connection),
      [0, 0, 0, 1, 1, 1],
    )
  })

  test('a handshake leg answered with neither 401 nor 2xx names the status', async () => {
    const { client } = await setup({ handshakeStatus: 500 })
    const err = await client.post(SOAP).catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError, String(err))
    assert.match(
      err.message,
      /did not complete: http:\/\/127\.0\.0\.1:\d+\/wsman answered the handshake with HTTP 500/,
    )
  })

  test('Exchange-style replies (-- Encrypted Boundary, no final CRLF) are decrypted', async () => {
    const { client, peer } = await setup({ exchangeStyle: true })
    assert.equal((await client.post('<x/>')).body, '<reply><x/></reply>')
    assert.deepEqual(peer.errors, [])
  })

  test('a final mutual-authentication token on the 200 is fed to the context', async () => {
    const { client, contexts, peer } = await setup({ mutual: 'good' }, { mutual: true })
    assert.equal((await client.post('<m/>')).body, '<reply><m/></reply>')
    assert.equal(contexts[0]?.complete, true)
    assert.deepEqual(peer.errors, [])
  })

  test('a forged mutual-authentication token is an AuthenticationError; no body is sent', async () => {
    const { client, peer } = await setup({ mutual: 'bad' }, { mutual: true })
    const err = await client.post(SOAP).catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError, String(err))
    assert.equal(peer.seen.length, 2)
    assert.ok(peer.seen.every((s) => s.body.length === 0))
  })

  test('a missing mutual-authentication token is an AuthenticationError', async () => {
    const { client, peer } = await setup({ mutual: 'missing' }, { mutual: true })
    const err = await client.post(SOAP).catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError, String(err))
    assert.match(err.message, /did not complete mutual authentication/)
    assert.ok(peer.seen.every((s) => s.body.length === 0))
  })

  test('after the server drops the keep-alive socket, the new connection re-authenticates', async () => {
    const { client, peer, contexts } = await setup({ dropAfter: 1 })
    assert.equal((await client.post('<one/>')).body, '<reply><one/></reply>')
    await new Promise((r) => setTimeout(r, 40))
    assert.equal((await client.post('<two/>')).body, '<reply><two/></reply>')
    assert.equal(peer.connections, 2)
    assert.equal(contexts.length, 2)
    assert.deepEqual(
      peer.seen.map((s) => [
        s.connection,
        s.authorization === undefined ? 'soap' : 'auth',
        s.body.length > 0,
      ]),
      [
        [0, 'auth', false],
        [0, 'auth', false],
        [0, 'soap', true],
        [1, 'auth', false],
        [1, 'auth', false],
        [1, 'soap', true],
      ],
    )
    assert.deepEqual(peer.errors, [])
  })

  test('401 after the final leg (wrong password) → AuthenticationError naming the mechanism, no secrets', async () => {
    const { client, peer } = await setup({}, { password: 'wrong-password' })
    const err = await client.post(SOAP).catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError, String(err))
    assert.match(err.message, /Negotiate \(NTLM\)/)
    assert.match(err.message, /HTTP 401 after handshake leg 2/)
    assert.doesNotMatch(err.message, /wrong-password|S3cret/)
    for (const s of peer.seen) {
      const token = s.authorization?.split(' ')[1]
      if (token !== undefined) assert.equal(err.message.includes(token), false)
    }
    assert.equal(peer.seen.length, 2) // NEGOTIATE, AUTH; no retry, no body
  })

  test('a server that does not offer the scheme → AuthenticationError listing what it offers', async () => {
    const { client } = await setup({ offer: 'Basic realm="WSMAN", Kerberos' })
    const err = await client.post(SOAP).catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError, String(err))
    assert.match(err.message, /did not offer Negotiate .*the server offers: Basic, Kerberos/)
  })

  test('a 401 on an authenticated connection → AuthenticationError', async () => {
    const { client } = await setup({ forget: true })
    const err = await client.post(SOAP).catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError, String(err))
    assert.match(err.message, /already authenticated/)
  })

  test('a clear-text 200 on an encrypting connection is refused (ProtocolError)', async () => {
    const { client } = await setup({ plainReply: true })
    const err = await client.post(SOAP).catch((e: unknown) => e)
    assert.ok(err instanceof ProtocolError, String(err))
    assert.match(err.message, /unencrypted reply/)
  })

  test('a reply whose signature does not verify → CryptoError', async () => {
    const { client } = await setup({ tamper: true })
    await assert.rejects(client.post(SOAP), CryptoError)
  })

  test('Kerberos scheme: Kerberos header and application/HTTP-Kerberos-session-encrypted', async () => {
    const { client, peer } = await setup(
      { protocol: 'application/HTTP-Kerberos-session-encrypted' },
      { scheme: 'Kerberos' },
    )
    assert.equal((await client.post('<k/>')).body, '<reply><k/></reply>')
    assert.match(peer.seen[0]?.authorization ?? '', /^Kerberos /)
    assert.match(peer.seen[2]?.contentType ?? '', /protocol="application\/HTTP-Kerberos-session-encrypted"/)
    assert.deepEqual(peer.errors, [])
  })

  test('CredSSP scheme: 16 KiB parts under multipart/x-multi-encrypted, both ways', async () => {
    const { client, peer } = await setup(
      { protocol: 'application/HTTP-CredSSP-session-encrypted', replyPad: 30000 },
      { scheme: 'CredSSP' },
    )
    const big = `<big>${'x'.repeat(40000)}</big>`
    const res = await client.post(big)
    assert.equal(res.body, `<reply>${big}</reply>${'.'.repeat(30000)}`)
    const soap = peer.seen[2]
    assert.equal(
      soap?.contentType,
      'multipart/x-multi-encrypted;protocol="application/HTTP-CredSSP-session-encrypted";boundary="Encrypted Boundary"',
    )
    assert.equal(soap?.body.toString('latin1').match(/OriginalContent/g)?.length, 3)
    assert.deepEqual(peer.errors, [])
    // a small message stays multipart/encrypted
    await client.post('<small/>')
    assert.match(peer.seen[3]?.contentType ?? '', /^multipart\/encrypted;/)
  })
})

describe('SecurityContextAuth: encryption policy', () => {
  let certs: TestCertificates | undefined
  before(() => {
    if (hasOpenssl()) certs = makeCertificates()
  })

  test("HTTPS with encryption 'auto' sends plaintext SOAP (no multipart), authenticated", async (t) => {
    if (certs === undefined) return t.skip('openssl CLI not available')
    const { client, peer } = await setup({ encrypted: false }, { tls: certs })
    const res = await client.post(SOAP)
    assert.equal(res.body, `<reply>${SOAP}</reply>`)
    assert.ok(peer.seen.length >= 2)
    for (const s of peer.seen) {
      assert.equal(s.contentType, 'application/soap+xml;charset=UTF-8')
      assert.equal(s.body.toString('utf8'), SOAP) // the body rides on every leg: no empty handshake
    }
    assert.match(peer.seen[0]?.authorization ?? '', /^Negotiate /)
    assert.deepEqual(peer.errors, [])
    await client.post('<again/>')
    assert.equal(peer.seen.at(-1)?.authorization, undefined)
  })

  test("HTTPS with encryption 'always' encrypts too", async (t) => {
    if (certs === undefined) return t.skip('openssl CLI not available')
    const { client, peer } = await setup({}, { tls: certs, encryption: 'always' })
    assert.equal((await client.post('<a/>')).body, '<reply><a/></reply>')
    assert.match(peer.seen[2]?.contentType ?? '', /^multipart\/encrypted;/)
    assert.deepEqual(peer.errors, [])
  })

  test("encryption 'never' over plain HTTP is refused unless allowUnencrypted", async () => {
    const auth = new SecurityContextAuth({
      scheme: 'Negotiate',
      encryption: 'never',
      createContext: () => {
        throw new Error('not reached')
      },
    })
    assert.throws(
      () => new WSManHttpClient({ server: '127.0.0.1', ssl: false, auth, proxy: false }),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        /over plain HTTP with encryption 'never'.*allowUnencrypted: true/.test(e.message),
    )
    // HTTPS is fine
    new WSManHttpClient({ server: '127.0.0.1', ssl: true, auth, proxy: false })
    // explicitly allowed: plaintext over HTTP
    const { client, peer } = await setup(
      { encrypted: false },
      { encryption: 'never', allowUnencrypted: true },
    )
    assert.equal((await client.post('<p/>')).body, '<reply><p/></reply>')
    assert.ok(peer.seen.every((s) => s.contentType === 'application/soap+xml;charset=UTF-8'))
    assert.deepEqual(peer.errors, [])
  })

  test('constructor validation; toJSON reveals nothing', () => {
    const createContext = (): SecurityContext => {
      throw new Error('unused')
    }
    assert.throws(
      () => new SecurityContextAuth({ scheme: 'Basic' as GssHttpScheme, createContext }),
      InvalidArgumentError,
    )
    assert.throws(
      () =>
        new SecurityContextAuth({
          scheme: 'NTLM',
          encryption: 'sometimes' as MessageEncryption,
          createContext,
        }),
      InvalidArgumentError,
    )
    const auth = new SecurityContextAuth({ scheme: 'NTLM', createContext })
    assert.equal(auth.protocol, 'application/HTTP-SPNEGO-session-encrypted')
    assert.deepEqual(JSON.parse(JSON.stringify(auth)), { name: 'NTLM', encryption: 'auto' })
    assert.equal(
      new SecurityContextAuth({ scheme: 'CredSSP', createContext }).protocol,
      'application/HTTP-CredSSP-session-encrypted',
    )
  })
})

describe('findSchemeToken', () => {
  test('finds the scheme in any case, among several challenges and lines', () => {
    const tok = Buffer.from('hello world')
    assert.deepEqual(
      findSchemeToken(['Basic realm="x"', `negotiate ${b64(tok)}`], 'Negotiate'),
      new Uint8Array(tok),
    )
    assert.deepEqual(findSchemeToken([`Kerberos, Negotiate ${b64(tok)}`], 'Negotiate'), new Uint8Array(tok))
    assert.equal(findSchemeToken(['Negotiate', 'Kerberos'], 'Negotiate'), null)
    assert.equal(findSchemeToken(['NegotiateX abc='], 'Negotiate'), undefined)
    assert.equal(findSchemeToken([], 'NTLM'), undefined)
    assert.deepEqual(findSchemeToken(['CredSSP aGk'], 'CredSSP'), new Uint8Array(Buffer.from('hi')))
    assert.equal(findSchemeToken(['Kerberos realm="EXAMPLE.COM"'], 'Kerberos'), null)
    assert.deepEqual(findSchemeToken(['NTLM aGk='], 'NTLM'), new Uint8Array(Buffer.from('hi')))
  })

  test('malformed tokens are ProtocolErrors', () => {
    for (const bad of ['Negotiate a*b', 'Negotiate abcde', 'Negotiate +b=c', 'Negotiate a\u00e9bc']) {
      assert.throws(() => findSchemeToken([bad], 'Negotiate'), ProtocolError, bad)
    }
  })
})
