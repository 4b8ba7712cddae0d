/**
 * Describes a recording as data: what the client did (from the recorded requests: pools opened,
 * pipelines and their commands, input, stops, host responses, disconnect/reconnect/connect, WinRS
 * shells, command lines, stdin, signals, closes) and what the server answered (from the recorded
 * responses: output objects, stream records, states, exit codes, stdout/stderr, faults). A driver
 * replays a client through {@link Scenario.steps} against the replay server and checks the results
 * against {@link Scenario.pipelines}, {@link Scenario.pools}, {@link Scenario.commands} and
 * {@link Scenario.faults}.
 *
 * Everything is JSON data (bigints as strings, bytes as base64). Entities are named in order of
 * appearance: pools `pool1`, pipelines `ps1`, WinRS shells `shell1`, WinRS commands `cmd1`.
 *
 * @module
 */
import { localName, type XmlElement } from '../../../src/internal/xml.ts'
import {
  Defragmenter,
  decodeMessageBody,
  pipelineStateName,
  runspacePoolStateName,
  type DecodedMessageBody,
} from '../../../src/psrp/index.ts'
import { PSEnum, PSObject, PSSecureString } from '../../../src/clixml/index.ts'
import type { KeyObject } from 'node:crypto'
import { AesSessionCipher, decryptSessionKey } from '../../../src/psrp/index.ts'
import type { Exchange } from '../recordings.ts'
import {
  actionName,
  attr,
  child,
  descendants,
  parseEnvelope,
  requestPayloads,
  responsePayloads,
  shellIdOf,
  type ParsedEnvelope,
} from './envelope.ts'
import { b64, readMessage, unb64, type DecodedPsrpMessage } from './psrp.ts'
import { defaultOptional, detectOrder, hasResponse } from './session.ts'
import { NIL_GUID } from '../../../src/internal/guid.ts'

/** JSON data. */
export type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain }

/** A command of a pipeline statement (MS-PSRP 2.2.3.12). */
export interface ScenarioCommand {
  command: string
  isScript: boolean
  useLocalScope?: boolean
  /** Parameters (`name` set) and positional arguments, in order. */
  args: { name?: string; value: Plain }[]
  /** Merge settings that are not None, e.g. `{ mergeMyResult: 'Error', mergeToResult: 'Output' }`. */
  merge?: Record<string, number>
}

/** One thing the client did, in order. `exchange` is the recorded exchange that carried it. */
export type Step = { exchange: number; optional?: true } & (
  | {
      op: 'pool.open'
      pool: string
      resourceUri: string
      configurationName: string
      protocolVersion: string | undefined
      minRunspaces: number | undefined
      maxRunspaces: number | undefined
      threadOptions: number | undefined
      apartmentState: number | undefined
      applicationArguments: Plain
      /** True when a client host was announced (HostInfo `_isHostNull` false). */
      host: boolean
      hostInfo: Plain
      /** WS-Man options of the Create other than protocolversion (WINRS_NOPROFILE, …). */
      options: Record<string, string>
      idleTimeout?: string
      sessionCapability: Plain
      /** The INIT_RUNSPACEPOOL body as sent (decode it for exact types). */
      clixml: string | null
    }
  | { op: 'pool.exchangeKey'; pool: string; publicKey: string }
  | { op: 'pool.setMaxRunspaces' | 'pool.setMinRunspaces'; pool: string; value: number; callId: string }
  | { op: 'pool.getAvailableRunspaces' | 'pool.resetRunspaceState'; pool: string; callId: string }
  | {
      op: 'pool.getCommandMetadata'
      pool: string
      pipeline: string
      names: string[]
      commandType: number
      namespace?: string[]
      argumentList?: Plain
    }
  | {
      op: 'pool.hostResponse'
      pool: string
      callId: string
      method: string
      result?: Plain
      error?: Plain
      clixml: string
    }
  | { op: 'pool.disconnect'; pool: string; idleTimeout?: string }
  | { op: 'pool.reconnect'; pool: string }
  | {
      op: 'pool.connect'
      pool: string
      minRunspaces?: number
      maxRunspaces?: number
      protocolVersion?: string
    }
  | { op: 'pool.close'; pool: string }
  /** Attach to a pipeline running in a connected pool (Connect with a CommandId). */
  | { op: 'pipeline.connect'; pool: string; pipeline: string }
  | {
      op: 'pipeline.start'
      pool: string
      pipeline: string
      /** Statements, each a list of piped commands. */
      statements: ScenarioCommand[][]
      noInput: boolean
      addToHistory: boolean
      isNested: boolean
      history?: string
      remoteStreamOptions: number
      apartmentState: number
      host: boolean
      /** False when the client never received from the pipeline (pypsrp `begin_invoke` without `end_invoke`). */
      received: boolean
      /** The CREATE_PIPELINE body as sent (decode it for exact argument types). */
      clixml: string
    }
  | {
      op: 'pipeline.input'
      pipeline: string
      values: Plain[]
      /** The PIPELINE_INPUT bodies as sent, one per value (decode them for exact types). */
      clixml: string[]
    }
  | { op: 'pipeline.endInput'; pipeline: string }
  | {
      op: 'pipeline.hostResponse'
      pipeline: string
      callId: string
      method: string
      result?: Plain
      error?: Plain
      clixml: string
    }
  | { op: 'pipeline.stop'; pipeline: string }
  | { op: 'pipeline.signal'; pipeline: string; code: string }
  | { op: 'receive'; target: string; count: number }
  | { op: 'wsman.get'; resourceUri: string; selectors: Record<string, string>; pool?: string; result: Plain }
  | {
      op: 'wsman.enumerate'
      resourceUri: string
      /** The pool whose commands are enumerated (Enumerate filter ShellId). */
      pool?: string
      /** Shells (pool names when known, else recorded ShellIds) or command ids returned. */
      found: { id: string; name?: string; state?: string; resourceUri?: string }[]
    }
  | {
      op: 'winrs.open'
      shell: string
      resourceUri: string
      options: Record<string, string>
      environment: Record<string, string>
      workingDirectory?: string
      idleTimeout?: string
      lifetime?: string
      name?: string
      inputStreams?: string
      outputStreams?: string
    }
  | {
      op: 'winrs.command'
      shell: string
      command: string
      executable: string
      arguments: string[]
      options: Record<string, string>
    }
  | { op: 'winrs.stdin'; command: string; data: string; text: string; end: boolean }
  | { op: 'winrs.signal'; command: string; code: string }
  | { op: 'winrs.close'; shell: string }
  | { op: 'other'; action: string; resourceUri: string }
)

/** A stream record, summarized. */
export interface ScenarioRecord {
  message: string
  [k: string]: Plain
}

/** What the server said about a pipeline. */
export interface ScenarioPipeline {
  pool: string
  /** Recorded PID / CommandId. */
  id: string
  kind: 'pipeline' | 'commandMetadata'
  /** Output objects, as JSON and as the CLIXML the server sent. */
  output: Plain[]
  outputClixml: string[]
  streams: {
    error: ScenarioRecord[]
    warning: ScenarioRecord[]
    verbose: ScenarioRecord[]
    debug: ScenarioRecord[]
    information: ScenarioRecord[]
    progress: ScenarioRecord[]
  }
  /** PIPELINE_STATE names in order. */
  states: string[]
  /** Final state (last PIPELINE_STATE), if any was sent. */
  state?: string
  /** Message of the ErrorRecord of a Failed/Stopped state. */
  stateError?: string
  hostCalls: { callId: string; method: string; parameters: Plain }[]
}

/** What the server said about a pool. */
export interface ScenarioPool {
  /** Recorded ShellId = RPID. */
  id: string
  configurationName: string
  /** RUNSPACEPOOL_STATE names in order. */
  states: string[]
  stateError?: string
  serverCapability?: Plain
  /** PSVersion from APPLICATION_PRIVATE_DATA. */
  psVersion?: string
  availability: { callId: string; response: Plain }[]
  hostCalls: { callId: string; method: string; parameters: Plain }[]
  sessionKey: boolean
  publicKeyRequested: boolean
  initData?: { minRunspaces: number; maxRunspaces: number }
  userEvents: number
}

/** What the server said about a WinRS command. */
export interface ScenarioWinrsCommand {
  shell: string
  /** Recorded CommandId (server-chosen). */
  id: string
  /** Bytes as base64 and as UTF-8 text. */
  stdout: string
  stdoutText: string
  stderr: string
  stderrText: string
  exitCode?: number
  state?: string
}

/** A WS-Man fault in a recorded response. */
export interface ScenarioFault {
  exchange: number
  action: string
  /** Index of the last step at or before the fault. */
  step: number
  subcode: string | undefined
  /** WSManFault Code (e.g. 2150858793 for TimedOut). */
  code: string | undefined
  reason: string
  kind: 'timedOut' | 'other'
}

/** The description of a recording. */
export interface Scenario {
  name?: string
  /** Tags: psrp, winrs, wsman-config, disconnect, connect, enumerate, key-exchange, host-calls, … */
  kinds: string[]
  exchanges: number
  /** Byte order of PSRP header GUIDs in the recording. */
  guidOrder: 'le' | 'be'
  /** Client settings visible in the requests (the driver should reproduce them). */
  client: {
    operationTimeouts: string[]
    maxEnvelopeSizes: number[]
    locale?: string
    protocolVersion?: string
  }
  steps: Step[]
  pools: Record<string, ScenarioPool>
  pipelines: Record<string, ScenarioPipeline>
  shells: Record<string, { id: string; resourceUri: string }>
  commands: Record<string, ScenarioWinrsCommand>
  faults: ScenarioFault[]
  /** Exchanges where the connection dropped (recorded `http_error`). */
  httpErrors: number[]
  /** Exchanges answered late (recorded `timeout`, seconds). */
  delays: { exchange: number; seconds: number }[]
}

// ---------------------------------------------------------------------------------------------

/** A JSON view of a deserialized CLIXML value. */
export function plain(v: unknown, depth = 0): Plain {
  if (depth > 64) return '<too deep>'
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v)
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return { $bytes: b64(v) }
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1))
  if (v instanceof Map) return { $dict: [...v].map(([k, x]) => [plain(k, depth + 1), plain(x, depth + 1)]) }
  if (v instanceof PSSecureString) {
    return v.hasPlaintext
      ? { $secureString: v.reveal() }
      : { $secureString: null, encrypted: v.encrypted === undefined ? null : b64(v.encrypted) }
  }
  if (Object.getPrototypeOf(v) === Object.prototype) {
    const o: { [k: string]: Plain } = {}
    for (const [k, x] of Object.entries(v as object)) if (x !== undefined) o[k] = plain(x, depth + 1)
    return o
  }
  if (v instanceof PSEnum) return { $enum: v.typeNames[0] ?? null, value: v.value, name: v.name }
  if (v instanceof PSObject) {
    const o: { [k: string]: Plain } = {}
    if (v.typeNames.length > 0) o['$type'] = v.typeNames[0] as string
    if (v.toStringValue !== undefined) o['$toString'] = v.toStringValue
    if (v.baseValue !== undefined) o['$value'] = plain(v.baseValue, depth + 1)
    if (v.adapted.size + v.extended.size > 0) {
      const props: { [k: string]: Plain } = {}
      for (const [k, x] of v.adapted) props[k] = plain(x, depth + 1)
      for (const [k, x] of v.extended) props[k] = plain(x, depth + 1)
      o['$props'] = props
    }
    return o
  }
  if (typeof v === 'object') {
    const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'Object'
    return { $type: name, value: String(v) }
  }
  return String(v)
}

function str(o: unknown, name: string): string | undefined {
  if (!(o instanceof PSObject)) return undefined
  const v = o.get(name)
  return v === undefined || v === null ? undefined : String(v)
}

function recordSummary(decoded: DecodedMessageBody): ScenarioRecord {
  const rec = (decoded.fields as { record?: unknown }).record
  const out: ScenarioRecord = { message: '' }
  if (rec instanceof PSObject) {
    const r = rec as PSObject & { message?: string }
    out.message = typeof r.message === 'string' ? r.message : rec.toString()
    const fq = str(rec, 'FullyQualifiedErrorId')
    if (fq !== undefined) out['fullyQualifiedErrorId'] = fq
    const cat = str(rec, 'ErrorCategory_Category')
    if (cat !== undefined) out['category'] = cat
    for (const k of ['Activity', 'StatusDescription', 'PercentComplete', 'Source', 'Tags']) {
      const x = rec.get(k)
      if (x !== undefined) out[k[0]?.toLowerCase() + k.slice(1)] = plain(x)
    }
    if (decoded.type === 'PROGRESS_RECORD') out.message = str(rec, 'Activity') ?? out.message
    if (
      rec.get('InvocationInfo') !== undefined ||
      rec.get('InformationalRecord_InvocationInfo') !== undefined
    ) {
      out['invocationInfo'] = true
    }
  }
  return out
}

function errorMessage(e: unknown): string | undefined {
  if (e === undefined || e === null) return undefined
  if (e instanceof PSObject) {
    const m = (e as PSObject & { message?: unknown }).message
    if (typeof m === 'string') return m
    const ex = e.get('Exception')
    return str(ex, 'Message') ?? str(e, 'Message') ?? e.toString()
  }
  return String(e)
}

function hostInfoPlain(hostInfo: unknown): { host: boolean; info: Plain } {
  const info = plain(hostInfo)
  const isNull = hostInfo instanceof PSObject ? hostInfo.get('_isHostNull') : undefined
  return { host: isNull === false, info }
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

const STREAM_OF: Record<string, keyof ScenarioPipeline['streams']> = {
  ERROR_RECORD: 'error',
  WARNING_RECORD: 'warning',
  VERBOSE_RECORD: 'verbose',
  DEBUG_RECORD: 'debug',
  INFORMATION_RECORD: 'information',
  PROGRESS_RECORD: 'progress',
}

const MERGE_FIELDS = [
  'mergeMyResult',
  'mergeToResult',
  'mergePreviousResults',
  'mergeError',
  'mergeWarning',
  'mergeVerbose',
  'mergeDebug',
  'mergeInformation',
] as const

function faultOf(env: ParsedEnvelope): { subcode?: string; code?: string; reason: string } {
  const fault = env.body
  const subcode = descendants(child(fault, 'Code'), 'Value')[1]?.text.trim()
  const wsmanFault = descendants(fault, 'WSManFault')[0]
  const code = attr(wsmanFault, 'Code')
  const reason =
    descendants(child(fault, 'Reason'), 'Text')[0]?.text.trim() ??
    descendants(wsmanFault, 'Message')[0]?.text.trim() ??
    ''
  return { ...(subcode === undefined ? {} : { subcode }), ...(code === undefined ? {} : { code }), reason }
}

function optionMap(pairs: [string, string][], skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of pairs) if (!skip.includes(k)) out[k] = v
  return out
}

/** Options of {@link deriveScenario}. */
export interface DeriveOptions {
  /**
   * The client's RSA private key of the recording (pypsrp's fixed test key,
   * `corpus/pypsrp/derived/pypsrp_test_rsa_key.pem`): decrypts the session key so SecureStrings in
   * the scenario carry their plaintext.
   */
  privateKey?: KeyObject
}

/** Describes what the client did in a recording and what the server answered. */
export function deriveScenario(
  exchanges: readonly Exchange[],
  name?: string,
  options: DeriveOptions = {},
): Scenario {
  const requests = exchanges.map((e) => parseEnvelope(e.request))
  const order = detectOrder(requests)
  const s: Scenario = {
    ...(name === undefined ? {} : { name }),
    kinds: [],
    exchanges: exchanges.length,
    guidOrder: order,
    client: { operationTimeouts: [], maxEnvelopeSizes: [] },
    steps: [],
    pools: {},
    pipelines: {},
    shells: {},
    commands: {},
    faults: [],
    httpErrors: [],
    delays: [],
  }
  const kinds = new Set<string>()
  const poolOf = new Map<string, string>() // recorded ShellId → pool name
  // PowerShell 2.0 (protocol 2.1) chooses its own ShellId and CommandId instead of the client's
  // (MS-WSMV 3.1.4.5, 3.1.4.11): the server's ids name the same pool and pipeline as the client's
  const serverShellId = new Map<string, string>() // server ShellId → client ShellId
  const serverCommandId = new Map<string, string>() // server CommandId → client CommandId (PID)
  const commandIdOf = (id: string | undefined): string | undefined =>
    id === undefined ? undefined : (serverCommandId.get(id.toLowerCase()) ?? id.toLowerCase())
  const pipeOf = new Map<string, string>() // recorded PID → pipeline name
  const shellOf = new Map<string, string>() // WinRS ShellId → shell name
  const cmdOf = new Map<string, string>() // WinRS CommandId → command name
  const clientDefrag = new Map<string, Defragmenter>()
  const serverDefrag = new Map<string, Defragmenter>()
  const received = new Set<string>()
  const started = new Set<string>()

  const pool = (shellId: string, configurationName: string): string => {
    const id = shellId.toLowerCase()
    let n = poolOf.get(id)
    if (n === undefined) {
      n = `pool${poolOf.size + 1}`
      poolOf.set(id, n)
      s.pools[n] = {
        id,
        configurationName,
        states: [],
        availability: [],
        hostCalls: [],
        sessionKey: false,
        publicKeyRequested: false,
        userEvents: 0,
      }
    }
    return n
  }
  const pipeline = (pid: string, poolName: string, kind: ScenarioPipeline['kind']): string => {
    const id = pid.toLowerCase()
    let n = pipeOf.get(id)
    if (n === undefined) {
      n = `ps${Object.keys(s.pipelines).length + 1}`
      pipeOf.set(id, n)
      s.pipelines[n] = {
        pool: poolName,
        id,
        kind,
        output: [],
        outputClixml: [],
        streams: { error: [], warning: [], verbose: [], debug: [], information: [], progress: [] },
        states: [],
        hostCalls: [],
      }
    }
    return n
  }
  const command = (commandId: string, shellName: string): string => {
    const id = commandId.toLowerCase()
    let n = cmdOf.get(id)
    if (n === undefined) {
      n = `cmd${cmdOf.size + 1}`
      cmdOf.set(id, n)
      s.commands[n] = { shell: shellName, id, stdout: '', stdoutText: '', stderr: '', stderrText: '' }
    }
    return n
  }
  const push = (step: Step): void => {
    if (step.op === 'receive') {
      const last = s.steps.at(-1)
      if (last?.op === 'receive' && last.target === step.target) {
        last.count++
        return
      }
    }
    s.steps.push(step)
  }
  const messagesOf = (
    defrags: Map<string, Defragmenter>,
    key: string,
    payloads: { b64: string }[],
  ): DecodedPsrpMessage[] => {
    const out: DecodedPsrpMessage[] = []
    let d = defrags.get(key)
    if (d === undefined) defrags.set(key, (d = new Defragmenter()))
    for (const p of payloads) for (const raw of d.push(unb64(p.b64))) out.push(readMessage(raw, order))
    return out
  }
  let cipher: AesSessionCipher | undefined
  const decode = (m: DecodedPsrpMessage): DecodedMessageBody | undefined => {
    try {
      return decodeMessageBody(m.type, m.data, cipher === undefined ? {} : { cipher })
    } catch {
      kinds.add('undecodable-message')
      return undefined
    }
  }

  for (const [i, ex] of exchanges.entries()) {
    const req = requests[i] as ParsedEnvelope
    const action = actionName(req.action)
    const resp = hasResponse(ex) ? parseEnvelope(ex.response as string) : undefined
    if (req.operationTimeout !== undefined && !s.client.operationTimeouts.includes(req.operationTimeout)) {
      s.client.operationTimeouts.push(req.operationTimeout)
    }
    const envSize = num(req.maxEnvelopeSize)
    if (envSize !== undefined && !s.client.maxEnvelopeSizes.includes(envSize))
      s.client.maxEnvelopeSizes.push(envSize)
    const locale = /<(?:[\w-]+:)?Locale[^>]*xml:lang="([^"]+)"/.exec(ex.request)?.[1]
    if (locale !== undefined) s.client.locale ??= locale
    if (ex.flags['http_error'] !== undefined) {
      s.httpErrors.push(i)
      kinds.add('http-error')
    }
    if (ex.flags['timeout'] !== undefined) {
      s.delays.push({ exchange: i, seconds: Number(ex.flags['timeout']) })
      kinds.add('delayed-response')
    }
    const optional = defaultOptional(i, exchanges) ? ({ optional: true } as const) : {}
    const selectedShell = shellIdOf(req)?.toLowerCase()
    const shellId =
      selectedShell === undefined ? undefined : (serverShellId.get(selectedShell) ?? selectedShell)
    const configurationName = req.resourceUri.replace(/^http:\/\/schemas\.microsoft\.com\/powershell\//, '')

    if (req.psrp || (shellId !== undefined && poolOf.has(shellId))) {
      kinds.add('psrp')
      const poolName = shellId === undefined ? undefined : pool(shellId, configurationName)
      const clientMsgs = shellId === undefined ? [] : messagesOf(clientDefrag, shellId, requestPayloads(req))
      const bodyName = req.body === undefined ? '' : localName(req.body.name)
      if (action === 'Command') {
        const sent = attr(req.body, 'CommandId')?.toLowerCase()
        const got = descendants(resp?.body, 'CommandId')[0]?.text.trim().toLowerCase()
        if (sent !== undefined && got !== undefined && got !== sent) serverCommandId.set(got, sent)
      }
      // envelope-level steps
      if (action === 'Create' && poolName !== undefined) {
        const assigned = descendants(resp?.body, 'Selector')
          .find((x) => attr(x, 'Name') === 'ShellId')
          ?.text.trim()
          .toLowerCase()
        if (assigned !== undefined && assigned !== shellId) serverShellId.set(assigned, shellId as string)
        const sc = clientMsgs.find((m) => m.typeName === 'SESSION_CAPABILITY')
        const init = clientMsgs.find((m) => m.typeName === 'INIT_RUNSPACEPOOL')
        const scd = sc === undefined ? undefined : decode(sc)
        const initd = init === undefined ? undefined : decode(init)
        const f = initd?.type === 'INIT_RUNSPACEPOOL' ? initd.fields : undefined
        const h = hostInfoPlain(f?.hostInfo)
        const idle = child(req.body, 'IdleTimeOut')?.text.trim()
        const protocolVersion = req.options.find(([k]) => k === 'protocolversion')?.[1]
        if (protocolVersion !== undefined) s.client.protocolVersion ??= protocolVersion
        push({
          op: 'pool.open',
          exchange: i,
          pool: poolName,
          resourceUri: req.resourceUri,
          configurationName,
          protocolVersion,
          minRunspaces: num(f?.minRunspaces),
          maxRunspaces: num(f?.maxRunspaces),
          threadOptions: num(f?.threadOptions),
          apartmentState: num(f?.apartmentState),
          applicationArguments: plain(f?.applicationArguments),
          host: h.host,
          hostInfo: h.info,
          options: optionMap(req.options, ['protocolversion']),
          ...(idle === undefined ? {} : { idleTimeout: idle }),
          sessionCapability: scd?.type === 'SESSION_CAPABILITY' ? plain(scd.fields) : null,
          clixml: init?.data ?? null,
        })
        if (f !== undefined && f.applicationArguments !== null && f.applicationArguments !== undefined) {
          kinds.add('application-arguments')
        }
        if (h.host) kinds.add('client-host')
        if (Object.keys(optionMap(req.options, ['protocolversion'])).length > 0) kinds.add('shell-options')
      } else if (
        action === 'Connect' &&
        poolName !== undefined &&
        attr(req.body, 'CommandId') !== undefined
      ) {
        // the command-level Connect (MS-WSMV 3.1.4.16, MS-PSRP 3.1.5.3.19): attaches to a pipeline of
        // the connected shell; no connectXml, output then comes from Receives on that CommandId
        const cid = (attr(req.body, 'CommandId') as string).toLowerCase()
        push({
          op: 'pipeline.connect',
          exchange: i,
          pool: poolName,
          pipeline: pipeline(cid, poolName, 'pipeline'),
        })
        kinds.add('connect-pipeline')
      } else if (action === 'Connect' && poolName !== undefined) {
        const c = clientMsgs.find((m) => m.typeName === 'CONNECT_RUNSPACEPOOL')
        const cd = c === undefined ? undefined : decode(c)
        const f = cd?.type === 'CONNECT_RUNSPACEPOOL' ? cd.fields : undefined
        const protocolVersion = req.options.find(([k]) => k === 'protocolversion')?.[1]
        push({
          op: 'pool.connect',
          exchange: i,
          pool: poolName,
          ...(f?.minRunspaces === undefined ? {} : { minRunspaces: f.minRunspaces }),
          ...(f?.maxRunspaces === undefined ? {} : { maxRunspaces: f.maxRunspaces }),
          ...(protocolVersion === undefined ? {} : { protocolVersion }),
        })
        kinds.add('connect')
      } else if (action === 'Disconnect' && poolName !== undefined) {
        const idle = child(req.body, 'IdleTimeOut')?.text.trim()
        push({
          op: 'pool.disconnect',
          exchange: i,
          pool: poolName,
          ...(idle === undefined ? {} : { idleTimeout: idle }),
        })
        kinds.add('disconnect')
      } else if (action === 'Reconnect' && poolName !== undefined) {
        push({ op: 'pool.reconnect', exchange: i, pool: poolName, ...optional })
        kinds.add('reconnect')
      } else if (action === 'Delete' && poolName !== undefined) {
        push({ op: 'pool.close', exchange: i, pool: poolName })
      } else if (action === 'Signal' && poolName !== undefined) {
        const cid = commandIdOf(attr(req.body, 'CommandId')) ?? NIL_GUID
        const code = child(req.body, 'Code')?.text.trim() ?? ''
        const pipe = pipeline(cid, poolName, 'pipeline')
        if (/powershell\/signal\/crtl_c$|powershell\/signal\/ctrl_c$/.test(code)) {
          push({ op: 'pipeline.stop', exchange: i, pipeline: pipe, ...optional })
          kinds.add('stop')
        } else {
          push({
            op: 'pipeline.signal',
            exchange: i,
            pipeline: pipe,
            code: code.replace(/^.*\//, ''),
            ...optional,
          })
          kinds.add('signal')
        }
      } else if (action === 'Receive' && poolName !== undefined) {
        const cid = commandIdOf(attr(child(req.body, 'DesiredStream'), 'CommandId'))
        const target = cid === undefined ? poolName : pipeline(cid, poolName, 'pipeline')
        if (cid !== undefined) received.add(target)
        push({ op: 'receive', exchange: i, target, count: 1 })
      } else if (action === 'Get' && poolName !== undefined) {
        push({
          op: 'wsman.get',
          exchange: i,
          resourceUri: req.resourceUri,
          selectors: optionMap(req.selectors),
          pool: poolName,
          result: getResult(resp),
        })
        kinds.add('is-alive')
      } else if (action !== 'Send' && action !== 'Command' && bodyName !== 'Enumerate') {
        push({ op: 'other', exchange: i, action, resourceUri: req.resourceUri })
      }
      // client PSRP messages
      let inputStep: Extract<Step, { op: 'pipeline.input' }> | undefined
      for (const m of clientMsgs) {
        const d = decode(m)
        if (d === undefined || poolName === undefined) continue
        const pipe = (): string => pipeline(m.pid, poolName, 'pipeline')
        switch (d.type) {
          case 'PUBLIC_KEY':
            push({ op: 'pool.exchangeKey', exchange: i, pool: poolName, publicKey: d.fields.publicKey })
            kinds.add('key-exchange')
            break
          case 'SET_MAX_RUNSPACES':
            push({
              op: 'pool.setMaxRunspaces',
              exchange: i,
              pool: poolName,
              value: d.fields.maxRunspaces,
              callId: d.fields.callId.toString(),
            })
            kinds.add('set-runspaces')
            break
          case 'SET_MIN_RUNSPACES':
            push({
              op: 'pool.setMinRunspaces',
              exchange: i,
              pool: poolName,
              value: d.fields.minRunspaces,
              callId: d.fields.callId.toString(),
            })
            kinds.add('set-runspaces')
            break
          case 'GET_AVAILABLE_RUNSPACES':
            push({
              op: 'pool.getAvailableRunspaces',
              exchange: i,
              pool: poolName,
              callId: d.fields.callId.toString(),
            })
            kinds.add('set-runspaces')
            break
          case 'RESET_RUNSPACE_STATE':
            push({
              op: 'pool.resetRunspaceState',
              exchange: i,
              pool: poolName,
              callId: d.fields.callId.toString(),
            })
            kinds.add('reset-runspace-state')
            break
          case 'GET_COMMAND_METADATA':
            push({
              op: 'pool.getCommandMetadata',
              exchange: i,
              pool: poolName,
              pipeline: pipeline(m.pid, poolName, 'commandMetadata'),
              names: d.fields.names,
              commandType: d.fields.commandType,
              ...(d.fields.namespace === undefined ? {} : { namespace: d.fields.namespace }),
              ...(d.fields.argumentList === undefined ? {} : { argumentList: plain(d.fields.argumentList) }),
            })
            kinds.add('command-metadata')
            break
          case 'RUNSPACEPOOL_HOST_RESPONSE':
          case 'PIPELINE_HOST_RESPONSE': {
            const f = d.fields
            const common = {
              exchange: i,
              callId: f.callId.toString(),
              method: hostMethod(f.methodId),
              ...(f.result === undefined ? {} : { result: plain(f.result) }),
              ...(f.error === undefined ? {} : { error: plain(errorMessage(f.error)) }),
              clixml: m.data,
            }
            if (d.type === 'RUNSPACEPOOL_HOST_RESPONSE')
              push({ op: 'pool.hostResponse', pool: poolName, ...common })
            else push({ op: 'pipeline.hostResponse', pipeline: pipe(), ...common })
            kinds.add('host-calls')
            break
          }
          case 'CREATE_PIPELINE': {
            const f = d.fields
            // pypsrp invokes the same PowerShell object again under the same id: a new invocation
            const prior = pipeOf.get(m.pid.toLowerCase())
            if (prior !== undefined && started.has(prior)) {
              pipeOf.delete(m.pid.toLowerCase())
              kinds.add('reused-pipeline-id')
            }
            started.add(pipe())
            const statements = f.statements.map((st) =>
              st.map((c): ScenarioCommand => {
                const merge: Record<string, number> = {}
                for (const k of MERGE_FIELDS) if (c[k] !== 0) merge[k] = c[k]
                return {
                  command: c.command,
                  isScript: c.isScript,
                  ...(c.useLocalScope === undefined ? {} : { useLocalScope: c.useLocalScope }),
                  args: c.args.map((a) => ({
                    ...(a.name === undefined ? {} : { name: a.name }),
                    value: plain(a.value),
                  })),
                  ...(Object.keys(merge).length > 0 ? { merge } : {}),
                }
              }),
            )
            push({
              op: 'pipeline.start',
              exchange: i,
              pool: poolName,
              pipeline: pipe(),
              statements,
              noInput: f.noInput,
              addToHistory: f.addToHistory,
              isNested: f.isNested,
              ...(f.history === undefined ? {} : { history: f.history }),
              remoteStreamOptions: f.remoteStreamOptions,
              apartmentState: f.apartmentState,
              host: hostInfoPlain(f.hostInfo).host,
              received: false,
              clixml: m.data,
            })
            if (statements.length > 1) kinds.add('multiple-statements')
            if (f.isNested) kinds.add('nested-pipeline')
            if (f.addToHistory) kinds.add('history')
            if (statements.some((st) => st.some((c) => c.merge !== undefined))) kinds.add('merge-streams')
            break
          }
          case 'PIPELINE_INPUT': {
            const value = plain(d.fields.value)
            const p = pipe()
            const last = s.steps.at(-1)
            if (inputStep !== undefined && last === inputStep && inputStep.pipeline === p) {
              inputStep.values.push(value)
              inputStep.clixml.push(m.data)
            } else {
              inputStep = {
                op: 'pipeline.input',
                exchange: i,
                pipeline: p,
                values: [value],
                clixml: [m.data],
              }
              push(inputStep)
            }
            kinds.add('pipeline-input')
            break
          }
          case 'END_OF_PIPELINE_INPUT':
            push({ op: 'pipeline.endInput', exchange: i, pipeline: pipe() })
            break
          default:
            break
        }
      }
      if (bodyName === 'Enumerate' || action === 'Enumerate') {
        push(enumerateStep(i, req, resp, poolOf))
        kinds.add('enumerate')
      }
      // server PSRP messages
      if (resp !== undefined && shellId !== undefined && poolName !== undefined) {
        for (const m of messagesOf(serverDefrag, shellId, responsePayloads(resp))) {
          const d = decode(m)
          if (d === undefined) continue
          const p = s.pools[poolName] as ScenarioPool
          const isPipe = m.pid !== NIL_GUID
          const pipe = isPipe
            ? (s.pipelines[pipeline(m.pid, poolName, 'pipeline')] as ScenarioPipeline)
            : undefined
          switch (d.type) {
            case 'SESSION_CAPABILITY':
              p.serverCapability = plain(d.fields)
              break
            case 'APPLICATION_PRIVATE_DATA': {
              const v = /<Version N="PSVersion">([^<]+)<\/Version>/.exec(m.data)?.[1]
              if (v !== undefined) p.psVersion = v
              break
            }
            case 'RUNSPACEPOOL_STATE': {
              const st = runspacePoolStateName(d.fields.state) ?? String(d.fields.state)
              p.states.push(st)
              const err = errorMessage(d.fields.error)
              if (err !== undefined) p.stateError = err
              break
            }
            case 'RUNSPACE_AVAILABILITY':
              p.availability.push({ callId: d.fields.callId.toString(), response: plain(d.fields.response) })
              break
            case 'ENCRYPTED_SESSION_KEY':
              p.sessionKey = true
              if (options.privateKey !== undefined) {
                try {
                  cipher = new AesSessionCipher(
                    decryptSessionKey(options.privateKey, d.fields.encryptedSessionKey),
                  )
                } catch {
                  kinds.add('session-key-not-decrypted')
                }
              }
              break
            case 'PUBLIC_KEY_REQUEST':
              p.publicKeyRequested = true
              kinds.add('key-exchange')
              break
            case 'RUNSPACEPOOL_INIT_DATA':
              p.initData = { minRunspaces: d.fields.minRunspaces, maxRunspaces: d.fields.maxRunspaces }
              break
            case 'USER_EVENT':
              p.userEvents++
              break
            case 'RUNSPACEPOOL_HOST_CALL':
              p.hostCalls.push({
                callId: d.fields.callId.toString(),
                method: hostMethod(d.fields.methodId),
                parameters: plain(d.fields.parameters),
              })
              kinds.add('host-calls')
              break
            case 'PIPELINE_HOST_CALL':
              pipe?.hostCalls.push({
                callId: d.fields.callId.toString(),
                method: hostMethod(d.fields.methodId),
                parameters: plain(d.fields.parameters),
              })
              kinds.add('host-calls')
              break
            case 'PIPELINE_OUTPUT':
              pipe?.output.push(plain(d.fields.value))
              pipe?.outputClixml.push(m.data)
              break
            case 'PIPELINE_STATE': {
              if (pipe === undefined) break
              const st = pipelineStateName(d.fields.state) ?? String(d.fields.state)
              pipe.states.push(st)
              pipe.state = st
              const err = errorMessage(d.fields.error)
              if (err !== undefined) pipe.stateError = err
              if (st === 'Failed') kinds.add('pipeline-failed')
              if (st === 'Stopped') kinds.add('pipeline-stopped')
              break
            }
            default: {
              const stream = STREAM_OF[d.type]
              if (stream !== undefined && pipe !== undefined) {
                pipe.streams[stream].push(recordSummary(d))
                kinds.add(`stream-${stream}`)
              }
            }
          }
        }
      }
    } else if (
      req.resourceUri.endsWith('/windows/shell/cmd') ||
      (shellId !== undefined && shellOf.has(shellId))
    ) {
      kinds.add('winrs')
      winrsExchange(i, req, resp, optional)
    } else if (action === 'Get') {
      push({
        op: 'wsman.get',
        exchange: i,
        resourceUri: req.resourceUri,
        selectors: optionMap(req.selectors),
        result: getResult(resp),
      })
      kinds.add(req.resourceUri.endsWith('/wsman/1/config') ? 'wsman-config' : 'wsman-get')
    } else if (action === 'Enumerate') {
      push(enumerateStep(i, req, resp, poolOf))
      kinds.add('enumerate')
    } else {
      push({ op: 'other', exchange: i, action, resourceUri: req.resourceUri })
      kinds.add('other')
    }
    if (resp?.fault === true) {
      const f = faultOf(resp)
      const timedOut = f.code === '2150858793' || /TimedOut$/.test(f.subcode ?? '')
      s.faults.push({
        exchange: i,
        action,
        step: s.steps.length - 1,
        subcode: f.subcode,
        code: f.code,
        reason: f.reason,
        kind: timedOut ? 'timedOut' : 'other',
      })
      kinds.add(timedOut ? 'timed-out' : 'fault')
    }
  }

  for (const step of s.steps) if (step.op === 'pipeline.start') step.received = received.has(step.pipeline)
  if (Object.keys(s.pools).length > 1) kinds.add('multiple-pools')
  if (Object.keys(s.shells).length > 1) kinds.add('multiple-shells')
  if (s.steps.filter((x) => x.op === 'pipeline.start').length > 1) kinds.add('multiple-pipelines')
  if (order === 'be') kinds.add('rfc-guid-order')
  s.kinds = [...kinds].sort()
  return s

  function winrsExchange(
    i: number,
    req: ParsedEnvelope,
    resp: ParsedEnvelope | undefined,
    optional: { optional?: true },
  ): void {
    const action = actionName(req.action)
    const shellId = shellIdOf(req)?.toLowerCase()
    const shellName = shellId === undefined ? undefined : shellOf.get(shellId)
    switch (action) {
      case 'Create': {
        const id =
          descendants(resp?.body, 'ShellId')[0]?.text.trim().toLowerCase() ??
          descendants(resp?.body, 'Selector')
            .find((x) => x.attrs['Name'] === 'ShellId')
            ?.text.trim()
            .toLowerCase()
        const name = `shell${shellOf.size + 1}`
        if (id !== undefined) shellOf.set(id, name)
        s.shells[name] = { id: id ?? '', resourceUri: req.resourceUri }
        const env: Record<string, string> = {}
        for (const v of descendants(req.body, 'Variable')) env[v.attrs['Name'] ?? ''] = v.text
        const text = (n: string): string | undefined => child(req.body, n)?.text.trim()
        const opt = (n: string, v: string | undefined): Record<string, string> =>
          v === undefined ? {} : { [n]: v }
        push({
          op: 'winrs.open',
          exchange: i,
          shell: name,
          resourceUri: req.resourceUri,
          options: optionMap(req.options),
          environment: env,
          ...opt('workingDirectory', text('WorkingDirectory')),
          ...opt('idleTimeout', text('IdleTimeOut')),
          ...opt('lifetime', text('Lifetime')),
          ...opt('name', attr(req.body, 'Name') ?? text('Name')),
          ...opt('inputStreams', text('InputStreams')),
          ...opt('outputStreams', text('OutputStreams')),
        })
        if (Object.keys(env).length > 0) kinds.add('environment')
        break
      }
      case 'Command': {
        const id = descendants(resp?.body, 'CommandId')[0]?.text.trim()
        const name = id === undefined ? `cmd${cmdOf.size + 1}` : command(id, shellName ?? '?')
        push({
          op: 'winrs.command',
          exchange: i,
          shell: shellName ?? '?',
          command: name,
          executable: child(req.body, 'Command')?.text.trim() ?? '',
          arguments: descendants(req.body, 'Arguments').map((a) => a.text),
          options: optionMap(req.options),
        })
        break
      }
      case 'Send': {
        for (const st of descendants(req.body, 'Stream')) {
          const cid = attr(st, 'CommandId')?.toLowerCase()
          const bytes = unb64(st.text.trim())
          push({
            op: 'winrs.stdin',
            exchange: i,
            command: cid === undefined ? '?' : command(cid, shellName ?? '?'),
            data: b64(bytes),
            text: Buffer.from(bytes).toString('utf8'),
            end: attr(st, 'End')?.toLowerCase() === 'true',
          })
        }
        kinds.add('stdin')
        break
      }
      case 'Signal': {
        const cid = attr(req.body, 'CommandId')?.toLowerCase()
        push({
          op: 'winrs.signal',
          exchange: i,
          command: cid === undefined ? '?' : command(cid, shellName ?? '?'),
          code: (child(req.body, 'Code')?.text.trim() ?? '').replace(/^.*\//, ''),
          ...optional,
        })
        break
      }
      case 'Receive': {
        const cid = attr(child(req.body, 'DesiredStream'), 'CommandId')?.toLowerCase()
        push({
          op: 'receive',
          exchange: i,
          target: cid === undefined ? (shellName ?? '?') : command(cid, shellName ?? '?'),
          count: 1,
        })
        for (const st of descendants(resp?.body, 'Stream')) {
          const c = attr(st, 'CommandId')?.toLowerCase()
          const cmd = c === undefined ? undefined : s.commands[command(c, shellName ?? '?')]
          if (cmd === undefined || st.text.trim() === '') continue
          const bytes = Buffer.from(unb64(st.text.trim()))
          if (attr(st, 'Name') === 'stderr')
            cmd.stderr = Buffer.concat([unb64(cmd.stderr), bytes]).toString('base64')
          else cmd.stdout = Buffer.concat([unb64(cmd.stdout), bytes]).toString('base64')
        }
        for (const cs of descendants(resp?.body, 'CommandState')) {
          const c = attr(cs, 'CommandId')?.toLowerCase()
          const cmd = c === undefined ? undefined : s.commands[command(c, shellName ?? '?')]
          if (cmd === undefined) continue
          cmd.state = (attr(cs, 'State') ?? '').replace(/^.*\//, '')
          const rc = child(cs, 'ExitCode')?.text.trim()
          if (rc !== undefined) cmd.exitCode = Number(rc)
        }
        break
      }
      case 'Delete':
        push({ op: 'winrs.close', exchange: i, shell: shellName ?? '?' })
        break
      default:
        push({ op: 'other', exchange: i, action, resourceUri: req.resourceUri })
    }
    for (const c of Object.values(s.commands)) {
      c.stdoutText = Buffer.from(unb64(c.stdout)).toString('utf8')
      c.stderrText = Buffer.from(unb64(c.stderr)).toString('utf8')
    }
  }
}

function hostMethod(id: number): string {
  return hostMethodNames[id] ?? String(id)
}

// names of RemoteHostMethodId (MS-PSRP 2.2.3.17), for readable scenarios
const hostMethodNames: Record<number, string> = {
  1: 'GetName',
  2: 'GetVersion',
  3: 'GetInstanceId',
  4: 'GetCurrentCulture',
  5: 'GetCurrentUICulture',
  6: 'SetShouldExit',
  7: 'EnterNestedPrompt',
  8: 'ExitNestedPrompt',
  9: 'NotifyBeginApplication',
  10: 'NotifyEndApplication',
  11: 'ReadLine',
  12: 'ReadLineAsSecureString',
  13: 'Write1',
  14: 'Write2',
  15: 'WriteLine1',
  16: 'WriteLine2',
  17: 'WriteLine3',
  18: 'WriteErrorLine',
  19: 'WriteDebugLine',
  20: 'WriteProgress',
  21: 'WriteVerboseLine',
  22: 'WriteWarningLine',
  23: 'Prompt',
  24: 'PromptForCredential1',
  25: 'PromptForCredential2',
  26: 'PromptForChoice',
  27: 'GetForegroundColor',
  28: 'SetForegroundColor',
  29: 'GetBackgroundColor',
  30: 'SetBackgroundColor',
  31: 'GetCursorPosition',
  32: 'SetCursorPosition',
  33: 'GetWindowPosition',
  34: 'SetWindowPosition',
  35: 'GetCursorSize',
  36: 'SetCursorSize',
  37: 'GetBufferSize',
  38: 'SetBufferSize',
  39: 'GetWindowSize',
  40: 'SetWindowSize',
  41: 'GetWindowTitle',
  42: 'SetWindowTitle',
  43: 'GetMaxWindowSize',
  44: 'GetMaxPhysicalWindowSize',
  45: 'GetKeyAvailable',
  46: 'ReadKey',
  47: 'FlushInputBuffer',
  48: 'SetBufferContents1',
  49: 'SetBufferContents2',
  50: 'GetBufferContents',
  51: 'ScrollBufferContents',
  52: 'PushRunspace',
  53: 'PopRunspace',
  54: 'GetIsRunspacePushed',
  55: 'GetRunspace',
  56: 'PromptForChoiceMultipleSelection',
}

function getResult(resp: ParsedEnvelope | undefined): Plain {
  if (resp === undefined) return null
  if (resp.fault) return { fault: faultOf(resp).reason }
  const out: { [k: string]: Plain } = {}
  const size = descendants(resp.body, 'MaxEnvelopeSizekb')[0]?.text.trim()
  if (size !== undefined) out['maxEnvelopeSizeKb'] = Number(size)
  const state = descendants(resp.body, 'State')[0]?.text.trim()
  if (state !== undefined) out['state'] = state
  return out
}

function enumerateStep(
  i: number,
  req: ParsedEnvelope,
  resp: ParsedEnvelope | undefined,
  poolOf: Map<string, string>,
): Step {
  const filterShell = descendants(child(req.body, 'Filter'), 'Selector')
    .find((x) => x.attrs['Name'] === 'ShellId')
    ?.text.trim()
    .toLowerCase()
  const items = descendants(resp?.body, 'Items')[0]
  const found = (items?.children ?? []).map((it: XmlElement) => {
    const id = (child(it, 'ShellId') ?? child(it, 'CommandId'))?.text.trim().toLowerCase() ?? ''
    const name = poolOf.get(id)
    const state = child(it, 'State')?.text.trim()
    const uri = child(it, 'ResourceUri')?.text.trim()
    return {
      id: name ?? id,
      ...(attr(it, 'Name') === undefined ? {} : { name: attr(it, 'Name') as string }),
      ...(state === undefined ? {} : { state }),
      ...(uri === undefined ? {} : { resourceUri: uri }),
    }
  })
  const pool = filterShell === undefined ? undefined : poolOf.get(filterShell)
  return {
    op: 'wsman.enumerate',
    exchange: i,
    resourceUri: req.resourceUri,
    ...(pool === undefined ? {} : { pool }),
    found,
  }
}
