/**
 * The replay logic without sockets: a cursor over the recorded exchanges, request matching (WS-Man
 * signature plus decoded PSRP messages), GUID binding and response rewriting. `startReplayServer`
 * wraps it in an HTTP server.
 */
import { localName, type XmlElement } from '../../../src/internal/xml.ts'
import { Defragmenter, decodeMessage, decodeMessageBody, MessageType } from '../../../src/psrp/index.ts'
import { compareVersions } from '../../../src/psrp/states.ts'
import type { Exchange } from '../recordings.ts'
import {
  actionName,
  attr,
  child,
  faultEnvelope,
  invalidSelectorsEnvelope,
  isFault,
  parseEnvelope,
  requestPayloads,
  responsePayloads,
  rewriteEnvelope,
  sendResponseEnvelope,
  signalResponseEnvelope,
  setRelatesTo,
  shellIdOf,
  timedOutEnvelope,
  type ParsedEnvelope,
} from './envelope.ts'
import { asGuid, GUID_IN_TEXT, GuidMap, readGuid, type GuidOrder } from './guids.ts'
import {
  canonicalClixml,
  diffCanon,
  readMessage,
  rewriteCallIds,
  unb64,
  type Canon,
  type DecodedPsrpMessage,
} from './psrp.ts'

/** A request the server could not match. */
export interface Mismatch {
  /** Index of the recorded exchange the request was compared with (= exchanges.length past the end). */
  exchange: number
  /** Action of the incoming request (short form, e.g. `Receive`), or `?` when unparsable. */
  action: string
  /** What differs, one line each. */
  diffs: string[]
  /** The whole explanation (also the fault text sent back). */
  message: string
}

/** How strictly PSRP message bodies are compared. */
export type PsrpStrictness = 'types' | 'semantic' | 'strict'

/** Options of the replay. */
export interface ReplayOptions {
  /**
   * How message bodies are compared: `types` (destination, type, RPID/PID only), `semantic` (default:
   * the CLIXML value tree, ignoring RefIds, property order and name case, whitespace, `<ToString>`,
   * type names of collections, enums beyond their value, and Nil properties), `strict` (semantic
   * plus those).
   */
  psrp?: PsrpStrictness
  /**
   * Body paths to ignore, as `TYPE:path` (e.g. `SESSION_CAPABILITY:TimeZone`,
   * `CREATE_PIPELINE:HostInfo`); a path matches itself and everything below it.
   */
  ignore?: string[]
  /**
   * Recorded exchanges the client may leave out (pypsrp-specific requests). Default: the Signal
   * requests sent after the command or pipeline already reported Done ({@link defaultOptional}).
   */
  optional?: number[] | ((index: number, exchanges: readonly Exchange[]) => boolean)
  /**
   * Accept a client that splits or merges the PSRP messages of consecutive recorded Send requests
   * differently (default true): SendResponses are synthesized for extra Sends, and recorded Sends
   * whose messages the client already sent are absorbed.
   */
  flexibleSends?: boolean
  /**
   * Answer a Signal the recording does not have, when it is for a command that already reported
   * Done (a client that releases finished pipelines with `terminate`, which older pypsrp did not),
   * with a synthesized SignalResponse instead of a mismatch (default true).
   */
  allowExtraSignals?: boolean
  /**
   * Let the client use a new CommandId where the recording reuses the id of a finished command (pypsrp
   * invoking the same PowerShell object twice), rebinding the recorded id (default true).
   */
  reuseFinishedCommandIds?: boolean
  /** WS-Man option names not compared (in the OptionSet of any request). */
  ignoreOptions?: string[]
  /** Multiply recorded `timeout` delays (default 1; 0 disables them). */
  delayScale?: number
  /**
   * Allow Receives that run concurrently with other requests (a client that keeps a pool Receive
   * outstanding while it drives pipelines): a Receive that matches no recorded exchange yet is held
   * until the cursor reaches one it matches, or answered with w:TimedOut after
   * {@link receiveTimeoutMs} (the client polls again). Default false: strict order.
   */
  concurrentReceives?: boolean
  /** How long a held Receive waits before w:TimedOut (ms, default 1000). */
  receiveTimeoutMs?: number
  /**
   * Bind the call ids (`ci`) of SET_MAX_RUNSPACES, SET_MIN_RUNSPACES, GET_AVAILABLE_RUNSPACES and
   * RESET_RUNSPACE_STATE one-to-one, like GUIDs, and answer with the client's in RUNSPACE_AVAILABILITY
   * (default false: compared as values). Call ids are client-chosen correlation numbers the server
   * echoes; clients number them differently (pypsrp from 0, .NET from 1).
   */
  bindCallIds?: boolean
  /**
   * Accept either spelling of PowerShell's stop signal in a Signal's Code (default false):
   * `powershell/signal/crtl_c`, which MS-PSRP 3.1.5.3.13 specifies and PowerShell sends, and
   * `powershell/signal/ctrl_c`, which old pypsrp sent (Windows answered both with a SignalResponse).
   */
  stopSignalSpellings?: boolean
  /**
   * With {@link allowExtraSignals}, also answer an extra `terminate` Signal for a command whose stop
   * Signal (`powershell/signal/crtl_c`, or WinRS's `signal/ctrl_c`) the recording already answered
   * (default false): a client that
   * releases a stopped pipeline it never heard back from before deleting the shell, where the recorded
   * client never read from it again.
   */
  extraSignalsAfterStop?: boolean
  /**
   * Accept a `pr` Send (host response) that names the pipeline in its CommandId where the recorded one
   * names none (default false): pypsrp sent pipeline host responses on the shell, PowerShell sends them
   * on the command; the PSRP message's PID names the pipeline either way (and is compared). The
   * CommandId must be one the client already uses for a recorded command.
   */
  promptResponseOnCommand?: boolean
}

const STOP_SIGNAL_SPELLINGS = new Set(['powershell/signal/crtl_c', 'powershell/signal/ctrl_c'])

/** WinRS's Ctrl+C (MS-WSMV 2.2.4.38): a stop request for a WinRS command, as crtl_c is for PSRP. */
const WINRS_CTRL_C = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c'

/** Messages whose `ci` is a client-chosen call id answered by RUNSPACE_AVAILABILITY. */
const CALL_ID_MESSAGES = new Set([
  'SET_MAX_RUNSPACES',
  'SET_MIN_RUNSPACES',
  'GET_AVAILABLE_RUNSPACES',
  'RESET_RUNSPACE_STATE',
])

/** GUID and call-id bindings, for undoing a failed comparison. */
interface Bindings {
  guids: ReturnType<GuidMap['snapshot']>
  calls: [Map<string, string>, Map<string, string>]
}

/** What to send back for one request. */
export interface ReplayReply {
  status: number
  body: string
  /** Delay before answering, in ms. */
  delayMs: number
  /** Destroy the connection instead of answering (recorded `http_error`). */
  destroy: boolean
}

/** One recorded exchange, parsed once. */
export interface PreparedExchange {
  index: number
  exchange: Exchange
  request: ParsedEnvelope
  response: ParsedEnvelope | undefined
  /** Recorded ShellId the request addresses (lower case). */
  shell: string | undefined
  /** PSRP messages the request completed, in order (header GUIDs in the recording's order). */
  messages: DecodedPsrpMessage[]
  /** Short action name. */
  action: string
}

/** A parsed recording. */
export interface PreparedRecording {
  exchanges: PreparedExchange[]
  /** Byte order of the recording's PSRP header GUIDs. */
  order: GuidOrder
}

/** Parses a recording and reassembles the PSRP messages of each request. */
export function prepareRecording(exchanges: readonly Exchange[]): PreparedRecording {
  const parsed = exchanges.map((exchange, index) => {
    const request = parseEnvelope(exchange.request)
    const response = hasResponse(exchange) ? parseEnvelope(exchange.response as string) : undefined
    return { index, exchange, request, response }
  })
  const order = detectOrder(parsed.map((p) => p.request))
  const defrags = new Map<string, Defragmenter>()
  const out: PreparedExchange[] = parsed.map((p) => {
    const shell = shellIdOf(p.request)?.toLowerCase()
    const messages: DecodedPsrpMessage[] = []
    for (const pl of requestPayloads(p.request)) {
      const key = shell ?? ''
      let d = defrags.get(key)
      if (d === undefined) defrags.set(key, (d = new Defragmenter()))
      for (const raw of d.push(unb64(pl.b64))) messages.push(readMessage(raw, order))
    }
    return { ...p, shell, messages, action: actionName(p.request.action) }
  })
  return { exchanges: out, order }
}

/** True when the exchange recorded a response body (`http_error` ones have none, or YAML `null`). */
export function hasResponse(ex: Exchange): boolean {
  const r = ex.response?.trim() ?? ''
  return r !== '' && r !== 'null' && r !== '~'
}

/**
 * The byte order of PSRP header GUIDs in recorded requests: the one in which an RPID reads as a
 * GUID the envelopes name (ShellId). Defaults to .NET order.
 */
export function detectOrder(requests: ParsedEnvelope[]): GuidOrder {
  const known = new Set<string>()
  for (const r of requests) for (const m of r.raw.matchAll(GUID_IN_TEXT)) known.add(m[0].toLowerCase())
  for (const r of requests) {
    for (const pl of requestPayloads(r)) {
      const bytes = unb64(pl.b64)
      if (bytes.length < 21 + 40 || ((bytes[16] ?? 0) & 1) === 0) continue
      if (known.has(readGuid(bytes, 21 + 8, 'le'))) return 'le'
      if (known.has(readGuid(bytes, 21 + 8, 'be'))) return 'be'
    }
  }
  return 'le'
}

const SIGNAL_DONE = /CommandState\/Done/

const ACTION = /<(?:[\w-]+:)?Action[^>]*>[^<]*\/(\w+)<\/(?:[\w-]+:)?Action>/
const SHELL_SELECTOR = /<(?:[\w-]+:)?Selector Name="ShellId">([^<]+)</

/**
 * A Reconnect of a shell that is connected (its last Create, Connect, Reconnect or Disconnect was not
 * a Disconnect): old pypsrp reconnected every pool before deleting it, connected or not, and Windows
 * answered; MS-PSRP 3.1.5.3.18 sends Reconnect only to resume a disconnected shell.
 */
function reconnectOfConnectedShell(index: number, exchanges: readonly Exchange[]): boolean {
  const ex = exchanges[index]
  if (ex === undefined || ACTION.exec(ex.request)?.[1] !== 'Reconnect') return false
  const shell = SHELL_SELECTOR.exec(ex.request)?.[1]?.toLowerCase()
  if (shell === undefined) return false
  for (let i = index - 1; i >= 0; i--) {
    const r = exchanges[i]?.request ?? ''
    const action = ACTION.exec(r)?.[1]
    if (action === undefined || !['Create', 'Connect', 'Reconnect', 'Disconnect'].includes(action)) continue
    if (/<(?:[\w-]+:)?(?:Connect|Reconnect)\s[^>]*CommandId=/.test(r)) continue
    const id = SHELL_SELECTOR.exec(r)?.[1] ?? /<(?:[\w-]+:)?Shell\s[^>]*ShellId="([^"]+)"/.exec(r)?.[1]
    if (id?.toLowerCase() !== shell) continue
    return action !== 'Disconnect'
  }
  return false
}

/**
 * pypsrp-specific exchanges a different client may leave out: a Signal (ctrl_c/terminate) for a
 * command whose Receive already reported CommandState Done, and a Reconnect of a shell that is not
 * disconnected.
 */
export function defaultOptional(index: number, exchanges: readonly Exchange[]): boolean {
  if (reconnectOfConnectedShell(index, exchanges)) return true
  const ex = exchanges[index]
  if (ex === undefined || !/\/Signal<\/(?:[\w-]+:)?Action>/.test(ex.request)) return false
  const cmd = /<(?:[\w-]+:)?Signal\s[^>]*CommandId="([^"]+)"/.exec(ex.request)?.[1]?.toLowerCase()
  if (cmd === undefined) return false
  for (let i = index - 1; i >= 0; i--) {
    const r = exchanges[i]?.response ?? ''
    if (!SIGNAL_DONE.test(r)) continue
    const m = /<(?:[\w-]+:)?CommandState\s[^>]*CommandId="([^"]+)"[^>]*State="[^"]*\/Done"/.exec(r)
    const m2 = /<(?:[\w-]+:)?CommandState\s[^>]*State="[^"]*\/Done"[^>]*CommandId="([^"]+)"/.exec(r)
    if ((m?.[1] ?? m2?.[1])?.toLowerCase() === cmd) return true
  }
  return false
}

/** Seconds of an xs:duration (`PT60S`, `PT60.000S`, `P0DT1H`), or undefined. */
function durationSeconds(text: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim())
  if (m === null || text.trim() === 'P' || text.trim() === 'PT') return undefined
  const [, d, h, mi, sec] = m
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(mi ?? 0) * 60 + Number(sec ?? 0)
}

/** WS-Man options whose absence means this value (MS-WSMV 2.2.4.x); an explicit default matches absence. */
const OPTION_DEFAULTS: Record<string, string> = {
  WINRS_SKIP_CMD_SHELL: 'FALSE',
  WINRS_NOPROFILE: 'FALSE',
  WINRS_CONSOLEMODE_STDIN: 'TRUE',
}

const PAYLOAD_ELEMENTS = new Set(['creationXml', 'connectXml'])

/**
 * Fields a later protocol version added to a client message, with the version that added them and
 * their default (MS-PSRP 2.2.3.12: MergeError/Warning/Verbose/Debug in 2.2, MergeInformation in 2.3).
 * A client that omits one means the default, so a client that sends the default is the same request.
 */
const VERSIONED_FIELDS: Record<
  string,
  { field: RegExp; since: string; same: (value: Canon, parent: { [k: string]: Canon }) => boolean }[]
> = {
  CREATE_PIPELINE: [
    {
      // MergeError=Output says again what MergeMyResult=Error + MergeToResult=Output (the 2.1 form) says
      field: /(^|\.)MergeError$/i,
      since: '2.2',
      same: (v, parent) =>
        isEnumValue(v, 0) ||
        (isEnumValue(v, 1) &&
          isEnumValue(field(parent, 'MergeMyResult'), 2) &&
          isEnumValue(field(parent, 'MergeToResult'), 1)),
    },
    { field: /(^|\.)Merge(Warning|Verbose|Debug)$/i, since: '2.2', same: (v) => isEnumValue(v, 0) },
    { field: /(^|\.)MergeInformation$/i, since: '2.3', same: (v) => isEnumValue(v, 0) },
  ],
}

function isEnumValue(v: Canon | undefined, n: number): boolean {
  return JSON.stringify(v) === JSON.stringify({ I32: String(n) })
}

function field(o: { [k: string]: Canon }, name: string): Canon | undefined {
  const k = Object.keys(o).find((x) => x.toLowerCase() === name.toLowerCase())
  return k === undefined ? undefined : o[k]
}

/**
 * A tolerance line when `path`, absent in the recorded message, is a field the spec allows at
 * `version` and `value` means what its absence meant; undefined when the addition is a difference.
 */
export function allowedAddition(
  typeName: string,
  path: string,
  value: Canon,
  parent: { [k: string]: Canon },
  version: string | undefined,
): string | undefined {
  const rule = VERSIONED_FIELDS[typeName]?.find((r) => r.field.test(path))
  if (rule === undefined || version === undefined || compareVersions(version, rule.since) < 0)
    return undefined
  if (!rule.same(value, parent)) return undefined
  const name = path.replace(/^.*\./, '').replace(/\[\d+\]/g, '')
  return (
    `${typeName} ${name} sent where the recorded client left it out, with the same meaning ` +
    `(a protocol ${rule.since} field; the session speaks protocol ${version})`
  )
}

/** The protocol version a recording's session spoke: the lower of the two SESSION_CAPABILITYs. */
export function recordedProtocolVersion(recording: PreparedRecording): string | undefined {
  const versionOf = (type: number, data: string): string | undefined => {
    if (type !== MessageType.SESSION_CAPABILITY) return undefined
    const d = decodeMessageBody(type, data)
    return d.type === 'SESSION_CAPABILITY' ? d.fields.protocolVersion : undefined
  }
  let client: string | undefined
  for (const m of recording.exchanges.flatMap((x) => x.messages)) client ??= versionOf(m.type, m.data)
  // the server's messages span Receives: reassembled as the client would
  const defragmenter = new Defragmenter({ skipOrphans: true })
  let server: string | undefined
  for (const x of recording.exchanges) {
    // WinRS streams (cmd shells) carry process output, not PSRP fragments
    if (x.response === undefined || !x.request.psrp || server !== undefined) continue
    for (const p of responsePayloads(x.response)) {
      for (const raw of defragmenter.push(unb64(p.b64))) {
        const m = decodeMessage(raw)
        server ??= versionOf(m.type, m.data)
      }
    }
  }
  if (client === undefined || server === undefined) return client ?? server
  return compareVersions(client, server) < 0 ? client : server
}

interface Parked {
  text: string
  env: ParsedEnvelope
  resolve: (r: ReplayReply) => void
  timer: ReturnType<typeof setTimeout> | undefined
}

/** A running replay. */
export class ReplaySession {
  readonly recording: PreparedRecording
  readonly mismatches: Mismatch[] = []
  readonly guids = new GuidMap()
  /** Call ids bound with {@link ReplayOptions.bindCallIds}: recorded → actual, and back. */
  #callIds = new Map<string, string>()
  #callIdsBack = new Map<string, string>()
  readonly #options: ReplayOptions
  readonly #optional: (index: number) => boolean
  readonly #defrags = new Map<string, Defragmenter>()
  #cursor = 0
  #served = 0
  readonly #parked: Parked[] = []
  readonly #lastParkDiffs = new Map<string, string[]>()
  readonly #deleted = new Set<string>()
  /** Actual CommandIds the served responses reported Done (lower case). */
  readonly #done = new Set<string>()
  /** Actual CommandIds whose stop Signal was answered (lower case). */
  readonly #stopped = new Set<string>()
  /** Requests answered without a recorded exchange (extra Signals on finished commands, split Sends). */
  readonly synthesized: { action: string; reason: string }[] = []
  /** The protocol version the recorded session spoke (the lower SESSION_CAPABILITY), if recorded. */
  readonly negotiatedVersion: string | undefined
  /** Differences tolerated while comparing (spec-allowed additions), one line each. */
  readonly tolerated = new Set<string>()
  /** The exchange whose connection the recording dropped last (`http_error`), until another is served. */
  #dropped: PreparedExchange | undefined
  /** Repeats of a request whose recorded connection dropped, dropped again. */
  retriedDrops = 0
  /** Held Receives dropped because their client hung up before one matched. */
  abandonedReceives = 0
  /** Held Receives answered with w:TimedOut (with why they matched nothing). */
  readonly timedOutReceives: { exchange: number; diffs: string[] }[] = []
  /** Recorded messages (per recorded shell) the client still owes for a recorded exchange already matched. */
  readonly #owed = new Map<string, { messages: DecodedPsrpMessage[]; exchange: number }>()

  constructor(exchanges: readonly Exchange[], options: ReplayOptions = {}) {
    this.recording = prepareRecording(exchanges)
    this.negotiatedVersion = recordedProtocolVersion(this.recording)
    this.#options = options
    if (options.reuseFinishedCommandIds !== false) this.guids.canRelease = (a) => this.#done.has(a)
    const raw = this.recording.exchanges.map((e) => e.exchange)
    const opt = options.optional
    this.#optional =
      opt === undefined
        ? (i) => defaultOptional(i, raw)
        : Array.isArray(opt)
          ? (i) => opt.includes(i)
          : (i) => (opt as (index: number, exchanges: readonly Exchange[]) => boolean)(i, raw)
  }

  /** Requests answered from the recording. */
  get served(): number {
    return this.#served
  }

  /** Recorded exchanges not yet consumed (optional ones included). */
  get remaining(): number {
    return this.recording.exchanges.length - this.#cursor
  }

  /** Recorded exchanges not yet consumed that a client must still send. */
  get remainingRequired(): number {
    let n = 0
    for (let i = this.#cursor; i < this.recording.exchanges.length; i++) if (!this.#optional(i)) n++
    return n
  }

  /** Index of the next recorded exchange. */
  get cursor(): number {
    return this.#cursor
  }

  /** Handles one request body. */
  handle(text: string): ReplayReply {
    const r = this.#process(text, false) as ReplayReply
    this.#drainParked()
    return r
  }

  /**
   * Handles one request; with {@link ReplayOptions.concurrentReceives}, a Receive that matches no
   * recorded exchange yet is held until one does (answered when the cursor reaches it), or answered
   * with a w:TimedOut fault after {@link ReplayOptions.receiveTimeoutMs}, as Windows does after
   * OperationTimeout. When `signal` aborts (the client hung up) a held Receive is dropped, so it
   * cannot consume a recorded exchange meant for a later request; it resolves with `destroy`.
   */
  submit(text: string, signal?: AbortSignal): Promise<ReplayReply> {
    if (signal?.aborted === true) {
      return Promise.resolve({ status: 0, body: '', delayMs: 0, destroy: true })
    }
    const r = this.#process(text, this.#options.concurrentReceives === true)
    if (r !== undefined) {
      this.#drainParked()
      return Promise.resolve(r)
    }
    return new Promise<ReplayReply>((resolve) => {
      const env = parseEnvelope(text)
      const parked: Parked = { text, env, resolve, timer: undefined }
      parked.timer = setTimeout(() => {
        const diffs = this.#lastParkDiffs.get(text) ?? []
        this.#unpark(parked)
        this.timedOutReceives.push({ exchange: this.#cursor, diffs })
        resolve({ status: 500, body: timedOutEnvelope(env.messageId), delayMs: 0, destroy: false })
      }, this.#options.receiveTimeoutMs ?? 1000)
      this.#parked.push(parked)
      signal?.addEventListener(
        'abort',
        () => {
          if (!this.#parked.includes(parked)) return
          this.#unpark(parked)
          this.abandonedReceives++
          resolve({ status: 0, body: '', delayMs: 0, destroy: true })
        },
        { once: true },
      )
    })
  }

  /** Answers every held Receive with w:TimedOut and stops their timers. */
  close(): void {
    for (const p of [...this.#parked]) {
      this.#unpark(p)
      p.resolve({ status: 500, body: timedOutEnvelope(p.env.messageId), delayMs: 0, destroy: false })
    }
  }

  #unpark(p: Parked): void {
    clearTimeout(p.timer)
    const i = this.#parked.indexOf(p)
    if (i >= 0) this.#parked.splice(i, 1)
    this.#lastParkDiffs.delete(p.text)
  }

  /** Retries held Receives after the cursor moved; answers those on deleted shells. */
  #drainParked(): void {
    let progress = true
    while (progress && this.#parked.length > 0) {
      progress = false
      for (const p of [...this.#parked]) {
        const shell = shellIdOf(p.env)?.toLowerCase()
        if (shell !== undefined && this.#deleted.has(shell)) {
          this.#unpark(p)
          p.resolve({
            status: 500,
            body: invalidSelectorsEnvelope(p.env.messageId),
            delayMs: 0,
            destroy: false,
          })
          continue
        }
        const r = this.#process(p.text, true)
        if (r !== undefined) {
          this.#unpark(p)
          p.resolve(r)
          progress = true
          break
        }
      }
    }
  }

  #process(text: string, mayPark: boolean): ReplayReply | undefined {
    let env: ParsedEnvelope
    try {
      env = parseEnvelope(text)
    } catch (err) {
      return this.#mismatch(undefined, '?', [`request is not a SOAP envelope: ${(err as Error).message}`])
    }
    const action = actionName(env.action)
    // reassemble the client's PSRP messages (once per request, before any comparison)
    const msgs: DecodedPsrpMessage[] = []
    const shell = shellIdOf(env)?.toLowerCase() ?? ''
    try {
      for (const pl of requestPayloads(env)) {
        let d = this.#defrags.get(shell)
        if (d === undefined) this.#defrags.set(shell, (d = new Defragmenter()))
        for (const raw of d.push(unb64(pl.b64))) {
          const m = readMessage(raw, 'le')
          try {
            decodeMessageBody(m.type, m.data)
          } catch (err) {
            return this.#mismatch(env, action, [
              `client ${m.typeName} does not decode: ${(err as Error).message}`,
            ])
          }
          msgs.push(m)
        }
      }
    } catch (err) {
      return this.#mismatch(env, action, [`client PSRP payload is malformed: ${(err as Error).message}`])
    }

    // the same request again after the recording dropped its connection (`http_error`): a client may
    // retry once on a reused keep-alive connection that closed unanswered (it cannot tell a stale
    // connection from a failed host); the host recorded as unreachable stays unreachable
    const dropped = this.#dropped
    if (dropped !== undefined) {
      const snap = this.#snapshot()
      if (this.#compare(dropped, env, msgs, []).diffs.length === 0) {
        this.retriedDrops++
        return { status: 0, body: '', delayMs: 0, destroy: true }
      }
      this.#restore(snap)
    }

    const all = this.recording.exchanges
    if (this.#cursor >= all.length) {
      if (mayPark && action === 'Receive') return undefined
      return this.#mismatch(env, action, [
        `unexpected ${action} request: all ${all.length} recorded exchanges were already served`,
      ])
    }

    // a Send the client split off: the recorded exchange already matched still expects messages
    const flexible = this.#options.flexibleSends !== false
    const owedKey = this.#owedKeyFor(env)
    const owed = owedKey === undefined ? undefined : this.#owed.get(owedKey)
    if (flexible && owed !== undefined && action === 'Send') {
      const expectedAction = all[this.#cursor]?.action
      if (expectedAction !== 'Send' || owed.messages.length >= msgs.length) {
        const snap = this.#snapshot()
        const diffs = this.#compareMessages(owed.messages.slice(0, msgs.length), msgs, 'Send')
        if (diffs.length === 0) {
          owed.messages.splice(0, msgs.length)
          if (owed.messages.length === 0) this.#owed.delete(owedKey as string)
          this.#served++
          this.synthesized.push({ action, reason: 'Send carrying PSRP messages the recording sent earlier' })
          return { status: 200, body: sendResponseEnvelope(env.messageId), delayMs: 0, destroy: false }
        }
        this.#restore(snap)
      }
    }

    let first: { index: number; diffs: string[] } | undefined
    for (let i = this.#cursor; i < all.length; i++) {
      const exp = all[i] as PreparedExchange
      const snap = this.#snapshot()
      const { diffs, absorbed, owe } = this.#compare(exp, env, msgs, owed?.messages ?? [])
      if (diffs.length === 0) {
        if (owedKey !== undefined) this.#owed.delete(owedKey)
        if (owe.length > 0 && exp.shell !== undefined) {
          this.#owed.set(this.#owedKeyFor(env) ?? '', { messages: owe, exchange: i })
        }
        this.#cursor = i + 1 + absorbed
        this.#served++
        this.#dropped = undefined
        if (action === 'Delete' && shell !== '') this.#deleted.add(shell)
        return this.#reply(exp, env)
      }
      this.#restore(snap)
      first ??= { index: i, diffs }
      if (!this.#optional(i)) break
    }
    const f = first as { index: number; diffs: string[] }
    if (action === 'Signal' && this.#options.allowExtraSignals !== false) {
      const cid = attr(env.body, 'CommandId')?.toLowerCase()
      const code = child(env.body, 'Code')?.text.trim() ?? ''
      const afterStop =
        this.#options.extraSignalsAfterStop === true &&
        /\/terminate$/i.test(code) &&
        this.#stopped.has(cid ?? '')
      if (cid !== undefined && (this.#done.has(cid) || afterStop)) {
        this.synthesized.push({
          action,
          reason: `Signal ${child(env.body, 'Code')?.text.trim() ?? ''} for finished command ${cid}`,
        })
        this.#served++
        return { status: 200, body: signalResponseEnvelope(env.messageId), delayMs: 0, destroy: false }
      }
    }
    if (mayPark && action === 'Receive') {
      this.#lastParkDiffs.set(text, f.diffs)
      return undefined
    }
    return this.#mismatch(env, action, f.diffs, f.index)
  }

  #snapshot(): Bindings {
    return { guids: this.guids.snapshot(), calls: [new Map(this.#callIds), new Map(this.#callIdsBack)] }
  }

  #restore(b: Bindings): void {
    this.guids.restore(b.guids)
    this.#callIds = new Map(b.calls[0])
    this.#callIdsBack = new Map(b.calls[1])
  }

  /** Binds a recorded call id to the client's; an explanation when either is bound otherwise. */
  #bindCallId(recorded: string, actual: string, where: string): string | undefined {
    const bound = this.#callIds.get(recorded)
    const back = this.#callIdsBack.get(actual)
    if (bound === undefined && back === undefined) {
      this.#callIds.set(recorded, actual)
      this.#callIdsBack.set(actual, recorded)
      return undefined
    }
    if (bound === actual) return undefined
    return bound === undefined
      ? `${where}: call id ${actual} already stands for the recording's ${back}, where the recording has ${recorded}`
      : `${where}: call id ${actual}, but the recording's ${recorded} already stands for ${bound}`
  }

  #owedKeyFor(env: ParsedEnvelope): string | undefined {
    const s = shellIdOf(env)
    return s === undefined ? undefined : s.toLowerCase()
  }

  #reply(exp: PreparedExchange, env: ParsedEnvelope): ReplayReply {
    const flags = exp.exchange.flags
    const delayMs =
      flags['timeout'] !== undefined ? Number(flags['timeout']) * 1000 * (this.#options.delayScale ?? 1) : 0
    if (
      flags['http_error'] !== undefined &&
      flags['http_error'] !== 'no' &&
      flags['http_error'] !== 'false'
    ) {
      this.#dropped = exp
      return { status: 0, body: '', delayMs, destroy: true }
    }
    const recorded = exp.exchange.response ?? ''
    let body = rewriteEnvelope(
      recorded,
      (g) => this.guids.forResponse(g),
      exp.request.psrp ? { from: this.recording.order, to: 'le' } : undefined,
    )
    if (this.#options.bindCallIds === true && exp.request.psrp && this.#callIds.size > 0) {
      body = body.replace(
        /(<(?:[\w-]+:)?Stream(?:\s[^>]*)?>)([A-Za-z0-9+/=\s]+)(<\/(?:[\w-]+:)?Stream>)/g,
        (_m, open: string, b64text: string, close: string) =>
          `${open}${rewriteCallIds(b64text, (ci) => this.#callIds.get(ci))}${close}`,
      )
    }
    if (env.messageId !== undefined) body = setRelatesTo(body, env.messageId)
    const code = child(exp.request.body, 'Code')?.text.trim() ?? ''
    if (exp.action === 'Signal' && (STOP_SIGNAL_SPELLINGS.has(code) || code === WINRS_CTRL_C)) {
      const cid = attr(env.body, 'CommandId')?.toLowerCase()
      if (cid !== undefined) this.#stopped.add(cid)
    }
    for (const m of body.matchAll(/<(?:[\w-]+:)?CommandState\s[^>]*>/g)) {
      const cid = /CommandId="([^"]+)"/.exec(m[0])?.[1]
      if (cid !== undefined && /State="[^"]*\/Done"/.test(m[0])) this.#done.add(cid.toLowerCase())
    }
    const status = isFault(recorded) || flags['transport_error'] !== undefined ? 500 : 200
    return { status, body, delayMs: Number.isFinite(delayMs) ? delayMs : 0, destroy: false }
  }

  #mismatch(
    env: ParsedEnvelope | undefined,
    action: string,
    diffs: string[],
    index = this.#cursor,
  ): ReplayReply {
    const exp = this.recording.exchanges[index]
    const head =
      exp === undefined
        ? `replay: ${action} request does not match (no recorded exchange left)`
        : `replay: ${action} request does not match recorded exchange ${index} (${exp.action})`
    const message = `${head}:\n  ${diffs.join('\n  ')}`
    this.mismatches.push({ exchange: index, action, diffs, message })
    return {
      status: 500,
      body: faultEnvelope(env?.messageId, 'ReplayMismatch', message),
      delayMs: 0,
      destroy: false,
    }
  }

  /** Compares a request with a recorded exchange; binds GUIDs on the way (caller restores on failure). */
  #compare(
    exp: PreparedExchange,
    env: ParsedEnvelope,
    msgs: DecodedPsrpMessage[],
    owed: DecodedPsrpMessage[],
  ): { diffs: string[]; absorbed: number; owe: DecodedPsrpMessage[] } {
    const diffs: string[] = []
    const r = exp.request
    if (r.action !== env.action) {
      return { diffs: [`Action: expected ${r.action}, got ${env.action}`], absorbed: 0, owe: [] }
    }
    if (r.resourceUri !== env.resourceUri) {
      diffs.push(`ResourceURI: expected ${r.resourceUri}, got ${env.resourceUri}`)
    }
    this.#compareSets('SelectorSet', r.selectors, env.selectors, diffs, false)
    const ignored = new Set(this.#options.ignoreOptions ?? [])
    const withDefaults = (opts: [string, string][], other: [string, string][]): [string, string][] => {
      const out = opts.filter(([n]) => !ignored.has(n))
      // an absent option equals its documented default (WINRS_SKIP_CMD_SHELL=FALSE, …)
      for (const [n, v] of Object.entries(OPTION_DEFAULTS)) {
        if (!opts.some(([k]) => k === n) && other.some(([k]) => k === n)) out.push([n, v])
      }
      return out
    }
    this.#compareSets(
      'OptionSet',
      withDefaults(r.options, env.options),
      withDefaults(env.options, r.options),
      diffs,
      true,
    )
    this.#compareElements(r.body, env.body, 'Body', diffs, r.psrp)
    if (diffs.length > 0) return { diffs, absorbed: 0, owe: [] }

    // PSRP messages: what the client still owed, then this exchange's; when the client sent more,
    // absorb the following recorded Sends to the same target
    let expected = [...owed, ...exp.messages]
    let absorbed = 0
    const flexible = this.#options.flexibleSends !== false
    if (flexible && r.psrp) {
      const all = this.recording.exchanges
      while (msgs.length > expected.length) {
        const next = all[exp.index + 1 + absorbed]
        if (next === undefined || next.action !== 'Send' || next.shell !== exp.shell) break
        if (!this.#sameSendTarget(next.request, env)) break
        expected = [...expected, ...next.messages]
        absorbed++
      }
    }
    const carries =
      exp.action === 'Send' || exp.action === 'Command' || exp.action === 'Create' || exp.action === 'Connect'
    if (owed.length > 0 && !carries) {
      diffs.push(
        `the client has not yet sent PSRP messages [${owed.map((m) => m.typeName).join(', ')}] that the recording sent before this ${exp.action}`,
      )
      return { diffs, absorbed: 0, owe: [] }
    }
    const owe = flexible && r.psrp ? expected.slice(msgs.length) : []
    const compared = flexible && r.psrp ? expected.slice(0, msgs.length) : expected
    diffs.push(...this.#compareMessages(compared, msgs, exp.action))
    return { diffs, absorbed, owe }
  }

  #sameSendTarget(recorded: ParsedEnvelope, actual: ParsedEnvelope): boolean {
    const stream = (e: ParsedEnvelope): XmlElement | undefined =>
      e.body?.children.find((c) => localName(c.name) === 'Stream')
    if (actionName(actual.action) !== 'Send') return true
    const rs = stream(recorded)
    const as = stream(actual)
    if (attr(rs, 'Name') !== attr(as, 'Name')) return false
    const rc = attr(rs, 'CommandId')
    const ac = attr(as, 'CommandId')
    if (rc === undefined || ac === undefined) return rc === ac
    const bound = this.guids.actual(rc)
    return bound === undefined || bound === ac.toLowerCase()
  }

  #compareMessages(expected: DecodedPsrpMessage[], actual: DecodedPsrpMessage[], where: string): string[] {
    const diffs: string[] = []
    if (expected.length !== actual.length) {
      diffs.push(
        `${where}: PSRP messages: expected [${expected.map((m) => m.typeName).join(', ')}], ` +
          `got [${actual.map((m) => m.typeName).join(', ')}]`,
      )
    }
    const n = Math.min(expected.length, actual.length)
    for (let i = 0; i < n && diffs.length < 10; i++) {
      const e = expected[i] as DecodedPsrpMessage
      const a = actual[i] as DecodedPsrpMessage
      const label = `PSRP message ${i} (${e.typeName})`
      if (e.type !== a.type) {
        diffs.push(`${label}: expected ${e.typeName}, got ${a.typeName}`)
        continue
      }
      if (e.destination !== a.destination)
        diffs.push(`${label}: destination ${a.destination}, expected ${e.destination}`)
      for (const [k, ev, av] of [
        ['RPID', e.rpid, a.rpid],
        ['PID', e.pid, a.pid],
      ] as const) {
        const err = this.guids.bind(ev, av, `${label} ${k}`)
        if (err !== undefined) diffs.push(err)
      }
      const level = this.#options.psrp ?? 'semantic'
      if (level === 'types') continue
      diffs.push(...this.#compareBodies(e, a, label, level === 'strict'))
    }
    return diffs
  }

  #compareBodies(e: DecodedPsrpMessage, a: DecodedPsrpMessage, label: string, strict: boolean): string[] {
    const ignore = (this.#options.ignore ?? [])
      .filter((x) => x.startsWith(`${e.typeName}:`))
      .map((x) => x.slice(e.typeName.length + 1))
    let ec, ac
    try {
      ec = e.data.trim() === '' ? null : canonicalClixml(e.data, { strict })
      ac = a.data.trim() === '' ? null : canonicalClixml(a.data, { strict })
    } catch (err) {
      return [`${label}: body is not XML: ${(err as Error).message}`]
    }
    const fold = (x: string): string => (strict ? x : x.toLowerCase())
    // call ids are bound (also when equal, so the binding stays one-to-one), not compared as values
    const callIds = this.#options.bindCallIds === true && CALL_ID_MESSAGES.has(e.typeName)
    const out: string[] = []
    if (callIds) {
      const ci = /<I64 N="ci">\s*(-?\d+)\s*<\/I64>/i
      const eci = ci.exec(e.data)?.[1]
      const aci = ci.exec(a.data)?.[1]
      const d =
        eci === undefined || aci === undefined
          ? eci === aci
            ? undefined
            : `ci: expected ${eci ?? 'none'}, got ${aci ?? 'none'}`
          : this.#bindCallId(eci, aci, 'ci')
      if (d !== undefined) out.push(`${label}: ${d}`)
    }
    const diffs = diffCanon(ec, ac, {
      caseSensitive: strict,
      added: (path, value, parent) => {
        if (!strict && /(^|\.)TN$/.test(path)) {
          // type names the recorded client left out (pypsrp sends host answers such as KeyInfo untyped);
          // the server reads the value as the type the host method returns (MS-PSRP 2.2.3.17)
          this.tolerated.add(`${e.typeName}: type names sent where the recorded client sent none`)
          return true
        }
        const allowed = allowedAddition(e.typeName, path, value, parent, this.negotiatedVersion)
        if (allowed !== undefined) this.tolerated.add(allowed)
        return allowed !== undefined
      },
      ignore: (path) => {
        if (callIds && /^ci$/i.test(path)) return true
        const p = fold(path)
        return ignore.map(fold).some((x) => p === x || p.startsWith(`${x}.`) || p.startsWith(`${x}[`))
      },
      leaf: (ev, av, path) => {
        const eg = asGuid(ev)
        const ag = asGuid(av)
        if (eg === undefined || ag === undefined) return undefined
        return this.guids.bind(eg, ag, `${label} ${path}`) ?? null
      },
    })
    return [...out, ...diffs.map((d) => `${label}: ${d}`)]
  }

  #compareSets(
    what: string,
    expected: [string, string][],
    actual: [string, string][],
    diffs: string[],
    caseInsensitive: boolean,
  ): void {
    const names = [...new Set([...expected.map(([n]) => n), ...actual.map(([n]) => n)])]
    for (const n of names) {
      const e = expected.filter(([k]) => k === n).map(([, v]) => v)
      const a = actual.filter(([k]) => k === n).map(([, v]) => v)
      if (a.length === 0) diffs.push(`${what}: missing ${n}=${e.join(',')}`)
      else if (e.length === 0) diffs.push(`${what}: unexpected ${n}=${a.join(',')}`)
      else if (e.length !== a.length)
        diffs.push(`${what}: ${n} given ${a.length} times, expected ${e.length}`)
      else {
        e.forEach((ev, i) => {
          const av = a[i] as string
          const d = this.#compareValue(ev, av, `${what} ${n}`, caseInsensitive)
          if (d !== undefined) diffs.push(d)
        })
      }
    }
  }

  #compareValue(e: string, a: string, where: string, caseInsensitive: boolean): string | undefined {
    const eg = asGuid(e)
    const ag = asGuid(a)
    if (eg !== undefined && ag !== undefined) return this.guids.bind(eg, ag, where)
    if (e === a || (caseInsensitive && e.toLowerCase() === a.toLowerCase())) return undefined
    const ed = durationSeconds(e)
    if (ed !== undefined && ed === durationSeconds(a)) return undefined
    return `${where}: expected ${JSON.stringify(e)}, got ${JSON.stringify(a)}`
  }

  #compareElements(
    e: XmlElement | undefined,
    a: XmlElement | undefined,
    path: string,
    diffs: string[],
    psrp: boolean,
  ): void {
    if (e === undefined || a === undefined) {
      if (e !== a)
        diffs.push(
          `${path}: expected ${e === undefined ? 'empty' : `<${localName(e.name)}>`}, got ${a === undefined ? 'empty' : `<${localName(a.name)}>`}`,
        )
      return
    }
    const en = localName(e.name)
    const an = localName(a.name)
    if (en !== an) {
      diffs.push(`${path}: expected <${en}>, got <${an}>`)
      return
    }
    const here = `${path}/${en}`
    const attrs = (el: XmlElement): Map<string, string> => {
      const m = new Map<string, string>()
      for (const [k, v] of Object.entries(el.attrs)) {
        if (k === 'xmlns' || k.startsWith('xmlns:') || k === 'xml:lang') continue
        m.set(localName(k), v)
      }
      return m
    }
    const ea = attrs(e)
    const aa = attrs(a)
    for (const k of new Set([...ea.keys(), ...aa.keys()])) {
      const ev = ea.get(k)
      const av = aa.get(k)
      const prOnCommand =
        this.#options.promptResponseOnCommand === true &&
        ev === undefined &&
        av !== undefined &&
        k === 'CommandId' &&
        here.endsWith('/Send/Stream') &&
        ea.get('Name') === 'pr' &&
        this.guids.recorded(av) !== undefined
      if (prOnCommand) continue
      if (av === undefined) diffs.push(`${here}@${k}: missing (expected ${JSON.stringify(ev)})`)
      else if (ev === undefined) diffs.push(`${here}@${k}: unexpected ${JSON.stringify(av)}`)
      else {
        const d = this.#compareValue(ev, av, `${here}@${k}`, false)
        if (d !== undefined) diffs.push(d)
      }
    }
    const payload = PAYLOAD_ELEMENTS.has(en) || (psrp && (en === 'Stream' || en === 'Arguments'))
    const stopSpelling =
      this.#options.stopSignalSpellings === true &&
      here.endsWith('/Signal/Code') &&
      STOP_SIGNAL_SPELLINGS.has(e.text.trim()) &&
      STOP_SIGNAL_SPELLINGS.has(a.text.trim())
    if (!payload && !stopSpelling) {
      const d = this.#compareValue(e.text.trim(), a.text.trim(), here, false)
      if (d !== undefined) diffs.push(d)
    }
    // children are compared per element name, in order within a name (rsp:Arguments);
    // the order between different names does not matter (pypsrp and WinRM disagree on rsp:Shell's)
    const groups = (el: XmlElement): Map<string, XmlElement[]> => {
      const m = new Map<string, XmlElement[]>()
      for (const c of el.children) {
        const k = localName(c.name)
        const list = m.get(k)
        if (list === undefined) m.set(k, [c])
        else list.push(c)
      }
      return m
    }
    const eg = groups(e)
    const ag = groups(a)
    // elements keyed by a Name attribute (rsp:Variable, wsman:Option) form a set: order is no meaning
    const byName = (list: XmlElement[]): XmlElement[] =>
      list.length > 1 && list.every((x) => x.attrs['Name'] !== undefined)
        ? [...list].sort((x, y) => ((x.attrs['Name'] as string) < (y.attrs['Name'] as string) ? -1 : 1))
        : list
    for (const name of new Set([...eg.keys(), ...ag.keys()])) {
      const el = byName(eg.get(name) ?? [])
      const al = byName(ag.get(name) ?? [])
      for (let i = 0; i < Math.max(el.length, al.length); i++) {
        const ec = el[i]
        const ac = al[i]
        if (ec === undefined)
          diffs.push(
            `${here}: unexpected <${name}>${(ac as XmlElement).text.trim() === '' ? '' : ` ${JSON.stringify((ac as XmlElement).text.trim())}`}`,
          )
        else if (ac === undefined)
          diffs.push(
            `${here}: missing <${name}>${ec.text.trim() === '' ? '' : ` ${JSON.stringify(ec.text.trim())}`}`,
          )
        else this.#compareElements(ec, ac, here, diffs, psrp)
      }
    }
  }
}
