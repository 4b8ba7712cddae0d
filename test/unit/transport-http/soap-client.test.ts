/**
 * WSManHttpClient over plain HTTP against real Node servers on 127.0.0.1: lanes, keep-alive, retries,
 * faults as data, timeouts, aborts, Basic policy and proxies. TLS scenarios are in
 * test/integration/http-tls.test.ts.
 */
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { after, afterEach, describe, test } from 'node:test'
import {
  AbortError,
  AuthenticationError,
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  TimeoutError,
  TransportError,
} from '../../../src/errors.ts'
import {
  BasicAuth,
  CertificateAuth,
  WSManHttpClient,
  type WSManHttpClientOptions,
} from '../../../src/transport/http/index.ts'
import { redactCredentials } from '../../../src/transport/http/soap-client.ts'
import {
  noAuth,
  ok,
  startProxy,
  startRawServer,
  startServer,
  type TestServer,
} from '../../helpers/http-servers.ts'
import { freePort } from '../../helpers/net.ts'

const FAULT =
  '<s:Envelope><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code></s:Fault></s:Body></s:Envelope>'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function client(port: number, extra: Partial<WSManHttpClientOptions> = {}): WSManHttpClient {
  const c = new WSManHttpClient({
    server: '127.0.0.1',
    port,
    ssl: false,
    auth: noAuth,
    proxy: false,
    retries: { count: 3, backoffMs: 5 },
    ...extra,
  })
  cleanups.push(() => c.close())
  return c
}

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler)
  cleanups.push(() => s.close())
  return s
}

describe('WSManHttpClient: request format and keep-alive', () => {
  test('POSTs the envelope to /wsman with the WS-Man headers and returns status, headers and body', async () => {
    const s = await server((_req, res, body) => ok(res, `echo:${body}`))
    const c = client(s.port)
    const res = await c.post('<s:Envelope>ü</s:Envelope>')
    assert.equal(res.status, 200)
    assert.equal(res.body, 'echo:<s:Envelope>ü</s:Envelope>')
    assert.equal(res.headers['content-type'], 'application/soap+xml;charset=UTF-8')
    const req = s.requests[0]
    assert.ok(req)
    assert.equal(req.method, 'POST')
    assert.equal(req.url, '/wsman')
    assert.equal(req.headers['content-type'], 'application/soap+xml;charset=UTF-8')
    assert.equal(req.headers['accept-encoding'], 'identity')
    assert.equal(req.headers['connection'], 'Keep-Alive')
    assert.equal(req.headers['host'], `127.0.0.1:${s.port}`)
    assert.equal(req.headers['content-length'], String(Buffer.byteLength('<s:Envelope>ü</s:Envelope>')))
    assert.equal(req.headers['authorization'], undefined)
    assert.equal(c.url, `http://127.0.0.1:${s.port}/wsman`)
  })

  test('defaults: https on 5986, http on 5985, custom path', () => {
    const a = new WSManHttpClient({ server: 'win1', auth: new BasicAuth('u', 'p'), proxy: false })
    assert.equal(a.url, 'https://win1:5986/wsman')
    const b = new WSManHttpClient({ server: '[::1]', ssl: false, auth: noAuth, proxy: false, path: '/x' })
    assert.equal(b.url, 'http://[::1]:5985/x')
  })

  test('keep-alive: sequential requests on a lane reuse one connection', async () => {
    const s = await server((_req, res) => ok(res))
    const c = client(s.port)
    for (let i = 0; i < 5; i++) assert.equal((await c.post(`<m>${i}</m>`)).status, 200)
    assert.equal(s.connections, 1)
    assert.equal(c.connectionsOpened, 1)
    assert.deepEqual(
      s.requests.map((r) => r.connection),
      [0, 0, 0, 0, 0],
    )
  })

  test('a connection the server closed while idle is replaced transparently', async () => {
    const sockets: Socket[] = []
    const s = await server((req, res) => {
      sockets.push(req.socket)
      ok(res)
    })
    const c = client(s.port, { retries: { count: 0 } })
    await c.post('<a/>')
    // the server closes the idle keep-alive connection (as WinRM does after its idle timeout)
    sockets[0]?.end()
    await new Promise((r) => setTimeout(r, 30))
    assert.equal((await c.post('<b/>')).status, 200)
    assert.equal(s.connections, 2)
  })

  test('Connection: close from the server makes the next request open a new connection', async () => {
    const s = await server((_req, res) => {
      res.setHeader('Connection', 'close')
      ok(res)
    })
    const c = client(s.port)
    await c.post('<a/>')
    await c.post('<b/>')
    assert.equal(s.connections, 2)
  })

  test('a reused connection reset after the request was sent is surfaced, not replayed', async () => {
    // raw peer: answers the first request on each connection, then resets on the next one
    const raw = await startRawServer((socket) => {
      let n = 0
      socket.on('data', () => {
        n++
        if (n === 1) {
          socket.write(
            'HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 2\r\n\r\nok',
          )
        } else {
          socket.resetAndDestroy()
        }
      })
    })
    cleanups.push(() => raw.close())
    const c = client(raw.port, { retries: { count: 3, backoffMs: 1 } })
    assert.equal((await c.post('<a/>')).body, 'ok')
    await assert.rejects(c.post('<b/>'), (e: unknown) => {
      assert.ok(e instanceof TransportError)
      assert.match(e.message, /not sent again/)
      return true
    })
    assert.equal(raw.connections, 1, 'the request that may have reached the server was not sent again')
  })

  test('a replayable request is retried once at once on a new connection after a reused one reset, even with retries 0', async () => {
    const raw = await startRawServer((socket) => {
      let n = 0
      socket.on('data', () => {
        n++
        if (n === 1) {
          socket.write(
            'HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 2\r\n\r\nok',
          )
        } else {
          socket.resetAndDestroy()
        }
      })
    })
    cleanups.push(() => raw.close())
    const c = client(raw.port, { retries: { count: 0 } })
    assert.equal((await c.post('<a/>')).body, 'ok')
    assert.equal((await c.post('<b/>', { replayable: true })).body, 'ok')
    assert.equal(raw.connections, 2)
  })

  test('chunked responses are de-chunked', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' })
      res.write('<s:Envelope>')
      setTimeout(() => res.end('</s:Envelope>'), 10)
    })
    const c = client(s.port)
    assert.equal((await c.post('<a/>')).body, '<s:Envelope></s:Envelope>')
    assert.equal(s.connections, 1)
  })

  test('UTF-16 responses are decoded by charset', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-16' })
      res.end(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<ü/>', 'utf16le')]))
    })
    const res = await client(s.port).post('<a/>')
    assert.equal(res.encoding, 'utf-16le')
    assert.equal(res.bytes.length, 10)
    assert.equal(res.body, '<ü/>')
  })

  test('a UTF-8 body is given as bytes too, and the text decoded from them when read', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' })
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<ü/>')]))
    })
    const res = await client(s.port).post('<a/>')
    assert.equal(res.encoding, 'utf-8')
    assert.deepEqual(Buffer.from(res.bytes), Buffer.from([0xef, 0xbb, 0xbf, 0x3c, 0xc3, 0xbc, 0x2f, 0x3e]))
    assert.equal(res.body, '<ü/>') // BOM dropped
    assert.equal(res.body, '<ü/>')
  })

  test('invalid UTF-8 in a response is a ProtocolError, not silent replacement', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' })
      res.end(Buffer.from([0x3c, 0xff, 0x3e]))
    })
    await assert.rejects(client(s.port).post('<a/>'), ProtocolError)
  })

  test('a malformed HTTP response is a ProtocolError and is not retried', async () => {
    const raw = await startRawServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 2OO OK\r\n\r\n'))
    })
    cleanups.push(() => raw.close())
    await assert.rejects(client(raw.port).post('<a/>'), ProtocolError)
    assert.equal(raw.connections, 1)
  })
})

describe('WSManHttpClient: faults, retries and status handling', () => {
  test('HTTP 500 with a SOAP fault body is returned, not thrown, and not retried', async () => {
    const s = await server((_req, res) => {
      res.writeHead(500, { 'Content-Type': 'application/soap+xml;charset=UTF-8' })
      res.end(FAULT)
    })
    const res = await client(s.port).post('<a/>')
    assert.equal(res.status, 500)
    assert.equal(res.body, FAULT)
    assert.equal(s.requests.length, 1)
  })

  test('4xx responses other than 401 are returned without retry', async () => {
    const s = await server((_req, res) => res.writeHead(400).end('bad'))
    const res = await client(s.port).post('<a/>')
    assert.equal(res.status, 400)
    assert.equal(s.requests.length, 1)
  })

  test('HTTP 503 is retried with backoff, then the 200 is returned', async () => {
    let n = 0
    const s = await server((_req, res) => {
      if (n++ === 0) res.writeHead(503).end('busy')
      else ok(res, 'done')
    })
    const res = await client(s.port).post('<a/>')
    assert.equal(res.status, 200)
    assert.equal(res.body, 'done')
    assert.equal(s.requests.length, 2)
  })

  test('HTTP 503 on every attempt: the last 503 is returned after count + 1 attempts', async () => {
    const s = await server((_req, res) => res.writeHead(503).end('busy'))
    const res = await client(s.port, { retries: { count: 2, backoffMs: 1 } }).post('<a/>')
    assert.equal(res.status, 503)
    assert.equal(s.requests.length, 3)
  })

  test('ECONNREFUSED is retried with backoff, then a TransportError naming the cause', async () => {
    const port = await freePort()
    const c = client(port, { retries: { count: 2, backoffMs: 20 } })
    const started = Date.now()
    const err = await c.post('<a/>').then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof TransportError)
    assert.equal(err.code, 'ERR_TRANSPORT')
    assert.match(err.message, /ECONNREFUSED/)
    assert.match(err.message, /3 attempts/)
    assert.ok(Date.now() - started >= 20 + 40, 'two backoff delays (20 ms, 40 ms) were waited')
  })

  test('a connection refused at first succeeds once the server is up (retry)', async () => {
    const port = await freePort()
    const c = client(port, { retries: { count: 5, backoffMs: 30 } })
    const pending = c.post('<a/>')
    const { createServer } = await import('node:http')
    const srv = createServer((_req, res) => ok(res, 'late'))
    await new Promise((r) => setTimeout(r, 40))
    srv.listen(port, '127.0.0.1')
    await once(srv, 'listening')
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          srv.closeAllConnections()
          srv.close(() => resolve())
        }),
    )
    assert.equal((await pending).body, 'late')
  })

  test('ECONNRESET after the request was sent is a TransportError and the request is not replayed', async () => {
    let n = 0
    const s = await server((req, res) => {
      if (n++ === 0) req.socket.resetAndDestroy()
      else ok(res, 'second')
    })
    await assert.rejects(client(s.port).post('<a/>'), TransportError)
    assert.equal(s.requests.length, 1)
  })

  test('ECONNRESET after the request was sent is retried for a replayable request', async () => {
    let n = 0
    const s = await server((req, res) => {
      if (n++ === 0) req.socket.resetAndDestroy()
      else ok(res, 'second')
    })
    assert.equal((await client(s.port).post('<a/>', { replayable: true })).body, 'second')
    assert.equal(s.requests.length, 2)
  })

  /** The delays of the status retries a client traced (`… in <ms> ms on a new connection`). */
  function retryDelays(lines: string[]): number[] {
    return lines.flatMap((l) => {
      const m = / in (\d+) ms on a new connection/.exec(l)
      return m === null ? [] : [Number(m[1])]
    })
  }

  for (const status of [425, 429, 503]) {
    test(`HTTP ${status} with Retry-After: 1 is retried after a second (not the 5 ms backoff)`, async () => {
      let n = 0
      const s = await server((_req, res) => {
        if (n++ === 0) res.writeHead(status, { 'Retry-After': '1' }).end('slow down')
        else ok(res, 'done')
      })
      const lines: string[] = []
      const res = await client(s.port, { trace: (l) => lines.push(l) }).post('<a/>')
      assert.equal(res.body, 'done')
      assert.equal(s.requests.length, 2)
      assert.deepEqual(retryDelays(lines), [1000])
      assert.equal(s.connections, 2, 'the retry used a new connection')
    })
  }

  test('Retry-After as an HTTP-date is honoured', async () => {
    let n = 0
    const s = await server((_req, res) => {
      // two seconds from now, rounded up to a whole second (HTTP-dates have no fractions)
      const at = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000).toUTCString()
      if (n++ === 0) res.writeHead(429, { 'Retry-After': at }).end()
      else ok(res, 'done')
    })
    const lines: string[] = []
    assert.equal((await client(s.port, { trace: (l) => lines.push(l) }).post('<a/>')).body, 'done')
    const [delay] = retryDelays(lines)
    assert.ok(delay !== undefined && delay >= 1000 && delay <= 3000, `waited ${String(delay)} ms`)
  })

  test('a Retry-After longer than maxRetryAfterMs is returned at once, not waited for', async () => {
    const s = await server((_req, res) => res.writeHead(429, { 'Retry-After': '3600' }).end())
    const res = await client(s.port, { retries: { count: 3, backoffMs: 1, maxRetryAfterMs: 1000 } }).post(
      '<a/>',
    )
    assert.equal(res.status, 429)
    assert.equal(s.requests.length, 1)
  })

  test('retries.statuses replaces the retried statuses; [] turns status retries off', async () => {
    const s = await server((_req, res) => res.writeHead(429).end())
    assert.equal((await client(s.port, { retries: { statuses: [] } }).post('<a/>')).status, 429)
    assert.equal(s.requests.length, 1)
    const t = await server((_req, res) => res.writeHead(502).end())
    const r = await client(t.port, { retries: { count: 2, backoffMs: 1, statuses: [502] } }).post('<a/>')
    assert.equal(r.status, 502)
    assert.equal(t.requests.length, 3)
  })

  test('retries.statuses refuses 401, 500 and non-error statuses', () => {
    for (const bad of [401, 500, 200, 302, 600]) {
      assert.throws(() => client(1, { retries: { statuses: [bad] } }), InvalidArgumentError, `status ${bad}`)
    }
  })

  test('a failure after the response started is not retried', async () => {
    const s = await server((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8', 'Content-Length': '100' })
      res.write('<s:Envelope>', () => setTimeout(() => req.socket.destroy(), 10))
    })
    await assert.rejects(
      client(s.port).post('<a/>'),
      (e: unknown) => e instanceof TransportError || e instanceof ProtocolError,
    )
    assert.equal(s.requests.length, 1)
  })
})

describe('WSManHttpClient: lanes', () => {
  test('two lanes use two sockets; a side-lane request completes while a main-lane one is pending', async () => {
    let release: (() => void) | undefined
    const s = await server((_req, res, body) => {
      if (body === '<receive/>') release = () => ok(res, 'received')
      else ok(res, 'signalled')
    })
    const c = client(s.port)
    const receive = c.post('<receive/>', { lane: 'main' })
    let receiveDone = false
    void receive.then(() => (receiveDone = true))
    while (release === undefined) await new Promise((r) => setTimeout(r, 2))
    const signal = await c.post('<signal/>', { lane: 'side' })
    assert.equal(signal.body, 'signalled')
    assert.equal(receiveDone, false, 'the main lane is still waiting')
    release()
    assert.equal((await receive).body, 'received')
    assert.equal(s.connections, 2)
    const [r0, r1] = s.requests
    assert.notEqual(r0?.connection, r1?.connection)
    // each lane keeps its own socket
    await c.post('<m/>', { lane: 'main' })
    await c.post('<s/>', { lane: 'side' })
    assert.equal(s.connections, 2)
    assert.equal(s.requests[2]?.connection, r0?.connection)
    assert.equal(s.requests[3]?.connection, r1?.connection)
  })

  test('requests on one lane are serialised (never pipelined)', async () => {
    let inFlight = 0
    let maxInFlight = 0
    const s = await server((_req, res, body) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      setTimeout(() => {
        inFlight--
        ok(res, body)
      }, 5)
    })
    const c = client(s.port)
    const bodies = await Promise.all([1, 2, 3, 4].map((i) => c.post(`<m${i}/>`).then((r) => r.body)))
    assert.deepEqual(bodies, ['<m1/>', '<m2/>', '<m3/>', '<m4/>'])
    assert.equal(maxInFlight, 1)
    assert.equal(s.connections, 1)
  })
})

describe('WSManHttpClient: timeouts, aborts and close', () => {
  function hangingServer(): Promise<TestServer> {
    return server((_req, res, body) => {
      if (body !== '<hang/>') ok(res, 'fine')
      // <hang/> is never answered
      void (res as ServerResponse)
    })
  }

  test('timeout rejects promptly with TimeoutError and the client stays usable', async () => {
    const s = await hangingServer()
    const c = client(s.port)
    const started = Date.now()
    const err = await c.post('<hang/>', { timeout: 100 }).catch((e: unknown) => e)
    assert.ok(err instanceof TimeoutError)
    assert.equal(err.timeoutMs, 100)
    assert.ok(Date.now() - started < 1000)
    assert.equal((await c.post('<ok/>')).body, 'fine')
    assert.equal(s.requests.length, 2, 'the timed-out request was not retried')
  })

  test('readTimeout applies to each exchange', async () => {
    const s = await hangingServer()
    const c = client(s.port, { readTimeout: 80 })
    await assert.rejects(c.post('<hang/>'), TimeoutError)
    assert.equal((await c.post('<ok/>')).body, 'fine')
  })

  test('abort rejects promptly with AbortError and the client stays usable', async () => {
    const s = await hangingServer()
    const c = client(s.port)
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const started = Date.now()
    await assert.rejects(c.post('<hang/>', { signal: ac.signal }), AbortError)
    assert.ok(Date.now() - started < 1000)
    assert.equal((await c.post('<ok/>')).body, 'fine')
  })

  test('an already-aborted signal rejects without sending', async () => {
    const s = await hangingServer()
    await assert.rejects(client(s.port).post('<ok/>', { signal: AbortSignal.abort() }), AbortError)
    assert.equal(s.requests.length, 0)
  })

  test('aborting a request queued behind another on the same lane rejects only it', async () => {
    let release: (() => void) | undefined
    const s = await server((_req, res, body) => {
      if (body === '<slow/>') release = () => ok(res, 'slow')
      else ok(res, 'fine')
    })
    const c = client(s.port)
    const slow = c.post('<slow/>')
    const ac = new AbortController()
    const queued = c.post('<queued/>', { signal: ac.signal })
    ac.abort()
    await assert.rejects(queued, AbortError)
    while (release === undefined) await new Promise((r) => setTimeout(r, 2))
    release()
    assert.equal((await slow).body, 'slow')
    assert.deepEqual(
      s.requests.map((r) => r.body),
      ['<slow/>'],
    )
  })

  test('abort during backoff between retries rejects promptly', async () => {
    const port = await freePort()
    const c = client(port, { retries: { count: 5, backoffMs: 5_000 } })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const started = Date.now()
    await assert.rejects(c.post('<a/>', { signal: ac.signal }), AbortError)
    assert.ok(Date.now() - started < 1000)
  })

  test('connectTimeout bounds a connection attempt', async () => {
    // a raw peer that accepts TCP but never completes the (proxy) CONNECT handshake
    const raw = await startRawServer(() => undefined)
    cleanups.push(() => raw.close())
    const c = new WSManHttpClient({
      server: '127.0.0.1',
      port: 5986,
      auth: noAuth,
      proxy: `http://127.0.0.1:${raw.port}`,
      connectTimeout: 80,
    })
    cleanups.push(() => c.close())
    const err = await c.post('<a/>').catch((e: unknown) => e)
    assert.ok(err instanceof TimeoutError)
    assert.match(err.message, /connecting/)
  })

  test('close() rejects pending and queued requests; post after close is InvalidStateError', async () => {
    const s = await hangingServer()
    const c = client(s.port)
    const pending = c.post('<hang/>')
    const queued = c.post('<hang/>')
    while (s.requests.length === 0) await new Promise((r) => setTimeout(r, 2))
    await c.close()
    await assert.rejects(pending, AbortError)
    await assert.rejects(queued, AbortError)
    await assert.rejects(c.post('<a/>'), InvalidStateError)
    assert.equal(c.closed, true)
    await c[Symbol.asyncDispose]()
  })
})

describe('WSManHttpClient: Basic authentication policy', () => {
  test('Basic over plain HTTP is refused by default with InvalidArgumentError', () => {
    assert.throws(
      () =>
        new WSManHttpClient({
          server: 'h',
          ssl: false,
          auth: new BasicAuth('user', 'Secr3t!'),
          proxy: false,
        }),
      (e: unknown) => e instanceof InvalidArgumentError && !e.message.includes('Secr3t!'),
    )
  })

  test('Basic over plain HTTP works with allowUnencryptedBasic and sends the header on every request', async () => {
    const s = await server((_req, res) => ok(res))
    const c = client(s.port, { auth: new BasicAuth('user', 'Secr3t!'), allowUnencryptedBasic: true })
    await c.post('<a/>')
    await c.post('<b/>')
    const expected = `Basic ${Buffer.from('user:Secr3t!').toString('base64')}`
    assert.deepEqual(
      s.requests.map((r) => r.headers['authorization']),
      [expected, expected],
    )
  })

  test('401 → AuthenticationError without the password (or its encoding) in the message', async () => {
    const s = await server((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': ['Negotiate', 'Basic realm="WSMAN"'] }).end()
    })
    const c = client(s.port, { auth: new BasicAuth('user', 'Secr3t!'), allowUnencryptedBasic: true })
    const err = await c.post('<a/>').catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError)
    assert.equal(err.code, 'ERR_AUTHENTICATION')
    const text = `${err.message} ${String(err.stack)} ${JSON.stringify(err)}`
    assert.ok(!text.includes('Secr3t!'))
    assert.ok(!text.includes(Buffer.from('user:Secr3t!').toString('base64')))
    assert.match(err.message, /Basic/)
    assert.match(err.message, /Negotiate/)
    assert.equal(s.requests.length, 1, 'a 401 is not retried')
    assert.ok(!JSON.stringify(new BasicAuth('user', 'Secr3t!')).includes('Secr3t!'))
  })

  test('certificate authentication needs HTTPS and a certificate', () => {
    assert.throws(
      () =>
        new WSManHttpClient({
          server: 'h',
          ssl: false,
          auth: new CertificateAuth({ cert: 'c', key: 'k' }),
          proxy: false,
        }),
      InvalidArgumentError,
    )
    assert.throws(
      () => new WSManHttpClient({ server: 'h', auth: new CertificateAuth(), proxy: false }),
      InvalidArgumentError,
    )
  })

  test('invalid options are InvalidArgumentError', () => {
    const base = { server: 'h', auth: noAuth, proxy: false as const }
    assert.throws(() => new WSManHttpClient({ ...base, port: 0 }), InvalidArgumentError)
    assert.throws(() => new WSManHttpClient({ ...base, server: 'a b' }), InvalidArgumentError)
    assert.throws(() => new WSManHttpClient({ ...base, path: 'wsman' }), InvalidArgumentError)
    assert.throws(() => new WSManHttpClient({ ...base, readTimeout: -1 }), InvalidArgumentError)
    assert.throws(() => new WSManHttpClient({ ...base, retries: { count: 1.5 } }), InvalidArgumentError)
    assert.throws(() => new WSManHttpClient({ ...base, proxy: 'ftp://p' }), InvalidArgumentError)
  })
})

describe('WSManHttpClient: proxies (http targets)', () => {
  const saved = { ...process.env }
  after(() => {
    for (const k of [
      'HTTP_PROXY',
      'http_proxy',
      'HTTPS_PROXY',
      'https_proxy',
      'NO_PROXY',
      'no_proxy',
      'ALL_PROXY',
      'all_proxy',
    ]) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  })
  function clearProxyEnv(): void {
    for (const k of [
      'HTTP_PROXY',
      'http_proxy',
      'HTTPS_PROXY',
      'https_proxy',
      'NO_PROXY',
      'no_proxy',
      'ALL_PROXY',
      'all_proxy',
    ]) {
      delete process.env[k]
    }
  }

  test('an explicit proxy gets absolute-URI requests with Proxy-Authorization', async () => {
    const s = await server((_req, res) => ok(res, 'via proxy'))
    const p = await startProxy(`Basic ${Buffer.from('pu:pp').toString('base64')}`)
    cleanups.push(() => p.close())
    const c = client(s.port, { proxy: `http://pu:pp@127.0.0.1:${p.port}` })
    assert.equal(c.proxy, `http://127.0.0.1:${p.port}`, 'no credentials in the display form')
    assert.equal((await c.post('<a/>')).body, 'via proxy')
    assert.deepEqual(p.forwarded, [`http://127.0.0.1:${s.port}/wsman`])
  })

  test('HTTP_PROXY from the environment is used; NO_PROXY bypasses it', async () => {
    const s = await server((_req, res) => ok(res))
    const p = await startProxy()
    cleanups.push(() => p.close())
    clearProxyEnv()
    process.env['HTTP_PROXY'] = p.url
    process.env['NO_PROXY'] = 'example.com'
    await client(s.port, { proxy: undefined }).post('<a/>')
    assert.equal(p.forwarded.length, 1)
    process.env['NO_PROXY'] = 'example.com, 127.0.0.1'
    await client(s.port, { proxy: undefined }).post('<a/>')
    process.env['NO_PROXY'] = `*`
    await client(s.port, { proxy: undefined }).post('<a/>')
    process.env['NO_PROXY'] = `127.0.0.1:${s.port}`
    await client(s.port, { proxy: undefined }).post('<a/>')
    assert.equal(p.forwarded.length, 1, 'NO_PROXY entries bypassed the proxy')
    assert.equal(s.requests.length, 4)
    clearProxyEnv()
  })

  test('a proxy that demands other credentials: 407 → AuthenticationError (http target)', async () => {
    const s = await server((_req, res) => ok(res))
    const p = await startProxy('Basic nope')
    cleanups.push(() => p.close())
    const err = await client(s.port, { proxy: `http://pu:wrongpass@127.0.0.1:${p.port}` })
      .post('<a/>')
      .catch((e: unknown) => e)
    assert.ok(err instanceof AuthenticationError)
    assert.match(err.message, /407/)
    assert.ok(!err.message.includes('wrongpass'))
    assert.equal(s.requests.length, 0)
  })
})

describe('WSManHttpClient: argument checks on post', () => {
  test('an empty lane name or a bad timeout is InvalidArgumentError', async () => {
    const c = client(1)
    await assert.rejects(c.post('<a/>', { lane: '' }), InvalidArgumentError)
    await assert.rejects(c.post('<a/>', { timeout: 0 }), InvalidArgumentError)
  })
})

describe('redactCredentials (trace lines)', () => {
  test('tokens become their length, Basic credentials and auth-params disappear', () => {
    const ntlm = 'TlRMTVNTUAABAAAAN4II4gAAAAAAAAAAAAAAAAAAAAAKAGNFAAAADw=='
    assert.equal(redactCredentials(`Negotiate ${ntlm}`), 'Negotiate <40 bytes>')
    assert.equal(
      redactCredentials('Negotiate TlRMTVNTUAABAAAAN4II4gAAAAAAAAAAAAAAAAAAAAAKAGNFAAAADw='),
      'Negotiate <40 bytes>',
    )
    assert.equal(redactCredentials('Basic YWxpY2U6c2VjcmV0'), 'Basic <credentials>')
    assert.equal(
      redactCredentials('Negotiate, Basic realm="WSMAN", Kerberos'),
      'Negotiate, Basic <credentials>, Kerberos',
    )
    assert.equal(redactCredentials('Digest nonce="abc", qop=auth'), 'Digest <parameters>, <unparsed>')
    assert.equal(redactCredentials('CredSSP'), 'CredSSP')
  })
})

describe('retryAfterMs', () => {
  test('reads delay-seconds and the three HTTP-date forms, and nothing else', async () => {
    const { retryAfterMs } = await import('../../../src/transport/http/retry.ts')
    const now = Date.parse('Sun, 06 Nov 1994 08:49:30 GMT')
    assert.equal(retryAfterMs({ 'retry-after': '1' }, now), 1000)
    assert.equal(retryAfterMs({ 'retry-after': ' 120 ' }, now), 120_000)
    assert.equal(retryAfterMs({ 'retry-after': 'Sun, 06 Nov 1994 08:49:37 GMT' }, now), 7000)
    assert.equal(retryAfterMs({ 'retry-after': 'Sunday, 06-Nov-94 08:49:37 GMT' }, now), 7000)
    assert.equal(retryAfterMs({ 'retry-after': 'Sun Nov  6 08:49:37 1994' }, now), 7000)
    assert.equal(retryAfterMs({ 'retry-after': 'Sun, 06 Nov 1994 08:49:00 GMT' }, now), 0, 'past: at once')
    for (const bad of ['', '-1', '1.5', 'soon', '<script>', '1e3']) {
      assert.equal(retryAfterMs({ 'retry-after': bad }, now), undefined, bad)
    }
    assert.equal(retryAfterMs({}, now), undefined)
  })
})
