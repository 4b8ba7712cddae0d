/**
 * A WinRS (`…/windows/shell/cmd`) shell of the bridge, run with local processes: Create (Environment,
 * WorkingDirectory), Command (`/bin/sh -c <command>` when no arguments are given, else the executable
 * with its arguments), Send stdin (+ End), Receive stdout/stderr with `End="true"` markers and
 * CommandState Done + ExitCode, Signal ctrl_c (SIGINT) / ctrl_break (SIGQUIT) / terminate (SIGKILL and
 * release), Delete. Response shapes follow test_winrs_standard.yml and test_winrs_stderr_rc.yml.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { constants } from 'node:os'
import { toBase64 } from '../../../src/internal/base64.ts'
import { Namespace, WSManAction } from '../../../src/wsman/constants.ts'
import { CommandStateUri, SignalCode } from '../../../src/wsman/index.ts'
import { el, type XmlChild } from '../../../src/wsman/xml-node.ts'
import { nsAttr, nsChild, nsChildren } from '../../../src/wsman/xml-ns.ts'
import { resourceCreated } from './psrp-shell.ts'
import { fault, shellDescription, WaiterSet, type OpResult, type ShellFacts } from './shell-common.ts'
import { Faults, newGuid, streamBytes, type FaultSpec, type SoapRequest } from './soap.ts'

interface WinRsCommand {
  readonly commandId: string
  readonly child: ChildProcessWithoutNullStreams
  readonly out: Map<string, Uint8Array[]>
  exitCode: number | undefined
  /** stdout and stderr closed and the process exited. */
  finished: boolean
  doneReported: boolean
}

/** Options the server hands each WinRS shell. */
export interface WinRsShellOptions {
  readonly owner: string
  readonly clientIp: string
  readonly operationTimeoutCapMs: number
  readonly onGone: (shell: WinRsShell) => void
}

/** One WinRS shell. */
export class WinRsShell {
  readonly shellId = newGuid()
  readonly resourceUri: string
  readonly #opts: WinRsShellOptions
  readonly #commands = new Map<string, WinRsCommand>()
  readonly #waiters = new WaiterSet()
  readonly #createdAt = Date.now()
  #lastActivity = Date.now()
  #env: Record<string, string> = {}
  #cwd: string | undefined
  #inputStreams = 'stdin'
  #outputStreams = 'stdout stderr'
  #idleTimeoutS = 7200
  #name: string | undefined
  #deleted = false

  constructor(resourceUri: string, opts: WinRsShellOptions) {
    this.resourceUri = resourceUri
    this.#opts = opts
  }

  get state(): 'Connected' {
    return 'Connected'
  }

  get commandIds(): string[] {
    return [...this.#commands.keys()]
  }

  facts(): ShellFacts {
    return {
      shellId: this.shellId,
      resourceUri: this.resourceUri,
      owner: this.#opts.owner,
      clientIp: this.#opts.clientIp,
      processId: undefined,
      idleTimeoutS: this.#idleTimeoutS,
      inputStreams: this.#inputStreams,
      outputStreams: this.#outputStreams,
      name: this.#name,
      createdAt: this.#createdAt,
      lastActivity: this.#lastActivity,
      state: 'Connected',
      bufferMode: 'Block',
      psrp: false,
    }
  }

  create(req: SoapRequest, address: string): OpResult {
    const shell = req.body
    if (shell?.local !== 'Shell' || shell.ns !== Namespace.rsp)
      return fault(Faults.badRequest('Create needs rsp:Shell.'))
    for (const v of nsChildren(nsChild(shell, Namespace.rsp, 'Environment'), Namespace.rsp, 'Variable')) {
      const name = nsAttr(v, 'Name')
      if (name !== undefined) this.#env[name] = v.text
    }
    const cwd = nsChild(shell, Namespace.rsp, 'WorkingDirectory')?.text.trim()
    if (cwd !== undefined && cwd !== '') this.#cwd = cwd
    this.#inputStreams = nsChild(shell, Namespace.rsp, 'InputStreams')?.text.trim() || 'stdin'
    this.#outputStreams = nsChild(shell, Namespace.rsp, 'OutputStreams')?.text.trim() || 'stdout stderr'
    this.#name = nsChild(shell, Namespace.rsp, 'Name')?.text.trim()
    const idle = /^PT([\d.]+)S$/.exec(nsChild(shell, Namespace.rsp, 'IdleTimeOut')?.text.trim() ?? '')
    if (idle !== null) this.#idleTimeoutS = Number(idle[1])
    return {
      kind: 'ok',
      action: WSManAction.CreateResponse,
      body: [resourceCreated(address, this.resourceUri, this.shellId), shellDescription(this.facts(), false)],
    }
  }

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
      default:
        return fault(Faults.actionNotSupported(req.action))
    }
  }

  async #command(req: SoapRequest): Promise<OpResult> {
    const cl = req.body
    if (cl?.local !== 'CommandLine') return fault(Faults.badRequest('Command needs rsp:CommandLine.'))
    const command = nsChild(cl, Namespace.rsp, 'Command')?.text.trim() ?? ''
    const args = nsChildren(cl, Namespace.rsp, 'Arguments').map((a) => a.text)
    if (command === '') return fault(Faults.invalidParameter())
    const commandId = nsAttr(cl, 'CommandId')?.toUpperCase() ?? newGuid()
    if (this.#commands.has(commandId)) return fault(Faults.invalidParameter())
    const [file, argv] = args.length === 0 ? ['/bin/sh', ['-c', command]] : [command, args]
    const child = spawn(file, argv, {
      cwd: this.#cwd !== undefined && existsSync(this.#cwd) ? this.#cwd : undefined,
      env: { ...process.env, ...this.#env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    })
    const started = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined))
      child.once('error', (e) => resolve(e))
    })
    if (started !== undefined) {
      return fault(notFound(`${file}: ${started.message}`))
    }
    const cmd: WinRsCommand = {
      commandId,
      child,
      out: new Map([
        ['stdout', []],
        ['stderr', []],
      ]),
      exitCode: undefined,
      finished: false,
      doneReported: false,
    }
    child.stdin.on('error', () => undefined)
    child.stdout.on('data', (b: Buffer) => {
      cmd.out.get('stdout')?.push(new Uint8Array(b))
      this.#waiters.wake(commandId)
    })
    child.stderr.on('data', (b: Buffer) => {
      cmd.out.get('stderr')?.push(new Uint8Array(b))
      this.#waiters.wake(commandId)
    })
    child.once('close', (code, signal) => {
      cmd.exitCode =
        code ?? 128 + (signal === null ? 0 : ((constants.signals as Record<string, number>)[signal] ?? 0))
      cmd.finished = true
      this.#waiters.wake(commandId)
    })
    this.#commands.set(commandId, cmd)
    return {
      kind: 'ok',
      action: WSManAction.CommandResponse,
      body: el('rsp:CommandResponse', undefined, el('rsp:CommandId', undefined, commandId)),
    }
  }

  #send(req: SoapRequest): OpResult {
    const streams = nsChildren(req.body, Namespace.rsp, 'Stream')
    if (req.body?.local !== 'Send' || streams.length === 0)
      return fault(Faults.badRequest('Send needs rsp:Stream.'))
    for (const s of streams) {
      const cmd = this.#commands.get((nsAttr(s, 'CommandId') ?? '').toUpperCase())
      if (cmd === undefined) return fault(Faults.invalidParameter())
      const data = streamBytes(req, s)
      if (data === undefined) return fault(Faults.badRequest('rsp:Stream is not base64.'))
      if (data.length > 0 && cmd.child.stdin.writable) cmd.child.stdin.write(data)
      if (/^(true|1)$/i.test(nsAttr(s, 'End') ?? '')) cmd.child.stdin.end()
    }
    return { kind: 'ok', action: WSManAction.SendResponse, body: el('rsp:SendResponse') }
  }

  #receive(req: SoapRequest): Promise<OpResult> | OpResult {
    const desired = nsChild(req.body, Namespace.rsp, 'DesiredStream')
    if (req.body?.local !== 'Receive' || desired === undefined)
      return fault(Faults.badRequest('Receive needs rsp:DesiredStream.'))
    const commandId = nsAttr(desired, 'CommandId')?.toUpperCase()
    const cmd = commandId === undefined ? undefined : this.#commands.get(commandId)
    if (cmd === undefined) return fault(Faults.invalidParameter())
    const names = desired.text.split(/\s+/).filter((n) => n !== '')
    const timeout = Math.min(req.operationTimeoutMs ?? 60_000, this.#opts.operationTimeoutCapMs)
    return this.#waiters.wait(
      cmd.commandId,
      timeout,
      () => this.#tryReceive(cmd, names),
      () => fault(Faults.timedOut()),
      req.cancelled,
    )
  }

  #tryReceive(cmd: WinRsCommand, names: string[]): OpResult | undefined {
    const streams: XmlChild[] = []
    for (const name of names) {
      for (const chunk of cmd.out.get(name)?.splice(0) ?? []) {
        streams.push(el('rsp:Stream', { Name: name, CommandId: cmd.commandId }, toBase64(chunk)))
      }
    }
    const done = cmd.finished && !cmd.doneReported
    if (streams.length === 0 && !done && !(cmd.finished && cmd.doneReported)) return undefined
    let state: XmlChild = el('rsp:CommandState', { CommandId: cmd.commandId, State: CommandStateUri.Running })
    if (cmd.finished) {
      if (!cmd.doneReported) {
        for (const name of names) {
          streams.push(el('rsp:Stream', { Name: name, CommandId: cmd.commandId, End: 'true' }))
        }
      }
      cmd.doneReported = true
      state = el(
        'rsp:CommandState',
        { CommandId: cmd.commandId, State: CommandStateUri.Done },
        el('rsp:ExitCode', undefined, String(cmd.exitCode ?? 0)),
      )
    }
    return {
      kind: 'ok',
      action: WSManAction.ReceiveResponse,
      body: el('rsp:ReceiveResponse', undefined, ...streams, state),
    }
  }

  #signal(req: SoapRequest): OpResult {
    const sig = req.body
    if (sig?.local !== 'Signal') return fault(Faults.badRequest('Signal needs rsp:Signal.'))
    const commandId = nsAttr(sig, 'CommandId')?.toUpperCase()
    const cmd = commandId === undefined ? undefined : this.#commands.get(commandId)
    if (cmd === undefined) return fault(Faults.invalidParameter())
    const code = (nsChild(sig, Namespace.rsp, 'Code')?.text.trim() ?? '').toLowerCase()
    if (code === SignalCode.ctrl_c.toLowerCase()) {
      if (!cmd.finished) killGroup(cmd.child, 'SIGINT')
    } else if (code === SignalCode.ctrl_break.toLowerCase()) {
      if (!cmd.finished) killGroup(cmd.child, 'SIGQUIT')
    } else if (code === SignalCode.terminate.toLowerCase()) {
      if (!cmd.finished) killGroup(cmd.child, 'SIGKILL')
      this.#commands.delete(cmd.commandId)
    } else {
      return fault(Faults.invalidParameter())
    }
    return { kind: 'ok', action: WSManAction.SignalResponse, body: el('rsp:SignalResponse') }
  }

  delete(): OpResult {
    if (this.#deleted) return fault(Faults.unknownShell())
    this.destroy()
    this.#opts.onGone(this)
    return { kind: 'ok', action: WSManAction.DeleteResponse }
  }

  /** Kills every process of the shell. */
  destroy(): void {
    this.#deleted = true
    this.#waiters.abortAll(Faults.aborted('The shell was deleted.'))
    for (const c of this.#commands.values()) if (!c.finished) killGroup(c.child, 'SIGKILL')
    this.#commands.clear()
  }
}

function killGroup(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): void {
  try {
    if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, signal)
    else child.kill(signal)
  } catch {
    child.kill(signal)
  }
}

/** ERROR_FILE_NOT_FOUND from the cmd plug-in when the executable cannot be started. */
function notFound(detail: string): FaultSpec {
  return {
    code: 'Receiver',
    subcode: 'w:InternalError',
    reason: `The system cannot find the file specified. `,
    wsmanCode: 2,
    message: `The system cannot find the file specified. (${detail}) `,
    provider: { provider: 'Shell cmd plugin', path: '%systemroot%\\system32\\winrscmd.dll' },
  }
}
