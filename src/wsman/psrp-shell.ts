/**
 * PowerShell Remoting over WinRS: the shell bodies MS-PSRP 3.1.5.3 prescribes on top of MS-WSMV.
 * PSRP data (fragments) is opaque bytes here; this module never looks inside.
 *
 * - Resource URI `http://schemas.microsoft.com/powershell/<configurationName>` (MS-PSRP 3.1.5.1.1;
 *   default `Microsoft.PowerShell`);
 * - Create (3.1.5.3.1): `rsp:Shell ShellId="<RunspacePool id>"`, InputStreams `stdin pr`,
 *   OutputStreams `stdout`, option `protocolversion` (MustComply) and the opening fragments as
 *   base64 in `<creationXml xmlns="http://schemas.microsoft.com/powershell">`;
 * - Command (3.1.5.3.3): `rsp:CommandLine CommandId="<pipeline id>"`, empty `rsp:Command`, the
 *   CREATE_PIPELINE fragments base64 in `rsp:Arguments`;
 * - Send (3.1.5.3.5): stream `stdin` (data) or `pr` (host responses), CommandId for a pipeline;
 * - Receive (3.1.5.3.7): DesiredStream `stdout`, CommandId for a pipeline;
 * - Signal (3.1.5.3.9): `powershell/signal/crtl_c` stops a pipeline, `Terminate` releases it;
 * - Connect (3.1.5.3.14, MS-WSMV 3.1.4.17): `rsp:Connect` with `connectXml`;
 * - Disconnect (3.1.5.3.16, MS-WSMV 3.1.4.15): optional `IdleTimeOut` and `BufferMode`;
 * - Reconnect (3.1.5.3.18, MS-WSMV 3.1.4.16): no body unless a buffer mode or command is named;
 * - Enumerate shells (`…/windows/shell`) and a shell's commands (`…/windows/shell/Command` with a
 *   ShellId selector filter), and Get of one shell (MS-WSMV 3.1.4.2.1).
 *
 * RunspacePool and pipeline ids go on the wire as upper-case GUIDs, as PowerShell writes them.
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'
import { toBase64 } from '../internal/base64.ts'
import { normalizeGuid } from '../internal/guid.ts'
import { Namespace, ResourceUri } from './constants.ts'
import { formatDuration } from './duration.ts'
import type {
  CreateRequest,
  EnumerateRequest,
  EnumerationFilter,
  ShellRequest,
  TransferRequest,
  WSManOption,
} from './envelope.ts'
import {
  commandLineBody,
  receiveBody,
  sendBody,
  shellBody,
  signalBody,
  WinRSOption,
  type SignalCodeInput,
} from './winrs.ts'
import { el } from './xml-node.ts'

/** The configuration (endpoint) PowerShell connects to by default. */
export const DEFAULT_CONFIGURATION_NAME = 'Microsoft.PowerShell'

/** The PSRP protocol version this client announces (`protocolversion` option). */
export const DEFAULT_PROTOCOL_VERSION = '2.3'

/** `Block` (pause the pipeline when the buffer is full) or `Drop` (discard old output) while disconnected. */
export type OutputBufferingMode = 'Block' | 'Drop'

/**
 * The resource URI of a PowerShell configuration. A name such as `Microsoft.PowerShell` or
 * `PowerShell.7` is appended to `http://schemas.microsoft.com/powershell/`; a full `http(s)://` URI is
 * used as given (as `New-PSSession -ConfigurationName` allows).
 */
export function powerShellResourceUri(configurationName: string = DEFAULT_CONFIGURATION_NAME): string {
  if (configurationName === '') throw new InvalidArgumentError('configuration name must not be empty')
  if (/^https?:\/\//i.test(configurationName)) return configurationName
  return ResourceUri.PowerShellPrefix + configurationName
}

/** A GUID as PowerShell writes it on the WinRS layer: upper case, no braces. */
export function wireGuid(guid: string, what = 'GUID'): string {
  try {
    return normalizeGuid(guid).toUpperCase()
  } catch {
    throw new InvalidArgumentError(`${what} is not a GUID: ${JSON.stringify(guid)}`)
  }
}

/** Fields shared by the PSRP builders. */
export interface PsrpShellTarget {
  /** The shell: the RunspacePool id. */
  readonly shellId: string
  /** PowerShell configuration name or full resource URI (default `Microsoft.PowerShell`). */
  readonly configurationName?: string
}

function target(o: PsrpShellTarget): { resourceUri: string; selectors: { ShellId: string } } {
  return {
    resourceUri: powerShellResourceUri(o.configurationName),
    selectors: { ShellId: wireGuid(o.shellId, 'ShellId') },
  }
}

const psrpElement = (name: 'creationXml' | 'connectXml', bytes: Uint8Array) =>
  el(name, { xmlns: Namespace.psrp }, toBase64(bytes))

function protocolVersionOption(v: string | undefined): WSManOption {
  const version = v ?? DEFAULT_PROTOCOL_VERSION
  if (!/^\d+\.\d+$/.test(version))
    throw new InvalidArgumentError(`protocol version must look like 2.3, got ${version}`)
  return { name: 'protocolversion', value: version, mustComply: true }
}

/** Options of the Create that opens a RunspacePool. */
export interface PsrpCreateOptions extends PsrpShellTarget {
  /** The SESSION_CAPABILITY and INIT_RUNSPACEPOOL fragments, sent base64 as `creationXml`. */
  readonly creationXml: Uint8Array
  /** `protocolversion` option (default 2.3). */
  readonly protocolVersion?: string
  /** `WINRS_NOPROFILE` (MustComply). */
  readonly noProfile?: boolean
  /** `rsp:IdleTimeOut` in seconds. */
  readonly idleTimeout?: number
  /** `rsp:Name`: the session name the server lists the shell under (MS-WSMV 2.2.4.37). */
  readonly name?: string
  /**
   * `rsp:BufferMode` (MS-WSMV 2.2.4.37, OutputBufferingModeEnumeration 2.2.5.10): what the server
   * does with output while the client is disconnected and the buffer is full. Omitted: the endpoint's
   * configured mode (Block by default).
   */
  readonly bufferMode?: OutputBufferingMode
  /** Extra options appended after the ones above. */
  readonly options?: readonly WSManOption[]
  /** Per-request `wsman:OperationTimeout` in seconds. */
  readonly operationTimeout?: number
}

/** The Create request that opens a RunspacePool (MS-PSRP 3.1.5.3.1). */
export function psrpCreate(o: PsrpCreateOptions): CreateRequest {
  const options: WSManOption[] = [protocolVersionOption(o.protocolVersion)]
  if (o.noProfile === true) options.push({ name: WinRSOption.NoProfile, value: 'TRUE', mustComply: true })
  options.push(...(o.options ?? []))
  return {
    action: 'create',
    resourceUri: powerShellResourceUri(o.configurationName),
    options,
    ...(o.operationTimeout === undefined ? {} : { operationTimeout: o.operationTimeout }),
    body: shellBody({
      shellId: wireGuid(o.shellId, 'ShellId'),
      ...(o.name === undefined ? {} : { name: o.name }),
      ...(o.idleTimeout === undefined ? {} : { idleTimeout: o.idleTimeout }),
      inputStreams: ['stdin', 'pr'],
      outputStreams: ['stdout'],
      // BufferMode follows OutputStreams in the Shell type's sequence; creationXml is the open content
      extensions: [
        ...(o.bufferMode === undefined
          ? []
          : [el('rsp:BufferMode', undefined, bufferModeValue(o.bufferMode))]),
        psrpElement('creationXml', o.creationXml),
      ],
    }),
  }
}

/** Options of the Command that creates a pipeline. */
export interface PsrpCommandOptions extends PsrpShellTarget {
  /** The pipeline id; sent as the `CommandId` attribute. */
  readonly pipelineId: string
  /** The CREATE_PIPELINE fragments, sent base64 in `rsp:Arguments`. */
  readonly arguments: Uint8Array
  /** `rsp:Command` text (default empty). */
  readonly command?: string
  /** Options to send (none by default). */
  readonly options?: readonly WSManOption[]
}

/** The Command request that creates a pipeline (MS-PSRP 3.1.5.3.3). */
export function psrpCommand(o: PsrpCommandOptions): ShellRequest {
  return {
    action: 'command',
    ...target(o),
    ...(o.options === undefined ? {} : { options: o.options }),
    body: commandLineBody({
      commandId: wireGuid(o.pipelineId, 'pipeline id'),
      command: o.command ?? '',
      arguments: [toBase64(o.arguments)],
    }),
  }
}

/** Options of a PSRP Send. */
export interface PsrpSendOptions extends PsrpShellTarget {
  /** PSRP fragment bytes. */
  readonly data: Uint8Array
  /** `stdin` for data (default) or `pr` for host-call responses that must bypass queued input. */
  readonly stream?: 'stdin' | 'pr'
  /** The pipeline the data is for; absent for RunspacePool messages. */
  readonly pipelineId?: string
}

/** A Send request carrying PSRP fragments (MS-PSRP 3.1.5.3.5). */
export function psrpSend(o: PsrpSendOptions): ShellRequest {
  return {
    action: 'send',
    ...target(o),
    body: sendBody({
      stream: o.stream ?? 'stdin',
      data: o.data,
      ...(o.pipelineId === undefined ? {} : { commandId: wireGuid(o.pipelineId, 'pipeline id') }),
    }),
  }
}

/** Options of a PSRP Receive. */
export interface PsrpReceiveOptions extends PsrpShellTarget {
  /** The pipeline to receive from; absent for RunspacePool output. */
  readonly pipelineId?: string
  /** `WSMAN_CMDSHELL_OPTION_KEEPALIVE` (default true). */
  readonly keepAlive?: boolean
  /** Per-request `wsman:OperationTimeout` in seconds (the long-poll wait). */
  readonly operationTimeout?: number
}

/** A Receive request for RunspacePool or pipeline output on `stdout` (MS-PSRP 3.1.5.3.7). */
export function psrpReceive(o: PsrpReceiveOptions): ShellRequest {
  return {
    action: 'receive',
    ...target(o),
    options: o.keepAlive === false ? [] : [{ name: WinRSOption.KeepAlive, value: 'True' }],
    ...(o.operationTimeout === undefined ? {} : { operationTimeout: o.operationTimeout }),
    body: receiveBody(
      ['stdout'],
      o.pipelineId === undefined ? undefined : wireGuid(o.pipelineId, 'pipeline id'),
    ),
  }
}

/** Options of a PSRP Signal. */
export interface PsrpSignalOptions extends PsrpShellTarget {
  readonly pipelineId: string
  /** `ps_crtl_c` (default) stops the pipeline; `terminate` releases a finished one. */
  readonly code?: SignalCodeInput
}

/** A Signal request to a pipeline (MS-PSRP 3.1.5.3.9). */
export function psrpSignal(o: PsrpSignalOptions): ShellRequest {
  return {
    action: 'signal',
    ...target(o),
    body: signalBody(o.code ?? 'ps_crtl_c', wireGuid(o.pipelineId, 'pipeline id')),
  }
}

/** The Delete request that closes the RunspacePool's shell (MS-PSRP 3.1.5.3.11). */
export function psrpDelete(o: PsrpShellTarget): TransferRequest {
  return { action: 'delete', ...target(o) }
}

/** Options of a Connect to a disconnected RunspacePool from a new client. */
export interface PsrpConnectOptions extends PsrpShellTarget {
  /** SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL fragments, sent base64 as `connectXml`. */
  readonly connectXml: Uint8Array
  /** `protocolversion` option (default 2.3). */
  readonly protocolVersion?: string
}

/** The Connect request (MS-PSRP 3.1.5.3.14). */
export function psrpConnect(o: PsrpConnectOptions): ShellRequest {
  return {
    action: 'connect',
    ...target(o),
    options: [protocolVersionOption(o.protocolVersion)],
    body: el('rsp:Connect', undefined, psrpElement('connectXml', o.connectXml)),
  }
}

/**
 * The Connect that attaches a new client to a pipeline (command) of a shell it connected to: the body
 * names the CommandId and carries no connectXml (PowerShell's `WSManConnectShellCommand`); output then
 * comes from Receives on that command.
 */
export function psrpConnectCommand(o: PsrpShellTarget & { readonly pipelineId: string }): ShellRequest {
  return {
    action: 'connect',
    ...target(o),
    body: el('rsp:Connect', { CommandId: wireGuid(o.pipelineId, 'pipeline id') }),
  }
}

function bufferModeValue(mode: OutputBufferingMode): OutputBufferingMode {
  if (mode !== 'Block' && mode !== 'Drop')
    throw new InvalidArgumentError(`output buffering mode must be 'Block' or 'Drop', not '${String(mode)}'`)
  return mode
}

/** Options of a Disconnect. */
export interface PsrpDisconnectOptions extends PsrpShellTarget {
  /** `rsp:IdleTimeOut` in seconds: how long the server keeps the disconnected shell. */
  readonly idleTimeout?: number
  /** `rsp:BufferMode` while disconnected. */
  readonly bufferMode?: OutputBufferingMode
}

/** The Disconnect request (MS-PSRP 3.1.5.3.16). */
export function psrpDisconnect(o: PsrpDisconnectOptions): ShellRequest {
  return {
    action: 'disconnect',
    ...target(o),
    body: el(
      'rsp:Disconnect',
      undefined,
      o.idleTimeout !== undefined &&
        el('rsp:IdleTimeOut', undefined, formatDuration(o.idleTimeout, 'IdleTimeOut')),
      o.bufferMode !== undefined && el('rsp:BufferMode', undefined, o.bufferMode),
    ),
  }
}

/** Options of a Reconnect. */
export interface PsrpReconnectOptions extends PsrpShellTarget {
  /** `rsp:BufferMode` to use on a later disconnect. */
  readonly bufferMode?: OutputBufferingMode
  /** Reconnect this pipeline (a second Reconnect after the shell's). */
  readonly pipelineId?: string
}

/**
 * The Reconnect request (MS-PSRP 3.1.5.3.18). MS-WSMV 3.1.4.16 defines no input body, so none is sent
 * unless a buffer mode or pipeline is named; then `rsp:Reconnect` carries them.
 */
export function psrpReconnect(o: PsrpReconnectOptions): ShellRequest {
  const body =
    o.bufferMode === undefined && o.pipelineId === undefined
      ? undefined
      : el(
          'rsp:Reconnect',
          { CommandId: o.pipelineId === undefined ? undefined : wireGuid(o.pipelineId, 'pipeline id') },
          o.bufferMode !== undefined && el('rsp:BufferMode', undefined, o.bufferMode),
        )
  return { action: 'reconnect', ...target(o), ...(body === undefined ? {} : { body }) }
}

/** Options of a shell enumeration. */
export interface PsrpEnumerateShellsOptions {
  /** Restrict the shells (e.g. `{ selectors: { ShellId } }` or a dialect filter). */
  readonly filter?: EnumerationFilter
  /** `wsman:MaxElements`. */
  readonly maxElements?: number
}

/** Enumerate the caller's shells on the server (`Get-PSSession -ComputerName`). */
export function psrpEnumerateShells(o: PsrpEnumerateShellsOptions = {}): EnumerateRequest {
  return {
    action: 'enumerate',
    resourceUri: ResourceUri.Shell,
    ...(o.filter === undefined ? {} : { filter: o.filter }),
    ...(o.maxElements === undefined ? {} : { maxElements: o.maxElements }),
  }
}

/** Enumerate the commands (pipelines) of one shell. */
export function psrpEnumerateCommands(o: {
  readonly shellId: string
  readonly maxElements?: number
}): EnumerateRequest {
  return {
    action: 'enumerate',
    resourceUri: ResourceUri.ShellCommand,
    filter: { selectors: { ShellId: wireGuid(o.shellId, 'ShellId') } },
    ...(o.maxElements === undefined ? {} : { maxElements: o.maxElements }),
  }
}

/** Get one shell's description (its `State` tells whether it is alive and connected). */
export function psrpGetShell(o: {
  readonly shellId: string
  readonly operationTimeout?: number
}): TransferRequest {
  return {
    action: 'get',
    resourceUri: ResourceUri.Shell,
    selectors: { ShellId: wireGuid(o.shellId, 'ShellId') },
    ...(o.operationTimeout === undefined ? {} : { operationTimeout: o.operationTimeout }),
  }
}
