/**
 * The client side of an OutOfProc session, sans-IO: it queues what the PSRP layer wants to send, releases
 * packets in an order that obeys PowerShell's ack rules (`notes/transports.md` §1.6), consumes the
 * server's lines and yields events. It never touches a stream, a timer or the clock; a driver in
 * `src/transport/` moves its lines.
 *
 * Rules enforced on the way out:
 * - at most one unacknowledged `<Data>` per GUID (pwsh processes lines concurrently; the ack is the only
 *   ordering mechanism);
 * - no `<Data>` for a pipeline before its `<CommandAck>` (pwsh acks and *drops* data for unknown
 *   pipelines);
 * - `PromptResponse` chunks of a GUID go before its `Default` chunks, and one packet never mixes streams;
 * - `<Signal>` only after `<CommandAck>`, at most one in flight per pipeline, never to the pool;
 * - a pipeline's `<Close>` only after everything queued for it has been acked;
 * - the pool's `<Close>` only after its own data is acked and every `<Command>`'ed pipeline has its
 *   `<CloseAck>` ({@link OutOfProcSession.close} queues the missing pipeline Closes itself, because pwsh
 *   blocks the pool Close forever otherwise).
 *
 * Rules enforced on the way in (violations throw {@link ProtocolError} with side `remote` and break the
 * session): an ack must match a packet in flight for that GUID and kind; `<Data>` must be for the pool or
 * for a pipeline whose Command was acked (`<Data>` for one of the recently closed pipelines is dropped:
 * pwsh can send a pipeline's last messages after its `<CloseAck>`); the server never sends `Command`,
 * `Signal` or `Close`; nothing but server error lines may follow the pool's `<CloseAck>`.
 *
 * @module
 */
import { InvalidArgumentError, InvalidStateError, ProtocolError, type PsrpError } from '../errors.ts'
import type { PsrpPayload } from '../internal/payload.ts'
import { Fifo } from '../internal/fifo.ts'
import { LineReader, type LineReaderOptions } from './line-reader.ts'
import {
  DEFAULT_PACKET_DATA,
  MAX_PACKET_DATA,
  SESSION_GUID,
  canonicalGuid,
  decodeLine,
  encodePacketLine,
  type OutOfProcPacket,
  type OutOfProcStream,
  type ServerErrorPrefix,
} from './packet.ts'

/** Identifies one queued operation; reported back in the `ack` event that completes it. */
export type RequestId = number

/** A packet released by {@link OutOfProcSession.nextPacketToSend}. */
export interface OutgoingPacket {
  /** The packet itself. */
  readonly packet: OutOfProcPacket
  /** The encoded line, terminator included; write it as is. */
  readonly line: string
  /** The requests this packet carries (several chunks may share one `<Data>`). */
  readonly requestIds: readonly RequestId[]
}

/** Kinds of acknowledgement. */
export type AckKind = 'dataAck' | 'commandAck' | 'signalAck' | 'closeAck'

/** Events produced by {@link OutOfProcSession.nextEvent}. */
export type OutOfProcEvent =
  | {
      /** The server sent fragment bytes. */
      readonly type: 'data'
      /** The pipeline GUID, or `undefined` for the pool. */
      readonly pipelineId: string | undefined
      readonly stream: OutOfProcStream
      /** Raw fragment bytes (pwsh sends exactly one fragment per packet, but treat it as a byte stream). */
      readonly data: Uint8Array
    }
  | {
      /** The server acknowledged a packet; the listed requests are complete. */
      readonly type: 'ack'
      readonly ack: AckKind
      /** The pipeline GUID, or `undefined` for the pool. */
      readonly pipelineId: string | undefined
      readonly requestIds: readonly RequestId[]
    }
  | {
      /** An in-band server error line (`__NamedPipeError__:` …); PowerShell's clients treat it as fatal. */
      readonly type: 'serverError'
      readonly prefix: ServerErrorPrefix
      readonly message: string
    }

/** Life cycle of a session. */
export type OutOfProcSessionState = 'open' | 'closing' | 'closed' | 'failed'

/** Options of {@link OutOfProcSession}. */
export interface OutOfProcSessionOptions extends LineReaderOptions {
  /** Largest payload of one `<Data>` packet; default {@link DEFAULT_PACKET_DATA}, at most {@link MAX_PACKET_DATA}. */
  maxPacketSize?: number
  /**
   * Put several queued chunks for the same GUID and stream into one `<Data>` packet (up to
   * `maxPacketSize`), as PowerShell's own client does. Default `true`.
   */
  coalesce?: boolean
}

/** How many closed pipeline GUIDs are remembered, to name them in protocol errors and refuse reuse. */
const RECENTLY_CLOSED = 256

interface QueuedChunk {
  readonly id: RequestId
  readonly data: Uint8Array
}

type Phase = 'none' | 'queued' | 'inFlight' | 'acked'

interface Target {
  readonly guid: string
  readonly pipelineId: string | undefined
  /** Command phase; the pool is always `acked`. */
  command: Phase
  commandIds: RequestId[]
  readonly promptQueue: QueuedChunk[]
  readonly defaultQueue: QueuedChunk[]
  dataInFlight: RequestId[] | undefined
  signal: Phase
  signalIds: RequestId[]
  close: Phase
  closeIds: RequestId[]
}

function newTarget(guid: string, pipelineId: string | undefined): Target {
  return {
    guid,
    pipelineId,
    command: pipelineId === undefined ? 'acked' : 'none',
    commandIds: [],
    promptQueue: [],
    defaultQueue: [],
    dataInFlight: undefined,
    signal: 'none',
    signalIds: [],
    close: 'none',
    closeIds: [],
  }
}

/**
 * Client-side OutOfProc session state machine (sans-IO).
 *
 * ```ts
 * const s = new OutOfProcSession()
 * const id = s.send({ stream: 'default', data: fragments })   // queue for the pool
 * for (let p; (p = s.nextPacketToSend()); ) write(p.line)
 * s.receiveData(chunkFromServer)
 * for (let ev; (ev = s.nextEvent()); ) handle(ev)             // data / ack / serverError
 * ```
 */
export class OutOfProcSession {
  readonly #maxPacketSize: number
  readonly #coalesce: boolean
  readonly #reader: LineReader
  /** The pool and every pipeline that had a Command and no CloseAck yet (closed ones are dropped). */
  readonly #targets = new Map<string, Target>()
  /** `<Data>` packets dropped because they came after their pipeline's CloseAck. */
  #lateDataDropped = 0
  /** GUIDs of the last {@link RECENTLY_CLOSED} pipelines whose Close was acknowledged, oldest first. */
  readonly #closed = new Set<string>()
  readonly #pool: Target
  readonly #events = new Fifo<OutOfProcEvent>()
  #nextId: RequestId = 1
  #state: OutOfProcSessionState = 'open'
  #failure: PsrpError | undefined

  constructor(options: OutOfProcSessionOptions = {}) {
    const max = options.maxPacketSize ?? DEFAULT_PACKET_DATA
    if (!Number.isInteger(max) || max < 1 || max > MAX_PACKET_DATA) {
      throw new InvalidArgumentError(`maxPacketSize must be an integer from 1 to ${MAX_PACKET_DATA}`)
    }
    this.#maxPacketSize = max
    this.#coalesce = options.coalesce ?? true
    this.#reader = new LineReader(
      options.maxLineLength === undefined ? {} : { maxLineLength: options.maxLineLength },
    )
    this.#pool = newTarget(SESSION_GUID, undefined)
    this.#targets.set(SESSION_GUID, this.#pool)
  }

  /** `open`, `closing` (pool Close requested), `closed` (pool CloseAck received) or `failed`. */
  get state(): OutOfProcSessionState {
    return this.#state
  }

  /** The error that broke the session, when `state` is `failed`. */
  get failure(): PsrpError | undefined {
    return this.#failure
  }

  /**
   * Pipelines that had a `<Command>` and no `<CloseAck>` yet. A closed pipeline is forgotten, so this
   * (and the session's memory and work per packet) does not grow with the pipelines run.
   */
  get pipelineCount(): number {
    return this.#targets.size - 1
  }

  /** `<Data>` packets dropped because they came after their pipeline's `<CloseAck>` (see the module notes). */
  get lateDataDropped(): number {
    return this.#lateDataDropped
  }

  /** Largest payload of one `<Data>` packet. */
  get maxPacketSize(): number {
    return this.#maxPacketSize
  }

  // ---------------------------------------------------------------- requests

  /**
   * Queues fragment bytes for the pool (`pipelineId` undefined) or a pipeline. The request completes with
   * the `dataAck` of the packet that carries it.
   *
   * @throws {InvalidArgumentError} for an empty or oversized chunk or a bad pipeline id.
   * @throws {InvalidStateError} when the target is closing/closed or the pipeline was never
   *   {@link command}ed.
   */
  send(chunk: PsrpPayload): RequestId {
    this.#assertUsable('send')
    const { data } = chunk
    if (!(data instanceof Uint8Array)) throw new InvalidArgumentError('data must be a Uint8Array')
    if (data.length === 0) throw new InvalidArgumentError('cannot send an empty chunk')
    if (data.length > this.#maxPacketSize) {
      throw new InvalidArgumentError(`a chunk holds at most ${this.#maxPacketSize} bytes, got ${data.length}`)
    }
    if (chunk.stream !== 'default' && chunk.stream !== 'promptResponse') {
      throw new InvalidArgumentError(`unknown stream ${JSON.stringify(chunk.stream)}`)
    }
    let target: Target
    if (chunk.pipelineId === undefined) {
      target = this.#pool
      if (this.#pool.close !== 'none') throw new InvalidStateError('send', this.#state)
    } else {
      const guid = this.#pipelineGuid(chunk.pipelineId)
      const t = this.#targets.get(guid)
      if (t === undefined) {
        if (this.#closed.has(guid))
          throw new InvalidStateError('send', 'closed', `pipeline ${guid} is closed`)
        throw new InvalidStateError('send', 'unknown', `pipeline ${guid}: send data only after command()`)
      }
      if (t.close !== 'none')
        throw new InvalidStateError('send', `close ${t.close}`, `pipeline ${guid} is closing`)
      target = t
    }
    const id = this.#nextId++
    ;(chunk.stream === 'promptResponse' ? target.promptQueue : target.defaultQueue).push({ id, data })
    return id
  }

  /**
   * Queues `<Command PSGuid=pipelineId />` (creates the server-side pipeline transport). Completes with
   * `commandAck`; data for the pipeline is held until then.
   */
  command(pipelineId: string): RequestId {
    this.#assertUsable('command')
    if (this.#pool.close !== 'none') throw new InvalidStateError('command', this.#state)
    const guid = this.#pipelineGuid(pipelineId)
    if (this.#targets.has(guid) || this.#closed.has(guid)) {
      throw new InvalidStateError('command', 'exists', `pipeline ${guid} already had a Command`)
    }
    const t = newTarget(guid, guid)
    t.command = 'queued'
    const id = this.#nextId++
    t.commandIds.push(id)
    this.#targets.set(guid, t)
    return id
  }

  /**
   * Queues `<Signal PSGuid=pipelineId />` (stop the pipeline). Sent once the Command is acked; completes
   * with `signalAck`. A signal requested while one is pending joins it.
   */
  signal(pipelineId: string): RequestId {
    this.#assertUsable('signal')
    const t = this.#pipelineTarget(pipelineId, 'signal')
    if (t.close !== 'none')
      throw new InvalidStateError('signal', `close ${t.close}`, `pipeline ${t.guid} is closing`)
    const id = this.#nextId++
    if (t.signal === 'queued' || t.signal === 'inFlight') {
      t.signalIds.push(id)
    } else {
      t.signal = 'queued'
      t.signalIds = [id]
    }
    return id
  }

  /**
   * Queues `<Close PSGuid=pipelineId />`. Sent after everything queued for the pipeline was acked;
   * completes with `closeAck`. Calling it again while the close is pending joins it.
   */
  closePipeline(pipelineId: string): RequestId {
    this.#assertUsable('closePipeline')
    const t = this.#pipelineTarget(pipelineId, 'closePipeline')
    const id = this.#nextId++
    t.closeIds.push(id)
    if (t.close === 'none') t.close = 'queued'
    return id
  }

  /**
   * Queues the pool's `<Close>`. Every pipeline that had a Command and is not closed gets its own Close
   * queued first; the pool Close is released only after all of their CloseAcks. Completes with the pool's
   * `closeAck`, after which the session is `closed`. Calling it again while closing joins the pending close.
   */
  close(): RequestId {
    this.#assertUsable('close')
    const id = this.#nextId++
    this.#pool.closeIds.push(id)
    if (this.#pool.close === 'none') {
      this.#pool.close = 'queued'
      this.#state = 'closing'
      for (const t of this.#targets.values()) {
        if (t !== this.#pool && t.close === 'none') {
          t.close = 'queued'
          t.closeIds.push(this.#nextId++)
        }
      }
    }
    return id
  }

  // ---------------------------------------------------------------- output

  /**
   * The next packet that may be written now, or `undefined` when everything queued is waiting for an
   * ack. Call it until it returns `undefined` after every request and every received line.
   */
  nextPacketToSend(): OutgoingPacket | undefined {
    if (this.#state === 'failed' || this.#state === 'closed') return undefined
    // 1. Signals (stop requests jump ahead of queued data).
    for (const t of this.#targets.values()) {
      if (t.signal === 'queued' && t.command === 'acked') {
        t.signal = 'inFlight'
        return this.#out({ kind: 'signal', guid: t.guid }, t.signalIds)
      }
    }
    // 2. Commands.
    for (const t of this.#targets.values()) {
      if (t.command === 'queued') {
        t.command = 'inFlight'
        return this.#out({ kind: 'command', guid: t.guid }, t.commandIds)
      }
    }
    // 3. Data, one packet in flight per GUID, PromptResponse first.
    for (const t of this.#targets.values()) {
      if (t.command !== 'acked' || t.dataInFlight !== undefined) continue
      const queue = t.promptQueue.length > 0 ? t.promptQueue : t.defaultQueue
      if (queue.length === 0) continue
      const stream: OutOfProcStream = queue === t.promptQueue ? 'promptResponse' : 'default'
      const first = queue.shift() as QueuedChunk
      const ids = [first.id]
      let data = first.data
      if (this.#coalesce && queue.length > 0) {
        const parts = [first.data]
        let total = first.data.length
        for (let next = queue[0]; next !== undefined; next = queue[0]) {
          if (total + next.data.length > this.#maxPacketSize) break
          queue.shift()
          parts.push(next.data)
          ids.push(next.id)
          total += next.data.length
        }
        if (parts.length > 1) {
          data = new Uint8Array(total)
          let off = 0
          for (const p of parts) {
            data.set(p, off)
            off += p.length
          }
        }
      }
      t.dataInFlight = ids
      return this.#out({ kind: 'data', guid: t.guid, stream, data }, ids)
    }
    // 4. Pipeline Closes, once the pipeline is quiet.
    for (const t of this.#targets.values()) {
      if (t === this.#pool || t.close !== 'queued') continue
      if (t.command !== 'acked' || !this.#quiet(t)) continue
      t.close = 'inFlight'
      return this.#out({ kind: 'close', guid: t.guid }, t.closeIds)
    }
    // 5. The pool Close, once every Command'ed pipeline is closed.
    const pool = this.#pool
    if (pool.close === 'queued' && this.#quiet(pool)) {
      for (const t of this.#targets.values()) {
        if (t !== pool && t.close !== 'acked') return undefined
      }
      pool.close = 'inFlight'
      return this.#out({ kind: 'close', guid: pool.guid }, pool.closeIds)
    }
    return undefined
  }

  /** The next event, or `undefined` when there is none. */
  nextEvent(): OutOfProcEvent | undefined {
    return this.#events.shift()
  }

  // ---------------------------------------------------------------- input

  /**
   * Feeds raw bytes (or text) from the server; complete lines are processed as by {@link receiveLine}.
   *
   * @throws {ProtocolError} (side `remote`) on any protocol violation; the session is then `failed`.
   */
  receiveData(chunk: Uint8Array | string): void {
    this.#assertReceivable()
    let lines: string[]
    try {
      lines = this.#reader.push(chunk)
    } catch (e) {
      throw this.#fail(e)
    }
    for (const line of lines) this.receiveLine(line)
  }

  /**
   * Tells the session that the server's stream ended. An unterminated final line is processed.
   *
   * @throws {ProtocolError} when that line is not a packet.
   */
  receiveEnd(): void {
    if (this.#state === 'failed') return
    const rest = this.#reader.end()
    if (rest !== undefined) this.receiveLine(rest)
  }

  /**
   * Processes one line from the server (terminator optional). Empty lines are ignored.
   *
   * @throws {ProtocolError} (side `remote`) on any protocol violation; the session is then `failed`.
   */
  receiveLine(line: string): void {
    this.#assertReceivable()
    if (line === '' || line === '\r' || line === '\n' || line === '\r\n') return
    try {
      this.#receive(line)
    } catch (e) {
      throw this.#fail(e)
    }
  }

  #receive(line: string): void {
    const p = decodeLine(line)
    if (p.kind === 'serverError') {
      this.#events.push({ type: 'serverError', prefix: p.prefix, message: p.message })
      return
    }
    if (this.#state === 'closed') {
      throw new ProtocolError(`received <${p.kind}> after the session was closed`, { side: 'remote' })
    }
    const t = this.#targets.get(p.guid)
    const what = p.guid === SESSION_GUID ? 'the session' : `pipeline ${p.guid}`
    if (t === undefined && this.#closed.has(p.guid)) {
      // pwsh writes a pipeline's messages on other threads than its acks, so the last of them can
      // follow the CloseAck (seen when a pipeline is stopped and closed under load): they belong to
      // a pipeline this client has released and are dropped. An ack after the CloseAck stays an error.
      if (p.kind === 'data') {
        this.#lateDataDropped++
        return
      }
      throw new ProtocolError(`received <${p.kind}> for ${what} after its CloseAck`, { side: 'remote' })
    }
    switch (p.kind) {
      case 'command':
      case 'signal':
      case 'close':
        throw new ProtocolError(`the server sent <${p.kind}> for ${what}; only clients send it`, {
          side: 'remote',
        })
      case 'data': {
        if (t === undefined) throw new ProtocolError(`received data for unknown ${what}`, { side: 'remote' })
        if (t.command !== 'acked') {
          throw new ProtocolError(`received data for ${what} before its CommandAck`, { side: 'remote' })
        }
        this.#events.push({ type: 'data', pipelineId: t.pipelineId, stream: p.stream, data: p.data })
        return
      }
      case 'dataAck': {
        if (t?.dataInFlight === undefined) {
          throw new ProtocolError(`unexpected DataAck for ${what}: no data in flight`, { side: 'remote' })
        }
        const ids = t.dataInFlight
        t.dataInFlight = undefined
        this.#ack('dataAck', t, ids)
        return
      }
      case 'commandAck': {
        if (t?.command !== 'inFlight') {
          throw new ProtocolError(`unexpected CommandAck for ${what}: no Command in flight`, {
            side: 'remote',
          })
        }
        t.command = 'acked'
        this.#ack('commandAck', t, t.commandIds)
        t.commandIds = []
        return
      }
      case 'signalAck': {
        if (t?.signal !== 'inFlight') {
          throw new ProtocolError(`unexpected SignalAck for ${what}: no Signal in flight`, { side: 'remote' })
        }
        t.signal = 'acked'
        this.#ack('signalAck', t, t.signalIds)
        t.signalIds = []
        return
      }
      case 'closeAck': {
        if (t?.close !== 'inFlight') {
          throw new ProtocolError(`unexpected CloseAck for ${what}: no Close in flight`, { side: 'remote' })
        }
        t.close = 'acked'
        this.#ack('closeAck', t, t.closeIds)
        t.closeIds = []
        if (t === this.#pool) this.#state = 'closed'
        else this.#forget(t)
        return
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Drops a pipeline whose Close was acknowledged: the server has forgotten it too, and the session's
   * work per packet stays proportional to the open pipelines, not to every pipeline ever run.
   */
  #forget(t: Target): void {
    this.#targets.delete(t.guid)
    this.#closed.add(t.guid)
    if (this.#closed.size > RECENTLY_CLOSED) {
      for (const oldest of this.#closed) {
        this.#closed.delete(oldest)
        break
      }
    }
  }

  #ack(ack: AckKind, t: Target, ids: readonly RequestId[]): void {
    this.#events.push({ type: 'ack', ack, pipelineId: t.pipelineId, requestIds: ids })
  }

  #out(packet: OutOfProcPacket, ids: readonly RequestId[]): OutgoingPacket {
    return { packet, line: encodePacketLine(packet), requestIds: [...ids] }
  }

  /** Nothing queued or in flight for the target except its Close. */
  #quiet(t: Target): boolean {
    return (
      t.dataInFlight === undefined &&
      t.promptQueue.length === 0 &&
      t.defaultQueue.length === 0 &&
      t.signal !== 'queued' &&
      t.signal !== 'inFlight'
    )
  }

  #pipelineGuid(pipelineId: string): string {
    const guid = typeof pipelineId === 'string' ? canonicalGuid(pipelineId) : undefined
    if (guid === undefined) throw new InvalidArgumentError(`not a GUID: ${JSON.stringify(pipelineId)}`)
    if (guid === SESSION_GUID) {
      throw new InvalidArgumentError('the all-zero GUID addresses the pool; pass pipelineId undefined')
    }
    return guid
  }

  #pipelineTarget(pipelineId: string, action: string): Target {
    const guid = this.#pipelineGuid(pipelineId)
    const t = this.#targets.get(guid)
    if (t === undefined) {
      if (this.#closed.has(guid)) throw new InvalidStateError(action, 'closed', `pipeline ${guid} is closed`)
      throw new InvalidStateError(action, 'unknown', `pipeline ${guid} never had a Command`)
    }
    return t
  }

  #assertUsable(action: string): void {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#state === 'closed') throw new InvalidStateError(action, 'closed')
  }

  #assertReceivable(): void {
    if (this.#failure !== undefined) throw this.#failure
  }

  #fail(e: unknown): PsrpError {
    const err =
      e instanceof ProtocolError
        ? e
        : new ProtocolError(`failed to process a received line: ${String(e)}`, { side: 'remote', cause: e })
    this.#state = 'failed'
    this.#failure = err
    return err
  }
}
