/**
 * WSManConnection.adoptServerEnvelopeSize: the server's `MaxEnvelopeSizekb` is read at most once per
 * connection, a refusal (a fault such as access denied, or a configuration without the value) keeps
 * WinRM's default for good, any other failure leaves the next call to ask again, concurrent callers
 * share one request, and a caller's abort ends only its own wait. A server of our own on 127.0.0.1
 * answers each `winrm/config` Get as the test says and keeps every request body.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AbortError, PsrpError, type WSManConnection } from '../../../src/index.ts'
import {
  configResponse,
  fault,
  serveWsman,
  testConnection,
  type TestAnswer,
} from '../../helpers/wsman-answers.ts'

/** A connection without retries (a lost connection must reach the caller), `maxEnvelopeSize` if given. */
function connection(port: number, maxEnvelopeSize?: number): WSManConnection {
  return testConnection(port, {
    retries: { count: 0 },
    ...(maxEnvelopeSize === undefined ? {} : { maxEnvelopeSize }),
  })
}

/** The `wsman:MaxEnvelopeSize` a request carried. */
function envelopeHeader(request: string): number {
  return Number(/<(?:\w+:)?MaxEnvelopeSize[^>]*>(\d+)</.exec(request)?.[1])
}

const granted =
  (kb: string) =>
  (request: string): TestAnswer => ({ status: 200, body: configResponse(request, kb) })

test('the server limit is read once: 500 KiB from then on, in every request header', async () => {
  const peer = await serveWsman(granted('500'))
  try {
    const conn = connection(peer.port)
    assert.equal(conn.maxEnvelopeSize, 153_600)
    assert.equal(await conn.adoptServerEnvelopeSize(), 512_000)
    assert.equal(await conn.adoptServerEnvelopeSize(), 512_000)
    assert.equal(peer.requests.length, 1, 'asked once')
    assert.equal(
      envelopeHeader(peer.requests[0] as string),
      153_600,
      'the read itself goes out at the default',
    )
    assert.equal(conn.maxEnvelopeSize, 512_000)
    await conn.updateMaxEnvelopeSize() // an explicit read still asks, with the new size in its header
    assert.equal(envelopeHeader(peer.requests[1] as string), 512_000)
  } finally {
    peer.stop()
  }
})

test('concurrent callers share one request', async () => {
  const peer = await serveWsman((r) => ({ ...granted('4096')(r), delayMs: 100 }))
  try {
    const conn = connection(peer.port)
    const sizes = await Promise.all([1, 2, 3].map(() => conn.adoptServerEnvelopeSize()))
    assert.deepEqual(sizes, [4_194_304, 4_194_304, 4_194_304])
    assert.equal(peer.requests.length, 1)
  } finally {
    peer.stop()
  }
})

test('a maxEnvelopeSize given as an option is used as is: the server is never asked', async () => {
  const peer = await serveWsman(granted('500'))
  try {
    const conn = connection(peer.port, 153_600)
    assert.equal(await conn.adoptServerEnvelopeSize(), 153_600)
    assert.equal(peer.requests.length, 0)
  } finally {
    peer.stop()
  }
})

const refusals: [string, (request: string) => TestAnswer][] = [
  [
    'an AccessDenied fault (a user who is not an administrator)',
    (r) => ({ status: 500, body: fault(r, 'AccessDenied', '5') }),
  ],
  ['a configuration without MaxEnvelopeSizekb', (r) => ({ status: 200, body: configResponse(r, undefined) })],
  ['a MaxEnvelopeSizekb that is not a number', (r) => ({ status: 200, body: configResponse(r, 'lots') })],
]

for (const [name, answer] of refusals) {
  test(`${name} keeps WinRM's default, and the server is not asked again`, async () => {
    const peer = await serveWsman(answer)
    try {
      const conn = connection(peer.port)
      assert.equal(await conn.adoptServerEnvelopeSize(), 153_600)
      assert.equal(await conn.adoptServerEnvelopeSize(), 153_600)
      assert.equal(peer.requests.length, 1)
      assert.equal(conn.maxEnvelopeSize, 153_600)
    } finally {
      peer.stop()
    }
  })
}

test('a lost connection rejects with a typed error, and the next call asks again', async () => {
  const peer = await serveWsman((r, i) => (i === 0 ? { drop: true } : granted('500')(r)))
  try {
    const conn = connection(peer.port)
    await assert.rejects(conn.adoptServerEnvelopeSize(), (e: unknown) => {
      assert.ok(e instanceof PsrpError, `a PsrpError, got ${String(e)}`)
      return true
    })
    assert.equal(conn.maxEnvelopeSize, 153_600)
    assert.equal(await conn.adoptServerEnvelopeSize(), 512_000)
    assert.equal(peer.requests.length, 2)
  } finally {
    peer.stop()
  }
})

test("a caller's abort ends its own wait only; the shared read goes on for the others", async () => {
  const peer = await serveWsman((r) => ({ ...granted('500')(r), delayMs: 300 }))
  try {
    const conn = connection(peer.port)
    const ac = new AbortController()
    const first = conn.adoptServerEnvelopeSize({ signal: ac.signal })
    const second = conn.adoptServerEnvelopeSize()
    setTimeout(() => ac.abort(), 50)
    await assert.rejects(first, AbortError)
    assert.equal(await second, 512_000)
    assert.equal(peer.requests.length, 1)
  } finally {
    peer.stop()
  }
})

test('an aborted signal rejects at once and asks nothing', async () => {
  const peer = await serveWsman(granted('500'))
  try {
    const conn = connection(peer.port)
    await assert.rejects(conn.adoptServerEnvelopeSize({ signal: AbortSignal.abort() }), AbortError)
    await new Promise((r) => setTimeout(r, 200)) // time for a request to arrive, had one been sent
    assert.equal(peer.requests.length, 0)
    assert.equal(await conn.adoptServerEnvelopeSize(), 512_000)
  } finally {
    peer.stop()
  }
})

test('a read that fails after every caller stopped waiting is no unhandled rejection; the next call asks again', async () => {
  const peer = await serveWsman((r, i) => (i === 0 ? { drop: true, delayMs: 200 } : granted('500')(r)))
  try {
    const conn = connection(peer.port)
    const ac = new AbortController()
    const waiting = conn.adoptServerEnvelopeSize({ signal: ac.signal })
    setTimeout(() => ac.abort(), 20)
    await assert.rejects(waiting, AbortError)
    await new Promise((r) => setTimeout(r, 400)) // the read fails meanwhile, with nobody waiting
    assert.equal(await conn.adoptServerEnvelopeSize(), 512_000)
    assert.equal(peer.requests.length, 2)
  } finally {
    peer.stop()
  }
})
