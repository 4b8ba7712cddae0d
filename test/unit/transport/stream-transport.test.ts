/**
 * OutOfProcStreamTransport (src/transport/outofproc-stream.ts) over in-memory streams: the generic
 * driver under SSHConnection and NamedPipeConnection. The test plays the server.
 */
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { describe, test } from 'node:test'
import { ProtocolError, TransportError } from '../../../src/errors.ts'
import { SESSION_GUID as Z } from '../../../src/outofproc/index.ts'
import { OutOfProcStreamTransport } from '../../../src/transport/outofproc-stream.ts'
import type { PsrpTransportEvent } from '../../../src/transport/psrp-transport.ts'

const P = '4a2c1b8e-5f3d-4e6a-8b9c-0d1e2f3a4b5c'

function pair(): {
  transport: OutOfProcStreamTransport
  toClient: PassThrough
  lines: string[]
  nextLine: () => Promise<string>
  shutdowns: string[]
} {
  const toClient = new PassThrough()
  const toServer = new PassThrough()
  const lines: string[] = []
  const shutdowns: string[] = []
  let buf = ''
  let wake: (() => void) | undefined
  toServer.setEncoding('utf8')
  toServer.on('data', (s: string) => {
    buf += s
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i))
      buf = buf.slice(i + 1)
    }
    wake?.()
  })
  let read = 0
  const nextLine = async (): Promise<string> => {
    while (read >= lines.length) await new Promise<void>((r) => (wake = r))
    return lines[read++] as string
  }
  const transport = new OutOfProcStreamTransport(
    async () => ({
      readable: toClient,
      writable: toServer,
      shutdown: async (reason) => {
        shutdowns.push(reason)
      },
    }),
    { peerName: 'test server' },
  )
  return { transport, toClient, lines, nextLine, shutdowns }
}

async function all(it: AsyncIterable<PsrpTransportEvent>): Promise<PsrpTransportEvent[]> {
  const out: PsrpTransportEvent[] = []
  for await (const ev of it) out.push(ev)
  return out
}

describe('OutOfProcStreamTransport over a stream pair', () => {
  test('send/command/close resolve on the matching acks; data is delivered in order', async () => {
    const { transport, toClient, nextLine, shutdowns } = pair()
    await transport.start()
    const evs = all(transport.events())
    const sent = transport.send({ stream: 'default', data: Uint8Array.of(1) })
    assert.equal(await nextLine(), `<Data Stream='Default' PSGuid='${Z}'>AQ==</Data>`)
    let done = false
    void sent.then(() => (done = true))
    toClient.write(`<Data Stream='Default' PSGuid='${Z}'>Ag==</Data>\n<DataA`)
    await new Promise((r) => setImmediate(r))
    assert.equal(done, false, 'not acked yet')
    toClient.write(`ck PSGuid='${Z}' />\r\n`)
    await sent
    const cmd = transport.command(P)
    assert.equal(await nextLine(), `<Command PSGuid='${P}' />`)
    toClient.write(`<CommandAck PSGuid='${P}' />\n`)
    await cmd
    const closing = transport.close()
    assert.equal(await nextLine(), `<Close PSGuid='${P}' />`)
    toClient.write(`<CloseAck PSGuid='${P}' />\n`)
    assert.equal(await nextLine(), `<Close PSGuid='${Z}' />`)
    toClient.write(`<CloseAck PSGuid='${Z}' />\n`)
    await closing
    assert.deepEqual(shutdowns, ['closed'])
    assert.deepEqual(await evs, [
      { type: 'data', pipelineId: undefined, stream: 'default', data: Uint8Array.of(2) },
    ])
    assert.equal(transport.state, 'closed')
  })

  test('closePipeline resolves without waiting for the CloseAck; the pool Close still waits for it', async () => {
    const { transport, toClient, nextLine, lines } = pair()
    await transport.start()
    void all(transport.events())
    const cmd = transport.command(P)
    await nextLine()
    toClient.write(`<CommandAck PSGuid='${P}' />\n`)
    await cmd
    await transport.closePipeline(P) // no CloseAck was written
    assert.equal(await nextLine(), `<Close PSGuid='${P}' />`)
    const closing = transport.close()
    await new Promise((r) => setImmediate(r))
    assert.equal(lines.length, 2, 'the pool Close is held until the pipeline’s CloseAck')
    toClient.write(`<CloseAck PSGuid='${P}' />\n`)
    assert.equal(await nextLine(), `<Close PSGuid='${Z}' />`)
    toClient.write(`<CloseAck PSGuid='${Z}' />\n`)
    await closing
  })

  test('packets released together go out in one write', async () => {
    const toClient = new PassThrough()
    const writes: string[] = []
    const toServer = new PassThrough()
    toServer.on('data', (b: Buffer) => writes.push(b.toString('utf8')))
    const transport = new OutOfProcStreamTransport(async () => ({ readable: toClient, writable: toServer }))
    await transport.start()
    void all(transport.events())
    const Q = '9d3e7a10-2b4c-4d5e-8f60-718293a4b5c6'
    const sent = [
      transport.createPipeline(P, { stream: 'default', data: Uint8Array.of(1) }),
      transport.createPipeline(Q, { stream: 'default', data: Uint8Array.of(2) }),
    ]
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(writes, [`<Command PSGuid='${P}' />\n`, `<Command PSGuid='${Q}' />\n`])
    writes.length = 0
    // both CommandAcks in one read release both pipelines' data: one write, not two
    toClient.write(`<CommandAck PSGuid='${P}' />\n<CommandAck PSGuid='${Q}' />\n`)
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(writes, [
      `<Data Stream='Default' PSGuid='${P}'>AQ==</Data>\n<Data Stream='Default' PSGuid='${Q}'>Ag==</Data>\n`,
    ])
    toClient.write(`<DataAck PSGuid='${P}' />\n<DataAck PSGuid='${Q}' />\n`)
    await Promise.all(sent)
    await transport.close({ timeout: 1 }).catch(() => undefined)
  })

  test('an unexpected end of the stream rejects pending work with TransportError', async () => {
    const { transport, toClient, nextLine, shutdowns } = pair()
    await transport.start()
    const evs = all(transport.events())
    const pending = transport.command(P)
    await nextLine()
    toClient.end()
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof TransportError && /closed the connection/.test(e.message),
    )
    const list = await evs
    assert.equal(list.length, 1)
    assert.equal(list[0]?.type, 'failed')
    assert.deepEqual(shutdowns, ['failed'])
    await transport.close() // already failed: resolves
  })

  test('a protocol violation by the server fails the transport with ProtocolError', async () => {
    const { transport, toClient } = pair()
    await transport.start()
    const evs = all(transport.events())
    const pending = transport.send({ stream: 'default', data: Uint8Array.of(1) })
    toClient.write(`<SignalAck PSGuid='${P}' />\n`)
    await assert.rejects(pending, (e: unknown) => e instanceof ProtocolError && e.side === 'remote')
    const [ev] = await evs
    assert.ok(ev?.type === 'failed' && ev.error instanceof ProtocolError)
    await assert.rejects(transport.command(P), ProtocolError)
  })

  test('operations before start() are refused; events() has one consumer', async () => {
    const { transport } = pair()
    await assert.rejects(transport.send({ stream: 'default', data: Uint8Array.of(1) }), /call start\(\)/)
    transport.events()
    assert.throws(() => transport.events(), /single consumer/)
    await transport.close()
    assert.equal(transport.state, 'closed')
  })
})
