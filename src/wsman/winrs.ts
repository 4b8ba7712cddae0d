/**
 * The Windows Remote Shell (WinRS) bodies of MS-WSMV, encoders and decoders side by side:
 *
 * - `rsp:Shell` (MS-WSMV 2.2.4.37), the Create body and the shell description in CreateResponse,
 *   GetResponse and Enumerate items; the Create rules are MS-WSMV 3.1.4.5.2;
 * - `rsp:CommandLine` and `rsp:CommandResponse` (Command, MS-WSMV 3.1.4.11);
 * - `rsp:Signal` with its signal codes (MS-WSMV 3.1.4.12, `SignalCodeEnumeration` 2.2.5);
 * - `rsp:Send` (MS-WSMV 3.1.4.13) and `rsp:Receive`/`rsp:ReceiveResponse` (MS-WSMV 3.1.4.14,
 *   `ReceiveResponse` 2.2.4.27, `StreamType` 2.2.4.40, `CommandStateType` 2.2.4.9); stream data is
 *   base64 (MS-WSMV 3.1.4.1.31.1).
 *
 * The request builders return {@link WSManRequest} values for `buildEnvelope`. Option values use the
 * spellings Windows is known to accept (the recorded corpus): WinRM compares option booleans without
 * regard to case.
 *
 * @module
 */
import { InvalidArgumentError, ProtocolError } from '../errors.ts'
import { fromBase64 } from '../internal/base64.ts'
import { Namespace, ResourceUri } from './constants.ts'
import { formatDuration, parseDuration } from './duration.ts'
import type { CreateRequest, ShellRequest, TransferRequest, WSManOption } from './envelope.ts'
import { base64Text, el, type XmlNode } from './xml-node.ts'
import { nsAttr, nsChild, nsChildren, type NsElement } from './xml-ns.ts'
import type { LiftedStreams } from './stream-lift.ts'

/** Signal codes (MS-WSMV 2.2.5 `SignalCodeEnumeration`, plus PowerShell's stop signal). */
export const SignalCode = {
  /** Ctrl+C to the command's process. */
  ctrl_c: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c',
  /** Ctrl+Break to the command's process. */
  ctrl_break: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_break',
  /** Terminate the command (also how a finished WinRS command or PSRP pipeline is released). */
  terminate: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate',
  /**
   * Stop a PowerShell pipeline (MS-PSRP 3.1.5.3.9). The misspelling `crtl` is the wire value PowerShell
   * sends and expects.
   */
  ps_crtl_c: 'powershell/signal/crtl_c',
} as const

/** A signal by name. */
export type SignalName = keyof typeof SignalCode

/** `CommandState` `State` URIs (MS-WSMV 2.2.5 `CommandStateEnumeration`). */
export const CommandStateUri = {
  Done: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done',
  Pending: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Pending',
  Running: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running',
} as const

/** WinRS option names (MS-WSMV 3.1.4.5.2 and 3.1.4.11). */
export const WinRSOption = {
  Codepage: 'WINRS_CODEPAGE',
  NoProfile: 'WINRS_NOPROFILE',
  SkipCmdShell: 'WINRS_SKIP_CMD_SHELL',
  ConsoleModeStdin: 'WINRS_CONSOLEMODE_STDIN',
  KeepAlive: 'WSMAN_CMDSHELL_OPTION_KEEPALIVE',
} as const

function streamList(names: readonly string[], what: string): string {
  if (names.length === 0) throw new InvalidArgumentError(`${what} must name at least one stream`)
  for (const n of names) {
    if (n === '' || /\s/.test(n))
      throw new InvalidArgumentError(`${what}: invalid stream name ${JSON.stringify(n)}`)
  }
  return names.join(' ')
}

function nonEmpty(value: string, what: string): string {
  if (value === '') throw new InvalidArgumentError(`${what} must not be empty`)
  return value
}

// ---------------------------------------------------------------------------------------------------
// Shell (MS-WSMV 2.2.4.37)

/** The client-settable parts of an `rsp:Shell` Create body. */
export interface ShellBodyOptions {
  /** `ShellId` attribute: a client-chosen shell id (PSRP uses the RunspacePool id). */
  readonly shellId?: string
  /** `rsp:Name`. */
  readonly name?: string
  /** `rsp:Environment`: variables set for every command of the shell. */
  readonly environment?: Readonly<Record<string, string>>
  /** `rsp:WorkingDirectory`. */
  readonly workingDirectory?: string
  /** `rsp:Lifetime` in seconds. */
  readonly lifetime?: number
  /** `rsp:IdleTimeOut` in seconds. */
  readonly idleTimeout?: number
  /** `rsp:InputStreams` (default `stdin`). */
  readonly inputStreams?: readonly string[]
  /** `rsp:OutputStreams` (default `stdout stderr`). */
  readonly outputStreams?: readonly string[]
  /** Extension elements after the predefined ones (the schema's open content), e.g. `creationXml`. */
  readonly extensions?: readonly XmlNode[]
}

/** Builds the `rsp:Shell` element, children in the schema's sequence order. */
export function shellBody(o: ShellBodyOptions): XmlNode {
  const env = Object.entries(o.environment ?? {})
  return el(
    'rsp:Shell',
    { ShellId: o.shellId },
    o.name !== undefined && el('rsp:Name', undefined, o.name),
    env.length > 0 &&
      el(
        'rsp:Environment',
        undefined,
        ...env.map(([name, value]) =>
          el('rsp:Variable', { Name: nonEmpty(name, 'environment variable name') }, value),
        ),
      ),
    o.workingDirectory !== undefined && el('rsp:WorkingDirectory', undefined, o.workingDirectory),
    o.lifetime !== undefined && el('rsp:Lifetime', undefined, formatDuration(o.lifetime, 'Lifetime')),
    o.idleTimeout !== undefined &&
      el('rsp:IdleTimeOut', undefined, formatDuration(o.idleTimeout, 'IdleTimeOut')),
    el('rsp:InputStreams', undefined, streamList(o.inputStreams ?? ['stdin'], 'InputStreams')),
    el('rsp:OutputStreams', undefined, streamList(o.outputStreams ?? ['stdout', 'stderr'], 'OutputStreams')),
    ...(o.extensions ?? []),
  )
}

/** Options of a WinRS shell Create. */
export interface WinRSCreateOptions extends ShellBodyOptions {
  /** Resource URI (default the `cmd` shell). */
  readonly resourceUri?: string
  /** `WINRS_CODEPAGE`: console code page of the shell, e.g. 65001 for UTF-8. */
  readonly codepage?: number
  /** `WINRS_NOPROFILE` (MustComply): do not load the user profile. */
  readonly noProfile?: boolean
  /** Extra options appended after the ones above. */
  readonly options?: readonly WSManOption[]
  /** Per-request `wsman:OperationTimeout` in seconds. */
  readonly operationTimeout?: number
}

/** A Create request for a WinRS shell (MS-WSMV 3.1.4.5.2). */
export function winrsCreate(o: WinRSCreateOptions = {}): CreateRequest {
  if (
    o.codepage !== undefined &&
    !(Number.isSafeInteger(o.codepage) && o.codepage > 0 && o.codepage <= 0xffff)
  ) {
    throw new InvalidArgumentError(`codepage must be an integer 1-65535, got ${o.codepage}`)
  }
  const options: WSManOption[] = []
  if (o.noProfile === true) options.push({ name: WinRSOption.NoProfile, value: 'TRUE', mustComply: true })
  if (o.codepage !== undefined) options.push({ name: WinRSOption.Codepage, value: String(o.codepage) })
  options.push(...(o.options ?? []))
  return {
    action: 'create',
    resourceUri: o.resourceUri ?? ResourceUri.Cmd,
    options,
    ...(o.operationTimeout === undefined ? {} : { operationTimeout: o.operationTimeout }),
    body: shellBody(o),
  }
}

/** A shell's properties as the server describes them (CreateResponse, GetResponse, Enumerate items). */
export interface ShellInfo {
  readonly shellId?: string
  readonly name?: string
  readonly resourceUri?: string
  readonly owner?: string
  readonly clientIp?: string
  readonly processId?: number
  /** Seconds. */
  readonly idleTimeout?: number
  readonly inputStreams: readonly string[]
  readonly outputStreams: readonly string[]
  /** Seconds. */
  readonly maxIdleTimeout?: number
  readonly locale?: string
  readonly dataLocale?: string
  readonly compressionMode?: string
  readonly profileLoaded?: string
  readonly encoding?: string
  /** `Block` or `Drop`. */
  readonly bufferMode?: string
  /** `Connected`, `Disconnected` … */
  readonly state?: string
  /** Seconds. */
  readonly shellRunTime?: number
  /** Seconds. */
  readonly shellInactivity?: number
  readonly memoryUsed?: string
  readonly childProcesses?: number
}

/** Reads an `rsp:Shell` description. Unknown children are ignored; malformed numbers are a {@link ProtocolError}. */
export function parseShell(shell: NsElement): ShellInfo {
  const text = (local: string): string | undefined => {
    const c = nsChild(shell, Namespace.rsp, local)
    return c === undefined ? undefined : c.text.trim()
  }
  const int = (local: string): number | undefined => {
    const t = text(local)
    if (t === undefined || t === '') return undefined
    const n = Number(t)
    if (!Number.isSafeInteger(n))
      throw new ProtocolError(`rsp:${local} is not an integer: ${JSON.stringify(t)}`)
    return n
  }
  const duration = (local: string): number | undefined => {
    const t = text(local)
    if (t === undefined || t === '') return undefined
    const d = parseDuration(t)
    if (d === undefined) throw new ProtocolError(`rsp:${local} is not an xs:duration: ${JSON.stringify(t)}`)
    return d
  }
  const list = (local: string): string[] => (text(local) ?? '').split(/\s+/).filter((s) => s !== '')
  const info: Record<string, unknown> = {
    shellId: text('ShellId'),
    name: text('Name'),
    resourceUri: text('ResourceUri'),
    owner: text('Owner'),
    clientIp: text('ClientIP'),
    processId: int('ProcessId'),
    idleTimeout: duration('IdleTimeOut'),
    inputStreams: list('InputStreams'),
    outputStreams: list('OutputStreams'),
    maxIdleTimeout: duration('MaxIdleTimeOut'),
    locale: text('Locale'),
    dataLocale: text('DataLocale'),
    compressionMode: text('CompressionMode'),
    profileLoaded: text('ProfileLoaded'),
    encoding: text('Encoding'),
    bufferMode: text('BufferMode'),
    state: text('State'),
    shellRunTime: duration('ShellRunTime'),
    shellInactivity: duration('ShellInactivity'),
    memoryUsed: text('MemoryUsed'),
    childProcesses: int('ChildProcesses'),
  }
  for (const k of Object.keys(info)) if (info[k] === undefined) delete info[k]
  return info as unknown as ShellInfo
}

// ---------------------------------------------------------------------------------------------------
// CommandLine / CommandResponse (MS-WSMV 3.1.4.11)

/** The parts of an `rsp:CommandLine`. */
export interface CommandLineOptions {
  /** `rsp:Command` (may be empty: PSRP sends `<rsp:Command />`). */
  readonly command: string
  /** One `rsp:Arguments` element each, in order. */
  readonly arguments?: readonly string[]
  /** `CommandId` attribute: a client-chosen command id. */
  readonly commandId?: string
}

/** Builds `rsp:CommandLine`. */
export function commandLineBody(o: CommandLineOptions): XmlNode {
  return el(
    'rsp:CommandLine',
    { CommandId: o.commandId },
    el('rsp:Command', undefined, o.command),
    ...(o.arguments ?? []).map((a) => el('rsp:Arguments', undefined, a)),
  )
}

/** Options of a WinRS Command. */
export interface WinRSCommandOptions extends CommandLineOptions {
  /** The ShellId selector. */
  readonly shellId: string
  /** `WINRS_SKIP_CMD_SHELL`: run the executable directly instead of through `cmd.exe /c` (default false; always sent). */
  readonly skipCmdShell?: boolean
  /** `WINRS_CONSOLEMODE_STDIN`: give the process a console for stdin instead of a pipe (sent only when set). */
  readonly consoleModeStdin?: boolean
  /** Resource URI (default the `cmd` shell). */
  readonly resourceUri?: string
  /** Extra options appended after the ones above. */
  readonly options?: readonly WSManOption[]
}

const bool = (b: boolean): string => (b ? 'True' : 'False')

/** A Command request starting a process in a WinRS shell. */
export function winrsCommand(o: WinRSCommandOptions): ShellRequest {
  const options: WSManOption[] = []
  if (o.consoleModeStdin !== undefined)
    options.push({ name: WinRSOption.ConsoleModeStdin, value: bool(o.consoleModeStdin) })
  options.push({ name: WinRSOption.SkipCmdShell, value: bool(o.skipCmdShell ?? false) }, ...(o.options ?? []))
  return {
    action: 'command',
    resourceUri: o.resourceUri ?? ResourceUri.Cmd,
    selectors: { ShellId: nonEmpty(o.shellId, 'ShellId') },
    options,
    body: commandLineBody(o),
  }
}

/** Reads `rsp:CommandResponse/rsp:CommandId`. */
export function parseCommandResponse(body: NsElement | undefined): string {
  const id = nsChild(nsChild(body, Namespace.rsp, 'CommandResponse'), Namespace.rsp, 'CommandId')?.text.trim()
  if (id === undefined || id === '') throw new ProtocolError('CommandResponse without a CommandId')
  return id
}

// ---------------------------------------------------------------------------------------------------
// Send (MS-WSMV 3.1.4.13)

/** One `rsp:Stream` of a Send. */
export interface SendStreamOptions {
  /** Stream name, e.g. `stdin` (WinRS) or `stdin`/`pr` (PSRP). */
  readonly stream: string
  /** The bytes to send; written as base64. */
  readonly data: Uint8Array
  /** `CommandId` attribute; absent when the input is for the shell itself. */
  readonly commandId?: string
  /** `End` attribute (written as `True`/`False` when set): this is the last input on the stream. */
  readonly end?: boolean
}

/** Builds `rsp:Send`. */
export function sendBody(o: SendStreamOptions): XmlNode {
  return el(
    'rsp:Send',
    undefined,
    el(
      'rsp:Stream',
      {
        Name: nonEmpty(o.stream, 'stream name'),
        CommandId: o.commandId,
        End: o.end === undefined ? undefined : bool(o.end),
      },
      base64Text(o.data),
    ),
  )
}

/** Options of a WinRS Send. */
export interface WinRSSendOptions {
  readonly shellId: string
  readonly commandId: string
  readonly data: Uint8Array
  /** Default `stdin`. */
  readonly stream?: string
  /** Close the stream after this data (default false; `End` is always sent). */
  readonly end?: boolean
  readonly resourceUri?: string
}

/** A Send request writing to a WinRS command's stdin. */
export function winrsSend(o: WinRSSendOptions): ShellRequest {
  return {
    action: 'send',
    resourceUri: o.resourceUri ?? ResourceUri.Cmd,
    selectors: { ShellId: nonEmpty(o.shellId, 'ShellId') },
    body: sendBody({
      stream: o.stream ?? 'stdin',
      data: o.data,
      commandId: o.commandId,
      end: o.end ?? false,
    }),
  }
}

// ---------------------------------------------------------------------------------------------------
// Receive / ReceiveResponse (MS-WSMV 3.1.4.14, 2.2.4.27)

/** Builds `rsp:Receive` with its `rsp:DesiredStream`. */
export function receiveBody(streams: readonly string[], commandId?: string): XmlNode {
  return el(
    'rsp:Receive',
    undefined,
    el('rsp:DesiredStream', { CommandId: commandId }, streamList(streams, 'DesiredStream')),
  )
}

/** Options of a WinRS Receive. */
export interface WinRSReceiveOptions {
  readonly shellId: string
  /** The command whose output to receive; absent to receive shell-level output. */
  readonly commandId?: string
  /** Default `stdout stderr`. */
  readonly streams?: readonly string[]
  /** `WSMAN_CMDSHELL_OPTION_KEEPALIVE` (default true, keeps the shell alive while polling). */
  readonly keepAlive?: boolean
  readonly resourceUri?: string
  /** Per-request `wsman:OperationTimeout` in seconds (the long-poll wait). */
  readonly operationTimeout?: number
}

/** A Receive request polling a WinRS command's output. */
export function winrsReceive(o: WinRSReceiveOptions): ShellRequest {
  return {
    action: 'receive',
    resourceUri: o.resourceUri ?? ResourceUri.Cmd,
    selectors: { ShellId: nonEmpty(o.shellId, 'ShellId') },
    options: o.keepAlive === false ? [] : [{ name: WinRSOption.KeepAlive, value: 'True' }],
    ...(o.operationTimeout === undefined ? {} : { operationTimeout: o.operationTimeout }),
    body: receiveBody(o.streams ?? ['stdout', 'stderr'], o.commandId),
  }
}

/** One `rsp:Stream` of a ReceiveResponse. */
export interface ReceivedStream {
  /** Stream name (`stdout`, `stderr`, …). */
  readonly name: string
  /** The command the data belongs to; absent for shell-level output (PSRP RunspacePool data). */
  readonly commandId?: string
  /** Decoded bytes (empty for an `End` marker). */
  readonly data: Uint8Array
  /** `End="true"`: no more data on this stream. */
  readonly end: boolean
}

/** `rsp:CommandState` (MS-WSMV 2.2.4.9). */
export interface CommandState {
  readonly commandId?: string
  /** The `State` URI (see {@link CommandStateUri}). */
  readonly state: string
  /** True when `state` is `…/CommandState/Done`. */
  readonly done: boolean
  /** `rsp:ExitCode`, when present. */
  readonly exitCode?: number
}

/** A decoded `rsp:ReceiveResponse`. */
export interface ReceiveResult {
  readonly streams: readonly ReceivedStream[]
  readonly commandState?: CommandState
}

/** Reads `rsp:ReceiveResponse`; bad base64 or exit codes are a {@link ProtocolError}. */
export function parseReceiveResponse(body: NsElement | undefined): ReceiveResult {
  return readReceiveResponse(body, undefined)
}

/**
 * {@link parseReceiveResponse} of a body read with its long `Stream` contents lifted out
 * (`stream-lift.ts`): a `Stream` whose text is a marker has the bytes lifted for it.
 */
export function readReceiveResponse(
  body: NsElement | undefined,
  lifted: LiftedStreams | undefined,
): ReceiveResult {
  const rr = nsChild(body, Namespace.rsp, 'ReceiveResponse')
  if (rr === undefined) throw new ProtocolError('ReceiveResponse body missing')
  const streams: ReceivedStream[] = nsChildren(rr, Namespace.rsp, 'Stream').map((s) => {
    const name = nsAttr(s, 'Name')
    if (name === undefined) throw new ProtocolError('rsp:Stream without a Name')
    const data = lifted?.take(s.text) ?? fromBase64(s.text)
    if (data === undefined) throw new ProtocolError(`rsp:Stream ${name} holds invalid base64`)
    const commandId = nsAttr(s, 'CommandId')
    return {
      name,
      ...(commandId === undefined ? {} : { commandId }),
      data,
      end: /^(true|1)$/i.test(nsAttr(s, 'End') ?? ''),
    }
  })
  const cs = nsChild(rr, Namespace.rsp, 'CommandState')
  if (cs === undefined) return { streams }
  const state = nsAttr(cs, 'State')
  if (state === undefined) throw new ProtocolError('rsp:CommandState without a State')
  const commandId = nsAttr(cs, 'CommandId')
  const exitText = nsChild(cs, Namespace.rsp, 'ExitCode')?.text.trim()
  let exitCode: number | undefined
  if (exitText !== undefined && exitText !== '') {
    exitCode = Number(exitText)
    if (!/^-?\d+$/.test(exitText) || !Number.isSafeInteger(exitCode)) {
      throw new ProtocolError(`rsp:ExitCode is not an integer: ${JSON.stringify(exitText)}`)
    }
  }
  return {
    streams,
    commandState: {
      ...(commandId === undefined ? {} : { commandId }),
      state,
      done: state === CommandStateUri.Done,
      ...(exitCode === undefined ? {} : { exitCode }),
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// Signal (MS-WSMV 3.1.4.12)

/** A signal name from {@link SignalCode}, or any other signal URI verbatim. */
export type SignalCodeInput = SignalName | (string & {})

/** Builds `rsp:Signal`. */
export function signalBody(code: SignalCodeInput, commandId?: string): XmlNode {
  const uri = Object.hasOwn(SignalCode, code) ? SignalCode[code as SignalName] : nonEmpty(code, 'signal code')
  return el('rsp:Signal', { CommandId: commandId }, el('rsp:Code', undefined, uri))
}

/** Options of a WinRS Signal. */
export interface WinRSSignalOptions {
  readonly shellId: string
  readonly commandId?: string
  /** Default `terminate`. */
  readonly code?: SignalCodeInput
  readonly resourceUri?: string
}

/** A Signal request to a WinRS command (Ctrl+C, Ctrl+Break, or the Terminate that releases it). */
export function winrsSignal(o: WinRSSignalOptions): ShellRequest {
  return {
    action: 'signal',
    resourceUri: o.resourceUri ?? ResourceUri.Cmd,
    selectors: { ShellId: nonEmpty(o.shellId, 'ShellId') },
    body: signalBody(o.code ?? 'terminate', o.commandId),
  }
}

// ---------------------------------------------------------------------------------------------------
// Delete

/** A Delete request closing a shell. */
export function winrsDelete(o: { readonly shellId: string; readonly resourceUri?: string }): TransferRequest {
  return {
    action: 'delete',
    resourceUri: o.resourceUri ?? ResourceUri.Cmd,
    selectors: { ShellId: nonEmpty(o.shellId, 'ShellId') },
  }
}
