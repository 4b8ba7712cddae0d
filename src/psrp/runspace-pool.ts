/**
 * Client runspace pool state machine (MS-PSRP 3.1.1.2, 3.1.4, 3.1.5): sans-IO. It queues what it
 * wants to send, takes received fragment bytes, and yields typed events; "need more data" is
 * `undefined`, never an exception.
 *
 * ```ts
 * pool.open()                                   // queues SESSION_CAPABILITY + INIT_RUNSPACEPOOL
 * const out = pool.dataToSend(32768)            // PsrpPayload or undefined
 * pool.receiveData(bytes, pipelineId)
 * const ev = pool.nextEvent()                   // PsrpEvent or undefined
 * ```
 *
 * @module
 */
import { InvalidStateError, ProtocolError } from '../errors.ts'
import {
  ApartmentState,
  ErrorRecord,
  HostInfo,
  PSThreadOptions,
  retype,
  type SecureStringCipher,
} from '../clixml/index.ts'
import { concatBytes } from '../internal/bytes.ts'
import { NIL_GUID, randomGuid, swapGuidByteOrder, type GuidSource } from '../internal/guid.ts'
import {
  Defragmenter,
  encodeFragment,
  encodeMessage,
  decodeMessage,
  Fragmenter,
  MessageType,
  type Fragment,
} from './wire/index.ts'
import {
  decodeMessageBody,
  encodeMessageBodyParts,
  VOID_HOST_METHODS,
  type GetCommandMetadataMessage,
  type MessageFieldsMap,
} from './messages/index.ts'
import type { MessageTypeName } from './wire/index.ts'
import { ClientPipeline, type PipelineSpec, type QueuedMessage } from './pipeline.ts'
import type { PsrpEvent, PsrpPayload, RecordStream } from './events.ts'
import {
  compareVersions,
  pipelineStateName,
  runspacePoolStateName,
  type ProtocolVersion,
  type RunspacePoolStateName,
  type PipelineStateName,
} from './states.ts'
import { plaintextSecureStringCipher } from './session-key.ts'

/** Options of {@link ClientRunspacePool}. */
export interface ClientRunspacePoolOptions {
  /** Pool id (RPID); random by default. */
  id?: string
  /** Minimum runspaces (default 1). */
  minRunspaces?: number
  /** Maximum runspaces (default 1). */
  maxRunspaces?: number
  /** PSThreadOptions value (default 0, Default). */
  threadOptions?: number
  /** ApartmentState value (default 2, Unknown). */
  apartmentState?: number
  /** Host info (default: no client host, the server uses its own). */
  hostInfo?: HostInfo
  /** Application arguments (`$PSSenderInfo.ApplicationArguments` on the server). */
  applicationArguments?: Map<string, unknown> | undefined
  /** Protocol version announced (default 2.3, spoken by Windows PowerShell 5.1 and every pwsh). */
  protocolVersion?: ProtocolVersion
  /** GUID source for pipeline ids (default crypto.randomUUID). */
  guid?: GuidSource
  /** Largest message accepted from the server (default 10 MiB; all limits: docs/limits.md). */
  maxReceivedObjectSize?: number
  /**
   * Deepest CLIXML element nesting accepted in a message body from the server (default 256, the
   * deserializer's); deeper is a {@link ProtocolError} with a `ClixmlError` cause.
   */
  maxClixmlDepth?: number
  /**
   * Longest CLIXML message body accepted from the server, in characters (default 64 Mi, the
   * deserializer's); longer is a {@link ProtocolError} with a `ClixmlError` cause, before parsing.
   */
  maxClixmlLength?: number
  /**
   * Makes the key pair for a session key exchange (called at most once, when first needed). With it,
   * a server's PUBLIC_KEY_REQUEST (MS-PSRP 3.2.5.4.4) is answered with PUBLIC_KEY at once; without it,
   * the request is only reported as a `publicKeyRequested` event.
   */
  sessionKey?: () => SessionKeyExchanger
}

/** Private key operations the key exchange needs (see `session-key.ts`). */
export interface SessionKeyExchanger {
  /** Base64 PUBLICKEYBLOB to send. */
  readonly publicKeyBlob: string
  /** Decrypts the ENCRYPTED_SESSION_KEY blob into a SecureString cipher. */
  decrypt(encryptedSessionKey: string): SecureStringCipher
}

interface Outgoing {
  pipelineId: string | undefined
  stream: 'default' | 'promptResponse'
  message: Uint8Array
  fragments: Fragment[] | undefined
}

const RECORD_STREAMS: Partial<Record<MessageTypeName, RecordStream>> = {
  ERROR_RECORD: 'error',
  WARNING_RECORD: 'warning',
  VERBOSE_RECORD: 'verbose',
  DEBUG_RECORD: 'debug',
  PROGRESS_RECORD: 'progress',
  INFORMATION_RECORD: 'information',
}

/** How many removed pipeline ids {@link ClientRunspacePool} remembers, to read their late data leniently. */
const REMEMBERED_REMOVED_PIPELINES = 256

/** The sans-IO client side of one runspace pool and its pipelines. */
export class ClientRunspacePool {
  /** The pool id (RPID / WinRM ShellId). */
  readonly id: string
  #state: RunspacePoolStateName = 'BeforeOpen'
  #minRunspaces: number
  #maxRunspaces: number
  readonly #options: ClientRunspacePoolOptions
  readonly #protocolVersion: ProtocolVersion
  readonly #guid: GuidSource
  readonly #fragmenter = new Fragmenter()
  readonly #defragmenters = new Map<string, Defragmenter>()
  /**
   * Pipelines removed recently: the server may still be sending their output (a stopped pipeline's
   * fragments in flight). Their late data is read with a defragmenter that skips the rest of objects
   * begun before the removal, instead of failing the pool on a fragment without its start.
   */
  readonly #removed = new Set<string>()
  readonly #outgoing: Outgoing[] = []
  readonly #events: PsrpEvent[] = []
  readonly #pipelines = new Map<string, ClientPipeline>()
  #serverVersion: string | undefined
  #applicationPrivateData: Map<unknown, unknown> | undefined
  #cipher: SecureStringCipher | undefined
  #decodeOptionsCache:
    { cipher: SecureStringCipher | undefined; options: Parameters<typeof decodeMessageBody>[2] } | undefined
  #keyExchanger: SessionKeyExchanger | undefined
  #keyPending = false
  #nextCallId = 1n
  /** Host calls that await an answer, per target ("" for the pool), by call id. */
  readonly #openHostCalls = new Map<string, Set<bigint>>()
  readonly #pendingCalls = new Map<
    bigint,
    { kind: 'setMax' | 'setMin' | 'available' | 'reset'; value: number }
  >()

  constructor(options: ClientRunspacePoolOptions = {}) {
    this.#options = options
    this.id = options.id ?? (options.guid ?? randomGuid)()
    this.#guid = options.guid ?? randomGuid
    this.#minRunspaces = options.minRunspaces ?? 1
    this.#maxRunspaces = options.maxRunspaces ?? 1
    this.#protocolVersion = options.protocolVersion ?? '2.3'
    if (this.#minRunspaces < 1 || this.#maxRunspaces < this.#minRunspaces) {
      throw new ProtocolError(`invalid runspace limits min=${this.#minRunspaces} max=${this.#maxRunspaces}`, {
        side: 'local',
      })
    }
  }

  /** Current state (MS-PSRP 2.2.3.4). */
  get state(): RunspacePoolStateName {
    return this.#state
  }

  /** Minimum runspaces as last confirmed. */
  get minRunspaces(): number {
    return this.#minRunspaces
  }

  /** Maximum runspaces as last confirmed. */
  get maxRunspaces(): number {
    return this.#maxRunspaces
  }

  /** The version this client announced. */
  get clientProtocolVersion(): ProtocolVersion {
    return this.#protocolVersion
  }

  /** The server's protocol version, once its SESSION_CAPABILITY arrived. */
  get serverProtocolVersion(): string | undefined {
    return this.#serverVersion
  }

  /** The version both sides speak (the lower of the two), once known. */
  get negotiatedVersion(): string | undefined {
    if (this.#serverVersion === undefined) return undefined
    return compareVersions(this.#serverVersion, this.#protocolVersion) < 0
      ? this.#serverVersion
      : this.#protocolVersion
  }

  /** The server's application private data (includes `PSVersionTable`), once received. */
  get applicationPrivateData(): Map<unknown, unknown> | undefined {
    return this.#applicationPrivateData
  }

  /** The SecureString cipher, once a key was exchanged (or protocol 2.4 made it plaintext). */
  get cipher(): SecureStringCipher | undefined {
    return this.#cipher
  }

  /** True when a key exchange was started and its answer has not arrived. */
  get keyExchangePending(): boolean {
    return this.#keyPending
  }

  /** The pipelines not yet forgotten. */
  get pipelines(): ReadonlyMap<string, ClientPipeline> {
    return this.#pipelines
  }

  /** BeforeOpen → Opening: queues SESSION_CAPABILITY and INIT_RUNSPACEPOOL. */
  open(): void {
    if (this.#state !== 'BeforeOpen') throw new InvalidStateError('open the runspace pool', this.#state)
    this.#queuePool('SESSION_CAPABILITY', {
      protocolVersion: this.#protocolVersion,
      psVersion: '2.0',
      serializationVersion: '1.1.0.1',
    })
    this.#queuePool('INIT_RUNSPACEPOOL', {
      minRunspaces: this.#minRunspaces,
      maxRunspaces: this.#maxRunspaces,
      threadOptions: PSThreadOptions.of(this.#options.threadOptions ?? 0),
      apartmentState: ApartmentState.of(this.#options.apartmentState ?? 2),
      hostInfo: this.#options.hostInfo ?? HostInfo.create(),
      applicationArguments: this.#options.applicationArguments ?? null,
    })
    this.#setState('NegotiationSent')
  }

  /**
   * Attaches to a disconnected pool from a new client (MS-PSRP 3.1.4.10, WinRM only): queues
   * SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL, which the transport sends as the WS-Man Connect's
   * `connectXml`. The pool is Opened when the server says so (RUNSPACEPOOL_STATE, as Windows does) or
   * when APPLICATION_PRIVATE_DATA arrives. The pool id must be the disconnected pool's (option `id`).
   */
  connect(): void {
    if (this.#state !== 'BeforeOpen') throw new InvalidStateError('connect to the runspace pool', this.#state)
    this.#queuePool('SESSION_CAPABILITY', {
      protocolVersion: this.#protocolVersion,
      psVersion: '2.0',
      serializationVersion: '1.1.0.1',
    })
    this.#queuePool('CONNECT_RUNSPACEPOOL', {})
    this.#setState('Connecting')
  }

  /**
   * @internal the transport disconnected the shell (WS-Man Disconnect): Opened → Disconnected, and
   * running pipelines Disconnected. Nothing is sent; the server keeps running and buffers output.
   */
  markDisconnected(): void {
    if (this.#state !== 'Opened') throw new InvalidStateError('disconnect the runspace pool', this.#state)
    this.#setState('Disconnected')
    for (const p of this.#pipelines.values())
      if (p.state === 'Running' || p.state === 'Stopping') this.#setPipelineState(p, 'Disconnected')
  }

  /** @internal the transport reconnected the shell (WS-Man Reconnect): Disconnected → Opened. */
  markReconnected(): void {
    if (this.#state !== 'Disconnected')
      throw new InvalidStateError('reconnect the runspace pool', this.#state)
    this.#setState('Opened')
    for (const p of this.#pipelines.values())
      if (p.state === 'Disconnected') this.#setPipelineState(p, 'Running')
  }

  /** Opened → Closing (the transport closes the shell; the server confirms Closed). */
  beginClose(): void {
    if (this.#state === 'Closed' || this.#state === 'Closing') return
    this.#setState('Closing')
  }

  /** @internal the transport finished closing (e.g. WS-Man Delete succeeded). */
  markClosed(): void {
    if (this.#state !== 'Closed') this.#setState('Closed')
    for (const p of this.#pipelines.values()) if (!p.done) p.setState('Stopped')
  }

  /**
   * @internal the transport broke: the pool becomes Broken (a `runspacePoolState` event). Its
   * pipelines keep their state here; the async layer fails them with the transport's error.
   */
  markBroken(): void {
    if (this.#state !== 'Broken' && this.#state !== 'Closed') this.#setState('Broken')
  }

  /** Queues SET_MAX_RUNSPACES; returns the call id answered by a `runspaceAvailability` event. */
  setMaxRunspaces(value: number): bigint {
    this.#requireOpened('set the maximum runspaces')
    const callId = this.#callId('setMax', value)
    this.#queuePool('SET_MAX_RUNSPACES', { maxRunspaces: value, callId })
    return callId
  }

  /** Queues SET_MIN_RUNSPACES; returns the call id. */
  setMinRunspaces(value: number): bigint {
    this.#requireOpened('set the minimum runspaces')
    const callId = this.#callId('setMin', value)
    this.#queuePool('SET_MIN_RUNSPACES', { minRunspaces: value, callId })
    return callId
  }

  /** Queues GET_AVAILABLE_RUNSPACES; returns the call id. */
  getAvailableRunspaces(): bigint {
    this.#requireOpened('get the available runspaces')
    const callId = this.#callId('available', 0)
    this.#queuePool('GET_AVAILABLE_RUNSPACES', { callId })
    return callId
  }

  /** Queues RESET_RUNSPACE_STATE (protocol 2.3+); returns the call id. */
  resetRunspaceState(): bigint {
    this.#requireOpened('reset the runspace state')
    const v = this.negotiatedVersion
    if (v !== undefined && compareVersions(v, '2.3') < 0) {
      throw new InvalidStateError(
        'reset the runspace state',
        this.#state,
        `resetting the runspace state needs protocol 2.3; the server speaks ${v}`,
      )
    }
    const callId = this.#callId('reset', 0)
    this.#queuePool('RESET_RUNSPACE_STATE', { callId })
    return callId
  }

  /**
   * Starts the session key exchange (protocol ≤ 2.3): queues PUBLIC_KEY. A `sessionKeyExchanged`
   * event follows. At negotiated 2.4 there is nothing to exchange and this returns false.
   */
  exchangeKey(exchanger: SessionKeyExchanger): boolean {
    if (this.#state !== 'Opened' && this.#state !== 'Opening' && this.#state !== 'NegotiationSucceeded') {
      throw new InvalidStateError('exchange keys', this.#state)
    }
    if (this.#cipher !== undefined) return false
    const v = this.negotiatedVersion
    if (v !== undefined && compareVersions(v, '2.4') >= 0) {
      this.#cipher = plaintextSecureStringCipher
      return false
    }
    if (this.#keyPending) return true
    this.#keyExchanger = exchanger
    this.#keyPending = true
    this.#queuePool('PUBLIC_KEY', { publicKey: exchanger.publicKeyBlob })
    return true
  }

  /** Creates a pipeline (not yet started). */
  createPipeline(spec: PipelineSpec, id?: string): ClientPipeline {
    this.#requireOpened('create a pipeline')
    return this.#addPipeline(
      new ClientPipeline(id ?? this.#guid(), spec, this.#sink, () => this.negotiatedVersion),
    )
  }

  /**
   * A pipeline that already runs on the server (started by another client before it disconnected),
   * attached after {@link connect}: Running, without a CREATE_PIPELINE of its own. Its output, records
   * and state arrive like those of a pipeline this client started.
   */
  attachPipeline(id: string): ClientPipeline {
    this.#requireOpened('attach a pipeline')
    const p = this.#addPipeline(
      new ClientPipeline(id, { statements: [] }, this.#sink, () => this.negotiatedVersion),
    )
    p.setState('Running')
    return p
  }

  /** Creates a GET_COMMAND_METADATA request; its answers arrive as pipeline output. */
  getCommandMetadata(request: GetCommandMetadataMessage, id?: string): ClientPipeline {
    this.#requireOpened('get command metadata')
    return this.#addPipeline(
      new ClientPipeline(id ?? this.#guid(), request, this.#sink, () => this.negotiatedVersion),
    )
  }

  /** Forgets a finished pipeline (after the transport closed it). */
  removePipeline(id: string): void {
    if (this.#pipelines.delete(id)) {
      this.#removed.add(id)
      if (this.#removed.size > REMEMBERED_REMOVED_PIPELINES)
        this.#removed.delete(this.#removed.values().next().value as string)
    }
    this.#defragmenters.delete(id)
    this.#openHostCalls.delete(id)
  }

  /**
   * Answers a host call. `pipelineId` undefined answers a pool host call. Only calls that were
   * reported with `expectsResponse` and not yet answered can be answered ({@link InvalidStateError}). Give `error` (an
   * ErrorRecord) to make the call fail on the server.
   */
  hostResponse(
    pipelineId: string | undefined,
    callId: bigint,
    methodId: number,
    result: { value?: unknown; error?: ErrorRecord },
  ): void {
    const open = this.#openHostCalls.get(pipelineId ?? '')
    if (open === undefined || !open.has(callId)) {
      throw new InvalidStateError(
        'answer a host call',
        this.#state,
        `host call ${callId} of ${pipelineId === undefined ? 'the pool' : `pipeline ${pipelineId}`} is not awaiting an answer`,
      )
    }
    const fields = {
      callId,
      methodId,
      ...(result.error !== undefined ? { error: result.error } : { result: result.value ?? null }),
    }
    // encoding may throw (a SecureString before the key exchange): the call then stays open
    if (pipelineId === undefined)
      this.#queue(undefined, 'promptResponse', 'RUNSPACEPOOL_HOST_RESPONSE', fields)
    else this.#queue(pipelineId, 'promptResponse', 'PIPELINE_HOST_RESPONSE', fields)
    open.delete(callId)
  }

  /**
   * The next bytes to send, or undefined when nothing is queued. Host responses go first. One payload
   * holds whole fragments for one target and stream, at most `maxSize` bytes (fragments are cut to fit).
   */
  dataToSend(maxSize = 32768): PsrpPayload | undefined {
    const idx = this.#outgoing.findIndex((o) => o.stream === 'promptResponse')
    const head = this.#outgoing[idx >= 0 ? idx : 0]
    if (head === undefined) return undefined
    const target = head.pipelineId
    const stream = head.stream
    const parts: Uint8Array[] = []
    let size = 0
    for (let i = 0; i < this.#outgoing.length;) {
      const o = this.#outgoing[i] as Outgoing
      if (o.pipelineId !== target || o.stream !== stream) {
        if (parts.length > 0) break
        i++
        continue
      }
      o.fragments ??= this.#fragmenter.fragment(o.message, maxSize)
      while (o.fragments.length > 0) {
        const f = o.fragments[0] as Fragment
        const bytes = encodeFragment(f)
        if (size + bytes.length > maxSize) {
          if (parts.length === 0)
            throw new ProtocolError(`fragment of ${bytes.length} bytes exceeds ${maxSize}`, { side: 'local' })
          break
        }
        parts.push(bytes)
        size += bytes.length
        o.fragments.shift()
      }
      if (o.fragments.length > 0) break
      this.#outgoing.splice(i, 1)
    }
    if (parts.length === 0) return undefined
    const data = concatBytes(parts)
    return { data, stream, pipelineId: target }
  }

  /** True when something is queued to send. */
  get hasDataToSend(): boolean {
    return this.#outgoing.length > 0
  }

  /**
   * Takes fragment bytes received from the server for the pool (`pipelineId` undefined) or a
   * pipeline. Partial fragments are kept until the rest arrives. Malformed data throws
   * {@link ProtocolError}.
   */
  receiveData(data: Uint8Array, pipelineId?: string): void {
    const key = pipelineId ?? NIL_GUID
    let d = this.#defragmenters.get(key)
    if (d === undefined) {
      d = new Defragmenter({
        ...(this.#options.maxReceivedObjectSize === undefined
          ? {}
          : { maxObjectSize: this.#options.maxReceivedObjectSize }),
        skipOrphans: this.#removed.has(key),
      })
      this.#defragmenters.set(key, d)
    }
    for (const raw of d.push(data)) this.#handle(raw)
  }

  /** The next event, or undefined when more data is needed. */
  nextEvent(): PsrpEvent | undefined {
    return this.#events.shift()
  }

  // ---- internals ----

  readonly #sink = {
    queue: (pipelineId: string, m: QueuedMessage): void => {
      switch (m.kind) {
        case 'CREATE_PIPELINE':
          this.#queue(pipelineId, 'default', 'CREATE_PIPELINE', m.fields)
          break
        case 'GET_COMMAND_METADATA':
          this.#queue(pipelineId, 'default', 'GET_COMMAND_METADATA', m.fields)
          break
        case 'PIPELINE_INPUT':
          this.#queue(pipelineId, 'default', 'PIPELINE_INPUT', { value: m.value })
          break
        case 'END_OF_PIPELINE_INPUT':
          this.#queue(pipelineId, 'default', 'END_OF_PIPELINE_INPUT', {})
          break
      }
    },
  }

  #addPipeline(p: ClientPipeline): ClientPipeline {
    if (this.#pipelines.has(p.id))
      throw new ProtocolError(`pipeline ${p.id} already exists`, { side: 'local' })
    this.#removed.delete(p.id)
    this.#pipelines.set(p.id, p)
    return p
  }

  #requireOpened(action: string): void {
    if (this.#state !== 'Opened') throw new InvalidStateError(action, this.#state)
  }

  #callId(kind: 'setMax' | 'setMin' | 'available' | 'reset', value: number): bigint {
    const id = this.#nextCallId++
    this.#pendingCalls.set(id, { kind, value })
    return id
  }

  #queuePool<K extends MessageTypeName>(type: K, fields: MessageFieldsMap[K]): void {
    this.#queue(undefined, 'default', type, fields)
  }

  #queue<K extends MessageTypeName>(
    pipelineId: string | undefined,
    stream: 'default' | 'promptResponse',
    type: K,
    fields: MessageFieldsMap[K],
  ): void {
    const cipher = this.#cipher
    const data = encodeMessageBodyParts(type, fields, cipher === undefined ? {} : { cipher })
    const message = encodeMessage({
      destination: 'server',
      type: MessageType[type],
      rpid: this.id,
      pid: pipelineId,
      data,
    })
    this.#outgoing.push({ pipelineId, stream, message, fragments: undefined })
  }

  #setState(state: RunspacePoolStateName, error?: ErrorRecord): void {
    const previous = this.#state
    this.#state = state
    this.#events.push({ type: 'runspacePoolState', state, previous, error })
  }

  /** A pipeline state change the client made itself (not reported by the server), as an event. */
  #setPipelineState(p: ClientPipeline, state: PipelineStateName): void {
    p.setState(state)
    this.#events.push({ type: 'pipelineState', pipelineId: p.id, state, error: undefined })
  }

  #pipelineFor(pid: string): ClientPipeline | undefined {
    return this.#pipelines.get(pid) ?? this.#pipelines.get(swapGuidByteOrder(pid))
  }

  /** The body decoding options, made again only when the cipher changed (not once per message). */
  #decodeOptions(): Parameters<typeof decodeMessageBody>[2] {
    const cipher = this.#cipher
    if (this.#decodeOptionsCache === undefined || this.#decodeOptionsCache.cipher !== cipher) {
      const { maxClixmlDepth: maxDepth, maxClixmlLength: maxLength } = this.#options
      this.#decodeOptionsCache = {
        cipher,
        options: {
          ...(cipher === undefined ? {} : { cipher }),
          ...(maxDepth === undefined ? {} : { maxDepth }),
          ...(maxLength === undefined ? {} : { maxLength }),
        },
      }
    }
    return this.#decodeOptionsCache.options
  }

  #handle(raw: Uint8Array): void {
    const msg = decodeMessage(raw)
    if (msg.destination !== 'client')
      throw new ProtocolError(`received a message for the server (${msg.typeName ?? msg.type})`)
    const decoded = decodeMessageBody(msg.type, msg.data, this.#decodeOptions())
    const pipeline = msg.pid === NIL_GUID ? undefined : this.#pipelineFor(msg.pid)
    switch (decoded.type) {
      case 'SESSION_CAPABILITY': {
        const f = decoded.fields
        this.#serverVersion = f.protocolVersion
        this.#events.push({
          type: 'sessionCapability',
          protocolVersion: f.protocolVersion,
          psVersion: f.psVersion,
          serializationVersion: f.serializationVersion,
        })
        if (compareVersions(f.protocolVersion, '2.0') < 0 || !f.protocolVersion.startsWith('2.')) {
          this.#setState('Broken')
          throw new ProtocolError(
            `the server speaks PSRP ${f.protocolVersion}, which this client does not support`,
          )
        }
        const v = this.negotiatedVersion
        if (v !== undefined && compareVersions(v, '2.4') >= 0) this.#cipher = plaintextSecureStringCipher
        if (this.#state === 'NegotiationSent') {
          this.#setState('NegotiationSucceeded')
          this.#setState('Opening')
        }
        break
      }
      case 'APPLICATION_PRIVATE_DATA': {
        const d = decoded.fields.applicationPrivateData
        this.#applicationPrivateData = d instanceof Map ? d : new Map()
        this.#events.push({ type: 'applicationPrivateData', data: this.#applicationPrivateData })
        // a connect completes with the private data (after RUNSPACEPOOL_INIT_DATA)
        if (this.#state === 'Connecting') this.#setState('Opened')
        break
      }
      case 'RUNSPACEPOOL_STATE': {
        const name = runspacePoolStateName(decoded.fields.state)
        if (name === undefined) throw new ProtocolError(`unknown runspace pool state ${decoded.fields.state}`)
        const err = decoded.fields.error
        this.#setState(name, retype(ErrorRecord, err))
        if (name === 'Broken' || name === 'Closed') {
          for (const p of this.#pipelines.values())
            if (!p.done) p.setState(name === 'Broken' ? 'Failed' : 'Stopped')
        }
        break
      }
      case 'RUNSPACEPOOL_INIT_DATA':
        this.#minRunspaces = decoded.fields.minRunspaces
        this.#maxRunspaces = decoded.fields.maxRunspaces
        this.#events.push({ type: 'runspacePoolInitData', ...decoded.fields })
        break
      case 'RUNSPACE_AVAILABILITY': {
        const { callId, response } = decoded.fields
        const call = this.#pendingCalls.get(callId)
        this.#pendingCalls.delete(callId)
        if (call !== undefined && response === true) {
          if (call.kind === 'setMax') this.#maxRunspaces = call.value
          if (call.kind === 'setMin') this.#minRunspaces = call.value
        }
        this.#events.push({ type: 'runspaceAvailability', callId, response })
        break
      }
      case 'USER_EVENT':
        this.#events.push({ type: 'userEvent', event: { ...decoded.fields } })
        break
      case 'PUBLIC_KEY_REQUEST': {
        const make = this.#options.sessionKey
        if (make !== undefined) this.exchangeKey(this.#keyExchanger ?? make())
        else this.#events.push({ type: 'publicKeyRequested' })
        break
      }
      case 'ENCRYPTED_SESSION_KEY': {
        const exchanger = this.#keyExchanger
        if (exchanger === undefined)
          throw new ProtocolError('ENCRYPTED_SESSION_KEY arrived without a key exchange')
        this.#cipher = exchanger.decrypt(decoded.fields.encryptedSessionKey)
        this.#keyPending = false
        this.#events.push({ type: 'sessionKeyExchanged' })
        break
      }
      case 'RUNSPACEPOOL_HOST_CALL':
      case 'PIPELINE_HOST_CALL': {
        const f = decoded.fields
        const pipelineId = decoded.type === 'PIPELINE_HOST_CALL' ? (pipeline?.id ?? msg.pid) : undefined
        const expectsResponse = f.methodName === undefined || !VOID_HOST_METHODS.has(f.methodName)
        if (expectsResponse) {
          const key = pipelineId ?? ''
          let open = this.#openHostCalls.get(key)
          if (open === undefined) this.#openHostCalls.set(key, (open = new Set()))
          open.add(f.callId)
        }
        this.#events.push({
          type: 'hostCall',
          pipelineId,
          callId: f.callId,
          methodId: f.methodId,
          methodName: f.methodName,
          parameters: f.parameters,
          expectsResponse,
        })
        break
      }
      case 'PIPELINE_OUTPUT':
        this.#events.push({
          type: 'pipelineOutput',
          pipelineId: pipeline?.id ?? msg.pid,
          value: decoded.fields.value,
        })
        break
      case 'ERROR_RECORD':
      case 'WARNING_RECORD':
      case 'VERBOSE_RECORD':
      case 'DEBUG_RECORD':
      case 'PROGRESS_RECORD':
      case 'INFORMATION_RECORD':
        if (msg.pid === NIL_GUID) {
          this.#events.push({
            type: 'poolRecord',
            stream: RECORD_STREAMS[decoded.type] as RecordStream,
            record: decoded.fields.record,
          })
          break
        }
        this.#events.push({
          type: 'pipelineRecord',
          pipelineId: pipeline?.id ?? msg.pid,
          stream: RECORD_STREAMS[decoded.type] as RecordStream,
          record: decoded.fields.record,
        })
        break
      case 'PIPELINE_STATE': {
        const name = pipelineStateName(decoded.fields.state)
        if (name === undefined) throw new ProtocolError(`unknown pipeline state ${decoded.fields.state}`)
        pipeline?.setState(name)
        const err = decoded.fields.error
        this.#events.push({
          type: 'pipelineState',
          pipelineId: pipeline?.id ?? msg.pid,
          state: name,
          error: retype(ErrorRecord, err),
        })
        break
      }
      default:
        throw new ProtocolError(`unexpected ${decoded.type} message from the server`)
    }
  }
}
