/**
 * The auth plug-in interface with a connection-oriented, multi-leg, message-encrypting mechanism
 * ("Fake", shaped like NTLM over HTTP): legs bound to one socket, handshake on empty bodies, sealed
 * bodies afterwards, re-authentication on a new connection.
 */
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, describe, test } from 'node:test'
import { AuthenticationError, ProtocolError } from '../../../src/errors.ts'
import {
  WSManHttpClient,
  type AuthConnectionContext,
  type AuthResponse,
  type AuthSession,
  type HttpAuthenticator,
  type WrappedBody,
} from '../../../src/transport/http/index.ts'
import { ok, startServer, type RecordedRequest, type TestServer } from '../../helpers/http-servers.ts'

const ENC_TYPE =
  'multipart/encrypted;protocol="application/HTTP-Fake-session-encrypted";boundary="Encrypted Boundary"'
const seal = (s: string): string => `ENC:${Buffer.from(s).toString('base64')}`
const unseal = (s: string): string => {
  assert.ok(s.startsWith('ENC:'), 'sealed body')
  return Buffer.from(s.slice(4), 'base64').toString()
}

/** Server side of "Fake": per-connection state, like WinRM's NTLM. */
function fakeWinrm(options: { rejectAt?: 'challenge' } = {}) {
  const authenticated = new Set<number>()
  const leaks: string[] = []
  const handler = (_req: IncomingMessage, res: ServerResponse, body: string, rec: RecordedRequest): void => {
    const id = rec.connection
    const authz = rec.headers['authorization']
    if (!authenticated.has(id)) {
      if (body !== '') leaks.push(body) // a body before authentication would leak plaintext
      if (authz === 'Fake negotiate') {
        res.writeHead(401, { 'WWW-Authenticate': `Fake challenge-${id}` }).end()
      } else if (authz === `Fake auth-${id}` && options.rejectAt !== 'challenge') {
        authenticated.add(id)
        res.writeHead(200, { 'WWW-Authenticate': `Fake mutual-${id}`, 'Content-Length': '0' }).end()
      } else {
        res.writeHead(401, { 'WWW-Authenticate': 'Fake' }).end()
      }
      return
    }
    assert.equal(rec.headers['content-type'], ENC_TYPE)
    res.writeHead(200, { 'Content-Type': ENC_TYPE })
    res.end(seal(`reply:${unseal(body)}`))
  }
  return { handler, authenticated, leaks }
}

class FakeSession implements AuthSession {
  #state: 'start' | 'negotiated' | 'done' = 'start'
  #connection = ''
  readonly context: AuthConnectionContext
  constructor(context: AuthConnectionContext) {
    this.context = context
  }
  needsHandshake(): boolean {
    return this.#state !== 'done'
  }
  authorize(): string | undefined {
    return this.#state === 'start' ? 'Fake negotiate' : undefined
  }
  async challenge(challenges: readonly string[]): Promise<string | undefined> {
    await Promise.resolve() // token generation may be asynchronous
    const m = /^Fake challenge-(\d+)$/.exec(challenges[0] ?? '')
    if (this.#state !== 'start' || m === null) return undefined
    this.#state = 'negotiated'
    this.#connection = m[1] ?? ''
    return `Fake auth-${this.#connection}`
  }
  accept(response: AuthResponse): void {
    if (this.#state !== 'negotiated') return
    if (response.headers['www-authenticate'] !== `Fake mutual-${this.#connection}`) {
      throw new AuthenticationError('mutual authentication failed')
    }
    this.#state = 'done'
  }
  wrap(body: Uint8Array): WrappedBody {
    assert.equal(this.#state, 'done', 'wrap is only asked for after the handshake')
    return { body: Buffer.from(seal(Buffer.from(body).toString())), contentType: ENC_TYPE }
  }
  unwrap(body: Uint8Array, response: AuthResponse): WrappedBody {
    assert.equal(response.headers['content-type'], ENC_TYPE)
    return {
      body: Buffer.from(unseal(Buffer.from(body).toString())),
      contentType: 'application/soap+xml;charset=UTF-8',
    }
  }
}

class FakeAuth implements HttpAuthenticator {
  readonly name = 'Fake'
  readonly sessions: FakeSession[] = []
  createSession(context: AuthConnectionContext): AuthSession {
    const s = new FakeSession(context)
    this.sessions.push(s)
    return s
  }
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(
  handler: Parameters<typeof startServer>[0],
  auth: HttpAuthenticator = new FakeAuth(),
): Promise<{ s: TestServer; c: WSManHttpClient }> {
  const s = await startServer(handler)
  cleanups.push(() => s.close())
  const c = new WSManHttpClient({
    server: '127.0.0.1',
    port: s.port,
    ssl: false,
    auth,
    proxy: false,
    retries: { count: 1, backoffMs: 1 },
  })
  cleanups.push(() => c.close())
  return { s, c }
}

describe('connection-oriented auth plug-in', () => {
  test('handshake legs run on empty bodies over one socket, then bodies are sealed and unsealed', async () => {
    const fake = fakeWinrm()
    const auth = new FakeAuth()
    const { s, c } = await setup(fake.handler, auth)
    const res = await c.post('<s:Envelope>1</s:Envelope>')
    assert.equal(res.status, 200)
    assert.equal(res.body, 'reply:<s:Envelope>1</s:Envelope>')
    assert.equal(res.headers['content-type'], ENC_TYPE)
    assert.deepEqual(
      s.requests.map((r) => [r.connection, r.headers['authorization'], r.body === '' ? '' : 'sealed']),
      [
        [0, 'Fake negotiate', ''],
        [0, 'Fake auth-0', ''],
        [0, undefined, 'sealed'],
      ],
    )
    // the authenticated connection is reused without a new handshake
    assert.equal((await c.post('<two/>')).body, 'reply:<two/>')
    assert.equal(s.requests.length, 4)
    assert.deepEqual(fake.leaks, [])
    assert.equal(auth.sessions.length, 1)
    const ctx = auth.sessions[0]?.context
    assert.deepEqual(ctx, { tls: false, host: '127.0.0.1', port: s.port, peerCertificate: undefined })
  })

  test('each lane authenticates its own connection', async () => {
    const fake = fakeWinrm()
    const auth = new FakeAuth()
    const { s, c } = await setup(fake.handler, auth)
    const [a, b] = await Promise.all([c.post('<main/>'), c.post('<side/>', { lane: 'side' })])
    assert.equal(a.body, 'reply:<main/>')
    assert.equal(b.body, 'reply:<side/>')
    assert.equal(s.connections, 2)
    assert.equal(auth.sessions.length, 2)
    assert.deepEqual([...fake.authenticated].sort(), [0, 1])
  })

  test('a lost connection is re-authenticated with a fresh session', async () => {
    const fake = fakeWinrm()
    const auth = new FakeAuth()
    const sockets: Socket[] = []
    const { s, c } = await setup((req, res, body, rec) => {
      sockets.push(req.socket)
      fake.handler(req, res, body, rec)
    }, auth)
    await c.post('<one/>')
    sockets[0]?.destroy()
    await new Promise((r) => setTimeout(r, 20))
    assert.equal((await c.post('<two/>')).body, 'reply:<two/>')
    assert.equal(s.connections, 2)
    assert.equal(auth.sessions.length, 2)
    assert.deepEqual(fake.leaks, [])
  })

  test('a rejected handshake is an AuthenticationError naming the offered schemes', async () => {
    const fake = fakeWinrm({ rejectAt: 'challenge' })
    const { c } = await setup(fake.handler)
    const err = await c.post('<a/>').catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError)
    assert.match(err.message, /Fake authentication \(HTTP 401\)/)
  })

  test('a session that throws a plain Error surfaces as AuthenticationError; the client recovers', async () => {
    let fail = true
    const auth: HttpAuthenticator = {
      name: 'Flaky',
      createSession: () => ({
        authorize: () => {
          if (fail) throw new Error('token generation failed')
          return undefined
        },
        challenge: () => undefined,
      }),
    }
    const { c } = await setup((_req, res) => ok(res, 'fine'), auth)
    const err = await c.post('<a/>').catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError)
    assert.ok(err.cause instanceof Error)
    fail = false
    assert.equal((await c.post('<a/>')).body, 'fine')
  })

  test('an encrypted response to a session without unwrap is a ProtocolError', async () => {
    const auth: HttpAuthenticator = {
      name: 'Plain',
      createSession: () => ({ authorize: () => undefined, challenge: () => undefined }),
    }
    const { c } = await setup((_req, res) => {
      res.writeHead(200, { 'Content-Type': ENC_TYPE })
      res.end('xx')
    }, auth)
    await assert.rejects(c.post('<a/>'), ProtocolError)
  })

  test('a handshake that never completes stops after a bounded number of legs', async () => {
    const auth: HttpAuthenticator = {
      name: 'Endless',
      createSession: () => ({ authorize: () => 'Endless 0', challenge: () => 'Endless more' }),
    }
    const { s, c } = await setup(
      (_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Endless' }).end(),
      auth,
    )
    await assert.rejects(c.post('<a/>'), AuthenticationError)
    assert.ok(s.requests.length <= 10)
  })
})
