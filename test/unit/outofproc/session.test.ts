import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setImmediate as tick } from 'node:timers/promises'
import { InvalidArgumentError, InvalidStateError, ProtocolError } from '../../../src/errors.ts'
import {
  DEFAULT_PACKET_DATA,
  MAX_PACKET_DATA,
  SESSION_GUID as Z,
  OutOfProcSession,
  type OutOfProcEvent,
  type OutgoingPacket,
} from '../../../src/outofproc/index.ts'
import { collectGarbage } from '../../helpers/memory.ts'

const P = '4a2c1b8e-5f3d-4e6a-8b9c-0d1e2f3a4b5c'
const Q = '9d3e7a10-2b4c-4d5e-8f60-718293a4b5c6'
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)

/** All packets releasable now, as short strings such as `data P default [1,2]` or `close 0`. */
function drain(s: OutOfProcSession): string[] {
  const out: string[] = []
  for (let p: OutgoingPacket | undefined; (p = s.nextPacketToSend()) !== undefined;) out.push(show(p))
  return out
}

function show(p: OutgoingPacket): string {
  const g = p.packet.guid === Z ? '0' : p.packet.guid === P ? 'P' : p.packet.guid === Q ? 'Q' : p.packet.guid
  if (p.packet.kind === 'data') return `data ${g} ${p.packet.stream} [${[...p.packet.data].join(',')}]`
  return `${p.packet.kind} ${g}`
}

function events(s: OutOfProcSession): OutOfProcEvent[] {
  const out: OutOfProcEvent[] = []
  for (let e; (e = s.nextEvent()) !== undefined;) out.push(e)
  return out
}

function ackLine(kind: string, guid: string): string {
  return `<${kind} PSGuid='${guid}' />`
}

function dataLine(guid: string, b64: string): string {
  return `<Data Stream='Default' PSGuid='${guid}'>${b64}</Data>`
}

/** A session with pipeline P commanded and acked. */
function withPipeline(...ids: string[]): OutOfProcSession {
  const s = new OutOfProcSession()
  for (const id of ids) s.command(id)
  drain(s)
  for (const id of ids) s.receiveLine(ackLine('CommandAck', id))
  events(s)
  return s
}

function remoteViolation(s: OutOfProcSession, line: string, match: RegExp): void {
  assert.throws(
    () => s.receiveLine(line),
    (e: unknown) => e instanceof ProtocolError && e.side === 'remote' && match.test(e.message),
  )
  assert.equal(s.state, 'failed')
}

describe('OutOfProcSession: one unacknowledged Data per GUID', () => {
  test('the second pool packet waits for the first DataAck', () => {
    const s = new OutOfProcSession({ coalesce: false })
    const a = s.send({ stream: 'default', data: bytes(1) })
    const b = s.send({ stream: 'default', data: bytes(2) })
    const first = s.nextPacketToSend()
    assert.equal(first?.line, `<Data Stream='Default' PSGuid='${Z}'>AQ==</Data>\n`)
    assert.deepEqual(first?.requestIds, [a])
    assert.equal(s.nextPacketToSend(), undefined, 'nothing while the DataAck is outstanding')
    s.receiveLine(ackLine('DataAck', Z))
    assert.deepEqual(events(s), [{ type: 'ack', ack: 'dataAck', pipelineId: undefined, requestIds: [a] }])
    const second = s.nextPacketToSend()
    assert.deepEqual(second?.requestIds, [b])
    assert.equal(show(second as OutgoingPacket), 'data 0 default [2]')
    assert.equal(s.nextPacketToSend(), undefined)
  })

  test('different GUIDs each have one packet in flight', () => {
    const s = withPipeline(P, Q)
    s.send({ stream: 'default', data: bytes(1) })
    s.send({ pipelineId: P, stream: 'default', data: bytes(2) })
    s.send({ pipelineId: Q, stream: 'default', data: bytes(3) })
    s.send({ pipelineId: P, stream: 'default', data: bytes(4) })
    assert.deepEqual(drain(s), ['data 0 default [1]', 'data P default [2,4]', 'data Q default [3]'])
  })

  test('coalescing: same GUID and stream, up to maxPacketSize, never across the budget', () => {
    const s = new OutOfProcSession({ maxPacketSize: 10 })
    const ids = [
      s.send({ stream: 'default', data: new Uint8Array(4).fill(1) }),
      s.send({ stream: 'default', data: new Uint8Array(6).fill(2) }),
      s.send({ stream: 'default', data: new Uint8Array(1).fill(3) }),
    ]
    const p1 = s.nextPacketToSend()
    assert.equal(p1?.packet.kind === 'data' ? p1.packet.data.length : -1, 10)
    assert.deepEqual(p1?.requestIds, ids.slice(0, 2))
    s.receiveLine(ackLine('DataAck', Z))
    const ev = events(s)
    assert.deepEqual(ev, [
      { type: 'ack', ack: 'dataAck', pipelineId: undefined, requestIds: ids.slice(0, 2) },
    ])
    assert.deepEqual(s.nextPacketToSend()?.requestIds, [ids[2]])
  })

  test('an unexpected DataAck is a remote protocol violation', () => {
    remoteViolation(new OutOfProcSession(), ackLine('DataAck', Z), /unexpected DataAck .*session/)
    const s = new OutOfProcSession()
    s.send({ stream: 'default', data: bytes(1) })
    drain(s)
    s.receiveLine(ackLine('DataAck', Z))
    remoteViolation(s, ackLine('DataAck', Z), /no data in flight/)
    assert.throws(
      () => s.send({ stream: 'default', data: bytes(1) }),
      ProtocolError,
      'failed session refuses work',
    )
    assert.equal(s.nextPacketToSend(), undefined)
  })
})

describe('OutOfProcSession: Command before pipeline data', () => {
  test('pipeline data is held until CommandAck', () => {
    const s = new OutOfProcSession()
    const c = s.command(P.toUpperCase())
    const d = s.send({ pipelineId: P, stream: 'default', data: bytes(7) })
    assert.deepEqual(drain(s), ['command P'])
    assert.deepEqual(drain(s), [], 'no Data before the CommandAck')
    s.receiveLine(ackLine('CommandAck', P))
    assert.deepEqual(events(s), [{ type: 'ack', ack: 'commandAck', pipelineId: P, requestIds: [c] }])
    const out = s.nextPacketToSend()
    assert.equal(out?.line, `<Data Stream='Default' PSGuid='${P}'>Bw==</Data>\n`)
    assert.deepEqual(out?.requestIds, [d])
  })

  test('data for a pipeline without command() is refused locally', () => {
    const s = new OutOfProcSession()
    assert.throws(() => s.send({ pipelineId: P, stream: 'default', data: bytes(1) }), InvalidStateError)
    s.command(P)
    assert.throws(() => s.command(P), InvalidStateError, 'one Command per pipeline')
    assert.throws(() => s.command(Z), InvalidArgumentError, 'the zero GUID is the pool')
    assert.throws(() => s.command('x'), InvalidArgumentError)
  })

  test('server violations: unexpected CommandAck, data before CommandAck, data for an unknown GUID', () => {
    remoteViolation(new OutOfProcSession(), ackLine('CommandAck', P), /unexpected CommandAck/)
    const s = new OutOfProcSession()
    s.command(P)
    drain(s)
    remoteViolation(s, dataLine(P, 'AA=='), /before its CommandAck/)
    remoteViolation(new OutOfProcSession(), dataLine(Q, 'AA=='), /unknown pipeline/)
  })

  test('received data is reported per GUID, pool as undefined', () => {
    const s = withPipeline(P)
    s.receiveLine(dataLine(Z, 'AQI='))
    s.receiveLine(dataLine(P.toUpperCase(), 'Aw=='))
    assert.deepEqual(events(s), [
      { type: 'data', pipelineId: undefined, stream: 'default', data: bytes(1, 2) },
      { type: 'data', pipelineId: P, stream: 'default', data: bytes(3) },
    ])
  })
})

describe('OutOfProcSession: PromptResponse before Default', () => {
  test('queued PromptResponse chunks drain first and never share a packet with Default', () => {
    const s = withPipeline(P)
    s.send({ pipelineId: P, stream: 'default', data: bytes(1) })
    assert.deepEqual(drain(s), ['data P default [1]'])
    s.send({ pipelineId: P, stream: 'default', data: bytes(2) })
    s.send({ pipelineId: P, stream: 'promptResponse', data: bytes(3) })
    s.send({ pipelineId: P, stream: 'default', data: bytes(5) })
    s.send({ pipelineId: P, stream: 'promptResponse', data: bytes(4) })
    const sent: string[] = []
    for (;;) {
      s.receiveLine(ackLine('DataAck', P))
      const out = drain(s)
      if (out.length === 0) break
      sent.push(...out)
    }
    assert.deepEqual(sent, ['data P promptResponse [3,4]', 'data P default [2,5]'])
  })

  test('the pool too, and with everything queued at once the PromptResponse goes first', () => {
    const s = new OutOfProcSession({ coalesce: false })
    s.send({ stream: 'default', data: bytes(1) })
    s.send({ stream: 'default', data: bytes(2) })
    s.send({ stream: 'promptResponse', data: bytes(9) })
    assert.deepEqual(drain(s), ['data 0 promptResponse [9]'])
    s.receiveLine(ackLine('DataAck', Z))
    assert.deepEqual(drain(s), ['data 0 default [1]'])
    s.receiveLine(ackLine('DataAck', Z))
    assert.deepEqual(drain(s), ['data 0 default [2]'])
    s.receiveLine(ackLine('DataAck', Z))
    assert.deepEqual(drain(s), [])
  })
})

describe('OutOfProcSession: Signal', () => {
  test('Signal → SignalAck; waits for CommandAck; overtakes queued data; joins a pending signal', () => {
    const s = new OutOfProcSession()
    s.command(P)
    const sig = s.signal(P)
    assert.deepEqual(drain(s), ['command P'], 'no Signal before the CommandAck')
    s.receiveLine(ackLine('CommandAck', P))
    events(s)
    s.send({ pipelineId: P, stream: 'default', data: bytes(1) })
    assert.deepEqual(drain(s), ['signal P', 'data P default [1]'])
    const sig2 = s.signal(P)
    assert.deepEqual(drain(s), [], 'one Signal in flight')
    s.receiveLine(ackLine('SignalAck', P))
    assert.deepEqual(events(s), [{ type: 'ack', ack: 'signalAck', pipelineId: P, requestIds: [sig, sig2] }])
  })

  test('no Signal to the pool; unexpected SignalAck is a violation', () => {
    const s = new OutOfProcSession()
    assert.throws(() => s.signal(Z), InvalidArgumentError)
    assert.throws(() => s.signal(P), InvalidStateError)
    remoteViolation(withPipeline(P), ackLine('SignalAck', P), /unexpected SignalAck/)
  })
})

describe('OutOfProcSession: Close', () => {
  test('a pipeline Close waits for its outstanding data and signal', () => {
    const s = withPipeline(P)
    s.send({ pipelineId: P, stream: 'default', data: bytes(1) })
    s.send({ pipelineId: P, stream: 'default', data: bytes(2) })
    assert.deepEqual(drain(s), ['data P default [1,2]'])
    s.signal(P)
    const c = s.closePipeline(P)
    assert.deepEqual(drain(s), ['signal P'])
    s.receiveLine(ackLine('DataAck', P))
    assert.deepEqual(drain(s), [], 'still waiting for SignalAck')
    s.receiveLine(ackLine('SignalAck', P))
    assert.deepEqual(drain(s), ['close P'])
    assert.throws(() => s.send({ pipelineId: P, stream: 'default', data: bytes(3) }), InvalidStateError)
    events(s)
    s.receiveLine(ackLine('CloseAck', P))
    assert.deepEqual(events(s), [{ type: 'ack', ack: 'closeAck', pipelineId: P, requestIds: [c] }])
    assert.throws(() => s.closePipeline(P), InvalidStateError)
    // pwsh can write a pipeline's last message after acking its Close: dropped, the session goes on
    s.receiveLine(dataLine(P, 'AA=='))
    assert.deepEqual(events(s), [])
    assert.equal(s.lateDataDropped, 1)
    assert.equal(s.state, 'open')
    remoteViolation(s, ackLine('CloseAck', P), /after its CloseAck/)
  })

  test('a closed pipeline is forgotten: a thousand pipelines run one after another leave nothing behind', () => {
    const s = new OutOfProcSession()
    let last = ''
    for (let i = 0; i < 1000; i++) {
      const id = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
      s.command(id)
      assert.equal(s.nextPacketToSend()?.packet.kind, 'command')
      s.receiveLine(ackLine('CommandAck', id))
      s.closePipeline(id)
      assert.equal(s.nextPacketToSend()?.packet.kind, 'close')
      assert.equal(s.pipelineCount, 1)
      s.receiveLine(ackLine('CloseAck', id))
      assert.equal(s.pipelineCount, 0)
      last = id
    }
    events(s)
    // the recently closed are still known: misuse and late packets get their precise errors
    assert.throws(() => s.command(last), /already had a Command/)
    assert.throws(() => s.send({ pipelineId: last, stream: 'default', data: bytes(1) }), /is closed/)
    assert.throws(() => s.signal(last), /is closed/)
    remoteViolation(s, ackLine('CloseAck', last), /after its CloseAck/)
  })

  test('the pool Close waits for every Command’ed pipeline’s CloseAck', () => {
    const s = withPipeline(P, Q)
    const cq = s.closePipeline(Q)
    assert.deepEqual(drain(s), ['close Q'])
    const c = s.close()
    assert.equal(s.state, 'closing')
    assert.deepEqual(drain(s), ['close P'], 'P is closed automatically; the pool Close is held')
    s.receiveLine(ackLine('CloseAck', P))
    assert.deepEqual(drain(s), [], 'Q has no CloseAck yet')
    s.receiveLine(ackLine('CloseAck', Q))
    assert.deepEqual(drain(s), ['close 0'])
    assert.equal(s.state, 'closing')
    // RUNSPACEPOOL_STATE Closing/Closed data arrives before the CloseAck
    s.receiveLine(dataLine(Z, 'AA=='))
    s.receiveLine(ackLine('CloseAck', Z))
    const ev = events(s)
    assert.deepEqual(ev[1], { type: 'ack', ack: 'closeAck', pipelineId: Q, requestIds: [cq] })
    assert.deepEqual(ev.at(-2), { type: 'data', pipelineId: undefined, stream: 'default', data: bytes(0) })
    assert.deepEqual(ev.at(-1), { type: 'ack', ack: 'closeAck', pipelineId: undefined, requestIds: [c] })
    assert.equal(s.state, 'closed')
    assert.throws(() => s.send({ stream: 'default', data: bytes(1) }), InvalidStateError)
    assert.equal(s.nextPacketToSend(), undefined)
  })

  test('a pipeline whose Command is still unacked is commanded, then closed, before the pool', () => {
    const s = new OutOfProcSession()
    s.command(P)
    s.send({ pipelineId: P, stream: 'default', data: bytes(5) })
    s.close()
    assert.deepEqual(drain(s), ['command P'])
    assert.throws(() => s.command(Q), InvalidStateError, 'no new pipelines while closing')
    s.receiveLine(ackLine('CommandAck', P))
    assert.deepEqual(drain(s), ['data P default [5]'])
    s.receiveLine(ackLine('DataAck', P))
    assert.deepEqual(drain(s), ['close P'])
    s.receiveLine(ackLine('CloseAck', P))
    assert.deepEqual(drain(s), ['close 0'])
  })

  test('the pool Close waits for the pool’s own data; a second close() joins the first', () => {
    const s = new OutOfProcSession()
    s.send({ stream: 'default', data: bytes(1) })
    const c1 = s.close()
    const c2 = s.close()
    assert.throws(() => s.send({ stream: 'default', data: bytes(2) }), InvalidStateError)
    assert.deepEqual(drain(s), ['data 0 default [1]'])
    s.receiveLine(ackLine('DataAck', Z))
    assert.deepEqual(drain(s), ['close 0'])
    s.receiveLine(ackLine('CloseAck', Z))
    assert.deepEqual(events(s).at(-1), {
      type: 'ack',
      ack: 'closeAck',
      pipelineId: undefined,
      requestIds: [c1, c2],
    })
  })

  test('violations: unexpected CloseAck, packets after the pool CloseAck, client-only elements', () => {
    remoteViolation(new OutOfProcSession(), ackLine('CloseAck', Z), /unexpected CloseAck/)
    const s = new OutOfProcSession()
    s.close()
    drain(s)
    s.receiveLine(ackLine('CloseAck', Z))
    s.receiveLine('__NamedPipeError__:An unknown element "" was received.')
    assert.equal(events(s).at(-1)?.type, 'serverError', 'error lines after close are still reported')
    remoteViolation(s, dataLine(Z, 'AA=='), /after the session was closed/)
    for (const kind of ['Command', 'Signal', 'Close']) {
      remoteViolation(withPipeline(P), ackLine(kind, P), /only clients send it/)
    }
  })
})

describe('OutOfProcSession: input handling', () => {
  test('receiveData splits lines across chunks and skips empty lines', () => {
    const s = new OutOfProcSession()
    s.send({ stream: 'default', data: bytes(1) })
    drain(s)
    const text = `${dataLine(Z, 'AQ==')}\r\n\n<DataA`
    s.receiveData(new TextEncoder().encode(text))
    assert.equal(events(s).length, 1)
    s.receiveData(`ck PSGuid='${Z}' />`)
    assert.equal(events(s).length, 0, 'incomplete line not processed yet')
    s.receiveEnd()
    assert.equal(events(s)[0]?.type, 'ack', 'the final unterminated line is processed at the end')
  })

  test('garbage and over-long lines fail the session', () => {
    const s = new OutOfProcSession()
    assert.throws(() => s.receiveData('hello world\n'), ProtocolError)
    assert.equal(s.state, 'failed')
    assert.ok(s.failure instanceof ProtocolError)
    assert.throws(() => s.receiveData('x\n'), ProtocolError)
    const t = new OutOfProcSession({ maxLineLength: 100 })
    assert.throws(() => t.receiveData('A'.repeat(101)), /longer than 100/)
    assert.equal(t.state, 'failed')
  })

  test('a taken event is not kept alive by the session (a fetch held 32 MiB of taken fragments)', async () => {
    const s = new OutOfProcSession()
    // fewer than the 1024 taken events after which the session compacts its queue
    for (let i = 0; i < 10; i++) s.receiveLine(dataLine(Z, Buffer.alloc(3000, i).toString('base64')))
    const refs: WeakRef<object>[] = []
    for (let e; (e = s.nextEvent()) !== undefined;) refs.push(new WeakRef(e))
    assert.equal(refs.length, 10)
    await tick() // a WeakRef target is held until the end of the job that made the WeakRef
    collectGarbage()
    assert.deepEqual(
      refs.map((r) => r.deref() === undefined),
      refs.map(() => true),
    )
  })

  test('server error lines are events, not exceptions', () => {
    const s = new OutOfProcSession()
    s.receiveLine('__NamedPipeError__:boom')
    assert.deepEqual(events(s), [{ type: 'serverError', prefix: '__NamedPipeError__', message: 'boom' }])
    assert.equal(s.state, 'open')
  })

  test('argument checks', () => {
    const s = new OutOfProcSession()
    assert.equal(s.maxPacketSize, DEFAULT_PACKET_DATA)
    assert.throws(() => s.send({ stream: 'default', data: new Uint8Array(0) }), InvalidArgumentError)
    assert.throws(
      () => s.send({ stream: 'default', data: new Uint8Array(DEFAULT_PACKET_DATA + 1) }),
      InvalidArgumentError,
    )
    assert.throws(() => s.send({ stream: 'stdin' as 'default', data: bytes(1) }), InvalidArgumentError)
    assert.throws(() => new OutOfProcSession({ maxPacketSize: MAX_PACKET_DATA + 1 }), InvalidArgumentError)
    s.send({ stream: 'default', data: new Uint8Array(DEFAULT_PACKET_DATA) })
    assert.equal(s.nextPacketToSend()?.packet.kind, 'data')
    const largest = new OutOfProcSession({ maxPacketSize: MAX_PACKET_DATA })
    largest.send({ stream: 'default', data: new Uint8Array(MAX_PACKET_DATA) })
    assert.equal(largest.nextPacketToSend()?.packet.kind, 'data')
  })

  test("default packets stay under .NET's large-object size in pwsh, for either stream", () => {
    // pwsh holds each line, and the base64 taken out of it, as .NET strings (about 2n + 22 bytes);
    // 85,000 bytes or more would put both on the large-object heap for every packet
    const LOH_BYTES = 85_000
    const netStringBytes = (chars: number): number => 2 * chars + 22
    for (const stream of ['default', 'promptResponse'] as const) {
      const s = new OutOfProcSession()
      s.send({ stream, data: new Uint8Array(s.maxPacketSize).fill(0xff) })
      const line = (s.nextPacketToSend()?.line ?? '').replace(/\n$/, '')
      const base64 = /^<Data [^>]*>([^<]*)<\/Data>$/.exec(line)?.[1] ?? ''
      assert.equal(base64.length, Math.ceil(DEFAULT_PACKET_DATA / 3) * 4, stream)
      assert.ok(netStringBytes(line.length) < LOH_BYTES, `${stream}: a line of ${line.length} characters`)
      const full = new OutOfProcSession({ maxPacketSize: MAX_PACKET_DATA })
      full.send({ stream, data: new Uint8Array(MAX_PACKET_DATA) })
      const fullLine = (full.nextPacketToSend()?.line ?? '').replace(/\n$/, '')
      assert.ok(netStringBytes(fullLine.length) >= LOH_BYTES, 'a full 32 KiB packet would be a large object')
    }
  })
})
