/**
 * The WS-Man/HTTP limits of `WSManConnectionOptions` reach the code that enforces them: a limit below
 * what the server sends fails the request with a ProtocolError (ERR_PROTOCOL) naming the limit, and
 * the default lets the same traffic through. The server is a real recording (Windows Server 2012 R2,
 * test/recordings) replayed on 127.0.0.1, opened with `RunspacePool.open`; the proxy head limit is
 * shown with a CONNECT proxy of our own. docs/limits.md lists every limit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import {
  Client,
  InvalidArgumentError,
  ProtocolError,
  RunspacePool,
  WSManConnection,
  type WSManConnectionOptions,
} from '../../src/index.ts'
import { ResourceUri } from '../../src/wsman/index.ts'
import { replayConnection, startReplayServer } from '../helpers/winrm-replay.ts'

const recording = join(
  import.meta.dirname,
  '../recordings/pypsrp-extra/test_psrp_run_protocol_version_2.2.yml',
)

/** Opens a pool against the recording with the given connection limits; resolves to its state. */
async function open(limits: Partial<WSManConnectionOptions>): Promise<string> {
  const server = await startReplayServer(recording, { concurrentReceives: true, receiveTimeoutMs: 300 })
  const conn = replayConnection(server, limits)
  try {
    // not closed: the recording goes on with a command, so a Delete would not match it
    const pool = await RunspacePool.open(conn, { timeout: 10_000 })
    return pool.state
  } finally {
    await server.close()
    await conn.close()
  }
}

function protocolError(pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ProtocolError, String(e))
    assert.equal(e.code, 'ERR_PROTOCOL')
    assert.equal(e.side, 'remote')
    assert.match(e.message, pattern)
    return true
  }
}

test('the recording opens with the default limits', async () => {
  assert.equal(await open({}), 'Opened')
})

test('maxHeaderSize: a response head longer than the limit is a ProtocolError', async () => {
  // the replay server's heads are about 150 bytes
  await assert.rejects(open({ maxHeaderSize: 64 }), protocolError(/HTTP response head exceeds 64 bytes/))
  assert.equal(await open({ maxHeaderSize: 1024 }), 'Opened')
})

test('maxResponseSize: a response body larger than the limit is a ProtocolError', async () => {
  // the recorded Create response is over a kilobyte
  await assert.rejects(
    open({ maxResponseSize: 300 }),
    protocolError(/HTTP response body of \d+ bytes exceeds 300/),
  )
})

test('maxResponseEnvelopeLength: a longer SOAP envelope is a ProtocolError, before parsing', async () => {
  await assert.rejects(
    open({ maxResponseEnvelopeLength: 300 }),
    protocolError(/XML is \d+ characters, over the limit of 300\b/),
  )
})

test('the limits must be positive integers', () => {
  const base = { server: '127.0.0.1', auth: 'basic', username: 'u', password: 'p' } as const
  const names = ['maxHeaderSize', 'maxResponseSize', 'maxResponseEnvelopeLength'] as const
  for (const name of names) {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => new WSManConnection({ ...base, [name]: bad }),
        (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(name),
        `${name}: ${bad}`,
      )
    }
  }
})

test('Client takes the same limits for a WinRM host name', async () => {
  const server = await startReplayServer(recording, { concurrentReceives: true, receiveTimeoutMs: 300 })
  const client = new Client('127.0.0.1', {
    port: server.port,
    ssl: false,
    auth: 'basic',
    username: 'replay',
    password: 'replay',
    allowUnencryptedBasic: true,
    retries: { count: 0 },
    maxHeaderSize: 64,
  })
  try {
    await assert.rejects(
      client.pool({ timeout: 10_000 }),
      protocolError(/HTTP response head exceeds 64 bytes/),
    )
  } finally {
    await client.close()
    await server.close()
  }
  assert.throws(
    () => new Client('127.0.0.1', { auth: 'basic', username: 'u', password: 'p', maxResponseSize: 0 }),
    (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('maxResponseSize'),
  )
})

/**
 * A CONNECT proxy that accepts every tunnel with a head padded to `headBytes`, then records whether
 * the client went on to send through the tunnel (its TLS ClientHello) and hangs up.
 */
async function paddedProxy(
  headBytes: number,
): Promise<{ port: number; tunnelled: () => boolean; close: () => Promise<void> }> {
  let tunnelled = false
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      if (head.endsWith('\r\n\r\n')) {
        tunnelled = true
        socket.destroy()
        return
      }
      head += chunk.toString('latin1')
      if (!head.endsWith('\r\n\r\n')) return
      const status = 'HTTP/1.1 200 Connection established\r\n'
      const pad = `X-Pad: ${'a'.repeat(headBytes - status.length - 'X-Pad: \r\n\r\n'.length)}\r\n\r\n`
      socket.write(status + pad)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    tunnelled: () => tunnelled,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

async function throughProxy(
  headBytes: number,
  maxHeaderSize?: number,
): Promise<{ error: unknown; tunnelled: boolean }> {
  const proxy = await paddedProxy(headBytes)
  const conn = new WSManConnection({
    server: 'win1.test',
    ssl: true,
    proxy: `http://127.0.0.1:${proxy.port}`,
    auth: 'basic',
    username: 'u',
    password: 'p',
    retries: { count: 0 },
    connectTimeout: 10_000,
    ...(maxHeaderSize === undefined ? {} : { maxHeaderSize }),
  })
  try {
    const error = await conn.request({ action: 'get', resourceUri: ResourceUri.Config }).then(
      () => undefined,
      (e: unknown) => e,
    )
    return { error, tunnelled: proxy.tunnelled() }
  } finally {
    await conn.close()
    await proxy.close()
  }
}

test("maxHeaderSize also bounds a proxy's answer to CONNECT", async () => {
  const small = await throughProxy(2000, 1024)
  protocolError(/HTTP response head exceeds 1024 bytes/)(small.error)
  assert.equal(small.tunnelled, false)
  // with the default the same answer opens the tunnel (TLS then fails: the proxy is no server)
  const fine = await throughProxy(2000)
  assert.equal(fine.tunnelled, true)
  assert.ok(!(fine.error instanceof ProtocolError), String(fine.error))
})
