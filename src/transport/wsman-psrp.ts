/**
 * PSRP over WinRM (MS-PSRP 3.1.5.3): a runspace pool is a WinRS shell of a PowerShell resource URI,
 * each pipeline a command of that shell. This transport implements the {@link PsrpTransport} seam
 * with WS-Man operations; the client says which operation each payload is:
 *
 * - {@link WSManPsrpTransport.createPool}: Create, the payload (SESSION_CAPABILITY,
 *   INIT_RUNSPACEPOOL) as `creationXml`; {@link WSManPsrpTransport.connectPool}: Connect, the payload
 *   as `connectXml`;
 * - {@link WSManPsrpTransport.createPipeline}: Command, the payload (CREATE_PIPELINE) as its
 *   arguments, the pipeline id as CommandId;
 * - {@link WSManPsrpTransport.send}: Send on `stdin` (`pr` for host responses), with the CommandId
 *   for a pipeline;
 * - server data arrives through Receive long-polls, one loop for the pool and one per pipeline, each
 *   on its own HTTP connection so a pending Receive never delays a Send;
 * - stop is a Signal `powershell/signal/crtl_c`, releasing an unfinished pipeline a Signal
 *   `terminate`, closing the pool a Delete.
 *
 * **Surviving the network** (docs/network.md). MS-WSMV 2.2.4.26 gives a Receive no sequence number
 * (the `SequenceID` of a ReceiveResponse is "reserved", 2.2.4.27), and the server dequeues the output
 * it puts in a ReceiveResponse (MS-PSRP 3.2.5.4.1): a Receive whose response was lost cannot ask for
 * that output again. So a Receive that timed out on read or lost its connection is sent again on a new
 * connection (up to `receiveRetries`, then for a pool until `reconnectWindow` passes, reconnecting the
 * shell if the server disconnected it), and the PSRP fragment ids of the first output after it decide
 * (fragment-cursor.ts): a repeat of what arrived is dropped, the next fragment continues, anything
 * else means output was lost and fails the stream with a {@link TransportError}. Output is delivered exactly once or the loss is reported; never a silent gap.
 *
 * @module
 */
import {
  ConnectionLostError,
  InvalidStateError,
  PsrpError,
  TimeoutError,
  TransportError,
  WSManFaultError,
} from '../errors.ts'
import type { PsrpPayload } from '../psrp/index.ts'
import { FragmentCursor, ObjectIdLedger } from './fragment-cursor.ts'
import {
  psrpCommand,
  psrpConnect,
  psrpConnectCommand,
  psrpCreate,
  psrpDelete,
  psrpDisconnect,
  psrpGetShell,
  psrpReconnect,
  psrpReceive,
  psrpSend,
  psrpSignal,
  type WSManResponse,
} from '../wsman/index.ts'
import { AsyncEventQueue } from './event-queue.ts'
import { cancelScope, type CallOptions } from './cancel.ts'
import { sleep } from './http/signals.ts'
import { isServerUnreachable } from './http/soap-client.ts'
import type {
  PsrpDisconnectable,
  PsrpTransport,
  PsrpTransportEvent,
  PsrpTransportRequest,
} from './psrp-transport.ts'
import type { WSManConnection, WSManRequestOptions } from './wsman-connection.ts'

/** Options of {@link WSManPsrpTransport}. */
export interface WSManPsrpTransportOptions extends PsrpTransportRequest {
  /** The endpoint. */
  readonly connection: WSManConnection
}

const ENVELOPE_OVERHEAD = 4096

interface PipelineEntry {
  /**
   * The WS-Man CommandId: the pipeline id, unless the server chose its own in the CommandResponse
   * (PowerShell 2.0, protocol 2.1, ignores the client's CommandId; MS-WSMV 3.1.4.11).
   */
  commandId: string
  /** The Command (carrying CREATE_PIPELINE) was sent. */
  commandSent: boolean
  /** The server reported CommandState Done. */
  done: boolean
  readonly stop: AbortController
}

/** The PSRP transport of one runspace pool over WinRM. */
export class WSManPsrpTransport implements PsrpTransport, PsrpDisconnectable {
  readonly #conn: WSManConnection
  readonly #o: WSManPsrpTransportOptions
  readonly #queue = new AsyncEventQueue<PsrpTransportEvent>()
  readonly #chains = new Map<string, Promise<void>>()
  readonly #pipelines = new Map<string, PipelineEntry>()
  readonly #poolStop = new AbortController()
  /** The PSRP ObjectIds seen on the pool's streams, for the loss check after a retried Receive. */
  readonly #ledger = new ObjectIdLedger()
  #created = false
  /**
   * The WS-Man ShellId: the pool id, unless the server chose its own in the CreateResponse (PowerShell
   * 2.0, protocol 2.1, ignores `rsp:Shell/@ShellId`; MS-WSMV 3.1.4.5). PSRP messages keep the pool id.
   */
  #shellId: string
  #disconnected = false
  #poolLoop: AbortController | undefined
  #closing: Promise<void> | undefined
  #failure: PsrpError | undefined
  #paused = false
  #resume: (() => void)[] = []
  #eventsTaken = false
  /** The shared wait for the shell to answer again after a lost connection ({@link #recover}). */
  #recovering: Promise<void> | undefined

  constructor(options: WSManPsrpTransportOptions) {
    this.#o = options
    this.#conn = options.connection
    this.#shellId = options.poolId
  }

  /** PSRP bytes per request: the payload travels base64 (4/3) inside an envelope of the server's size. */
  get maxPacketSize(): number {
    return Math.floor(((this.#conn.maxEnvelopeSize - ENVELOPE_OVERHEAD) * 3) / 4)
  }

  /** The error that broke the transport, if any. */
  get failure(): PsrpError | undefined {
    return this.#failure
  }

  /** The WS-Man ShellId: the RunspacePool id, or the id the server assigned on Create. */
  get shellId(): string {
    return this.#shellId
  }

  /** Nothing to open: the shell is created by {@link createPool}. */
  start(): Promise<void> {
    return this.#failure === undefined ? Promise.resolve() : Promise.reject(this.#failure)
  }

  /** Creates the shell (WS-Man Create) with the pool's opening messages as `creationXml`. */
  createPool(payload: PsrpPayload, options: CallOptions = {}): Promise<void> {
    return this.#serial('', options, async (signal) => {
      if (this.#created) throw new InvalidStateError('create the pool', 'created')
      const res = await this.#request(
        psrpCreate({
          ...this.#target(),
          creationXml: payload.data,
          ...(this.#o.protocolVersion === undefined ? {} : { protocolVersion: this.#o.protocolVersion }),
          ...(this.#o.idleTimeout === undefined ? {} : { idleTimeout: this.#o.idleTimeout }),
          ...(this.#o.noProfile === undefined ? {} : { noProfile: this.#o.noProfile }),
          ...(this.#o.sessionName === undefined ? {} : { name: this.#o.sessionName }),
          ...(this.#o.outputBufferingMode === undefined ? {} : { bufferMode: this.#o.outputBufferingMode }),
        }),
        { signal },
      )
      if (res.kind === 'created' && res.shellId !== undefined) this.#shellId = res.shellId.toLowerCase()
      this.#created = true
      this.#startPoolLoop()
    })
  }

  /**
   * Attaches to an existing (disconnected) shell (WS-Man Connect) with the pool's connect messages as
   * `connectXml`; the reply's `connectResponseXml` is the server's answer, reported as pool data.
   */
  connectPool(payload: PsrpPayload, options: CallOptions = {}): Promise<void> {
    return this.#serial('', options, async (signal) => {
      if (this.#created) throw new InvalidStateError('connect to the pool', 'created')
      const res = await this.#request(
        psrpConnect({
          ...this.#target(),
          connectXml: payload.data,
          ...(this.#o.protocolVersion === undefined ? {} : { protocolVersion: this.#o.protocolVersion }),
        }),
        { signal },
      )
      this.#created = true
      if (res.kind === 'connected' && res.connectResponseXml !== undefined) {
        this.#queue.push({
          type: 'data',
          pipelineId: undefined,
          stream: 'default',
          data: res.connectResponseXml,
        })
      }
      this.#startPoolLoop()
    })
  }

  /**
   * Creates a pipeline (WS-Man Command) with its first payload (CREATE_PIPELINE) as the arguments and
   * the pipeline id as CommandId (the server may assign its own), then receives its output.
   */
  createPipeline(pipelineId: string, firstPayload: PsrpPayload, options: CallOptions = {}): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    if (this.#pipelines.has(pipelineId)) {
      return Promise.reject(
        new InvalidStateError('start a pipeline', 'running', `pipeline ${pipelineId} exists`),
      )
    }
    const p: PipelineEntry = {
      commandId: pipelineId,
      commandSent: false,
      done: false,
      stop: new AbortController(),
    }
    this.#pipelines.set(pipelineId, p)
    return this.#serial(pipelineId, options, async (signal) => {
      const res = await this.#request(
        psrpCommand({ ...this.#target(), pipelineId, arguments: firstPayload.data }),
        { signal },
      )
      if (res.kind === 'commandCreated') p.commandId = res.commandId.toLowerCase()
      p.commandSent = true
      void this.#receiveLoop(pipelineId, p.stop.signal)
    })
  }

  /** Sends fragment bytes to the pool or a created pipeline (WS-Man Send); resolves when the server answered. */
  send(payload: PsrpPayload, options: CallOptions = {}): Promise<void> {
    const pid = payload.pipelineId
    return this.#serial(pid ?? '', options, async (signal) => {
      await this.#request(
        psrpSend({
          ...this.#target(),
          data: payload.data,
          stream: payload.stream === 'promptResponse' ? 'pr' : 'stdin',
          ...(pid === undefined ? {} : { pipelineId: this.#commandId(pid) }),
        }),
        { signal },
      )
    })
  }

  /**
   * Disconnects the shell (WS-Man Disconnect): Receives stop; the server keeps the pool and its
   * pipelines running for `idleTimeout` seconds and buffers their output.
   */
  async disconnect(options: CallOptions & { idleTimeout?: number } = {}): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    if (!this.#created || this.#disconnected)
      throw new InvalidStateError('disconnect', this.#disconnected ? 'disconnected' : 'not created')
    this.#disconnected = true
    this.#poolLoop?.abort()
    for (const p of this.#pipelines.values()) p.stop.abort()
    await this.#request(
      psrpDisconnect({
        ...this.#target(),
        ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
      }),
      withOptions(options),
    )
  }

  /**
   * Reconnects a disconnected shell (WS-Man Reconnect), then each unfinished pipeline with a second
   * Reconnect naming its CommandId (MS-PSRP 3.1.5.3.18), and resumes receiving.
   */
  async reconnect(options: CallOptions = {}): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    if (!this.#disconnected) throw new InvalidStateError('reconnect', 'connected')
    await this.#request(psrpReconnect(this.#target()), withOptions(options))
    this.#disconnected = false
    this.#startPoolLoop()
    for (const [id, p] of this.#pipelines) {
      if (!p.commandSent || p.done) continue
      await this.#request(psrpReconnect({ ...this.#target(), pipelineId: p.commandId }), withOptions(options))
      const fresh: PipelineEntry = {
        commandId: p.commandId,
        commandSent: true,
        done: false,
        stop: new AbortController(),
      }
      this.#pipelines.set(id, fresh)
      void this.#receiveLoop(id, fresh.stop.signal)
    }
  }

  #startPoolLoop(): void {
    this.#poolLoop = new AbortController()
    void this.#receiveLoop(undefined, AbortSignal.any([this.#poolStop.signal, this.#poolLoop.signal]))
  }

  /**
   * Attaches to a pipeline that runs in a shell this transport connected to (WS-Man Connect with its
   * CommandId), then receives its output.
   */
  async connectPipeline(pipelineId: string, options: CallOptions = {}): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#pipelines.has(pipelineId)) {
      throw new InvalidStateError(
        'attach a pipeline',
        'running',
        `pipeline ${pipelineId} is already attached`,
      )
    }
    await this.#request(psrpConnectCommand({ ...this.#target(), pipelineId }), withOptions(options))
    const entry: PipelineEntry = {
      commandId: pipelineId.toLowerCase(),
      commandSent: true,
      done: false,
      stop: new AbortController(),
    }
    this.#pipelines.set(pipelineId, entry)
    void this.#receiveLoop(pipelineId, entry.stop.signal)
  }

  /**
   * True when the shell still exists on the server: a WS-Man Get of the shell (MS-WSMV 3.1.4.2), which
   * reads its description and changes nothing (a Receive would take output off the server's queue, an
   * Enumerate leaves an enumeration context). False when the transport failed or closed, or the server
   * answers the Get with a fault (shell not found); a network failure rejects.
   */
  async isAlive(options: CallOptions = {}): Promise<boolean> {
    if (this.#failure !== undefined || !this.#created || this.#closing !== undefined) return false
    try {
      const res = await this.#request(psrpGetShell({ shellId: this.#shellId }), {
        ...withOptions(options),
        lane: 'side',
      })
      return res.kind === 'get'
    } catch (e) {
      if (e instanceof WSManFaultError) return false
      throw e
    }
  }

  /** Ids of the pipelines running in this shell on the server. */
  listPipelines(options: CallOptions = {}): Promise<string[]> {
    return this.#conn.enumerateCommands(this.#shellId, withOptions(options))
  }

  /** Stops a pipeline (Signal `powershell/signal/crtl_c`). */
  signal(pipelineId: string, options: CallOptions = {}): Promise<void> {
    return this.#serial(pipelineId, options, async (signal) => {
      const p = this.#pipelines.get(pipelineId)
      if (p === undefined || !p.commandSent || p.done) return
      await this.#request(psrpSignal({ ...this.#target(), pipelineId: p.commandId, code: 'ps_crtl_c' }), {
        signal,
      })
    })
  }

  /** Releases a pipeline: stops its Receive loop; an unfinished command is terminated. */
  async closePipeline(pipelineId: string, options: CallOptions = {}): Promise<void> {
    const p = this.#pipelines.get(pipelineId)
    if (p === undefined) return
    try {
      await this.#serial(pipelineId, options, async (signal) => {
        if (!p.commandSent || p.done || this.#failure !== undefined) return
        await this.#request(psrpSignal({ ...this.#target(), pipelineId: p.commandId, code: 'terminate' }), {
          signal,
        })
      })
    } finally {
      p.stop.abort()
      this.#pipelines.delete(pipelineId)
      this.#chains.delete(pipelineId)
    }
  }

  /** Deletes the shell (after releasing open pipelines). Idempotent. */
  close(options: CallOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options)
    return this.#closing
  }

  async #close(options: CallOptions): Promise<void> {
    this.setPaused(false)
    for (const id of [...this.#pipelines.keys()]) await this.closePipeline(id, options).catch(() => undefined)
    this.#poolStop.abort()
    try {
      if (this.#created && this.#failure === undefined) {
        await this.#request(psrpDelete(this.#target()), withOptions(options))
      }
    } finally {
      this.#created = false
      this.#queue.end()
    }
  }

  /** The data from the Receive loops and the failure, in order. */
  events(): AsyncIterableIterator<PsrpTransportEvent> {
    if (this.#eventsTaken)
      throw new InvalidStateError('read events', 'taken', 'events() has a single consumer')
    this.#eventsTaken = true
    return this.#queue
  }

  /** Flow control: while paused no new Receive is issued (WinRM buffers the output meanwhile). */
  setPaused(paused: boolean): void {
    this.#paused = paused
    if (!paused) for (const r of this.#resume.splice(0)) r()
  }

  #target(): { shellId: string; configurationName?: string } {
    return {
      shellId: this.#shellId,
      ...(this.#o.configurationName === undefined ? {} : { configurationName: this.#o.configurationName }),
    }
  }

  #request(
    request: Parameters<WSManConnection['request']>[0],
    options: WSManRequestOptions,
  ): Promise<WSManResponse> {
    return this.#conn.request(request, options)
  }

  /** Runs `op` after the previous operation on the same target (pool or pipeline) finished. */
  #serial(key: string, options: CallOptions, op: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    const previous = this.#chains.get(key) ?? Promise.resolve()
    const run = previous.then(async () => {
      if (this.#failure !== undefined) throw this.#failure
      const limits = cancelScope(options, {
        timeoutError: (ms) => new TimeoutError(`the WinRM operation timed out after ${ms} ms`, ms),
      })
      try {
        await op(limits.signal)
      } catch (e) {
        throw toPsrpError(e)
      } finally {
        limits.dispose()
      }
    })
    this.#chains.set(
      key,
      run.catch(() => undefined),
    )
    return run
  }

  async #receiveLoop(pipelineId: string | undefined, stop: AbortSignal): Promise<void> {
    const lane = `receive:${this.#o.poolId}:${pipelineId ?? 'pool'}`
    const what = pipelineId === undefined ? 'the runspace pool' : `pipeline ${pipelineId}`
    const cursor = new FragmentCursor(what, this.#ledger)
    let failures = 0
    try {
      while (!stop.aborted && this.#failure === undefined) {
        if (this.#paused) {
          await new Promise<void>((r) => this.#resume.push(r))
          continue
        }
        let res: WSManResponse
        try {
          res = await this.#request(
            psrpReceive({
              ...this.#target(),
              ...(pipelineId === undefined ? {} : { pipelineId: this.#commandId(pipelineId) }),
            }),
            { lane, signal: stop },
          )
        } catch (e) {
          if (stop.aborted || !isNetworkFailure(e)) throw e
          // the response never arrived whole: ask again on a new connection (the lane's socket is gone)
          cursor.retried()
          // a server that cannot be reached at all is left to the reconnection window
          if (!isServerUnreachable(e) && ++failures <= this.#conn.receiveRetries) continue
          await this.#recover(toPsrpError(e), stop)
          failures = 0
          continue
        }
        failures = 0
        if (res.kind === 'timedOut') continue
        if (res.kind !== 'receive') throw new TransportError(`Receive was answered with ${res.kind}`)
        for (const s of res.streams) {
          const data = s.data.length > 0 ? cursor.accept(s.data) : s.data
          if (data.length > 0) {
            this.#queue.push({ type: 'data', pipelineId, stream: 'default', data })
          }
        }
        if (pipelineId !== undefined && res.commandState?.done === true) {
          const p = this.#pipelines.get(pipelineId)
          if (p !== undefined) p.done = true
          return
        }
      }
    } catch (e) {
      if (stop.aborted) return
      this.#fail(toPsrpError(e))
    } finally {
      this.#conn.http.releaseLane(lane)
    }
  }

  /**
   * Waits until the shell answers again, for at most the connection's `reconnectWindow` (shared by
   * every Receive loop of the pool): probes with a Get of the shell, backing off from 250 ms to 5 s;
   * when the server answers with a fault (e.g. it disconnected the shell when the client vanished),
   * reconnects the shell and its unfinished pipelines (MS-PSRP 3.1.5.3.18). Rejects with
   * {@link ConnectionLostError} when the window passes, with the fault when the shell is gone.
   */
  #recover(cause: PsrpError, stop: AbortSignal): Promise<void> {
    const windowMs = this.#conn.reconnectWindow
    if (windowMs === 0) return Promise.reject(cause)
    this.#recovering ??= this.#probeUntilBack(cause, windowMs).finally(() => {
      this.#recovering = undefined
    })
    const recovering = this.#recovering
    // a loop that is stopped meanwhile (pipeline released, pool closed) stops waiting
    return new Promise<void>((resolve, reject) => {
      const onStop = (): void => resolve()
      stop.addEventListener('abort', onStop, { once: true })
      recovering.then(resolve, reject).finally(() => stop.removeEventListener('abort', onStop))
    })
  }

  async #probeUntilBack(cause: PsrpError, windowMs: number): Promise<void> {
    const window = AbortSignal.any([AbortSignal.timeout(windowMs), this.#poolStop.signal])
    let last: PsrpError = cause
    for (let attempt = 0; ; attempt++) {
      try {
        // unref: a pool left open by a script that ends must not keep the process alive
        await sleep(Math.min(5000, 250 * 2 ** attempt), window, true)
      } catch {
        if (this.#poolStop.signal.aborted) return
        throw new ConnectionLostError(
          `the connection to the WinRM server was lost and the shell could not be reached again ` +
            `within ${windowMs} ms: ${last.message}`,
          windowMs,
          { cause: last },
        )
      }
      try {
        await this.#request(psrpGetShell({ shellId: this.#shellId }), { lane: 'side', signal: window })
        return
      } catch (e) {
        if (e instanceof WSManFaultError) {
          // the server answers but does not know the shell as connected: reconnect it, or give up
          await this.#reconnectAfterLoss(window)
          return
        }
        if (!isNetworkFailure(e) && !(e instanceof PsrpError && e.code === 'ERR_ABORTED')) throw e
        last = toPsrpError(e)
      }
    }
  }

  /** Reconnect of the shell and of each unfinished pipeline, for a shell the server disconnected. */
  async #reconnectAfterLoss(signal: AbortSignal): Promise<void> {
    await this.#request(psrpReconnect(this.#target()), { lane: 'side', signal })
    for (const p of this.#pipelines.values()) {
      if (!p.commandSent || p.done) continue
      await this.#request(psrpReconnect({ ...this.#target(), pipelineId: p.commandId }), {
        lane: 'side',
        signal,
      })
    }
  }

  /** The WS-Man CommandId of a pipeline (see {@link PipelineEntry.commandId}). */
  #commandId(pipelineId: string): string {
    return this.#pipelines.get(pipelineId)?.commandId ?? pipelineId
  }

  #fail(error: PsrpError): void {
    if (this.#failure !== undefined) return
    this.#failure = error
    this.#poolStop.abort()
    for (const p of this.#pipelines.values()) p.stop.abort()
    this.#queue.push({ type: 'failed', error })
    this.#queue.end()
  }
}

function withOptions(options: CallOptions): WSManRequestOptions {
  return {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  }
}

function toPsrpError(e: unknown): PsrpError {
  if (e instanceof PsrpError) return e
  return new TransportError(`WinRM request failed: ${e instanceof Error ? e.message : String(e)}`, {
    cause: e,
  })
}

/** A failure of the network rather than of the server: a lost connection or a read timeout. */
function isNetworkFailure(e: unknown): boolean {
  return e instanceof TransportError || e instanceof TimeoutError
}
