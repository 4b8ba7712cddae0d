/**
 * Drives the sans-IO {@link OutOfProcSession} over any Node readable + writable byte stream pair: a
 * `pwsh -s` child process, an SSH `powershell` subsystem channel, a named pipe. The stream is obtained
 * from a {@link OutOfProcConnector}, so each transport only says how to open and shut its stream.
 * It implements the {@link PsrpTransport} seam for the whole OutOfProc family.
 *
 * @module
 */
import type { Readable, Writable } from 'node:stream'
import { AbortError, InvalidStateError, PsrpError, TimeoutError, TransportError } from '../errors.ts'
import {
  OutOfProcSession,
  type OutOfProcSessionOptions,
  type PsrpPayload,
  type RequestId,
} from '../outofproc/index.ts'
import { AsyncEventQueue } from './event-queue.ts'
import { withCancel, type CallOptions } from './cancel.ts'
import type { PsrpTransport, PsrpTransportEvent } from './psrp-transport.ts'

/** A readable + writable byte stream pair plus how to shut it down. */
export interface OutOfProcStreams {
  /** Bytes from the server (stdout, channel, socket). */
  readonly readable: Readable
  /** Bytes to the server (stdin, channel, socket). */
  readonly writable: Writable
  /**
   * Releases the stream and its peer. `closed`: after the pool's CloseAck (graceful). `failed`: after a
   * failure (forceful). Called at most once; must not throw.
   */
  shutdown?(reason: 'closed' | 'failed'): Promise<void>
  /**
   * Builds the error for an unexpected end of `readable` (or an error on either stream); e.g. a process
   * transport waits for the exit code. Default: a {@link TransportError} naming the cause.
   */
  describeEnd?(cause: Error | undefined): Promise<PsrpError>
}

/** Callbacks a connector may use while the transport runs. */
export interface OutOfProcConnectContext {
  /** Aborted when start() is cancelled or times out. */
  readonly signal: AbortSignal
  /** Reports a failure observed outside the byte stream (stderr text, process exit). */
  readonly fail: (error: PsrpError) => void
  /** True once the pool's Close was sent (exit/EOF is then expected). */
  readonly closing: () => boolean
}

/** Opens the byte stream for a transport. */
export type OutOfProcConnector = (context: OutOfProcConnectContext) => Promise<OutOfProcStreams>

/** Options of {@link OutOfProcStreamTransport}. */
export interface OutOfProcStreamTransportOptions {
  /** Time allowed for the connector and for the server's first line after our first packet. Default 30 s. */
  connectTimeout?: number | undefined
  /** Default timeout of {@link PsrpTransport.signal}, pipeline close and pool close. Default 60 s. */
  closeTimeout?: number | undefined
  /**
   * Longest line accepted from the server, in characters (terminator excluded); default 16 Mi
   * characters (`DEFAULT_MAX_LINE_LENGTH` of `psrp/outofproc`; pwsh's longest line is about 44 KB).
   * It is checked as text arrives, before a line is joined: a longer line fails the connection with a
   * `ProtocolError` (`ERR_PROTOCOL`), and every pending call rejects with it. Takes precedence over
   * `session.maxLineLength`; the constructor throws an `InvalidArgumentError` when it is not a positive
   * integer.
   */
  maxLineLength?: number | undefined
  /** Options of the sans-IO session. */
  session?: OutOfProcSessionOptions | undefined
  /** Name of the peer for error messages (`pwsh`, `ssh`, `named pipe`). */
  peerName?: string | undefined
}

/** Where an {@link OutOfProcStreamTransport} is in its life, as its `state` getter reports it. */
export type OutOfProcTransportState = 'new' | 'starting' | 'open' | 'closing' | 'closed' | 'failed'

interface Waiter {
  resolve(): void
  reject(error: PsrpError): void
}

const DEFAULT_CONNECT_TIMEOUT = 30_000
const DEFAULT_CLOSE_TIMEOUT = 60_000
/** Characters of packet lines gathered into one write (a few full 32 KiB packets). */
const WRITE_BATCH = 256 * 1024

function toPsrpError(e: unknown, fallback: string): PsrpError {
  if (e instanceof PsrpError) return e
  return new TransportError(`${fallback}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
}

/**
 * The OutOfProc engine over a Node stream pair. Subclasses (or callers) supply the connector; see
 * {@link ProcessConnection} for `pwsh -s`.
 */
export class OutOfProcStreamTransport implements PsrpTransport {
  readonly #connector: OutOfProcConnector
  readonly #session: OutOfProcSession
  readonly #queue = new AsyncEventQueue<PsrpTransportEvent>()
  readonly #waiters = new Map<RequestId, Waiter>()
  readonly #connectTimeout: number
  readonly #closeTimeout: number
  readonly #peer: string
  #state: OutOfProcTransportState = 'new'
  #failure: PsrpError | undefined
  #streams: OutOfProcStreams | undefined
  #startPromise: Promise<void> | undefined
  #closePromise: Promise<void> | undefined
  #shutdownPromise: Promise<void> | undefined
  #waitingForDrain = false
  #wroteAny = false
  #receivedAny = false
  #firstResponseTimer: ReturnType<typeof setTimeout> | undefined
  #endHandled = false
  #eventsTaken = false
  #paused = false
  readonly #detach: (() => void)[] = []

  /**
   * @param connector opens the stream pair (called by {@link start}).
   * @param options timeouts and session options.
   * @throws {InvalidArgumentError} when `maxLineLength` (or a session option) is out of range.
   */
  constructor(connector: OutOfProcConnector, options: OutOfProcStreamTransportOptions = {}) {
    this.#connector = connector
    const { maxLineLength } = options
    this.#session = new OutOfProcSession(
      maxLineLength === undefined ? (options.session ?? {}) : { ...options.session, maxLineLength },
    )
    this.#connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT
    this.#peer = options.peerName ?? 'server'
  }

  /** Largest `data` accepted by {@link send}. */
  get maxPacketSize(): number {
    return this.#session.maxPacketSize
  }

  /** The error that broke the transport, if any. */
  get failure(): PsrpError | undefined {
    return this.#failure
  }

  /** `new`, `starting`, `open`, `closing`, `closed` or `failed`. */
  get state(): OutOfProcTransportState {
    return this.#state
  }

  /** {@inheritDoc PsrpTransport.events} */
  events(): AsyncIterableIterator<PsrpTransportEvent> {
    if (this.#eventsTaken) throw new InvalidStateError('events', 'taken', 'events() has a single consumer')
    this.#eventsTaken = true
    return this.#queue
  }

  /** {@inheritDoc PsrpTransport.start} */
  start(options: CallOptions = {}): Promise<void> {
    this.#startPromise ??= this.#start(options)
    return this.#startPromise
  }

  async #start(options: CallOptions): Promise<void> {
    if (this.#state !== 'new') throw new InvalidStateError('start', this.#state)
    this.#state = 'starting'
    const controller = new AbortController()
    const timeout = options.timeout ?? this.#connectTimeout
    let streams: OutOfProcStreams
    try {
      streams = await withCancel(
        this.#connector({
          signal: controller.signal,
          fail: (error) => this.fail(error),
          closing: () =>
            this.#state === 'closing' || this.#state === 'closed' || this.#session.state !== 'open',
        }),
        { signal: options.signal, timeout },
        `connecting to ${this.#peer}`,
        () => controller.abort(),
      )
    } catch (e) {
      const err = toPsrpError(e, `cannot connect to ${this.#peer}`)
      this.fail(err)
      throw err
    }
    if (this.#state !== 'starting') {
      // failed (or closed) while connecting
      await streams.shutdown?.('failed')
      throw this.#failure ?? new InvalidStateError('start', this.#state)
    }
    this.#streams = streams
    this.#attach(streams)
    this.#state = 'open'
    if (this.#paused) streams.readable.pause()
  }

  /** {@inheritDoc PsrpTransport.setPaused} */
  setPaused(paused: boolean): void {
    if (this.#paused === paused) return
    this.#paused = paused
    const readable = this.#streams?.readable
    if (readable === undefined || this.#state === 'failed' || this.#state === 'closed') return
    if (paused) readable.pause()
    else readable.resume()
  }

  #attach(streams: OutOfProcStreams): void {
    const { readable, writable } = streams
    const onData = (chunk: Buffer | string): void => this.#onData(chunk)
    const onEnd = (): void => this.#onEnd(undefined)
    const onError = (e: Error): void => this.#onEnd(e)
    const onWritableError = (e: Error): void => this.#onEnd(e)
    const onDrain = (): void => {
      this.#waitingForDrain = false
      this.#pump()
    }
    readable.on('data', onData)
    readable.on('end', onEnd)
    readable.on('close', onEnd)
    readable.on('error', onError)
    writable.on('error', onWritableError)
    writable.on('drain', onDrain)
    this.#detach.push(() => {
      readable.off('data', onData)
      readable.off('end', onEnd)
      readable.off('close', onEnd)
      readable.off('error', onError)
      writable.off('drain', onDrain)
      // keep an error listener so late EPIPE errors do not crash the process
      writable.off('error', onWritableError)
      writable.on('error', () => {})
      readable.on('error', () => {})
    })
  }

  /**
   * Sends fragment bytes (`<Data>`); resolves when the server acknowledged the packet that carried
   * them. Data for a pipeline waits for its `<CommandAck>`.
   */
  send(payload: PsrpPayload, options: CallOptions = {}): Promise<void> {
    return this.#request('send', () => this.#session.send(payload), options, undefined)
  }

  /** The pool's opening data: a `<Data>` for the pool like any other (OutOfProc has no Create). */
  createPool(payload: PsrpPayload, options: CallOptions = {}): Promise<void> {
    return this.send(payload, options)
  }

  /** The pool's connect data: a `<Data>` for the pool like any other. */
  connectPool(payload: PsrpPayload, options: CallOptions = {}): Promise<void> {
    return this.send(payload, options)
  }

  /**
   * Announces a pipeline (`<Command>`) and sends its first data after the `<CommandAck>`; resolves
   * when both were acknowledged.
   */
  createPipeline(pipelineId: string, firstPayload: PsrpPayload, options: CallOptions = {}): Promise<void> {
    const announced = this.command(pipelineId, options)
    const sent = this.send({ ...firstPayload, pipelineId }, options)
    return Promise.all([announced, sent]).then(() => undefined)
  }

  /** Announces a pipeline (`<Command>`); resolves on `<CommandAck>`. Data for it waits until then. */
  command(pipelineId: string, options: CallOptions = {}): Promise<void> {
    return this.#request('command', () => this.#session.command(pipelineId), options, undefined)
  }

  /** {@inheritDoc PsrpTransport.signal} */
  signal(pipelineId: string, options: CallOptions = {}): Promise<void> {
    return this.#request('signal', () => this.#session.signal(pipelineId), options, this.#closeTimeout)
  }

  /**
   * Releases a pipeline (`<Close>`). Resolves once the Close is queued, without waiting for its
   * `<CloseAck>`: the session sends it as soon as the pipeline is quiet, and it holds the pool's Close
   * until every pipeline's CloseAck arrived (the pool's close timeout covers a missing one). Nothing
   * else the protocol orders depends on that ack: a next pipeline has its own GUID. PowerShell's client
   * waits for it, one round trip per invoke.
   */
  closePipeline(pipelineId: string, options: CallOptions = {}): Promise<void> {
    return this.#request(
      'closePipeline',
      () => this.#session.closePipeline(pipelineId),
      options,
      undefined,
      true,
    )
  }

  /** {@inheritDoc PsrpTransport.close} */
  close(options: CallOptions = {}): Promise<void> {
    this.#closePromise ??= this.#close(options)
    return this.#closePromise
  }

  async #close(options: CallOptions): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'closed'
      this.#queue.end()
      return
    }
    if (this.#state === 'starting') {
      try {
        await this.#startPromise
      } catch {
        // start failed; nothing to close
      }
    }
    if (this.#state === 'failed') {
      await this.#shutdown('failed')
      return
    }
    let error: PsrpError | undefined
    try {
      if (this.#session.state === 'open' || this.#session.state === 'closing') {
        // the acks of the close must be read even if a consumer had paused reading
        this.setPaused(false)
        this.#state = 'closing'
        await this.#request('close', () => this.#session.close(), options, this.#closeTimeout)
      }
    } catch (e) {
      error = toPsrpError(e, 'closing the session failed')
    }
    if (this.#failure !== undefined) {
      await this.#shutdown('failed')
      // a failure while closing (other than the one we caused) is reported
      if (error !== undefined && !(error instanceof TimeoutError || error instanceof AbortError)) throw error
      return
    }
    if (error !== undefined) {
      // timeout or abort: tear down forcefully, fail pending operations, then report
      this.fail(error)
      await this.#shutdown('failed')
      throw error
    }
    this.#state = 'closed'
    this.#clearTimers()
    this.#rejectAll(new InvalidStateError('wait', 'closed', 'the transport was closed'))
    this.#queue.end()
    await this.#shutdown('closed')
  }

  /**
   * Fails the transport: every pending operation rejects with `error`, the event stream yields a `failed`
   * event and ends, and the stream is shut down forcefully. Later failures are ignored. Connectors call
   * it (through their context) for failures seen outside the byte stream.
   */
  fail(error: PsrpError): void {
    if (this.#state === 'failed' || this.#state === 'closed') return
    this.#state = 'failed'
    this.#failure = error
    this.#clearTimers()
    this.#rejectAll(error)
    this.#queue.push({ type: 'failed', error })
    this.#queue.end()
    if (this.#streams !== undefined) void this.#shutdown('failed')
  }

  // ------------------------------------------------------------------ internals

  #request(
    action: string,
    enqueue: () => RequestId,
    options: CallOptions,
    defaultTimeout: number | undefined,
    resolveWhenQueued = false,
  ): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    if (this.#state === 'new' || this.#state === 'starting') {
      return Promise.reject(new InvalidStateError(action, this.#state, `call start() before ${action}()`))
    }
    if (this.#state === 'closed') return Promise.reject(new InvalidStateError(action, 'closed'))
    if (options.signal?.aborted === true) return Promise.reject(new AbortError())
    let id: RequestId
    try {
      id = enqueue()
    } catch (e) {
      return Promise.reject(toPsrpError(e, `${action} failed`))
    }
    if (resolveWhenQueued) {
      this.#pump()
      return Promise.resolve()
    }
    const acked = new Promise<void>((resolve, reject) => {
      this.#waiters.set(id, { resolve, reject })
    })
    this.#pump()
    return withCancel(
      acked,
      { signal: options.signal, timeout: options.timeout ?? defaultTimeout },
      `${action} (waiting for the ${this.#peer}'s acknowledgement)`,
      () => this.#waiters.delete(id),
    )
  }

  /**
   * Writes every packet the session releases now. Packets released together (a pipeline's Close and
   * the next one's Command, several pipelines' data) go out in one write: one system call, and one
   * wake-up of the server's reader instead of one per packet.
   */
  #pump(): void {
    const streams = this.#streams
    if (streams === undefined || this.#waitingForDrain) return
    let batch = ''
    while (this.#state === 'open' || this.#state === 'closing') {
      const out = this.#session.nextPacketToSend()
      if (out === undefined) break
      if (!this.#wroteAny) {
        this.#wroteAny = true
        if (!this.#receivedAny) {
          const ms = this.#connectTimeout
          this.#firstResponseTimer = setTimeout(() => {
            this.fail(new TimeoutError(`no answer from ${this.#peer} within ${ms} ms`, ms))
          }, ms)
        }
      }
      batch += out.line
      if (batch.length >= WRITE_BATCH) {
        const ok = this.#write(streams, batch)
        batch = ''
        if (!ok) return
      }
    }
    if (batch !== '') this.#write(streams, batch)
  }

  /** Writes `text`; false when the stream failed or asked to wait for `drain`. */
  #write(streams: OutOfProcStreams, text: string): boolean {
    let ok: boolean
    try {
      ok = streams.writable.write(text)
    } catch (e) {
      this.#onEnd(e instanceof Error ? e : new Error(String(e)))
      return false
    }
    if (!ok) this.#waitingForDrain = true
    return ok
  }

  #onData(chunk: Buffer | string): void {
    if (this.#state === 'failed' || this.#state === 'closed') return
    if (!this.#receivedAny) {
      this.#receivedAny = true
      if (this.#firstResponseTimer !== undefined) clearTimeout(this.#firstResponseTimer)
      this.#firstResponseTimer = undefined
    }
    try {
      this.#session.receiveData(typeof chunk === 'string' ? chunk : new Uint8Array(chunk))
    } catch (e) {
      this.#drainEvents()
      this.fail(toPsrpError(e, `bad data from ${this.#peer}`))
      return
    }
    this.#drainEvents()
    this.#pump()
  }

  #drainEvents(): void {
    for (let ev = this.#session.nextEvent(); ev !== undefined; ev = this.#session.nextEvent()) {
      switch (ev.type) {
        case 'data':
          // the session's data event has the transport event's shape: passed on as it is
          this.#queue.push(ev)
          break
        case 'ack':
          for (const id of ev.requestIds) {
            const w = this.#waiters.get(id)
            if (w !== undefined) {
              this.#waiters.delete(id)
              w.resolve()
            }
          }
          break
        case 'serverError':
          if (this.#session.state === 'closed') break // the expected "unknown element" after EOF
          this.fail(new TransportError(`${this.#peer} reported an error: ${ev.message.trim()}`))
          return
      }
    }
  }

  #onEnd(cause: Error | undefined): void {
    if (this.#endHandled) return
    this.#endHandled = true
    if (this.#state === 'failed' || this.#state === 'closed') return
    try {
      this.#session.receiveEnd()
      this.#drainEvents()
    } catch (e) {
      this.fail(toPsrpError(e, `bad data from ${this.#peer}`))
      return
    }
    if (this.#session.state === 'closed') return
    const describe = this.#streams?.describeEnd
    if (describe === undefined) {
      this.fail(
        new TransportError(
          cause === undefined
            ? `${this.#peer} closed the connection`
            : `connection to ${this.#peer} failed: ${cause.message}`,
          cause === undefined ? undefined : { cause },
        ),
      )
      return
    }
    describe.call(this.#streams, cause).then(
      (error) => this.fail(error),
      (e: unknown) => this.fail(toPsrpError(e, `connection to ${this.#peer} failed`)),
    )
  }

  #rejectAll(error: PsrpError): void {
    const waiters = [...this.#waiters.values()]
    this.#waiters.clear()
    for (const w of waiters) w.reject(error)
  }

  #clearTimers(): void {
    if (this.#firstResponseTimer !== undefined) clearTimeout(this.#firstResponseTimer)
    this.#firstResponseTimer = undefined
  }

  #shutdown(reason: 'closed' | 'failed'): Promise<void> {
    this.#shutdownPromise ??= (async () => {
      for (const d of this.#detach.splice(0)) d()
      const streams = this.#streams
      if (streams === undefined) return
      if (streams.shutdown !== undefined) {
        try {
          await streams.shutdown(reason)
        } catch {
          // shutdown must not throw; ignore if it does
        }
      } else {
        streams.writable.end()
        streams.readable.destroy()
      }
    })()
    return this.#shutdownPromise
  }
}
