/**
 * A PowerShell (PSRP) shell of the bridge: one `pwsh -s` process per shell, doing what WinRM's
 * PowerShell plug-in does on Windows (MS-PSRP 3.1.5.3): creationXml → the first pool Data, Command →
 * `<Command>` + CREATE_PIPELINE Data, Send stdin/pr → Data Default/PromptResponse, Receive ← whatever
 * pwsh wrote for the pool or the pipeline, Signal crtl_c → `<Signal>`, Signal terminate → `<Close>`,
 * Delete → `<Close>` every pipeline, then the pool.
 */
import { fromBase64, toBase64 } from '../../../src/internal/base64.ts'
import { concatBytes } from '../../../src/internal/bytes.ts'
import {
  Defragmenter,
  decodeMessage,
  decodeMessageBody,
  encodeFragment,
  encodeMessage,
  Fragmenter,
  MessageType,
  NIL_GUID,
  VOID_HOST_METHODS,
} from '../../../src/psrp/index.ts'
import { Namespace, WSManAction } from '../../../src/wsman/constants.ts'
import { CommandStateUri, SignalCode } from '../../../src/wsman/index.ts'
import { base64Text, el, type XmlChild } from '../../../src/wsman/xml-node.ts'
import { nsAttr, nsChild } from '../../../src/wsman/xml-ns.ts'
import { PwshPeer, type PwshPeerHandlers } from './pwsh-peer.ts'
import type { ShellPeer } from './simulated-peer.ts'
import { fault, shellDescription, WaiterSet, type OpResult, type ShellFacts } from './shell-common.ts'
import { Faults, newGuid, streamBytes, type SoapRequest } from './soap.ts'

/** Output pwsh wrote for one target (the pool or one pipeline), not yet received by the client. */
interface Target {
  /** Lower-case GUID (nil for the pool). */
  readonly guid: string
  /** The CommandId as the client spelled it (pipelines only). */
  readonly commandId: string | undefined
  readonly chunks: Uint8Array[]
  readonly defrag: Defragmenter
  /** A terminal PIPELINE_STATE was seen. */
  finished: boolean
  /** The Receive that carried the terminal state has gone out. */
  doneReported: boolean
  /** A PIPELINE_HOST_CALL that expects an answer is outstanding (Windows reports CommandState Pending). */
  pendingHostCall: boolean
  /** The pipeline was released (Signal terminate). */
  closed: boolean
}

/** Pool messages the bridge keeps to answer a Connect from a new client. */
interface PoolMemory {
  sessionCapability?: string
  rpid?: string
  minRunspaces: number
  maxRunspaces: number
}

const TERMINAL_PIPELINE_STATES = new Set([3, 4, 5])
/** Output held before pwsh is made to wait (see PsrpShell.#buffered). */
const OUTPUT_BUFFER_LIMIT = 256 * 1024

/** Options the server hands each shell. */
export interface PsrpShellOptions {
  readonly pwsh: string
  readonly owner: string
  readonly clientIp: string
  /** Cap on every Receive long poll, in ms. */
  readonly operationTimeoutCapMs: number
  /** Called once the shell is gone (deleted or its process died and it was deleted). */
  readonly onGone: (shell: PsrpShell) => void
  /** The process behind the shell (default: a `pwsh -s` child, {@link PwshPeer}). */
  readonly peer?: ((handlers: PwshPeerHandlers) => ShellPeer) | undefined
}

/** One PSRP shell. */
export class PsrpShell {
  readonly shellId: string
  readonly resourceUri: string
  readonly configurationName: string
  readonly #opts: PsrpShellOptions
  readonly #peer: ShellPeer
  readonly #targets = new Map<string, Target>()
  readonly #waiters = new WaiterSet()
  readonly #createdAt = Date.now()
  #lastActivity = Date.now()
  #idleTimeoutS = 7200
  #name: string | undefined
  #state: 'Connected' | 'Disconnected' = 'Connected'
  #bufferMode = 'Block'
  #deleted = false
  #dead: string | undefined
  readonly #pool: PoolMemory = { minRunspaces: 1, maxRunspaces: 1 }
  readonly #wakeTimers = new Map<string, ReturnType<typeof setTimeout>>()

  constructor(shellId: string, resourceUri: string, opts: PsrpShellOptions) {
    this.shellId = shellId
    this.resourceUri = resourceUri
    this.configurationName = resourceUri.slice('http://schemas.microsoft.com/powershell/'.length)
    this.#opts = opts
    this.#targets.set(NIL_GUID, newTarget(NIL_GUID, undefined))
    const handlers: PwshPeerHandlers = {
      onData: (guid, data) => this.#onData(guid, data),
      onExit: (why) => this.#onExit(why),
    }
    this.#peer = opts.peer?.(handlers) ?? new PwshPeer(opts.pwsh, handlers)
  }

  /** The pwsh process id. */
  get pid(): number | undefined {
    return this.#peer.pid
  }

  /** Why pwsh is gone, if it is. */
  get dead(): string | undefined {
    return this.#dead
  }

  get state(): 'Connected' | 'Disconnected' {
    return this.#state
  }

  /** Open pipelines (Command'ed and not released). */
  get commandIds(): string[] {
    return [...this.#targets.values()]
      .filter((t) => t.commandId !== undefined && !t.closed)
      .map((t) => t.commandId as string)
  }

  facts(): ShellFacts {
    return {
      shellId: this.shellId,
      resourceUri: this.resourceUri,
      owner: this.#opts.owner,
      clientIp: this.#opts.clientIp,
      processId: this.#peer.pid,
      idleTimeoutS: this.#idleTimeoutS,
      inputStreams: 'stdin pr',
      outputStreams: 'stdout',
      name: this.#name,
      createdAt: this.#createdAt,
      lastActivity: this.#lastActivity,
      state: this.#state,
      bufferMode: this.#bufferMode,
      psrp: true,
    }
  }

  /** Create: forwards creationXml to pwsh as the first pool Data packet. */
  async create(req: SoapRequest, address: string): Promise<OpResult> {
    const shellEl = req.body
    const idle = nsChild(shellEl, Namespace.rsp, 'IdleTimeOut')?.text
    if (idle !== undefined) {
      const m = /^PT([\d.]+)S$/.exec(idle.trim())
      if (m !== null) this.#idleTimeoutS = Number(m[1])
    }
    this.#name = nsChild(shellEl, Namespace.rsp, 'Name')?.text.trim()
    const createMode = nsChild(shellEl, Namespace.rsp, 'BufferMode')?.text.trim()
    if (createMode === 'Block' || createMode === 'Drop') this.#bufferMode = createMode
    const creation = nsChild(shellEl, Namespace.psrp, 'creationXml')
    const bytes = creation === undefined ? undefined : fromBase64(creation.text)
    if (bytes === undefined || bytes.length === 0) {
      return fault(Faults.badRequest('The PowerShell shell Create needs a base64 creationXml.'))
    }
    this.#rememberClientPool(bytes)
    try {
      await this.#peer.sendData(NIL_GUID, 'default', bytes)
    } catch (e) {
      return fault(Faults.providerFailure(`pwsh did not accept the creationXml: ${(e as Error).message}`))
    }
    return {
      kind: 'ok',
      action: WSManAction.CreateResponse,
      body: [resourceCreated(address, this.resourceUri, this.shellId), shellDescription(this.facts(), false)],
    }
  }

  /** Handles a request addressed to this shell (by ShellId selector). */
  async handle(req: SoapRequest): Promise<OpResult> {
    this.#lastActivity = Date.now()
    if (this.#deleted) return fault(Faults.unknownShell())
    switch (req.action) {
      case WSManAction.Command:
        return this.#command(req)
      case WSManAction.Send:
        return this.#send(req)
      case WSManAction.Receive:
        return this.#receive(req)
      case WSManAction.Signal:
        return this.#signal(req)
      case WSManAction.Delete:
        return this.delete()
      case WSManAction.Disconnect:
        return this.#disconnect(req)
      case WSManAction.Reconnect:
        return this.#reconnect()
      case WSManAction.Connect:
        return this.#connect(req)
      default:
        return fault(Faults.actionNotSupported(req.action))
    }
  }

  async #command(req: SoapRequest): Promise<OpResult> {
    if (this.#dead !== undefined) return fault(Faults.providerFailure(this.#dead))
    const cl = req.body
    if (cl === undefined || cl.local !== 'CommandLine')
      return fault(Faults.badRequest('Command needs rsp:CommandLine.'))
    const commandId = nsAttr(cl, 'CommandId') ?? newGuid()
    const guid = commandId.toLowerCase()
    const argsEl = nsChild(cl, Namespace.rsp, 'Arguments')
    const args = argsEl === undefined ? new Uint8Array(0) : fromBase64(argsEl.text)
    if (args === undefined) return fault(Faults.badRequest('rsp:Arguments is not base64.'))
    const existing = this.#targets.get(guid)
    if (existing !== undefined && !existing.closed) return fault(Faults.invalidParameter())
    this.#targets.set(guid, newTarget(guid, commandId))
    try {
      await this.#peer.command(guid)
    } catch (e) {
      return fault(Faults.providerFailure(`pwsh refused the pipeline: ${(e as Error).message}`))
    }
    // Windows answers once the plug-in took the command; the CREATE_PIPELINE Data is acked by pwsh
    // only when the pipeline starts (it may be queued behind another one), so do not wait for it.
    if (args.length > 0) this.#peer.sendData(guid, 'default', args).catch(() => undefined)
    return {
      kind: 'ok',
      action: WSManAction.CommandResponse,
      body: el('rsp:CommandResponse', undefined, el('rsp:CommandId', undefined, commandId)),
    }
  }

  async #send(req: SoapRequest): Promise<OpResult> {
    if (this.#dead !== undefined) return fault(Faults.providerFailure(this.#dead))
    const stream = nsChild(req.body, Namespace.rsp, 'Stream')
    if (req.body?.local !== 'Send' || stream === undefined)
      return fault(Faults.badRequest('Send needs rsp:Stream.'))
    const name = nsAttr(stream, 'Name')
    if (name !== 'stdin' && name !== 'pr') return fault(Faults.invalidParameter())
    const commandId = nsAttr(stream, 'CommandId')
    const guid = commandId === undefined ? NIL_GUID : commandId.toLowerCase()
    const target = this.#targets.get(guid)
    if (target === undefined || target.closed) return fault(Faults.unknownCommand())
    const data = streamBytes(req, stream)
    if (data === undefined) return fault(Faults.badRequest('rsp:Stream is not base64.'))
    if (name === 'pr') target.pendingHostCall = false
    if (data.length > 0) {
      try {
        await this.#peer.sendData(guid, name === 'pr' ? 'promptResponse' : 'default', data)
      } catch (e) {
        return fault(Faults.providerFailure(`pwsh did not accept the data: ${(e as Error).message}`))
      }
    }
    return { kind: 'ok', action: WSManAction.SendResponse, body: el('rsp:SendResponse') }
  }

  #receive(req: SoapRequest): Promise<OpResult> | OpResult {
    const desired = nsChild(req.body, Namespace.rsp, 'DesiredStream')
    if (req.body?.local !== 'Receive' || desired === undefined)
      return fault(Faults.badRequest('Receive needs rsp:DesiredStream.'))
    const commandId = nsAttr(desired, 'CommandId')
    const guid = commandId === undefined ? NIL_GUID : commandId.toLowerCase()
    const target = this.#targets.get(guid)
    if (target === undefined || target.closed) return fault(Faults.unknownCommand())
    if (this.#dead !== undefined && target.chunks.length === 0) return fault(Faults.aborted(this.#dead))
    const timeout = Math.min(req.operationTimeoutMs ?? 60_000, this.#opts.operationTimeoutCapMs)
    const maxSize = req.maxEnvelopeSize ?? 153_600
    return this.#waiters.wait(
      guid,
      timeout,
      () => this.#tryReceive(target, maxSize),
      () => fault(Faults.timedOut()),
      req.cancelled,
    )
  }

  /** Builds a ReceiveResponse from what is buffered for the target, or undefined to keep waiting. */
  #tryReceive(t: Target, maxEnvelopeSize: number): OpResult | undefined {
    if (this.#state === 'Disconnected') return undefined
    const doneAgain = t.finished && t.chunks.length === 0 && t.doneReported
    if (t.chunks.length === 0 && !doneAgain) return undefined
    // Stay under the client's MaxEnvelopeSize: Windows splits what is buffered across Receives.
    const budget = Math.max(maxEnvelopeSize - 2048, 1)
    const streams: XmlChild[] = []
    let size = 0
    while (t.chunks.length > 0) {
      const chunk = t.chunks[0] as Uint8Array
      const b64 = Math.ceil(chunk.length / 3) * 4 + 120
      if (streams.length > 0 && size + b64 > budget) break
      t.chunks.shift()
      this.#account(-chunk.length)
      size += b64
      streams.push(el('rsp:Stream', { Name: 'stdout', CommandId: t.commandId }, base64Text(chunk)))
    }
    let state: XmlChild
    if (t.commandId !== undefined) {
      if (t.finished && t.chunks.length === 0) {
        t.doneReported = true
        state = el(
          'rsp:CommandState',
          { CommandId: t.commandId, State: CommandStateUri.Done },
          el('rsp:ExitCode', undefined, '0'),
        )
      } else {
        state = el('rsp:CommandState', {
          CommandId: t.commandId,
          State: t.pendingHostCall ? CommandStateUri.Pending : CommandStateUri.Running,
        })
      }
    }
    if (t.chunks.length > 0) this.#scheduleWake(t.guid)
    return {
      kind: 'ok',
      action: WSManAction.ReceiveResponse,
      body: el('rsp:ReceiveResponse', undefined, ...streams, state),
    }
  }

  async #signal(req: SoapRequest): Promise<OpResult> {
    const sig = req.body
    if (sig?.local !== 'Signal') return fault(Faults.badRequest('Signal needs rsp:Signal.'))
    const commandId = nsAttr(sig, 'CommandId')
    const code = nsChild(sig, Namespace.rsp, 'Code')?.text.trim() ?? ''
    if (commandId === undefined) return fault(Faults.invalidParameter())
    const guid = commandId.toLowerCase()
    const target = this.#targets.get(guid)
    if (target === undefined || target.closed) return fault(Faults.unknownCommand())
    if (this.#dead !== undefined) return fault(Faults.providerFailure(this.#dead))
    try {
      if (code === SignalCode.ps_crtl_c) {
        await this.#peer.signal(guid)
      } else if (code.toLowerCase() === SignalCode.terminate.toLowerCase()) {
        target.closed = true
        this.#drop(target)
        await this.#peer.close(guid)
      } else {
        return fault(Faults.invalidParameter())
      }
    } catch (e) {
      return fault(Faults.providerFailure(`pwsh did not acknowledge the signal: ${(e as Error).message}`))
    }
    return { kind: 'ok', action: WSManAction.SignalResponse, body: el('rsp:SignalResponse') }
  }

  /** Delete: closes every pipeline, then the pool; kills pwsh. */
  async delete(): Promise<OpResult> {
    if (this.#deleted) return fault(Faults.unknownShell())
    this.#deleted = true
    for (const t of this.#targets.values()) this.#drop(t)
    this.#waiters.abortAll(Faults.aborted('The shell was deleted.'))
    if (this.#dead === undefined) {
      const closes = [...this.#targets.values()]
        .filter((t) => t.commandId !== undefined && !t.closed)
        .map((t) => {
          t.closed = true
          return this.#peer.close(t.guid).catch(() => undefined)
        })
      const closeAll = Promise.all(closes).then(() => this.#peer.close(NIL_GUID))
      await Promise.race([closeAll.catch(() => undefined), delay(10_000)])
    }
    await this.#peer.kill()
    this.#opts.onGone(this)
    return { kind: 'ok', action: WSManAction.DeleteResponse }
  }

  /** Kills pwsh without the protocol (bridge shutdown). */
  async destroy(): Promise<void> {
    this.#deleted = true
    this.#waiters.abortAll(Faults.aborted('The service is shutting down.'))
    await this.#peer.kill()
  }

  #disconnect(req: SoapRequest): OpResult {
    const idle = nsChild(req.body, Namespace.rsp, 'IdleTimeOut')?.text
    const m = idle === undefined ? null : /^PT([\d.]+)S$/.exec(idle.trim())
    if (m !== null) this.#idleTimeoutS = Number(m[1])
    const mode = nsChild(req.body, Namespace.rsp, 'BufferMode')?.text.trim()
    if (mode === 'Block' || mode === 'Drop') this.#bufferMode = mode
    this.#state = 'Disconnected'
    return { kind: 'ok', action: WSManAction.DisconnectResponse }
  }

  #reconnect(): OpResult {
    this.#state = 'Connected'
    this.#waiters.wake()
    return { kind: 'ok', action: WSManAction.ReconnectResponse }
  }

  /**
   * Connect from a new client to a disconnected pool (MS-PSRP 3.1.5.3.14). pwsh's OutOfProc server has
   * no Connect path (WinRM's plug-in calls `ServerRemoteSession.ExecuteConnect` in-process), so the
   * bridge answers as that method does: the server's SESSION_CAPABILITY and a RUNSPACEPOOL_INIT_DATA
   * with the pool's limits in `connectResponseXml`; then RUNSPACEPOOL_STATE Opened arrives through
   * Receive, as on Windows.
   */
  #connect(req: SoapRequest): OpResult {
    if (this.#dead !== undefined) return fault(Faults.providerFailure(this.#dead))
    const commandId = req.body?.local === 'Connect' ? nsAttr(req.body, 'CommandId') : undefined
    if (commandId !== undefined) {
      // a new client attaching to a pipeline of the pool it connected to (WSManConnectShellCommand)
      const target = this.#targets.get(commandId.toLowerCase())
      if (target === undefined || target.closed || target.commandId === undefined)
        return fault(Faults.unknownCommand())
      if (this.#state !== 'Connected')
        return fault(Faults.badRequest('Connect the shell before its commands.'))
      this.#scheduleWake(target.guid)
      return {
        kind: 'ok',
        action: WSManAction.ConnectResponse,
        body: el('rsp:ConnectResponse', undefined),
      }
    }
    const cx = nsChild(req.body, Namespace.psrp, 'connectXml')
    const bytes = cx === undefined ? undefined : fromBase64(cx.text)
    if (req.body?.local !== 'Connect' || bytes === undefined)
      return fault(Faults.badRequest('Connect needs connectXml.'))
    let rpid = this.#pool.rpid
    let sawConnect = false
    try {
      for (const raw of new Defragmenter().push(bytes)) {
        const m = decodeMessage(raw)
        rpid = m.rpid
        if (m.type !== MessageType.CONNECT_RUNSPACEPOOL) continue
        sawConnect = true
        try {
          const f = decodeMessageBody(m.type, m.data)
          if (f.type === 'CONNECT_RUNSPACEPOOL') {
            if (f.fields.minRunspaces !== undefined) this.#pool.minRunspaces = f.fields.minRunspaces
            if (f.fields.maxRunspaces !== undefined) this.#pool.maxRunspaces = f.fields.maxRunspaces
          }
        } catch {
          // an empty or unusual body keeps the pool's limits
        }
      }
    } catch (e) {
      return fault(Faults.badRequest(`connectXml: ${(e as Error).message}`))
    }
    if (!sawConnect || rpid === undefined || this.#pool.sessionCapability === undefined) {
      return fault(Faults.badRequest('connectXml must hold SESSION_CAPABILITY and CONNECT_RUNSPACEPOOL.'))
    }
    const fr = new Fragmenter()
    const frag = (type: number, data: string): Uint8Array[] =>
      fr
        .fragment(
          encodeMessage({ destination: 'client', type, rpid: rpid as string, data, bom: true }),
          32_768,
        )
        .map((f) => encodeFragment(f))
    const initData = `<Obj RefId="0"><MS><I32 N="MinRunspaces">${this.#pool.minRunspaces}</I32><I32 N="MaxRunspaces">${this.#pool.maxRunspaces}</I32></MS></Obj>`
    const response = concatBytes([
      ...frag(MessageType.SESSION_CAPABILITY, this.#pool.sessionCapability),
      ...frag(MessageType.RUNSPACEPOOL_INIT_DATA, initData),
    ])
    const pool = this.#targets.get(NIL_GUID) as Target
    // Windows then delivers only RUNSPACEPOOL_STATE Opened through Receive
    // (test_psrp_disconnect_runspaces.yml exchanges 14-17).
    this.#drop(pool)
    pool.chunks.push(
      ...frag(MessageType.RUNSPACEPOOL_STATE, '<Obj RefId="0"><MS><I32 N="RunspaceState">2</I32></MS></Obj>'),
    )
    for (const c of pool.chunks) this.#account(c.length)
    this.#state = 'Connected'
    this.#scheduleWake(NIL_GUID)
    return {
      kind: 'ok',
      action: WSManAction.ConnectResponse,
      body: el(
        'rsp:ConnectResponse',
        undefined,
        el('rsp:InputStreams', undefined, 'stdin pr'),
        el('rsp:OutputStreams', undefined, 'stdout'),
        el('connectResponseXml', { xmlns: Namespace.psrp }, toBase64(response)),
      ),
    }
  }

  /** Remembers the pool id and limits from the client's creationXml. */
  #rememberClientPool(bytes: Uint8Array): void {
    try {
      for (const raw of new Defragmenter().push(bytes)) {
        const m = decodeMessage(raw)
        this.#pool.rpid = m.rpid
        if (m.type === MessageType.INIT_RUNSPACEPOOL) {
          const f = decodeMessageBody(m.type, m.data)
          if (f.type === 'INIT_RUNSPACEPOOL') {
            this.#pool.minRunspaces = f.fields.minRunspaces
            this.#pool.maxRunspaces = f.fields.maxRunspaces
          }
        }
      }
    } catch {
      // pwsh will judge the bytes itself
    }
  }

  /**
   * Output held for Receives, in bytes. Like WinRM's default Block buffering mode, pwsh is made to wait
   * (its output is not read) while more than {@link OUTPUT_BUFFER_LIMIT} is held, so a client that stops
   * receiving slows the pipeline down instead of growing the server's memory.
   */
  #buffered = 0

  #account(delta: number): void {
    this.#buffered += delta
    this.#peer.setReading(this.#buffered > OUTPUT_BUFFER_LIMIT)
  }

  /** Forgets a target's held output (it will never be received). */
  #drop(t: Target): void {
    let bytes = 0
    for (const c of t.chunks) bytes += c.length
    t.chunks.length = 0
    this.#account(-bytes)
  }

  #onData(guid: string, data: Uint8Array): void {
    let t = this.#targets.get(guid)
    if (t === undefined) {
      t = newTarget(guid, guid.toUpperCase())
      this.#targets.set(guid, t)
    }
    if (t.closed && guid !== NIL_GUID) return
    t.chunks.push(data)
    this.#account(data.length)
    try {
      for (const raw of t.defrag.push(data)) this.#inspect(t, raw)
    } catch {
      // not our business: the client judges the PSRP bytes
    }
    this.#scheduleWake(guid)
  }

  /** Watches pwsh's messages for what WinRM reports on its own (command state, pool facts). */
  #inspect(t: Target, raw: Uint8Array): void {
    const m = decodeMessage(raw)
    switch (m.type) {
      case MessageType.PIPELINE_STATE: {
        let state: number | undefined
        try {
          const f = decodeMessageBody(m.type, m.data)
          if (f.type === 'PIPELINE_STATE') state = f.fields.state
        } catch {
          const r = /<I32 N="PipelineState">(\d+)<\/I32>/.exec(m.data)
          state = r === null ? undefined : Number(r[1])
        }
        if (state !== undefined && TERMINAL_PIPELINE_STATES.has(state)) t.finished = true
        break
      }
      case MessageType.PIPELINE_HOST_CALL: {
        try {
          const f = decodeMessageBody(m.type, m.data)
          if (f.type === 'PIPELINE_HOST_CALL') {
            const name = f.fields.methodName
            if (name === undefined || !VOID_HOST_METHODS.has(name)) t.pendingHostCall = true
          }
        } catch {
          t.pendingHostCall = true
        }
        break
      }
      case MessageType.SESSION_CAPABILITY:
        this.#pool.sessionCapability = m.data
        break
    }
  }

  /** Wakes Receives for a target shortly, so chunks pwsh writes back to back go out together. */
  #scheduleWake(guid: string): void {
    if (this.#wakeTimers.has(guid)) return
    this.#wakeTimers.set(
      guid,
      setTimeout(() => {
        this.#wakeTimers.delete(guid)
        this.#waiters.wake(guid)
      }, 5),
    )
  }

  #onExit(why: string): void {
    this.#dead = why
    if (!this.#peer.killed) {
      // Deliver what is buffered, then fail the rest promptly.
      for (const t of this.#targets.values()) if (t.chunks.length === 0) this.#waiters.wake(t.guid)
      setTimeout(() => this.#waiters.abortAll(Faults.aborted(why)), 20)
    }
  }
}

function newTarget(guid: string, commandId: string | undefined): Target {
  return {
    guid,
    commandId,
    chunks: [],
    defrag: new Defragmenter({ maxObjectSize: 64 * 1024 * 1024 }),
    finished: false,
    doneReported: false,
    pendingHostCall: false,
    closed: false,
  }
}

/** The `x:ResourceCreated` endpoint reference of a new shell. */
export function resourceCreated(address: string, resourceUri: string, shellId: string): XmlChild {
  return el(
    'x:ResourceCreated',
    undefined,
    el('a:Address', undefined, address),
    el(
      'a:ReferenceParameters',
      undefined,
      el('w:ResourceURI', undefined, resourceUri),
      el('w:SelectorSet', undefined, el('w:Selector', { Name: 'ShellId' }, shellId)),
    ),
  )
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}
