/**
 * The one seam between the PSRP client ({@link RunspacePool}) and every transport: explicit
 * operations that carry {@link PsrpPayload}s, so no transport has to guess a protocol step from the
 * order of the bytes it is given. The client says which operation a payload is:
 *
 * | operation | OutOfProc (process, SSH, named pipe) | WS-Man (WinRM) |
 * |---|---|---|
 * | {@link PsrpTransport.createPool} | `<Data>` for the pool | Create, the payload as `creationXml` |
 * | {@link PsrpTransport.connectPool} | `<Data>` for the pool | Connect, the payload as `connectXml` |
 * | {@link PsrpTransport.createPipeline} | `<Command>`, then `<Data>` | Command, the payload as its arguments |
 * | {@link PsrpTransport.send} | `<Data>` | Send (`stdin`, or `pr` for host responses) |
 * | {@link PsrpTransport.signal} | `<Signal>` | Signal `powershell/signal/crtl_c` |
 * | {@link PsrpTransport.closePipeline} | `<Close>` of the pipeline | Signal `terminate` (unfinished) |
 * | {@link PsrpTransport.close} | pipelines' and pool's `<Close>` | Delete |
 *
 * WS-Man adds disconnect/reconnect/enumerate/connectPipeline ({@link PsrpDisconnectable}).
 *
 * @module
 */
import type { PsrpError } from '../errors.ts'
import type { PsrpPayload } from '../psrp/index.ts'
import type { CallOptions } from './cancel.ts'
import type { OutputBufferingMode } from '../wsman/index.ts'

export type { PsrpPayload } from '../psrp/index.ts'

/** What a transport reports to its consumer, in order. */
export type PsrpTransportEvent =
  | ({
      /** Fragment bytes from the server for the pool (`pipelineId` undefined) or a pipeline. */
      readonly type: 'data'
    } & PsrpPayload)
  | {
      /** The transport failed; this is the last event. */
      readonly type: 'failed'
      readonly error: PsrpError
    }

/**
 * The interface the PSRP driver uses for every transport. All methods reject with a `PsrpError`:
 * `TransportError` when the connection or peer fails, `ProtocolError` when the peer breaks the
 * framing, `TimeoutError`/`AbortError` for the options, `InvalidStateError` for misuse.
 */
export interface PsrpTransport {
  /** Largest payload `data` accepted by {@link send} and the other payload operations. */
  readonly maxPacketSize: number
  /** The error that broke the transport, if any. */
  readonly failure: PsrpError | undefined
  /** Opens the connection (spawns the process, opens the channel). Idempotent. */
  start(options?: CallOptions): Promise<void>
  /** Creates the pool on the server with its opening messages (SESSION_CAPABILITY, INIT_RUNSPACEPOOL). */
  createPool(payload: PsrpPayload, options?: CallOptions): Promise<void>
  /** Attaches to an existing (disconnected) pool with its connect messages (CONNECT_RUNSPACEPOOL). */
  connectPool(payload: PsrpPayload, options?: CallOptions): Promise<void>
  /** Creates a pipeline with its first payload (CREATE_PIPELINE); later data for it goes through {@link send}. */
  createPipeline(pipelineId: string, firstPayload: PsrpPayload, options?: CallOptions): Promise<void>
  /** Sends fragment bytes to the pool or an existing pipeline; resolves when the server took them. */
  send(payload: PsrpPayload, options?: CallOptions): Promise<void>
  /** Stops a pipeline; resolves when the server acknowledged the stop signal. */
  signal(pipelineId: string, options?: CallOptions): Promise<void>
  /** Releases a pipeline on the server. */
  closePipeline(pipelineId: string, options?: CallOptions): Promise<void>
  /**
   * Closes every open pipeline, then the pool, then the connection. Idempotent; resolves without
   * error when the transport had already failed.
   */
  close(options?: CallOptions): Promise<void>
  /** The received data and the failure, in order. Single consumer; ends after close or failure. */
  events(): AsyncIterableIterator<PsrpTransportEvent>
  /**
   * Flow control: `true` stops reading from the server (memory stays bounded when the consumer is
   * slow); `false` reads again.
   */
  setPaused(paused: boolean): void
}

/** The optional capability of a transport whose pool can be disconnected and reconnected (WinRM). */
export interface PsrpDisconnectable {
  /** Disconnects: the server keeps the pool and its pipelines for `idleTimeout` seconds. */
  disconnect(options?: CallOptions & { idleTimeout?: number }): Promise<void>
  /** Reconnects a pool this transport disconnected, and its unfinished pipelines. */
  reconnect(options?: CallOptions): Promise<void>
  /** The ids of the pipelines running in the pool on the server. */
  listPipelines(options?: CallOptions): Promise<string[]>
  /** Attaches to a pipeline that runs on the server already and receives its output. */
  connectPipeline(pipelineId: string, options?: CallOptions): Promise<void>
}

/**
 * What a pool asks of a {@link PsrpTransportFactory}: its id and the settings a multi-pool endpoint
 * (WinRM) takes per pool, as {@link RunspacePool.open} was given them.
 */
export interface PsrpTransportRequest {
  /** The RunspacePool id (WinRM uses it as the ShellId). */
  readonly poolId: string
  /** Protocol version announced when the pool is created (default 2.3). */
  readonly protocolVersion?: string | undefined
  /** PowerShell configuration (endpoint) name; the factory's own default when not given. */
  readonly configurationName?: string | undefined
  /** Idle timeout in seconds after which the server deletes an idle or disconnected pool. */
  readonly idleTimeout?: number | undefined
  /** Start the pool without loading profiles (`WINRS_NOPROFILE`). */
  readonly noProfile?: boolean | undefined
  /** The session name the server lists the pool under (`Get-PSSession`). */
  readonly sessionName?: string | undefined
  /** What the server does with output while the pool is disconnected. */
  readonly outputBufferingMode?: OutputBufferingMode | undefined
  /** The pool attaches to an existing (disconnected) pool instead of creating one. Informational. */
  readonly connect?: boolean | undefined
}

/**
 * A connection that hosts many runspace pools (e.g. {@link WSManConnection}): it makes one transport
 * per pool. A one-pool connection (`ProcessConnection`) is a {@link PsrpTransport} itself.
 */
export interface PsrpTransportFactory {
  /** Creates the transport of the pool `options.poolId`. */
  createPsrpTransport(options: PsrpTransportRequest): PsrpTransport
}

/** True when `t` has the {@link PsrpDisconnectable} capability. */
export function isDisconnectable(t: PsrpTransport): t is PsrpTransport & PsrpDisconnectable {
  const d = t as Partial<PsrpDisconnectable>
  return (
    typeof d.disconnect === 'function' &&
    typeof d.reconnect === 'function' &&
    typeof d.listPipelines === 'function' &&
    typeof d.connectPipeline === 'function'
  )
}
