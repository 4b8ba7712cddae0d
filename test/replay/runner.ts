/**
 * Replays one recording of real Windows WinRM traffic (pypsrp's corpus, see shared/notes/replay.md)
 * against OUR PUBLIC CLIENT: the replay server (test/helpers/winrm-replay.ts) stands in for Windows,
 * `deriveScenario` tells what the recorded client did, and this runner does the same through the
 * public API (`WSManConnection`, `RunspacePool`, `PowerShell`, `DefaultHost`, `WinRSShell`), then
 * checks that
 *
 * - the server saw no mismatching request and every required recorded exchange was consumed;
 * - what our client returned equals what the recorded responses contain: pipeline output, stream
 *   records, final states and their errors, runspace availability answers, host calls, WinRS
 *   stdout/stderr/exit codes, and faults as typed errors ({@link WSManFaultError} with the recorded
 *   code).
 *
 * Differences between our client and pypsrp that do not matter are tolerated with the replay server's
 * documented options, each justified where it is set ({@link serverOptions}). Where our client cannot
 * do what a recording needs, the run still goes as far as it can and the result is a FAIL naming the
 * client change needed (`gap`), never a SKIP.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import type { WSManConnection } from '../../src/index.ts'
import {
  PipelineFailedError,
  PipelineStoppedError,
  PowerShell,
  PSObject,
  RunspacePool,
  TimeoutError,
  WinRSShell,
  WSManFaultError,
  type PSHost,
  type RunspacePoolOptions,
  type WinRSProcess,
} from '../../src/index.ts'
import {
  AesSessionCipher,
  decodeMessageBody,
  decryptSessionKey,
  encodePublicKeyBlob,
  MessageType,
  type PipelineCommand,
  type ProtocolVersion,
  type SessionKeyExchanger,
} from '../../src/psrp/index.ts'
import {
  parseShell,
  psrpEnumerateCommands,
  psrpGetShell,
  psrpReceive,
  ResourceUri,
  winrsReceive,
  type WSManResponse,
} from '../../src/wsman/index.ts'
import type { SecureStringCipher } from '../../src/clixml/index.ts'
import { readRecording, type Exchange } from '../helpers/recordings.ts'
import {
  deriveScenario,
  plain,
  replayConnection,
  startReplayServer,
  type Plain,
  type ReplayServer,
  type ReplayServerOptions,
  type Scenario,
  type ScenarioFault,
  type Step,
} from '../helpers/winrm-replay.ts'
import { buildReplayHost, expectedSeen, type ReplayHost, type SeenHostCall } from './host.ts'

/** Outcome of one recording. */
export type ReplayStatus = 'pass' | 'fail' | 'skip'

/** What {@link runRecording} found. */
export interface ReplayResult {
  name: string
  status: ReplayStatus
  /** One line: why it failed or was skipped (empty on pass). */
  reason: string
  /** Every problem found (client gaps first, then mismatches, then result differences). */
  problems: string[]
  /** Tolerances applied, with their justification. */
  tolerances: string[]
  /** Facts the recording does not let us check, and requests made below the high-level API. */
  notes: string[]
  /** What was compared with the recording. */
  checked: string[]
  ms: number
}

/** Options of {@link runRecording}. */
export interface RunOptions {
  /** Print every exchange and mismatch (replay server log) to stderr. */
  log?: boolean
  /** Milliseconds one step may take before the run fails (default 20 000). */
  stepTimeoutMs?: number
  /**
   * pypsrp's fixed RSA key (`derived/pypsrp_test_rsa_key.pem` of the corpus): found next to the
   * recordings by default; needed for the key-exchange recordings.
   */
  privateKey?: KeyObject
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Looks for pypsrp's test key in a `derived/` folder above the recording. */
export function findPypsrpKey(file: string): KeyObject | undefined {
  let dir = dirname(file)
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'derived', 'pypsrp_test_rsa_key.pem')
    if (existsSync(p)) return createPrivateKey(readFileSync(p, 'utf8'))
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  return undefined
}

/** Seconds of an xs:duration such as `PT20S` or `PT60.000S`. */
function seconds(d: string | undefined): number | undefined {
  if (d === undefined) return undefined
  const m = /^PT(\d+(?:\.\d+)?)S$/.exec(d.trim())
  return m === null ? undefined : Number(m[1])
}

const bool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : /^true$/i.test(v))

/** A value as compact JSON for messages. */
const show = (v: unknown, max = 300): string => {
  let t: string
  try {
    t = JSON.stringify(v) ?? String(v)
  } catch {
    t = String(v)
  }
  return t.length > max ? `${t.slice(0, max)}…` : t
}

/** Where two plain values first differ, or undefined when equal. */
function firstDiff(e: Plain | undefined, a: Plain | undefined, path = ''): string | undefined {
  if (JSON.stringify(e) === JSON.stringify(a)) return undefined
  if (Array.isArray(e) && Array.isArray(a)) {
    if (e.length !== a.length) return `${path || '.'}: ${a.length} items, expected ${e.length}`
    for (let i = 0; i < e.length; i++) {
      const d = firstDiff(e[i], a[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
  }
  if (e !== null && a !== null && typeof e === 'object' && typeof a === 'object' && !Array.isArray(e)) {
    const keys = new Set([...Object.keys(e), ...Object.keys(a as object)])
    for (const k of keys) {
      const d = firstDiff((e as Record<string, Plain>)[k], (a as Record<string, Plain>)[k], `${path}.${k}`)
      if (d !== undefined) return d
    }
  }
  return `${path || '.'}: got ${show(a, 160)}, expected ${show(e, 160)}`
}

// ---------------------------------------------------------------------------------------------
// Tolerances

/**
 * The replay server's options for a recording, each difference it tolerates justified. The matching
 * is never loosened beyond these.
 */
export function serverOptions(
  s: Scenario,
  exchanges: readonly Exchange[],
): { options: ReplayServerOptions; tolerances: string[]; gaps: string[] } {
  const tolerances: string[] = []
  const gaps: string[] = []
  const ignore: string[] = []
  const ignoreOptions: string[] = []
  const isPsrp = s.kinds.includes('psrp')
  const isWinrs = s.kinds.includes('winrs')
  if (isPsrp) {
    // pypsrp sends RedirectShellErrorOutputPipe=false; our pipelines send true, as PowerShell's own
    // remoting client does: it only decides whether a native command's stderr is redirected into the
    // error stream of a pipeline that has no host to write it to. No recorded result depends on it.
    ignore.push('CREATE_PIPELINE:PowerShell.RedirectShellErrorOutputPipe')
    tolerances.push(
      'CREATE_PIPELINE RedirectShellErrorOutputPipe not compared (pypsrp false, PowerShell true)',
    )
  }
  const ctrlCSpelling = exchanges.some((e) => /powershell\/signal\/ctrl_c</.test(e.request))
  if (ctrlCSpelling) {
    // pypsrp < 0.4 stopped pipelines with `powershell/signal/ctrl_c`; MS-PSRP 3.1.5.3.13 and PowerShell
    // spell it `powershell/signal/crtl_c`, which our client sends. Windows answered the recorded one
    // with a SignalResponse; both name the same stop request.
    tolerances.push('stop Signal code spelled crtl_c (MS-PSRP) where pypsrp wrote ctrl_c')
  }
  const stoppedUnread = s.steps.some(
    (x) =>
      (x.op === 'pipeline.stop' && (s.pipelines[x.pipeline]?.states.length ?? 0) === 0) ||
      (x.op === 'winrs.signal' &&
        x.code === 'ctrl_c' &&
        !s.steps.some((r) => r.op === 'receive' && r.target === x.command)),
  )
  if (stoppedUnread) {
    // pypsrp's stop() marks the pipeline Stopped when the Signal is answered and never reads from it
    // again, so the recording has no Stopped state for it; our PowerShell.stop() waits for that state,
    // and closing the pool then releases the still-running pipeline with a `terminate` Signal before
    // the Delete. The Signal is harmless (the Delete ends the pipeline anyway) and is answered. The
    // same holds for a WinRS command that got Ctrl+C and whose output the recording never read
    // (test_winrs_bad_cmd_id): WinRSShell.close() terminates processes it has not seen end.
    tolerances.push(
      'a terminate Signal for a pipeline or command whose stop Signal was answered but never confirmed',
    )
  }
  const prWithoutCommand = exchanges.some(
    (e) =>
      /<(?:\w+:)?Stream Name="pr"(?![^>]*CommandId)[^>]*>/.test(e.request) &&
      /<(?:\w+:)?Send>/.test(e.request),
  )
  if (prWithoutCommand) {
    // pypsrp sent PIPELINE_HOST_RESPONSE on the shell's `pr` stream without a CommandId; PowerShell (and
    // our client) send it on the pipeline's command. The message's PID names the pipeline either way
    // and is still compared.
    tolerances.push("pipeline host responses sent with the pipeline's CommandId where pypsrp sent none")
  }
  if (isWinrs) {
    const noCodepage = s.steps.some((x) => x.op === 'winrs.open' && x.options['WINRS_CODEPAGE'] === undefined)
    if (noCodepage) {
      // WinRSShell.open always announces a code page (65001 by default); pypsrp left it to the
      // server's default (the OEM code page). The runner checks afterwards that every byte of the
      // recorded stdout/stderr is ASCII, which both code pages encode the same (Driver.checkResults).
      ignoreOptions.push('WINRS_CODEPAGE')
      tolerances.push('WINRS_CODEPAGE not compared (pypsrp sent none; output checked to be ASCII)')
    }
  }
  const options: ReplayServerOptions = {
    // Our RunspacePool keeps a Receive long-poll outstanding for the pool and one per running pipeline
    // (each on its own HTTP connection), and a WinRSProcess receives while its stdin is written; pypsrp
    // polled strictly in turn. The server holds such a Receive until the recording reaches an exchange
    // it matches (or answers w:TimedOut, after which the client polls again, as with Windows).
    concurrentReceives: true,
    receiveTimeoutMs: 500,
    // pypsrp numbers its runspace-pool calls (SET_MAX_RUNSPACES, GET_AVAILABLE_RUNSPACES, …) from 0,
    // our client from 1 as .NET does; call ids are client-chosen correlation numbers the server echoes,
    // bound one-to-one like GUIDs.
    bindCallIds: true,
    stopSignalSpellings: ctrlCSpelling,
    extraSignalsAfterStop: stoppedUnread,
    promptResponseOnCommand: prWithoutCommand,
    ...(ignore.length > 0 ? { ignore } : {}),
    ...(ignoreOptions.length > 0 ? { ignoreOptions } : {}),
  }
  tolerances.push('Receives may overlap other requests (held until the recording reaches them)')
  if (isPsrp) tolerances.push('runspace-pool call ids bound one-to-one like GUIDs')
  return { options, tolerances, gaps }
}

// ---------------------------------------------------------------------------------------------
// The driver

class RunAborted extends Error {}

interface PipelineRun {
  name: string
  ps: PowerShell
  promise: Promise<void>
  output: unknown[]
  error: unknown
  settled: boolean
  /** The recording reads its results (pypsrp called end_invoke/invoke). */
  received: boolean
  lastStep: number
}

interface CommandRun {
  name: string
  proc: WinRSProcess
  stdout: Buffer[]
  stderr: Buffer[]
  exitCode: number | null | undefined
  error: unknown
  promise: Promise<void>
  settled: boolean
  /** True when the recorded client read this command's output (a Receive for it is recorded). */
  received: boolean
  lastStep: number
}

interface PoolEntry {
  pool: RunspacePool
  host: ReplayHost | undefined
  availability: { call: string; value: unknown }[]
  keyExchanger: SessionKeyExchanger | undefined
}

/** pypsrp's RSA key as a key exchanger, so the recorded ENCRYPTED_SESSION_KEY decrypts. */
function fixedExchanger(privateKey: KeyObject): SessionKeyExchanger {
  return {
    publicKeyBlob: encodePublicKeyBlob(createPublicKey(privateKey)),
    decrypt: (blob: string): SecureStringCipher => new AesSessionCipher(decryptSessionKey(privateKey, blob)),
  }
}

/** The message of a stream record, as deriveScenario summarizes it. */
function recordMessage(stream: string, rec: unknown): string {
  if (!(rec instanceof PSObject)) return String(rec)
  if (stream === 'progress') {
    const a = rec.get('Activity')
    if (a !== undefined && a !== null) return String(a)
  }
  const m = (rec as PSObject & { message?: unknown }).message
  return typeof m === 'string' ? m : rec.toString()
}

class Driver {
  readonly problems: string[] = []
  readonly gaps: string[] = []
  readonly notes: string[] = []
  /** What was compared with the recording (for the report). */
  readonly checked: string[] = []
  readonly pools = new Map<string, PoolEntry>()
  readonly pipelines = new Map<string, PipelineRun>()
  readonly shells = new Map<string, WinRSShell>()
  readonly commands = new Map<string, CommandRun>()
  readonly faultAt = new Map<number, ScenarioFault>()
  /** Recorded faults an API call surfaced. */
  readonly faultsSeen = new Set<number>()
  readonly conn: WSManConnection
  #stepIndex = 0

  constructor(
    readonly s: Scenario,
    readonly server: ReplayServer,
    readonly options: RunOptions,
  ) {
    for (const f of s.faults) if (f.kind !== 'timedOut') this.faultAt.set(f.exchange, f)
    const opTimeout = seconds(s.client.operationTimeouts[0])
    const envelope = s.client.maxEnvelopeSizes[0]
    this.conn = replayConnection(server, {
      ...(opTimeout === undefined ? {} : { operationTimeout: opTimeout }),
      ...(envelope === undefined ? {} : { maxEnvelopeSize: envelope }),
      ...(s.client.locale === undefined ? {} : { locale: s.client.locale }),
    })
  }

  get stepTimeout(): number {
    return this.options.stepTimeoutMs ?? 20_000
  }

  gap(message: string): void {
    if (!this.gaps.includes(message)) this.gaps.push(message)
  }

  problem(message: string): void {
    this.problems.push(message)
  }

  note(message: string): void {
    if (!this.notes.includes(message)) this.notes.push(message)
  }

  /** Fails fast when the server reported a mismatch. */
  checkServer(): void {
    if (this.server.mismatches.length > 0) throw new RunAborted('mismatch')
  }

  /** Waits until the server consumed recorded exchange `exchange` (the client sent that request). */
  async reach(exchange: number, what: string): Promise<void> {
    const deadline = Date.now() + this.stepTimeout
    while (this.server.session.cursor <= exchange) {
      this.checkServer()
      if (Date.now() > deadline) {
        throw new RunAborted(
          `the client never sent ${what} (recorded exchange ${exchange}); the replay waits at exchange ${this.server.session.cursor}`,
        )
      }
      await sleep(5)
    }
    this.checkServer()
  }

  /** Awaits `p`, failing the run after the step timeout. */
  async within<T>(p: Promise<T>, what: string, ms = this.stepTimeout): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const mismatch = new Promise<never>((_, reject) => {
      const poll = setInterval(() => {
        if (this.server.mismatches.length > 0) {
          clearInterval(poll)
          reject(new RunAborted('mismatch'))
        }
      }, 10)
      timer = setTimeout(() => {
        clearInterval(poll)
        reject(new RunAborted(`${what} did not finish within ${ms} ms`))
      }, ms)
      void p.finally(() => clearInterval(poll)).catch(() => undefined)
    })
    try {
      return await Promise.race([p, mismatch])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Runs an API call that the recording answered (or faulted) at `exchange`, checking the outcome. */
  async call<T>(
    exchange: number,
    what: string,
    p: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    const fault = this.faultAt.get(exchange)
    const httpError = this.s.httpErrors.includes(exchange)
    if (fault !== undefined) this.faultsSeen.add(exchange)
    try {
      const value = await this.within(p(), what)
      if (fault !== undefined) {
        this.problem(
          `${what}: succeeded, but the recording answered with fault ${fault.code ?? fault.subcode}`,
        )
      }
      if (httpError) this.problem(`${what}: succeeded, but the recorded connection failed`)
      return { ok: true, value }
    } catch (e) {
      if (e instanceof RunAborted) throw e
      if (fault !== undefined) {
        if (!(e instanceof WSManFaultError)) {
          this.problem(`${what}: expected WSManFaultError ${fault.code ?? ''}, got ${String(e)}`)
        } else if (fault.code !== undefined && String(e.fault.wsmanFaultCode) !== fault.code) {
          this.problem(`${what}: WSManFaultError code ${e.fault.wsmanFaultCode}, expected ${fault.code}`)
        } else {
          this.checked.push(`${what}: WSManFaultError ${fault.code ?? fault.subcode ?? ''} as recorded`)
        }
        return { ok: false }
      }
      if (httpError) {
        if (e instanceof WSManFaultError)
          this.problem(`${what}: expected a connection error, got ${String(e)}`)
        else this.checked.push(`${what}: ${e instanceof Error ? e.name : 'error'} for the dropped connection`)
        return { ok: false }
      }
      this.problem(`${what} failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)
      return { ok: false }
    }
  }

  pool(name: string): PoolEntry {
    const p = this.pools.get(name)
    if (p === undefined) throw new RunAborted(`the recording uses ${name} before it is opened`)
    return p
  }

  /** The last step index that concerns a pipeline or WinRS command. */
  lastStepOf(name: string): number {
    let last = -1
    this.s.steps.forEach((st, i) => {
      const refs = [
        'pipeline' in st ? st.pipeline : undefined,
        st.op === 'receive' ? st.target : undefined,
        'command' in st ? st.command : undefined,
      ]
      if (refs.includes(name)) last = i
    })
    return last
  }

  /** Awaits the pipelines and commands whose recorded steps are all behind `index`. */
  async settle(index: number): Promise<void> {
    for (const r of this.pipelines.values()) {
      if (r.settled || !r.received || r.lastStep >= index) continue
      await this.within(r.promise, `pipeline ${r.name}`)
    }
    for (const c of this.commands.values()) {
      if (c.settled || !c.received || c.lastStep >= index) continue
      await this.within(c.promise, `WinRS command ${c.name}`)
    }
  }

  async run(): Promise<void> {
    const steps = this.s.steps
    for (let i = 0; i < steps.length; i++) {
      this.#stepIndex = i
      const step = steps[i] as Step
      await this.settle(i)
      this.checkServer()
      await this.step(step, i)
      this.checkServer()
    }
    this.#stepIndex = steps.length
    await this.settle(steps.length)
  }

  get stepIndex(): number {
    return this.#stepIndex
  }

  async step(step: Step, index: number): Promise<void> {
    switch (step.op) {
      case 'pool.open':
        return this.openPool(step)
      case 'pool.exchangeKey':
        return this.exchangeKey(step)
      case 'pool.setMaxRunspaces':
      case 'pool.setMinRunspaces':
      case 'pool.getAvailableRunspaces':
      case 'pool.resetRunspaceState':
        return this.poolCall(step)
      case 'pool.getCommandMetadata':
        return this.commandMetadata(step)
      case 'pool.hostResponse':
      case 'pipeline.hostResponse':
        // answered by the host built from the scenario, when the server's call arrives
        return
      case 'pool.disconnect': {
        const p = this.pool(step.pool)
        const idle = seconds(step.idleTimeout)
        const r = await this.call(step.exchange, `${step.pool}.disconnect()`, () =>
          p.pool.disconnect(idle === undefined ? {} : { idleTimeout: idle }),
        )
        if (r.ok) this.expectState(step.pool, p.pool, 'Disconnected')
        return
      }
      case 'pool.reconnect': {
        const p = this.pool(step.pool)
        if (step.optional === true && p.pool.state !== 'Disconnected') {
          // pypsrp reconnected a pool that was connected; our reconnect() is for disconnected pools
          this.note(`${step.pool}: the recorded Reconnect of a connected shell is left out`)
          return
        }
        const r = await this.call(step.exchange, `${step.pool}.reconnect()`, () => p.pool.reconnect())
        if (r.ok) this.expectState(step.pool, p.pool, 'Opened')
        return
      }
      case 'pool.connect':
        return this.connectPool(step)
      case 'pipeline.connect':
        return this.connectPipeline(step)
      case 'pool.close': {
        const p = this.pool(step.pool)
        const r = await this.call(step.exchange, `${step.pool}.close()`, () => p.pool.close())
        if (r.ok) this.expectState(step.pool, p.pool, 'Closed')
        return
      }
      case 'pipeline.start':
        return this.startPipeline(step)
      case 'pipeline.input':
      case 'pipeline.endInput':
        // given to PowerShell.invoke() with the start (see startPipeline)
        return
      case 'pipeline.stop': {
        const run = this.pipelines.get(step.pipeline)
        if (run === undefined) throw new RunAborted(`stop of ${step.pipeline}, which was not started`)
        if (step.optional === true) return
        // stop() resolves once the server reports Stopped; a recording that never received from
        // the pipeline has no such report, so only the Signal is awaited
        const stopping = run.ps.stop()
        stopping.catch((e: unknown) => this.problem(`${step.pipeline}.stop() failed: ${String(e)}`))
        await this.reach(step.exchange, `the stop Signal of ${step.pipeline}`)
        return
      }
      case 'pipeline.signal':
        if (step.optional === true) return
        this.gap(
          `the recording sends Signal ${step.code} to ${step.pipeline}; our PowerShell has no API for that signal`,
        )
        return
      case 'receive':
        return this.receive(step)
      case 'wsman.get':
        return this.wsmanGet(step)
      case 'wsman.enumerate':
        return this.enumerate(step)
      case 'winrs.open':
        return this.openShell(step)
      case 'winrs.command':
        return this.spawn(step, index)
      case 'winrs.stdin':
        return this.stdin(step)
      case 'winrs.signal': {
        if (step.optional === true) return
        const c = this.commands.get(step.command)
        if (c === undefined) throw new RunAborted(`signal to ${step.command}, which was not started`)
        await this.call(step.exchange, `${step.command}.signal(${step.code})`, () =>
          step.code === 'terminate' ? c.proc.kill() : c.proc.signal(step.code as 'ctrl_c' | 'ctrl_break'),
        )
        return
      }
      case 'winrs.close': {
        const sh = this.shells.get(step.shell)
        if (sh === undefined) throw new RunAborted(`close of ${step.shell}, which was not opened`)
        await this.call(step.exchange, `${step.shell}.close()`, () => sh.close())
        return
      }
      case 'other':
        this.gap(
          `the recording sends ${step.action} to ${step.resourceUri}, which the runner cannot map to our API`,
        )
        return
    }
  }

  // ---- pools ----

  async openPool(step: Extract<Step, { op: 'pool.open' }>): Promise<void> {
    const init =
      step.clixml === null ? undefined : decodeMessageBody(MessageType.INIT_RUNSPACEPOOL, step.clixml)
    const f = init?.type === 'INIT_RUNSPACEPOOL' ? init.fields : undefined
    const host = step.host ? buildReplayHost(this.s, step.hostInfo) : undefined
    const options: RunspacePoolOptions = {}
    if (step.minRunspaces !== undefined) options.minRunspaces = step.minRunspaces
    if (step.maxRunspaces !== undefined) options.maxRunspaces = step.maxRunspaces
    if (step.threadOptions !== undefined && step.threadOptions !== 0)
      options.threadOptions = step.threadOptions
    if (step.apartmentState !== undefined && step.apartmentState !== 2)
      options.apartmentState = step.apartmentState
    if (host?.host !== undefined) options.host = host.host
    const args = f?.applicationArguments
    if (args instanceof Map) options.applicationArguments = args as Map<string, unknown>
    else if (args !== null && args !== undefined) this.gap(`application arguments of type ${typeof args}`)
    if (step.protocolVersion !== undefined) options.protocolVersion = step.protocolVersion as ProtocolVersion
    if (step.configurationName !== 'Microsoft.PowerShell') options.configurationName = step.configurationName
    const idle = seconds(step.idleTimeout)
    if (idle !== undefined) options.idleTimeout = idle
    for (const [k, v] of Object.entries(step.options)) {
      if (k === 'WINRS_NOPROFILE') options.noProfile = bool(v) ?? false
      else this.gap(`RunspacePool.open has no option for the Create option ${k}=${v}`)
    }
    const entry: PoolEntry = {
      pool: undefined as unknown as RunspacePool,
      host,
      availability: [],
      keyExchanger: undefined,
    }
    const r = await this.call(step.exchange, `RunspacePool.open (${step.pool})`, () =>
      RunspacePool.open(this.conn, options),
    )
    if (!r.ok) throw new RunAborted(`${step.pool} did not open`)
    entry.pool = r.value
    this.pools.set(step.pool, entry)
    this.checkOpened(step.pool, entry.pool)
  }

  expectState(name: string, pool: RunspacePool, state: string): void {
    if (pool.state !== state) this.problem(`${name}: state ${pool.state}, expected ${state}`)
    else this.checked.push(`${name}: ${state}`)
  }

  /** The pool reached the state the server reported, and its PSVersionTable is the recorded one. */
  checkOpened(name: string, pool: RunspacePool): void {
    const want = this.s.pools[name]
    if (want === undefined) return
    if (want.states.includes('Opened') && pool.state !== 'Opened') {
      this.problem(`${name}: state ${pool.state} after opening, the server reported Opened`)
    }
    const version = pool.psVersionTable?.get('PSVersion')
    if (want.psVersion !== undefined && String(version) !== want.psVersion) {
      this.problem(`${name} PSVersion: ${String(version)}, expected ${want.psVersion}`)
    }
    this.checked.push(
      `${name}: ${pool.state}${version === undefined ? '' : `, PowerShell ${String(version)}`}`,
    )
  }

  async connectPool(step: Extract<Step, { op: 'pool.connect' }>): Promise<void> {
    const known = this.pools.get(step.pool)
    if (known === undefined) {
      this.gap(`connect to ${step.pool}, a pool another client opened: the runner knows no id for it`)
      return
    }
    if (step.minRunspaces !== undefined || step.maxRunspaces !== undefined) {
      this.gap(
        'RunspacePool.connect sends CONNECT_RUNSPACEPOOL without min/max runspaces; the recording sets them',
      )
    }
    const options: RunspacePoolOptions = {}
    if (step.protocolVersion !== undefined) options.protocolVersion = step.protocolVersion as ProtocolVersion
    if (known.host?.host !== undefined) options.host = known.host.host
    const r = await this.call(step.exchange, `RunspacePool.connect (${step.pool})`, () =>
      RunspacePool.connect(this.conn, known.pool.id, options),
    )
    if (!r.ok) throw new RunAborted(`${step.pool} did not connect`)
    this.checkOpened(step.pool, r.value)
    // the old object stays Disconnected; the connected one replaces it
    this.pools.set(step.pool, { ...known, pool: r.value, availability: known.availability })
  }

  async exchangeKey(step: Extract<Step, { op: 'pool.exchangeKey' }>): Promise<void> {
    const p = this.pool(step.pool)
    const expected = this.s.pools[step.pool]
    const key = this.options.privateKey
    if (key === undefined) throw new RunAborted('key exchange without pypsrp_test_rsa_key.pem')
    // RunspacePool has no option to supply the RSA key pair: prime the (public) sans-IO core with
    // pypsrp's key, so PUBLIC_KEY carries the recorded key and the recorded session key decrypts;
    // exchangeKeys() then sends it and waits for the answer.
    p.keyExchanger = fixedExchanger(key)
    p.pool.core.exchangeKey(p.keyExchanger)
    if (expected?.sessionKey === true) {
      await this.call(step.exchange, `${step.pool}.exchangeKeys()`, () => p.pool.exchangeKeys())
      if (p.pool.core.cipher === undefined) this.problem(`${step.pool}: no session key after exchangeKeys()`)
      else this.checked.push(`${step.pool}: session key exchanged`)
      return
    }
    // the server never answers (test_psrp_key_exchange_timeout): exchangeKeys must time out
    const delay = this.s.delays.find((d) => d.exchange > step.exchange)
    const timeout = delay === undefined ? 2000 : Math.max(100, (delay.seconds * 1000) / 2)
    try {
      await this.within(p.pool.exchangeKeys({ timeout }), `${step.pool}.exchangeKeys()`)
      this.problem(`${step.pool}.exchangeKeys() succeeded, but the recording never sent a session key`)
    } catch (e) {
      if (e instanceof RunAborted) throw e
      if (!(e instanceof TimeoutError))
        this.problem(`${step.pool}.exchangeKeys(): expected TimeoutError, got ${String(e)}`)
      else this.checked.push(`${step.pool}.exchangeKeys(): TimeoutError (the server never answered)`)
    }
    if (delay !== undefined) await this.reach(delay.exchange, 'the Receive answered late')
  }

  async poolCall(
    step: Extract<
      Step,
      {
        op:
          | 'pool.setMaxRunspaces'
          | 'pool.setMinRunspaces'
          | 'pool.getAvailableRunspaces'
          | 'pool.resetRunspaceState'
      }
    >,
  ): Promise<void> {
    const p = this.pool(step.pool)
    const what = `${step.pool}.${step.op.slice(5)}(${'value' in step ? step.value : ''})`
    const r = await this.call(step.exchange, what, (): Promise<unknown> => {
      switch (step.op) {
        case 'pool.setMaxRunspaces':
          return p.pool.setMaxRunspaces(step.value)
        case 'pool.setMinRunspaces':
          return p.pool.setMinRunspaces(step.value)
        case 'pool.getAvailableRunspaces':
          return p.pool.getAvailableRunspaces()
        case 'pool.resetRunspaceState':
          return p.pool.resetRunspaceState()
      }
    })
    if (r.ok) p.availability.push({ call: what, value: r.value })
  }

  async commandMetadata(step: Extract<Step, { op: 'pool.getCommandMetadata' }>): Promise<void> {
    const p = this.pool(step.pool)
    const r = await this.call(step.exchange, `${step.pool}.getCommandMetadata(${step.names.join(',')})`, () =>
      p.pool.getCommandMetadata(step.names, {
        commandType: step.commandType,
        ...(step.namespace === undefined ? {} : { namespace: step.namespace }),
        ...(Array.isArray(step.argumentList) ? { argumentList: step.argumentList } : {}),
      }),
    )
    const expected = this.s.pipelines[step.pipeline]
    if (!r.ok || expected === undefined) return
    // the first object the server sends is the CommandMetadataCount, which the API drops
    const want = expected.output.slice(1)
    const d = firstDiff(
      want,
      r.value.map((v) => plain(v)),
    )
    if (d !== undefined) this.problem(`${step.pipeline} (getCommandMetadata) output: ${d}`)
    const count = expected.output[0]
    const n =
      count !== null && typeof count === 'object' && !Array.isArray(count)
        ? (count['$props'] as Record<string, Plain> | undefined)?.['Count']
        : undefined
    if (n !== undefined && Number(n) !== r.value.length) {
      this.problem(`${step.pipeline}: ${r.value.length} commands, the server counted ${String(n)}`)
    }
    this.checked.push(`${step.pipeline} (getCommandMetadata): ${r.value.length} command(s)`)
  }

  // ---- pipelines ----

  /** The command list of a recorded CREATE_PIPELINE, decoded with the pool's cipher (SecureStrings). */
  decodePipeline(step: Extract<Step, { op: 'pipeline.start' }>, cipher: SecureStringCipher | undefined) {
    const d = decodeMessageBody(
      MessageType.CREATE_PIPELINE,
      step.clixml,
      cipher === undefined ? {} : { cipher },
    )
    if (d.type !== 'CREATE_PIPELINE') throw new Error('not a CREATE_PIPELINE body')
    return d.fields
  }

  /** Applies a recorded command's merge settings through the PowerShell API. */
  applyMerges(ps: PowerShell, c: PipelineCommand, where: string): void {
    const streams = ['mergeWarning', 'mergeVerbose', 'mergeDebug', 'mergeInformation'] as const
    const none = c.mergeMyResult === 0 && c.mergeToResult === 0 && c.mergeError === 0
    // protocol 2.1 has no MergeError (MS-PSRP 2.2.3.12): MergeMyResult=Error, MergeToResult=Output alone
    // is the error-to-output merge, and the decoder reads the absent MergeError as 0
    const error = c.mergeMyResult === 2 && c.mergeToResult === 1 && (c.mergeError === 1 || c.mergeError === 0)
    const all = c.mergeMyResult === 7 && c.mergeToResult === 1 && c.mergeError === 1
    if (all && streams.every((k) => c[k] === 1)) ps.mergeAll()
    else if (error) ps.mergeError()
    else if (!none) {
      this.gap(
        `${where}: merge settings MergeMyResult=${c.mergeMyResult} MergeToResult=${c.mergeToResult} MergeError=${c.mergeError} cannot be set through PowerShell.merge*()`,
      )
    }
    if (!all) {
      for (const k of streams) {
        if (c[k] === 1) ps[k]()
        else if (c[k] !== 0) this.gap(`${where}: ${k}=${c[k]} cannot be set through PowerShell.merge*()`)
      }
    }
    if (c.mergePreviousResults === 3) ps.mergePreviousResults()
    else if (c.mergePreviousResults !== 0) {
      this.gap(
        `${where}: MergePreviousResults=${c.mergePreviousResults} cannot be set through mergePreviousResults()`,
      )
    }
  }

  async startPipeline(step: Extract<Step, { op: 'pipeline.start' }>): Promise<void> {
    const p = this.pool(step.pool)
    const f = this.decodePipeline(step, p.pool.core.cipher)
    if (f.apartmentState !== 2)
      this.gap(`PowerShell has no apartmentState option; ${step.pipeline} uses ${f.apartmentState}`)
    if (f.history !== undefined)
      this.gap(`PowerShell has no option for the history text; ${step.pipeline} sends one`)
    if (f.remoteStreamOptions !== 0 && f.remoteStreamOptions !== 15) {
      this.gap(
        `PowerShell can only set RemoteStreamOptions 0 or 15; ${step.pipeline} uses ${f.remoteStreamOptions}`,
      )
    }
    const host: PSHost | undefined = step.host ? p.host?.host : undefined
    if (step.host && host === undefined) this.gap(`${step.pipeline} announces a host the pool has not`)
    const ps = new PowerShell(p.pool, {
      ...(host === undefined ? {} : { host }),
      isNested: f.isNested,
      addInvocationInfo: f.remoteStreamOptions === 15,
    })
    f.statements.forEach((statement, si) => {
      if (si > 0) ps.addStatement()
      for (const c of statement) {
        if (c.isScript) ps.addScript(c.command, c.useLocalScope)
        else ps.addCommand(c.command, c.useLocalScope === undefined ? {} : { useLocalScope: c.useLocalScope })
        for (const a of c.args) {
          if (a.name !== undefined && a.name !== null) ps.addParameter(a.name, a.value)
          else ps.addArgument(a.value)
        }
        this.applyMerges(ps, c, step.pipeline)
      }
    })
    if (f.addToHistory) ps.addToHistory(true)

    // input: the values of the recorded PIPELINE_INPUT messages, then end of input
    let input: unknown[] | undefined
    if (!f.noInput) {
      input = []
      const later = this.s.steps.filter(
        (x): x is Extract<Step, { op: 'pipeline.input' | 'pipeline.endInput' }> =>
          (x.op === 'pipeline.input' || x.op === 'pipeline.endInput') && x.pipeline === step.pipeline,
      )
      for (const x of later) {
        if (x.op !== 'pipeline.input') continue
        for (const xml of x.clixml) {
          const d = decodeMessageBody(
            MessageType.PIPELINE_INPUT,
            xml,
            p.pool.core.cipher === undefined ? {} : { cipher: p.pool.core.cipher },
          )
          input.push((d.fields as { value: unknown }).value)
        }
      }
      if (!later.some((x) => x.op === 'pipeline.endInput')) {
        this.gap(`${step.pipeline} never ends its input; PowerShell.invoke(input) always does`)
      }
    }
    this.launch(step.pipeline, ps, input, step.received)
    await this.reach(step.exchange, `the Command of ${step.pipeline}`)
  }

  /** Streams a pipeline's results into a {@link PipelineRun} registered under `name`. */
  launch(name: string, ps: PowerShell, input: unknown[] | undefined, received: boolean): PipelineRun {
    const run: PipelineRun = {
      name,
      ps,
      output: [],
      error: undefined,
      settled: false,
      received,
      lastStep: this.lastStepOf(name),
      promise: Promise.resolve(),
    }
    run.promise = (async () => {
      try {
        for await (const v of ps.stream(input, { highWaterMark: Number.POSITIVE_INFINITY }))
          run.output.push(v)
      } catch (e) {
        run.error = e
      } finally {
        run.settled = true
      }
    })()
    this.pipelines.set(name, run)
    return run
  }

  /**
   * A command-level Connect: the pool was connected again, and the recorded client attaches to a
   * pipeline still running in it. Through our API that is {@link PowerShell.attach} on the connected
   * pool; the attached pipeline's results replace those of the run started before the disconnect.
   */
  async connectPipeline(step: Extract<Step, { op: 'pipeline.connect' }>): Promise<void> {
    const p = this.pool(step.pool)
    const before = this.pipelines.get(step.pipeline)
    const id = before?.ps.instanceId
    if (id === undefined) {
      this.gap(`attach to ${step.pipeline}, a pipeline another client started: the runner knows no id for it`)
      return
    }
    const host: PSHost | undefined = p.host?.host
    const ps = PowerShell.attach(p.pool, id, host === undefined ? {} : { host })
    const received = this.s.steps.some(
      (x, i) => i > this.stepIndex && x.op === 'receive' && x.target === step.pipeline,
    )
    this.launch(step.pipeline, ps, undefined, received)
    await this.reach(step.exchange, `the Connect of ${step.pipeline}`)
  }

  // ---- receives the API does not make by itself ----

  async receive(step: Extract<Step, { op: 'receive' }>): Promise<void> {
    // Receives of pools, pipelines and commands our API created are made by the API itself
    if (this.pools.has(step.target) || this.commands.has(step.target)) return
    const created = this.s.steps.some(
      (x) => (x.op === 'pipeline.start' || x.op === 'pool.getCommandMetadata') && x.pipeline === step.target,
    )
    if (created) return
    const exchange = step.exchange
    const pipeline = this.s.pipelines[step.target]
    if (pipeline !== undefined) {
      // a Receive on a pipeline the recorded client never created (pypsrp test_psrp_receive_failure):
      // the equivalent through our API is a Receive request for an unknown pipeline id
      const p = this.pool(pipeline.pool)
      const r = await this.call(exchange, `Receive on the unknown pipeline ${step.target}`, () =>
        this.conn.request(psrpReceive({ shellId: p.pool.id, pipelineId: globalThis.crypto.randomUUID() })),
      )
      if (r.ok) this.problem(`Receive on ${step.target}: answered ${r.value.kind}`)
      this.note(`${step.target}: a Receive without a pipeline, sent with WSManConnection.request()`)
      return
    }
    const shell = this.shells.get(step.target)
    if (shell !== undefined) {
      // a Receive on the shell before any command (pypsrp test_winrs_fail_poll_process)
      const r = await this.call(exchange, `Receive on ${step.target} without a command`, () =>
        this.conn.request(winrsReceive({ shellId: shell.shellId })),
      )
      if (r.ok) this.problem(`Receive on ${step.target}: answered ${r.value.kind}`)
      this.note(`${step.target}: a Receive without a command, sent with WSManConnection.request()`)
      return
    }
    const command = this.s.commands[step.target]
    const owner = command === undefined ? undefined : this.shells.get(command.shell)
    if (command !== undefined && owner !== undefined && !this.commands.has(step.target)) {
      // a Receive for a CommandId the recorded client never started in a shell it opened (pypsrp
      // test_winrs_bad_cmd_id): through our API, attaching to that CommandId and reading its output
      const r = await this.call(
        exchange,
        `Receive on ${step.target}, a command this client did not start`,
        () => owner.attach(command.id).exited,
      )
      if (r.ok) this.problem(`Receive on ${step.target}: the attached process ended with ${String(r.value)}`)
      return
    }
    throw new RunAborted(`Receive on ${step.target}, which the runner does not know`)
  }

  // ---- WS-Man Get / Enumerate ----

  async wsmanGet(step: Extract<Step, { op: 'wsman.get' }>): Promise<void> {
    const result = step.result
    const want = result !== null && typeof result === 'object' && !Array.isArray(result) ? result : {}
    if (step.resourceUri === ResourceUri.Config) {
      // pypsrp reads MaxEnvelopeSizekb to size its messages; our WSManConnection takes maxEnvelopeSize
      // as an option and has no call for it, so the request goes through WSManConnection.request()
      this.note('WinRM config Get sent with WSManConnection.request() (no API reads MaxEnvelopeSizekb)')
      const r = await this.call(step.exchange, 'Get of the WinRM config', () =>
        this.conn.request({ action: 'get', resourceUri: ResourceUri.Config }),
      )
      if (!r.ok) return
      const body = r.value.kind === 'get' ? r.value.body : undefined
      const size = findText(body, 'MaxEnvelopeSizekb')
      if (want['maxEnvelopeSizeKb'] !== undefined && Number(size) !== want['maxEnvelopeSizeKb']) {
        this.problem(`config MaxEnvelopeSizekb: got ${size}, expected ${String(want['maxEnvelopeSizeKb'])}`)
      } else this.checked.push(`config MaxEnvelopeSizekb ${size}`)
      return
    }
    if (step.resourceUri === ResourceUri.Shell && step.pool !== undefined) {
      // pypsrp's RunspacePool is_alive: a Get of the shell; our RunspacePool has no such call
      const p = this.pool(step.pool)
      this.note('shell Get (pypsrp is_alive) sent with WSManConnection.request(psrpGetShell())')
      const r = await this.call(step.exchange, `Get of ${step.pool}'s shell`, () =>
        this.conn.request(psrpGetShell({ shellId: p.pool.id })),
      )
      if (!r.ok) return
      const body = r.value.kind === 'get' ? r.value.body : undefined
      const state = body === undefined ? undefined : parseShell(body).state
      if (want['state'] !== undefined && state !== want['state']) {
        this.problem(`${step.pool} shell state: got ${String(state)}, expected ${String(want['state'])}`)
      } else this.checked.push(`${step.pool} shell state ${String(state)}`)
      return
    }
    this.gap(`Get of ${step.resourceUri}: no API`)
  }

  async enumerate(step: Extract<Step, { op: 'wsman.enumerate' }>): Promise<void> {
    const idOf = (name: string): string => this.pools.get(name)?.pool.id.toLowerCase() ?? name
    if (step.resourceUri === ResourceUri.Shell) {
      const r = await this.call(step.exchange, 'RunspacePool.getRunspacePools()', () =>
        RunspacePool.getRunspacePools(this.conn),
      )
      if (!r.ok) return
      const got = r.value.map((x) => `${x.shellId?.toLowerCase() ?? '?'} ${x.state ?? ''}`)
      const want = step.found
        .filter((x) => x.resourceUri?.startsWith(ResourceUri.PowerShellPrefix) !== false)
        .map((x) => `${idOf(x.id)} ${x.state ?? ''}`)
      const d = firstDiff(want, got)
      if (d !== undefined) this.problem(`getRunspacePools(): ${d}`)
      else this.checked.push(`getRunspacePools(): ${got.length} pool(s) with their states`)
      return
    }
    if (step.resourceUri === ResourceUri.ShellCommand && step.pool !== undefined) {
      // pypsrp's get_runspace_pools also enumerates each pool's commands (disconnected pipelines to
      // reconnect); our RunspacePool.getRunspacePools() does not, so the request is made directly
      this.note("Enumerate of a pool's commands sent with WSManConnection.request(psrpEnumerateCommands())")
      const p = this.pool(step.pool)
      const r = await this.call(step.exchange, `Enumerate of ${step.pool}'s commands`, () =>
        this.conn.request(psrpEnumerateCommands({ shellId: p.pool.id })),
      )
      if (!r.ok) return
      const n = itemsOf(r.value)
      if (n !== step.found.length) this.problem(`${step.pool} commands: ${n}, expected ${step.found.length}`)
      else this.checked.push(`${step.pool}: ${n} command(s) enumerated`)
      return
    }
    this.gap(`Enumerate of ${step.resourceUri}: no API`)
  }

  // ---- WinRS ----

  async openShell(step: Extract<Step, { op: 'winrs.open' }>): Promise<void> {
    const o = step.options
    const known = new Set(['WINRS_CODEPAGE', 'WINRS_NOPROFILE'])
    for (const [k, v] of Object.entries(o))
      if (!known.has(k)) this.gap(`WinRSShell.open has no option for ${k}=${v}`)
    if (step.inputStreams !== undefined && step.inputStreams !== 'stdin')
      this.gap(`WinRS input streams ${step.inputStreams}`)
    if (step.outputStreams !== undefined && step.outputStreams !== 'stdout stderr')
      this.gap(`WinRS output streams ${step.outputStreams}`)
    const idle = seconds(step.idleTimeout)
    const life = seconds(step.lifetime)
    const noProfile = bool(o['WINRS_NOPROFILE'])
    const r = await this.call(step.exchange, `WinRSShell.open (${step.shell})`, () =>
      WinRSShell.open(this.conn, {
        ...(o['WINRS_CODEPAGE'] === undefined ? {} : { codepage: Number(o['WINRS_CODEPAGE']) }),
        ...(step.name === undefined ? {} : { name: step.name }),
        ...(noProfile === undefined ? {} : { noProfile }),
        ...(Object.keys(step.environment).length > 0 ? { environment: step.environment } : {}),
        ...(step.workingDirectory === undefined ? {} : { workingDirectory: step.workingDirectory }),
        ...(idle === undefined ? {} : { idleTimeout: idle }),
        ...(life === undefined ? {} : { lifetime: life }),
      }),
    )
    if (!r.ok) throw new RunAborted(`${step.shell} did not open`)
    this.shells.set(step.shell, r.value)
  }

  async spawn(step: Extract<Step, { op: 'winrs.command' }>, index: number): Promise<void> {
    const sh = this.shells.get(step.shell)
    if (sh === undefined) throw new RunAborted(`command on ${step.shell}, which was not opened`)
    const skip = bool(step.options['WINRS_SKIP_CMD_SHELL'])
    const consoleMode = bool(step.options['WINRS_CONSOLEMODE_STDIN'])
    const r = await this.call(step.exchange, `${step.shell}.spawn(${step.executable})`, () =>
      sh.spawn(step.executable, step.arguments, {
        ...(skip === undefined ? {} : { skipCmdShell: skip }),
        ...(consoleMode === undefined ? {} : { consoleModeStdin: consoleMode }),
      }),
    )
    if (!r.ok) return
    const proc = r.value
    const run: CommandRun = {
      name: step.command,
      proc,
      stdout: [],
      stderr: [],
      exitCode: undefined,
      error: undefined,
      settled: false,
      received: this.s.steps.some((x) => x.op === 'receive' && x.target === step.command),
      lastStep: Math.max(index, this.lastStepOf(step.command)),
      promise: Promise.resolve(),
    }
    // a failed Send is reported by the write callbacks (see stdin); keep the stream from throwing
    proc.stdin.on('error', () => undefined)
    proc.stdout.on('data', (c: Buffer) => run.stdout.push(c))
    proc.stderr.on('data', (c: Buffer) => run.stderr.push(c))
    const ended = (s: NodeJS.ReadableStream): Promise<void> =>
      new Promise((resolve) => {
        s.once('end', () => resolve())
        s.once('close', () => resolve())
        s.once('error', () => resolve())
      })
    run.promise = (async () => {
      try {
        run.exitCode = await proc.exited
        await Promise.all([ended(proc.stdout), ended(proc.stderr)])
      } catch (e) {
        run.error = e
      } finally {
        run.settled = true
      }
    })()
    this.commands.set(step.command, run)
  }

  async stdin(step: Extract<Step, { op: 'winrs.stdin' }>): Promise<void> {
    const c = this.commands.get(step.command)
    if (c === undefined) throw new RunAborted(`stdin of ${step.command}, which was not started`)
    const data = Buffer.from(step.data, 'base64')
    const w = c.proc.stdin
    const done = new Promise<void>((resolve, reject) => {
      const cb = (e?: Error | null): void => (e ? reject(e) : resolve())
      if (step.end) {
        if (data.length > 0) w.end(data, cb)
        else w.end(cb)
      } else w.write(data, cb)
    })
    await this.call(step.exchange, `${step.command} stdin`, () => done)
  }

  // ---- results ----

  async checkResults(): Promise<void> {
    const s = this.s
    for (const [exchange, f] of this.faultAt) {
      if (!this.faultsSeen.has(exchange)) {
        this.problem(
          `the recorded ${f.action} fault ${f.code ?? f.subcode ?? ''} (exchange ${exchange}) reached no API call`,
        )
      }
    }
    // pipelines
    for (const run of this.pipelines.values()) {
      const want = s.pipelines[run.name]
      if (want === undefined) continue
      if (!run.received || want.states.length === 0) {
        this.note(`${run.name}: the recording never read its results; not compared`)
        continue
      }
      if (!run.settled) {
        this.problem(`${run.name}: still running at the end (expected ${want.state ?? 'a final state'})`)
        continue
      }
      const state = run.ps.state
      if (state !== want.state) this.problem(`${run.name} state: ${state}, expected ${want.state}`)
      const e = run.error
      if (want.state === 'Completed' && e !== undefined) this.problem(`${run.name} failed: ${String(e)}`)
      if (want.state === 'Failed') {
        if (!(e instanceof PipelineFailedError))
          this.problem(`${run.name}: expected PipelineFailedError, got ${String(e)}`)
        else if (want.stateError !== undefined && e.message !== want.stateError) {
          this.problem(`${run.name} error: ${show(e.message)}, expected ${show(want.stateError)}`)
        }
      }
      if (want.state === 'Stopped' && !(e instanceof PipelineStoppedError)) {
        this.problem(`${run.name}: expected PipelineStoppedError, got ${String(e)}`)
      }
      const d = firstDiff(
        want.output,
        run.output.map((v) => plain(v)),
      )
      if (d !== undefined) this.problem(`${run.name} output: ${d}`)
      const records = Object.values(want.streams).reduce((n, l) => n + l.length, 0)
      this.checked.push(`${run.name}: ${want.state}, ${want.output.length} output(s), ${records} record(s)`)
      for (const [stream, records] of Object.entries(want.streams)) {
        const got = (run.ps.streams[stream as keyof typeof run.ps.streams] as unknown[]).map((r) =>
          recordMessage(stream, r),
        )
        const dd = firstDiff(
          records.map((r) => r.message),
          got,
        )
        if (dd !== undefined) this.problem(`${run.name} ${stream} records: ${dd}`)
      }
    }
    // pools
    for (const [name, entry] of this.pools) {
      const want = s.pools[name]
      if (want === undefined) continue
      if (want.availability.length > 0)
        this.checked.push(`${name}: ${want.availability.length} runspace call answer(s)`)
      const answers = [...want.availability].sort((a, b) => Number(BigInt(a.callId) - BigInt(b.callId)))
      const got = entry.availability.map((a) => String(a.value))
      const dd = firstDiff(
        answers.map((a) => String(a.response)),
        got,
      )
      if (dd !== undefined) {
        this.problem(`${name} runspace calls (${entry.availability.map((a) => a.call).join(', ')}): ${dd}`)
      }
      const host = entry.host
      if (host !== undefined) {
        const expected: SeenHostCall[] = []
        const calls = [
          ...want.hostCalls,
          ...Object.values(s.pipelines)
            .filter((p) => p.pool === name)
            .flatMap((p) => p.hostCalls),
        ]
        for (const c of calls) {
          const e = expectedSeen(c.method, c.parameters)
          if (e !== undefined) expected.push(e)
        }
        this.checked.push(
          `${name}: ${expected.length} host call(s) seen, ${calls.length - expected.length} answered`,
        )
        const d = firstDiff(expected as unknown as Plain, host.seen as unknown as Plain)
        if (d !== undefined) this.problem(`${name} host calls: ${d}`)
        const unused = host.unused()
        if (unused.length > 0)
          this.problem(`${name} host: recorded answers never asked for: ${unused.join(', ')}`)
        if (host.unanswered.length > 0)
          this.problem(`${name} host: calls without a recorded answer: ${host.unanswered.join(', ')}`)
      }
    }
    // WinRS
    for (const run of this.commands.values()) {
      const want = s.commands[run.name]
      if (want === undefined) continue
      if (!run.received) {
        // pypsrp test_winrs_bad_cmd_id starts a command and never reads it: nothing to compare
        this.note(`${run.name}: the recording never read its output; not compared`)
        continue
      }
      if (!run.settled) {
        this.problem(`${run.name}: still running at the end`)
        continue
      }
      if (run.error !== undefined) this.problem(`${run.name} failed: ${String(run.error)}`)
      const out = Buffer.concat(run.stdout)
      const err = Buffer.concat(run.stderr)
      this.checked.push(
        `${run.name}: ${out.length} stdout and ${err.length} stderr byte(s), exit ${String(run.exitCode)}`,
      )
      if (out.toString('base64') !== want.stdout) {
        this.problem(
          `${run.name} stdout: ${show(out.toString('utf8'), 120)}, expected ${show(want.stdoutText, 120)}`,
        )
      }
      if (err.toString('base64') !== want.stderr) {
        this.problem(
          `${run.name} stderr: ${show(err.toString('utf8'), 120)}, expected ${show(want.stderrText, 120)}`,
        )
      }
      if (want.exitCode !== undefined && run.exitCode !== want.exitCode) {
        this.problem(`${run.name} exit code: ${String(run.exitCode)}, expected ${want.exitCode}`)
      }
      if ([...out, ...err].some((b) => b >= 0x80)) {
        const open = s.steps.find((x) => x.op === 'winrs.open' && x.shell === want.shell)
        if (open?.op === 'winrs.open' && open.options['WINRS_CODEPAGE'] === undefined) {
          this.gap(
            'src/client/winrs.ts WinRSShell.open always sends WINRS_CODEPAGE (65001 by default); the recording ' +
              'relied on the server default and has non-ASCII output, so the code page matters: WinRSShellOptions ' +
              'needs a way to leave the code page to the server',
          )
        }
      }
    }
  }

  async teardown(): Promise<void> {
    await this.conn.close().catch(() => undefined)
  }
}

function findText(
  el: { name: string; text: string; children: readonly unknown[] } | undefined,
  local: string,
): string | undefined {
  if (el === undefined) return undefined
  if (el.name === local || el.name.endsWith(`:${local}`)) return el.text.trim()
  for (const c of el.children) {
    const t = findText(c as { name: string; text: string; children: readonly unknown[] }, local)
    if (t !== undefined) return t
  }
  return undefined
}

function itemsOf(r: WSManResponse): number {
  return r.kind === 'enumerated' || r.kind === 'pulled' ? r.items.length : -1
}

// ---------------------------------------------------------------------------------------------

/** Replays one recording file against our public client. */
export async function runRecording(file: string, options: RunOptions = {}): Promise<ReplayResult> {
  const started = Date.now()
  const name = basename(file, '.yml')
  try {
    return await replayOne(file, name, started, options)
  } catch (e) {
    // a recording that cannot be read or derived is one FAIL line, never the end of the run
    const reason = `cannot replay: ${e instanceof Error ? e.message : String(e)}`.split('\n')[0] as string
    return {
      name,
      status: 'fail',
      reason,
      problems: [reason],
      tolerances: [],
      notes: [],
      checked: [],
      ms: Date.now() - started,
    }
  }
}

async function replayOne(
  file: string,
  name: string,
  started: number,
  options: RunOptions,
): Promise<ReplayResult> {
  const done = (
    status: ReplayStatus,
    reason: string,
    problems: string[] = [],
    tolerances: string[] = [],
    notes: string[] = [],
    checked: string[] = [],
  ): ReplayResult => ({
    name,
    status,
    reason,
    problems,
    tolerances,
    notes,
    checked,
    ms: Date.now() - started,
  })

  const exchanges = readRecording(file)
  if (exchanges.length === 0) return done('skip', 'the recording has no exchanges')
  const privateKey = options.privateKey ?? findPypsrpKey(file)
  const s = deriveScenario(exchanges, name, privateKey === undefined ? {} : { privateKey })
  if (s.kinds.includes('undecodable-message')) {
    return done('skip', 'a recorded PSRP message does not decode, so the expected results cannot be derived')
  }
  if (s.kinds.includes('session-key-not-decrypted')) {
    return done('skip', 'the recorded session key does not decrypt with pypsrp_test_rsa_key.pem')
  }
  if (s.kinds.includes('key-exchange') && privateKey === undefined) {
    return done(
      'skip',
      "pypsrp's test key (derived/pypsrp_test_rsa_key.pem) is not next to the recordings: the recorded " +
        'PUBLIC_KEY and session key cannot be reproduced',
    )
  }
  const { options: serverOpts, tolerances, gaps } = serverOptions(s, exchanges)
  const server = await startReplayServer(exchanges, {
    ...serverOpts,
    ...(options.log === true ? { log: true } : {}),
  })
  const driver = new Driver(s, server, { ...options, ...(privateKey === undefined ? {} : { privateKey }) })
  for (const g of gaps) driver.gap(g)
  let aborted: string | undefined
  try {
    await driver.run()
  } catch (e) {
    aborted =
      e instanceof RunAborted
        ? e.message
        : `runner error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`
  }
  // what the server saw, before tearing down (late requests of aborted loops do not count)
  const mismatches = [...server.mismatches]
  const remaining = server.remainingRequired
  const cursor = server.session.cursor
  if (aborted === undefined || aborted !== 'mismatch') {
    try {
      await driver.checkResults()
    } catch (e) {
      driver.problem(`checking results failed: ${String(e)}`)
    }
  }
  await driver.teardown()
  await server.close()

  const problems: string[] = []
  for (const g of driver.gaps) problems.push(`client gap: ${g}`)
  for (const m of mismatches.slice(0, 3)) problems.push(m.message.replace(/\n\s*/g, ' | '))
  if (aborted !== undefined && aborted !== 'mismatch') {
    // a Receive the recording never matches is answered w:TimedOut (as Windows does) and polled
    // again until the step times out: name what kept it from matching, which is the real cause
    const stuck = server.session.timedOutReceives.filter((r) => r.exchange === cursor && r.diffs.length > 0)
    const last = stuck.at(-1)
    if (last !== undefined) {
      problems.push(
        `a Receive matched no recorded exchange and was answered w:TimedOut ${stuck.length} time(s); ` +
          `against exchange ${cursor}: ${last.diffs.slice(0, 3).join('; ')}`,
      )
    }
    problems.push(`run aborted at step ${driver.stepIndex}: ${aborted}`)
  }
  if (mismatches.length === 0 && remaining > 0) {
    const next = server.session.recording.exchanges[cursor]
    problems.push(
      `${remaining} required recorded exchange(s) not consumed; the next is ${cursor} (${next?.action ?? '?'})`,
    )
  }
  problems.push(...driver.problems)
  tolerances.push(...server.session.tolerated)
  if (problems.length === 0) return done('pass', '', [], tolerances, driver.notes, driver.checked)
  return done('fail', problems[0] as string, problems, tolerances, driver.notes, driver.checked)
}
