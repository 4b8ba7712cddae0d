/**
 * Client pipeline state machine (MS-PSRP 3.1.1.3.2, 3.1.4.3–3.1.4.5): what one PowerShell
 * invocation sends (CREATE_PIPELINE or GET_COMMAND_METADATA, input, end of input, host responses)
 * and the state it is in. Created and driven through {@link ClientRunspacePool}.
 *
 * @module
 */
import { InvalidStateError } from '../errors.ts'
import { HostInfo } from '../clixml/index.ts'
import type { CreatePipelineMessage, GetCommandMetadataMessage, PipelineCommand } from './messages/index.ts'
import { isTerminalPipelineState, type PipelineStateName } from './states.ts'

/** What to run: statements of piped commands plus invocation settings. */
export interface PipelineSpec {
  /** Statements; each is a list of commands piped together. */
  statements: PipelineCommand[][]
  /** True when input will be sent (default false: the pipeline gets no input). */
  hasInput?: boolean
  /** Add to the session history. */
  addToHistory?: boolean
  /** A nested pipeline (runs while another pipeline of the pool is running). */
  isNested?: boolean
  /** RemoteStreamOptions flags (2.2.3.8); 15 adds invocation info to records. */
  remoteStreamOptions?: number
  /** ApartmentState (default Unknown). */
  apartmentState?: number
  /** Host info for this pipeline (default: use the pool's host). */
  hostInfo?: HostInfo
  /** History text. */
  history?: string
  /**
   * RedirectShellErrorOutputPipe (MS-PSRP 2.2.2.10): the shell's error pipe goes to this pipeline's
   * error stream (default true).
   */
  redirectShellErrorOutputPipe?: boolean
}

/** Internal sink the pipeline uses to queue messages on its pool. */
export interface PipelineSink {
  /** Queues a message of the pipeline `pipelineId` for the pool to send. */
  queue(pipelineId: string, message: QueuedMessage): void
}

/** A message waiting to be fragmented and sent. */
export type QueuedMessage =
  | { kind: 'CREATE_PIPELINE'; fields: CreatePipelineMessage }
  | { kind: 'GET_COMMAND_METADATA'; fields: GetCommandMetadataMessage }
  | { kind: 'PIPELINE_INPUT'; value: unknown }
  | { kind: 'END_OF_PIPELINE_INPUT' }

/** One pipeline of a client runspace pool. */
export class ClientPipeline {
  /** The pipeline (PowerShell instance) id, PID in message headers. */
  readonly id: string
  /** What it runs (or the command-metadata request). */
  readonly spec: PipelineSpec | GetCommandMetadataMessage
  #state: PipelineStateName = 'NotStarted'
  #inputEnded = false
  readonly #sink: PipelineSink
  readonly #protocolVersion: () => string | undefined

  /** @internal created by ClientRunspacePool */
  constructor(
    id: string,
    spec: PipelineSpec | GetCommandMetadataMessage,
    sink: PipelineSink,
    protocolVersion: () => string | undefined,
  ) {
    this.id = id
    this.spec = spec
    this.#sink = sink
    this.#protocolVersion = protocolVersion
  }

  /** Current state. */
  get state(): PipelineStateName {
    return this.#state
  }

  /** True when this is a GET_COMMAND_METADATA request. */
  get isCommandMetadata(): boolean {
    return !('statements' in this.spec)
  }

  /** True once the pipeline reached Completed, Failed or Stopped. */
  get done(): boolean {
    return isTerminalPipelineState(this.#state)
  }

  /** Queues CREATE_PIPELINE (or GET_COMMAND_METADATA); NotStarted → Running. */
  start(): void {
    if (this.#state !== 'NotStarted') throw new InvalidStateError('start the pipeline', this.#state)
    if ('statements' in this.spec) {
      const s = this.spec
      const version = this.#protocolVersion()
      this.#sink.queue(this.id, {
        kind: 'CREATE_PIPELINE',
        fields: {
          statements: s.statements,
          noInput: s.hasInput !== true,
          addToHistory: s.addToHistory ?? false,
          isNested: s.isNested ?? false,
          apartmentState: s.apartmentState ?? 2,
          remoteStreamOptions: s.remoteStreamOptions ?? 0,
          hostInfo: s.hostInfo ?? HostInfo.create(),
          ...(s.history === undefined ? {} : { history: s.history }),
          redirectShellErrorOutputPipe: s.redirectShellErrorOutputPipe ?? true,
          ...(version === undefined ? {} : { protocolVersion: version }),
        },
      })
      if (s.hasInput !== true) this.#inputEnded = true
    } else {
      this.#sink.queue(this.id, { kind: 'GET_COMMAND_METADATA', fields: this.spec })
      this.#inputEnded = true
    }
    this.#state = 'Running'
  }

  /** Queues one PIPELINE_INPUT message per value. */
  sendInput(values: Iterable<unknown>): void {
    this.#checkInput('send input')
    for (const value of values) this.#sink.queue(this.id, { kind: 'PIPELINE_INPUT', value })
  }

  /** Queues END_OF_PIPELINE_INPUT. */
  endInput(): void {
    this.#checkInput('end input')
    this.#sink.queue(this.id, { kind: 'END_OF_PIPELINE_INPUT' })
    this.#inputEnded = true
  }

  /** True when input may still be sent. */
  get acceptsInput(): boolean {
    return !this.#inputEnded && this.#state === 'Running'
  }

  /** Marks the pipeline Stopping; the transport sends the stop signal. */
  beginStop(): void {
    if (this.#state === 'Stopping' || this.done) return
    if (this.#state !== 'Running') throw new InvalidStateError('stop the pipeline', this.#state)
    this.#state = 'Stopping'
  }

  /** @internal state reported by the server or the transport */
  setState(state: PipelineStateName): void {
    this.#state = state
    if (this.done) this.#inputEnded = true
  }

  #checkInput(action: string): void {
    if (this.#state !== 'Running') throw new InvalidStateError(action, this.#state)
    if (this.#inputEnded)
      throw new InvalidStateError(action, this.#state, `cannot ${action}: the pipeline takes no (more) input`)
  }
}

export type { PipelineCommand }
