/**
 * `RunspacePool`: the async public face of a PSRP runspace pool. It drives the sans-IO
 * {@link ClientRunspacePool} over any connection through the one transport seam, `PsrpTransport`
 * (a one-pool OutOfProc transport: {@link ProcessConnection}, `SSHConnection`, `NamedPipeConnection`;
 * or `WSManConnection`, which hosts many pools), dispatches host calls, and gives each
 * {@link PowerShell} a pipeline handle.
 *
 * ```ts
 * await using pool = await RunspacePool.open(new ProcessConnection(), { maxRunspaces: 4 })
 * ```
 *
 * @module
 */
import { EventEmitter } from 'node:events'
import { generateKeyPairSync } from 'node:crypto'
import {
  AbortError,
  InvalidStateError,
  PsrpError,
  TransportError,
  ProtocolError,
  PipelineFailedError,
  NotSupportedError,
} from '../errors.ts'
import {
  ClientRunspacePool,
  type ClientRunspacePoolOptions,
  AesSessionCipher,
  decryptSessionKey,
  encodePublicKeyBlob,
  type ClientPipeline,
  type GetCommandMetadataMessage,
  type PipelineSpec,
  type PipelineStateName,
  type ProtocolVersion,
  type PsrpEvent,
  type RunspacePoolStateName,
  type SessionKeyExchanger,
  type UserEventMessage,
} from '../psrp/index.ts'
import { compareVersions } from '../psrp/states.ts'
import { positiveIntegerOption } from '../internal/options.ts'
import {
  CommandMetadata,
  PSCredential,
  PSSecureString,
  retype,
  type ErrorRecord,
  type InformationalRecord,
  type InformationRecord,
  type ProgressRecord,
} from '../clixml/index.ts'
import type { PSDataStreams } from './powershell.ts'
import {
  isDisconnectable,
  type PsrpTransport,
  type PsrpTransportFactory,
} from '../transport/psrp-transport.ts'
import { withCancel, type CallOptions } from '../transport/cancel.ts'
import type { Attributes } from '@opentelemetry/api'
import { Attr, SpanName, withSpan } from '../internal/telemetry.ts'
import { connectionAttributes } from './trace-attributes.ts'
import type { OutputBufferingMode, ShellInfo } from '../wsman/index.ts'

export type { CallOptions } from '../transport/cancel.ts'
import { hostErrorRecord, hostInfoFor, invokeHostMethod, type PSHost } from './host.ts'

const POWERSHELL_RESOURCE_PREFIX = 'http://schemas.microsoft.com/powershell/'

/** Where a pool runs: a one-pool transport (`ProcessConnection`) or a factory (`WSManConnection`). */
export type PsrpConnection = PsrpTransport | PsrpTransportFactory

function isFactory(c: PsrpConnection): c is PsrpTransportFactory {
  return typeof (c as Partial<PsrpTransportFactory>).createPsrpTransport === 'function'
}

/** Options of {@link RunspacePool.open}. */
export interface RunspacePoolOptions extends CallOptions {
  /** Minimum runspaces (default 1). */
  minRunspaces?: number
  /** Maximum runspaces (default 1): how many pipelines may run at once. */
  maxRunspaces?: number
  /** The host remote code talks to (`Write-Host`, `Read-Host`, `$Host.UI.RawUI`). */
  host?: PSHost
  /** `$PSSenderInfo.ApplicationArguments` on the server. */
  applicationArguments?: Record<string, unknown> | Map<string, unknown>
  /** Protocol version announced (default 2.3; 2.4 makes pwsh 7.6 send SecureStrings without key exchange). */
  protocolVersion?: ProtocolVersion
  /**
   * Largest message accepted from the server, in bytes (default 10 MiB, PowerShell's
   * MaximumReceivedObjectSize): a larger one fails the pool with a `ProtocolError` before it is
   * buffered (all limits: docs/limits.md).
   */
  maxReceivedObjectSize?: number
  /**
   * Deepest element nesting accepted in the CLIXML of any message from the server (pool data, pipeline
   * output, records, host calls); default 256. A deeper message fails the pool with a `ProtocolError`
   * (`ERR_PROTOCOL`) whose `cause` is a `ClixmlError` (`ERR_CLIXML`), checked as each element opens.
   * Not a positive integer: `open`/`connect` reject with `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`).
   */
  maxClixmlDepth?: number
  /**
   * Longest CLIXML text of one message from the server, in characters; default 67 108 864 (64 Mi),
   * so `maxReceivedObjectSize` (bytes) is the tighter bound unless raised. A longer message fails the
   * pool with a `ProtocolError` (`ERR_PROTOCOL`) whose `cause` is a `ClixmlError` (`ERR_CLIXML`),
   * before it is parsed. Not a positive integer: `open`/`connect` reject with `InvalidArgumentError`.
   */
  maxClixmlLength?: number
  /** PSThreadOptions value. */
  threadOptions?: number
  /** ApartmentState value. */
  apartmentState?: number
  /** WinRM only: the PowerShell endpoint (session configuration, e.g. a JEA endpoint). */
  configurationName?: string
  /** WinRM only: seconds the server keeps an idle or disconnected pool. */
  idleTimeout?: number
  /** WinRM only: start the shell without loading the user profile (`WINRS_NOPROFILE`). */
  noProfile?: boolean
  /**
   * WinRM only: the session name of the pool's shell (`rsp:Name`, MS-WSMV 2.2.4.37), the `Name` that
   * `Get-PSSession -ComputerName` and a WS-Man Get/Enumerate of the shell show (pypsrp's
   * `RunspacePool(name=…)` in 1.0, PowerShell's `New-PSSession -Name`).
   */
  sessionName?: string
  /**
   * WinRM only: what the server does with output while the pool is disconnected and its buffer is
   * full (`rsp:BufferMode` of the shell): `Block` pauses the pipeline, `Drop` discards the oldest
   * output. Default the endpoint's (Block unless configured). `disconnect` may change it again.
   */
  outputBufferingMode?: OutputBufferingMode
}

/** Receives the pipeline traffic of one PowerShell instance. */
export interface PipelineListener {
  onEvent(event: PsrpEvent): void
  onFailure(error: PsrpError): void
  readonly host: PSHost | undefined
}

/**
 * One pipeline of a pool, as its owner (a {@link PowerShell}) drives it: everything the pool does for
 * a pipeline goes through here. Made by `RunspacePool.createPipeline` / `attachPipeline`.
 */
export interface PipelineHandle {
  /** The pipeline id (PSRP PID, the WinRM CommandId we ask for). */
  readonly id: string
  /** The pipeline's state in the core. */
  readonly state: PipelineStateName
  /** True once the pipeline reached a final state. */
  readonly done: boolean
  /** True while input may be sent. */
  readonly acceptsInput: boolean
  /** True once the pool failed or closed: no more events will come. */
  poolFailed(): boolean
  /** Routes the pipeline's events (and the pool's failure) to `listener`, until {@link release}. */
  listen(listener: PipelineListener): void
  /** Announces and starts the pipeline (an attached one: connects to it and receives its output). */
  start(): Promise<void>
  /** Queues input values; resolves when the server acknowledged them (backpressure). */
  send(values: unknown[]): Promise<void>
  /** Ends the input (no-op when the pipeline takes none any more). */
  endInput(): Promise<void>
  /** Sends the stop signal (no-op when not running). */
  stop(options?: CallOptions): Promise<void>
  /**
   * Flow control: while any pipeline holds, the transport stops reading from the server (a slow
   * `stream()` consumer keeps memory bounded); released holds read again.
   */
  hold(on: boolean): void
  /** Stops listening, forgets the pipeline and closes it on the transport if it was started. */
  release(): Promise<void>
}

interface Waiter<T> {
  resolve(value: T): void
  reject(error: PsrpError): void
}

/** Events of {@link RunspacePool}. */
export interface RunspacePoolEvents {
  stateChanged: [
    state: RunspacePoolStateName,
    previous: RunspacePoolStateName,
    error: ErrorRecord | undefined,
  ]
  userEvent: [event: UserEventMessage]
  /**
   * A record the server sent to the pool rather than to a pipeline (e.g. warnings of Exchange
   * Online's proxy); also kept in {@link RunspacePool.streams}. `error` here is a server error
   * record, not a failure of the pool (see `stateChanged`), and is emitted only to listeners.
   */
  error: [record: ErrorRecord]
  warning: [record: InformationalRecord]
  verbose: [record: InformationalRecord]
  debug: [record: InformationalRecord]
  information: [record: InformationRecord]
  progress: [record: ProgressRecord]
}

/** Pool-level records kept per stream in {@link RunspacePool.streams}; older ones are dropped. */
const POOL_RECORDS_KEPT = 1000

/** A PSRP runspace pool on a server. */
export class RunspacePool extends EventEmitter<RunspacePoolEvents> implements AsyncDisposable {
  /** @internal the sans-IO core: this pool's protocol state (replay tests read its session key) */
  readonly core: ClientRunspacePool
  /**
   * Records the server sent to the pool rather than to one pipeline (MS-PSRP allows error, warning,
   * verbose, debug, information and progress records with the nil pipeline id; Exchange Online's
   * proxy sends warnings so), per stream, as they arrive; the last 1000 (`POOL_RECORDS_KEPT`) of each
   * are kept. Empty the arrays to forget them. Each also fires the stream's event.
   */
  readonly streams: PSDataStreams = {
    error: [],
    warning: [],
    verbose: [],
    debug: [],
    information: [],
    progress: [],
  }
  /** @internal the peer's trace attributes (server.address, server.port, psrp.transport) */
  readonly traceAttributes: Attributes
  readonly #transport: PsrpTransport
  readonly #host: PSHost | undefined
  readonly #listeners = new Map<string, PipelineListener>()
  readonly #readHolds = new Set<string>()
  /**
   * Pipelines being stopped, until released: while there is one, reading goes on whatever the holds
   * say. Its SignalAck and final state must be read, and one pipeline's hold pauses the whole
   * connection: a stop would otherwise wait for every other consumer that is behind.
   */
  readonly #stopping = new Set<string>()
  /** Started pipelines whose first payload (CREATE_PIPELINE) has not gone to the transport yet. */
  readonly #unannounced = new Set<string>()
  /** What the pool's first payload does on the transport, until it is sent. */
  #poolStep: 'create' | 'connect' | undefined
  readonly #calls = new Map<bigint, Waiter<unknown>>()
  #openWaiter: Waiter<void> | undefined
  #keyWaiter: Waiter<void> | undefined
  #failure: PsrpError | undefined
  #closing: Promise<void> | undefined
  #pump: Promise<void> | undefined
  #keyPair: SessionKeyExchanger | undefined

  private constructor(connection: PsrpConnection, options: RunspacePoolOptions, connectTo?: string) {
    super()
    this.traceAttributes = connectionAttributes(connection)
    this.#host = options.host
    const args = options.applicationArguments
    this.core = new ClientRunspacePool({
      ...(connectTo === undefined ? {} : { id: connectTo }),
      ...(options.minRunspaces === undefined ? {} : { minRunspaces: options.minRunspaces }),
      ...(options.maxRunspaces === undefined ? {} : { maxRunspaces: options.maxRunspaces }),
      ...(options.protocolVersion === undefined ? {} : { protocolVersion: options.protocolVersion }),
      ...(options.threadOptions === undefined ? {} : { threadOptions: options.threadOptions }),
      ...(options.apartmentState === undefined ? {} : { apartmentState: options.apartmentState }),
      ...receiveLimits(options),
      hostInfo: hostInfoFor(options.host),
      applicationArguments:
        args === undefined ? undefined : args instanceof Map ? args : new Map(Object.entries(args)),
      // a server's PUBLIC_KEY_REQUEST is answered by the core itself
      sessionKey: () => this.#exchanger(),
    })
    this.#transport = isFactory(connection)
      ? connection.createPsrpTransport({
          poolId: this.core.id,
          ...(options.protocolVersion === undefined ? {} : { protocolVersion: options.protocolVersion }),
          ...(options.configurationName === undefined
            ? {}
            : { configurationName: options.configurationName }),
          ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
          ...(options.noProfile === undefined ? {} : { noProfile: options.noProfile }),
          ...(options.sessionName === undefined ? {} : { sessionName: options.sessionName }),
          ...(options.outputBufferingMode === undefined
            ? {}
            : { outputBufferingMode: options.outputBufferingMode }),
          ...(connectTo === undefined ? {} : { connect: true }),
        })
      : connection
  }

  /** Opens a runspace pool over a connection (starting it if needed). */
  static async open(connection: PsrpConnection, options: RunspacePoolOptions = {}): Promise<RunspacePool> {
    const pool = new RunspacePool(connection, options)
    const attributes = { ...pool.traceAttributes, [Attr.poolId]: pool.id }
    return withSpan(SpanName.poolOpen, attributes, async () => {
      try {
        await withCancel(pool.#open(), options, 'opening the runspace pool', () =>
          pool.#fail(new AbortError('opening the runspace pool was cancelled')),
        )
      } catch (e) {
        await pool.close().catch(() => undefined)
        throw e
      }
      return pool
    })
  }

  /**
   * Attaches to a pool another client disconnected (WinRM only; MS-PSRP 3.1.4.10): `poolId` is that
   * pool's id ({@link RunspacePool.id}). The pool's settings come from the server.
   */
  static async connect(
    connection: PsrpTransportFactory,
    poolId: string,
    options: RunspacePoolOptions = {},
  ): Promise<RunspacePool> {
    const pool = new RunspacePool(connection, options, poolId)
    try {
      await withCancel(pool.#open(true), options, 'connecting to the runspace pool', () =>
        pool.#fail(new AbortError('connecting to the runspace pool was cancelled')),
      )
    } catch (e) {
      await pool.#transport.close().catch(() => undefined)
      throw e
    }
    return pool
  }

  async #open(connect = false): Promise<void> {
    await this.#transport.start()
    const opened = new Promise<void>((resolve, reject) => {
      this.#openWaiter = { resolve, reject }
    })
    this.#pump = this.#run()
    if (connect) this.core.connect()
    else this.core.open()
    this.#poolStep = connect ? 'connect' : 'create'
    this.#flush()
    await opened
  }

  /**
   * The runspace pools (PowerShell shells) the user has on a WinRM server, connected or not
   * (`Get-PSSession -ComputerName`). A disconnected one can be attached with {@link RunspacePool.connect}.
   */
  static async getRunspacePools(
    connection: { enumerateShells(options?: CallOptions): Promise<ShellInfo[]> },
    options: CallOptions = {},
  ): Promise<ShellInfo[]> {
    const shells = await connection.enumerateShells(options)
    return shells.filter((s) => s.resourceUri?.startsWith(POWERSHELL_RESOURCE_PREFIX) === true)
  }

  /** The pool id (the WinRM ShellId); give it to {@link RunspacePool.connect} to attach later. */
  get id(): string {
    return this.core.id
  }

  /**
   * Disconnects from the pool (WinRM only): the server keeps it and its running pipelines for
   * `idleTimeout` seconds and buffers their output. Running pipelines are Disconnected until
   * {@link reconnect}, or another client {@link RunspacePool.connect}s.
   */
  async disconnect(options: CallOptions & { idleTimeout?: number } = {}): Promise<void> {
    this.#assertUsable('disconnect')
    const t = this.#transport
    if (!isDisconnectable(t))
      throw new NotSupportedError('disconnect needs a WinRM connection (WSManConnection)')
    // CONNECT_RUNSPACEPOOL and RUNSPACEPOOL_INIT_DATA came with protocol 2.2 (PowerShell 3.0)
    this.#requireVersion('disconnect', '2.2')
    await t.disconnect(options)
    this.core.markDisconnected()
    this.#drain()
  }

  /** Reconnects a pool this client disconnected; pipelines resume and deliver what the server buffered. */
  async reconnect(options: CallOptions = {}): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    if (this.core.state !== 'Disconnected') throw new InvalidStateError('reconnect', this.core.state)
    const t = this.#transport
    if (!isDisconnectable(t))
      throw new NotSupportedError('reconnect needs a WinRM connection (WSManConnection)')
    await t.reconnect(options)
    this.core.markReconnected()
    this.#drain()
  }

  /**
   * The ids of the pipelines running in this pool on the server (WinRM only), e.g. those a client left
   * running when it disconnected; attach to one with {@link PowerShell.attach}.
   */
  async listServerPipelines(options: CallOptions = {}): Promise<string[]> {
    this.#assertUsable('list the server pipelines')
    const t = this.#transport
    if (!isDisconnectable(t)) throw new NotSupportedError('listing server pipelines needs a WinRM connection')
    return t.listPipelines(options)
  }

  /**
   * Whether the pool is usable and still exists on the server, without side effects (pypsrp
   * `is_alive`). Over WinRM a WS-Man Get of the shell asks the server (it reads the shell's
   * description; a Receive would take output off the server's queue); a fault (shell deleted, e.g.
   * after its idle timeout) gives `false`, a network failure rejects. Other transports answer from the
   * pool's own state: a local process or SSH channel that died has already failed the pool.
   */
  async isAlive(options: CallOptions = {}): Promise<boolean> {
    if (this.#failure !== undefined || this.#closing !== undefined) return false
    if (this.core.state !== 'Opened' && this.core.state !== 'Disconnected') return false
    const t = this.#transport as PsrpTransport & { isAlive?: (o: CallOptions) => Promise<boolean> }
    return typeof t.isAlive === 'function' ? t.isAlive(options) : true
  }

  #drain(): void {
    for (let e = this.core.nextEvent(); e !== undefined; e = this.core.nextEvent()) this.#dispatch(e)
  }

  /** Current state. */
  get state(): RunspacePoolStateName {
    return this.core.state
  }

  /**
   * The error that broke the pool (transport failure, server-side Broken state) or, once closed, the
   * error its calls reject with; undefined while the pool is usable.
   */
  get failure(): PsrpError | undefined {
    return this.#failure
  }

  /**
   * Throws a {@link NotSupportedError} when the negotiated protocol version is below `min`: a server
   * of an older PowerShell would answer a message it does not know with a broken pool, not an error.
   */
  #requireVersion(feature: string, min: string): void {
    const v = this.core.negotiatedVersion
    if (v !== undefined && compareVersions(v, min) < 0) {
      const ps = this.psVersionTable?.get('PSVersion')
      throw new NotSupportedError(
        `${feature} needs PSRP protocol ${min} or later; the server speaks ${v}` +
          (ps === undefined ? '' : ` (PowerShell ${String(ps)})`),
      )
    }
  }

  /** The negotiated protocol version. */
  get protocolVersion(): string | undefined {
    return this.core.negotiatedVersion
  }

  /** The server's application private data; `PSVersionTable` is under that key. */
  get applicationPrivateData(): Map<unknown, unknown> | undefined {
    return this.core.applicationPrivateData
  }

  /** The server's `$PSVersionTable`, as a Map. */
  get psVersionTable(): Map<unknown, unknown> | undefined {
    const t = this.core.applicationPrivateData?.get('PSVersionTable')
    return t instanceof Map ? t : undefined
  }

  /** The pool's host. */
  get host(): PSHost | undefined {
    return this.#host
  }

  /** Minimum runspaces. */
  get minRunspaces(): number {
    return this.core.minRunspaces
  }

  /** Maximum runspaces. */
  get maxRunspaces(): number {
    return this.core.maxRunspaces
  }

  /** Changes the maximum number of runspaces; resolves to whether the server accepted. */
  async setMaxRunspaces(value: number, options?: CallOptions): Promise<boolean> {
    return Boolean(await this.#call(() => this.core.setMaxRunspaces(value), options, 'setMaxRunspaces'))
  }

  /** Changes the minimum number of runspaces; resolves to whether the server accepted. */
  async setMinRunspaces(value: number, options?: CallOptions): Promise<boolean> {
    return Boolean(await this.#call(() => this.core.setMinRunspaces(value), options, 'setMinRunspaces'))
  }

  /** How many runspaces are free. */
  async getAvailableRunspaces(options?: CallOptions): Promise<number> {
    return Number(await this.#call(() => this.core.getAvailableRunspaces(), options, 'getAvailableRunspaces'))
  }

  /**
   * Resets the runspace state (variables, functions, imported modules) of the pool (protocol 2.3+).
   * PowerShell resets only a pool whose `maxRunspaces` is 1 and answers `false` for larger pools,
   * so this resolves to whether the server did reset.
   */
  async resetRunspaceState(options?: CallOptions): Promise<boolean> {
    // MS-PSRP 2.2.2.31: not supported for protocol versions 2.0, 2.1 and 2.2
    this.#requireVersion('resetRunspaceState', '2.3')
    return Boolean(await this.#call(() => this.core.resetRunspaceState(), options, 'resetRunspaceState'))
  }

  /**
   * Exchanges a session key so SecureStrings can be sent (protocol ≤ 2.3: RSA-2048 + AES-256-CBC as
   * MS-PSRP specifies). At protocol 2.4 nothing is exchanged and this resolves at once.
   */
  async exchangeKeys(options?: CallOptions): Promise<void> {
    this.#assertUsable('exchange keys')
    if (this.core.cipher !== undefined) return
    const waiter = new Promise<void>((resolve, reject) => {
      this.#keyWaiter = { resolve, reject }
    })
    if (!this.core.exchangeKey(this.#exchanger())) {
      this.#keyWaiter = undefined
      return
    }
    this.#flush()
    await withCancel(waiter, options, 'the session key exchange')
  }

  /**
   * Metadata of the commands matching `names` (wildcards allowed), as `Get-Command` would find them
   * (MS-PSRP GET_COMMAND_METADATA).
   */
  async getCommandMetadata(
    names: string[],
    options: CallOptions & { commandType?: number; namespace?: string[]; argumentList?: unknown[] } = {},
  ): Promise<CommandMetadata[]> {
    this.#assertUsable('get command metadata')
    const request: GetCommandMetadataMessage = {
      names,
      commandType: options.commandType ?? 511,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.argumentList === undefined ? {} : { argumentList: options.argumentList }),
    }
    const pipeline = this.#handle(this.core.getCommandMetadata(request), false)
    const out: unknown[] = []
    const done = new Promise<void>((resolve, reject) => {
      pipeline.listen({
        host: undefined,
        onFailure: reject,
        onEvent: (ev) => {
          if (ev.type === 'pipelineOutput') out.push(ev.value)
          if (ev.type === 'pipelineState' && pipeline.done) {
            if (ev.state === 'Completed') resolve()
            else
              reject(
                new PipelineFailedError(
                  ev.error?.message ?? `command metadata request ${ev.state}`,
                  ev.error,
                ),
              )
          }
        },
      })
    })
    try {
      await pipeline.start()
      await withCancel(done, options, 'getCommandMetadata')
    } finally {
      await pipeline.release()
    }
    // the first object is the CommandMetadataCount
    return out
      .slice(1)
      .map((o) => retype(CommandMetadata, o))
      .filter((m): m is CommandMetadata => m !== undefined)
  }

  /** Closes the pool (pipelines first). Safe to call twice; never throws for an already broken transport. */
  close(options?: CallOptions): Promise<void> {
    this.#closing ??= this.#close(options)
    return this.#closing
  }

  async #close(options?: CallOptions): Promise<void> {
    if (this.core.state !== 'Broken') this.core.beginClose()
    this.#drain()
    try {
      await this.#transport.close(options)
    } finally {
      this.core.markClosed()
      // over WinRM no state message confirms the Delete: report the core's own transitions
      this.#drain()
      this.#fail(new InvalidStateError('use the runspace pool', 'Closed', 'the runspace pool is closed'))
      await this.#pump?.catch(() => undefined)
    }
  }

  /** `await using` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  // ---- used by PowerShell ----

  /**
   * @internal a new pipeline in this pool, driven through the returned handle (the handle's owner,
   * e.g. a {@link PowerShell}, starts, feeds, stops and releases it)
   */
  createPipeline(spec: PipelineSpec): PipelineHandle {
    this.#assertUsable('create a pipeline')
    return this.#handle(this.core.createPipeline(spec), false)
  }

  /** @internal a pipeline that runs on the server already (WinRM), to attach to */
  attachPipeline(id: string): PipelineHandle {
    this.#assertUsable('attach a pipeline')
    if (!isDisconnectable(this.#transport))
      throw new NotSupportedError('attaching a pipeline needs a WinRM connection')
    return this.#handle(this.core.attachPipeline(id), true)
  }

  #handle(pipeline: ClientPipeline, attached: boolean): PipelineHandle {
    const id = pipeline.id
    const hold = (on: boolean): void => {
      if (on) this.#readHolds.add(id)
      else this.#readHolds.delete(id)
      this.#updatePaused()
    }
    return {
      id,
      get state() {
        return pipeline.state
      },
      get done() {
        return pipeline.done
      },
      get acceptsInput() {
        return pipeline.acceptsInput
      },
      poolFailed: () => this.#failure !== undefined,
      listen: (listener) => {
        this.#listeners.set(id, listener)
      },
      start: async () => {
        if (attached) {
          const t = this.#transport
          if (!isDisconnectable(t))
            throw new NotSupportedError('attaching a pipeline needs a WinRM connection')
          await t.connectPipeline(id)
          return
        }
        this.#assertUsable('start a pipeline')
        this.#unannounced.add(id)
        pipeline.start()
        await Promise.all(this.#flush())
      },
      send: async (values) => {
        this.#assertUsable('send input')
        pipeline.sendInput(values)
        await Promise.all(this.#flush())
      },
      endInput: async () => {
        if (!pipeline.acceptsInput) return
        pipeline.endInput()
        await Promise.all(this.#flush())
      },
      stop: async (options) => {
        if (pipeline.done || pipeline.state === 'NotStarted') return
        // the SignalAck and the Stopped state must be read even if this or another consumer is behind
        this.#stopping.add(id)
        hold(false)
        pipeline.beginStop()
        await this.#transport.signal(id, options)
      },
      hold,
      release: async () => {
        this.#stopping.delete(id)
        hold(false)
        this.#listeners.delete(id)
        this.#unannounced.delete(id)
        this.core.removePipeline(id)
        if (pipeline.state === 'NotStarted' || this.#failure !== undefined) return
        await this.#transport.closePipeline(id).catch(() => undefined)
      },
    }
  }

  // ---- internals ----

  /** Reading pauses while a consumer holds and no pipeline is being stopped. */
  #updatePaused(): void {
    this.#transport.setPaused(this.#readHolds.size > 0 && this.#stopping.size === 0)
  }

  #assertUsable(action: string): void {
    if (this.#failure !== undefined) throw this.#failure
    if (this.core.state !== 'Opened') throw new InvalidStateError(action, this.core.state)
  }

  #exchanger(): SessionKeyExchanger {
    if (this.#keyPair !== undefined) return this.#keyPair
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    this.#keyPair = {
      publicKeyBlob: encodePublicKeyBlob(publicKey),
      decrypt: (blob) => new AesSessionCipher(decryptSessionKey(privateKey, blob)),
    }
    return this.#keyPair
  }

  async #call(start: () => bigint, options: CallOptions | undefined, what: string): Promise<unknown> {
    this.#assertUsable(what)
    const callId = start()
    const result = new Promise<unknown>((resolve, reject) => this.#calls.set(callId, { resolve, reject }))
    this.#flush()
    return withCancel(result, options, what)
  }

  /**
   * Sends everything the core has queued; returns one promise per payload (resolved on ack). The
   * pool's first payload creates (or connects) the pool and a started pipeline's first payload creates
   * the pipeline: this is where the client tells the transport which operation a payload is.
   */
  #flush(): Promise<void>[] {
    const sends: Promise<void>[] = []
    for (;;) {
      const payload = this.core.dataToSend(this.#transport.maxPacketSize)
      if (payload === undefined) break
      const pid = payload.pipelineId
      let p: Promise<void>
      if (pid === undefined && this.#poolStep !== undefined) {
        const step = this.#poolStep
        this.#poolStep = undefined
        p = step === 'create' ? this.#transport.createPool(payload) : this.#transport.connectPool(payload)
      } else if (pid !== undefined && this.#unannounced.delete(pid)) {
        p = this.#transport.createPipeline(pid, payload)
      } else {
        p = this.#transport.send(payload)
      }
      p.catch((e: unknown) => this.#fail(e instanceof PsrpError ? e : new TransportError(String(e))))
      sends.push(p)
    }
    return sends
  }

  async #run(): Promise<void> {
    try {
      for await (const ev of this.#transport.events()) {
        if (ev.type === 'failed') {
          this.#fail(ev.error)
          break
        }
        this.core.receiveData(ev.data, ev.pipelineId)
        this.#drain()
        this.#flush()
      }
    } catch (e) {
      const err =
        e instanceof PsrpError
          ? e
          : new ProtocolError(`failed to process server data: ${String(e)}`, { cause: e })
      this.#fail(err)
      void this.#transport.close().catch(() => undefined)
    }
    // the end of the stream is expected while closing (a WinRM Delete has no closing messages)
    if (this.#failure === undefined && this.#closing === undefined)
      this.#fail(new TransportError('the connection ended'))
  }

  #dispatch(e: PsrpEvent): void {
    switch (e.type) {
      case 'runspacePoolState':
        this.emit('stateChanged', e.state, e.previous, e.error)
        if (e.state === 'Opened') {
          this.#openWaiter?.resolve()
          this.#openWaiter = undefined
        } else if (e.state === 'Broken') {
          const err = new PipelineFailedError(
            `the runspace pool broke${e.error === undefined ? '' : `: ${e.error.message}`}`,
            e.error,
          )
          this.#fail(err)
        }
        return
      case 'runspaceAvailability': {
        const w = this.#calls.get(e.callId)
        this.#calls.delete(e.callId)
        w?.resolve(e.response)
        return
      }
      case 'sessionKeyExchanged':
        this.#keyWaiter?.resolve()
        this.#keyWaiter = undefined
        return
      case 'userEvent':
        this.emit('userEvent', e.event)
        return
      case 'hostCall':
        void this.#answerHostCall(e)
        return
      case 'pipelineOutput':
      case 'pipelineRecord':
      case 'pipelineState':
        this.#listeners.get(e.pipelineId)?.onEvent(e)
        return
      case 'poolRecord': {
        const kept = this.streams[e.stream] as unknown[]
        kept.push(e.record)
        if (kept.length > POOL_RECORDS_KEPT) kept.splice(0, kept.length - POOL_RECORDS_KEPT)
        // emit only when someone listens: an 'error' event without listeners would throw
        if (this.listenerCount(e.stream) > 0)
          (this.emit as (name: string, record: unknown) => boolean)(e.stream, e.record)
        return
      }
      default:
        return
    }
  }

  async #answerHostCall(e: Extract<PsrpEvent, { type: 'hostCall' }>): Promise<void> {
    const host =
      e.pipelineId === undefined ? this.#host : (this.#listeners.get(e.pipelineId)?.host ?? this.#host)
    let result: { value?: unknown; error?: ErrorRecord }
    try {
      if (host === undefined)
        throw new PsrpError(
          'ERR_HOST',
          `the server called host method ${e.methodName ?? e.methodId}, but no host was given`,
        )
      result = { value: await invokeHostMethod(host, e.methodName, e.parameters) }
    } catch (err) {
      result = { error: hostErrorRecord(err) }
    }
    if (!e.expectsResponse || this.#failure !== undefined) return
    try {
      if (
        result.value !== undefined &&
        this.core.cipher === undefined &&
        containsSecureString(result.value)
      ) {
        // a SecureString answer (Read-Host -AsSecureString, Get-Credential) needs the session key
        await this.exchangeKeys({ timeout: 60_000 })
      }
      this.core.hostResponse(e.pipelineId, e.callId, e.methodId, result)
    } catch (err) {
      if (this.#failure !== undefined) return
      this.core.hostResponse(e.pipelineId, e.callId, e.methodId, { error: hostErrorRecord(err) })
    }
    this.#flush()
  }

  #fail(error: PsrpError): void {
    if (this.#failure !== undefined) return
    this.#failure = error
    if (this.core.state !== 'Closed') this.core.markBroken()
    this.#openWaiter?.reject(error)
    this.#keyWaiter?.reject(error)
    for (const w of this.#calls.values()) w.reject(error)
    this.#calls.clear()
    for (const l of this.#listeners.values()) l.onFailure(error)
  }
}

function containsSecureString(v: unknown): boolean {
  if (v instanceof PSSecureString || v instanceof PSCredential) return true
  if (v instanceof Map) return [...v.values()].some(containsSecureString)
  return false
}

/** The limits on data received that a pool passes to its sans-IO core. */
type ReceiveLimits = Pick<
  ClientRunspacePoolOptions,
  'maxReceivedObjectSize' | 'maxClixmlDepth' | 'maxClixmlLength'
>

/** The limits on data received that `options` sets, each checked to be a positive integer. */
function receiveLimits(options: RunspacePoolOptions): ReceiveLimits {
  const limits: ReceiveLimits = {}
  for (const name of ['maxReceivedObjectSize', 'maxClixmlDepth', 'maxClixmlLength'] as const) {
    const value = options[name]
    if (value !== undefined) limits[name] = positiveIntegerOption(name, value)
  }
  return limits
}
