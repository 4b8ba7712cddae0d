/**
 * WinRS (Windows Remote Shell, MS-WSMV 3.1.4.x): run processes on a WinRM host, with stdin, stdout
 * and stderr as Node streams, the exit code and signals.
 *
 * ```ts
 * await using shell = await WinRSShell.open(conn, { workingDirectory: 'C:\\temp' })
 * const { stdout, exitCode } = await shell.exec('ipconfig', ['/all'])
 * const proc = await shell.spawn('findstr', ['x'])
 * proc.stdin.end('a\nx\n')
 * for await (const chunk of proc.stdout) process.stdout.write(chunk)
 * await proc.exited
 * ```
 *
 * @module
 */
import { Readable, Writable } from 'node:stream'
import { InvalidStateError, PsrpError, ProtocolError, TransportError, WSManFaultError } from '../errors.ts'
import type { WSManConnection } from '../transport/wsman-connection.ts'
import {
  winrsCommand,
  winrsCreate,
  winrsDelete,
  winrsReceive,
  winrsSend,
  winrsSignal,
  WSManFaultCode,
  type WinRSCreateOptions,
} from '../wsman/index.ts'

/** Options of {@link WinRSShell.open}. */
export interface WinRSShellOptions {
  /** A name for the shell (`rsp:Name`), shown when shells are enumerated. */
  name?: string
  /** Working directory of the shell's processes. */
  workingDirectory?: string
  /** Environment variables added for the shell's processes. */
  environment?: Record<string, string>
  /** Console code page (default 65001, UTF-8). */
  codepage?: number
  /** Start without loading the user profile. */
  noProfile?: boolean
  /** Seconds the server keeps an idle shell. */
  idleTimeout?: number
  /** Seconds the shell may live at most. */
  lifetime?: number
  /** Cancels opening. */
  signal?: AbortSignal
}

/** Options of {@link WinRSShell.spawn}. */
export interface WinRSSpawnOptions {
  /** Run the command directly instead of through `cmd.exe /c` (WINRS_SKIP_CMD_SHELL). */
  skipCmdShell?: boolean
  /** Stdin is a console (WINRS_CONSOLEMODE_STDIN). */
  consoleModeStdin?: boolean
}

/** What {@link WinRSShell.exec} resolves to. */
export interface WinRSResult {
  readonly stdout: Buffer
  readonly stderr: Buffer
  /** The exit code; `null` when the process was terminated. */
  readonly exitCode: number | null
}

/** A WinRS shell: a container for processes on the remote host. */
export class WinRSShell implements AsyncDisposable {
  /** The ShellId the server assigned. */
  readonly shellId: string
  readonly #conn: WSManConnection
  readonly #processes = new Set<WinRSProcess>()
  #closed: Promise<void> | undefined

  private constructor(conn: WSManConnection, shellId: string) {
    this.#conn = conn
    this.shellId = shellId
  }

  /** Creates a shell on the server. */
  static async open(conn: WSManConnection, options: WinRSShellOptions = {}): Promise<WinRSShell> {
    const create: WinRSCreateOptions = {
      codepage: options.codepage ?? 65001,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.workingDirectory === undefined ? {} : { workingDirectory: options.workingDirectory }),
      ...(options.environment === undefined ? {} : { environment: options.environment }),
      ...(options.noProfile === undefined ? {} : { noProfile: options.noProfile }),
      ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
      ...(options.lifetime === undefined ? {} : { lifetime: options.lifetime }),
    }
    const res = await conn.request(winrsCreate(create), { signal: options.signal })
    if (res.kind !== 'created' || res.shellId === undefined) {
      throw new ProtocolError(`the server answered Create with ${res.kind} and no ShellId`)
    }
    return new WinRSShell(conn, res.shellId)
  }

  /** Starts a process; its output streams while it runs. */
  async spawn(
    command: string,
    args: readonly string[] = [],
    options: WinRSSpawnOptions = {},
  ): Promise<WinRSProcess> {
    if (this.#closed !== undefined) throw new InvalidStateError('start a process', 'closed')
    const res = await this.#conn.request(
      winrsCommand({
        shellId: this.shellId,
        command,
        arguments: args,
        ...(options.skipCmdShell === undefined ? {} : { skipCmdShell: options.skipCmdShell }),
        ...(options.consoleModeStdin === undefined ? {} : { consoleModeStdin: options.consoleModeStdin }),
      }),
    )
    if (res.kind !== 'commandCreated') throw new ProtocolError(`the server answered Command with ${res.kind}`)
    const proc = new WinRSProcess(this.#conn, this.shellId, res.commandId)
    this.#processes.add(proc)
    void proc.exited.catch(() => undefined).finally(() => this.#processes.delete(proc))
    return proc
  }

  /**
   * Attaches to a process already running in this shell, by its CommandId (one this client lost track
   * of, or one started by another client of the same shell): its output streams from what the server
   * still holds, and `stdin`, {@link WinRSProcess.signal} and {@link WinRSProcess.kill} work as for a
   * spawned process. When the server does not know the CommandId, {@link WinRSProcess.exited} rejects
   * with a {@link WSManFaultError} (`w:InvalidSelectors`, code 2150858843; MS-WSMV 3.1.4.14).
   */
  attach(commandId: string): WinRSProcess {
    if (this.#closed !== undefined) throw new InvalidStateError('attach to a process', 'closed')
    const proc = new WinRSProcess(this.#conn, this.shellId, commandId)
    this.#processes.add(proc)
    void proc.exited.catch(() => undefined).finally(() => this.#processes.delete(proc))
    return proc
  }

  /** Runs a process to completion and collects its output; `stdin` is written first, then closed. */
  async exec(
    command: string,
    args: readonly string[] = [],
    options: WinRSSpawnOptions & { stdin?: string | Uint8Array } = {},
  ): Promise<WinRSResult> {
    const proc = await this.spawn(command, args, options)
    proc.stdin.end(options.stdin ?? '')
    const [stdout, stderr, exitCode] = await Promise.all([
      collect(proc.stdout),
      collect(proc.stderr),
      proc.exited,
    ])
    return { stdout, stderr, exitCode }
  }

  /** Terminates running processes and deletes the shell. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const p of this.#processes) await p.kill().catch(() => undefined)
      await this.#conn.request(winrsDelete({ shellId: this.shellId }))
    })()
    return this.#closed
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** A process started by {@link WinRSShell.spawn} or reached by {@link WinRSShell.attach}. */
export class WinRSProcess {
  /** The CommandId. */
  readonly commandId: string
  /** Standard output; ends when the process ends. */
  readonly stdout: Readable
  /** Standard error; ends when the process ends. */
  readonly stderr: Readable
  /** Standard input; `end()` sends the end-of-input marker. */
  readonly stdin: Writable
  /**
   * Resolves with the exit code, or `null` when {@link kill} terminated the process; rejects when the
   * shell or the connection fails.
   */
  readonly exited: Promise<number | null>
  readonly #conn: WSManConnection
  readonly #shellId: string
  readonly #stop = new AbortController()
  #exitCode: number | undefined
  #endSent = false
  #resumeReading: (() => void) | undefined

  /** @internal created by {@link WinRSShell.spawn} */
  constructor(conn: WSManConnection, shellId: string, commandId: string) {
    this.#conn = conn
    this.#shellId = shellId
    this.commandId = commandId
    const resume = (): void => {
      const r = this.#resumeReading
      this.#resumeReading = undefined
      r?.()
    }
    this.stdout = new Readable({ read: resume })
    this.stderr = new Readable({ read: resume })
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        // one tick later `end(chunk)` has marked the stream ending: the last chunk then carries End
        setImmediate(() => {
          const last = this.stdin.writableEnded && this.stdin.writableLength <= chunk.length
          if (last) this.#endSent = true
          this.#send(chunk, last).then(() => done(), done)
        })
      },
      final: (done) => {
        if (this.#endSent) return done()
        this.#send(new Uint8Array(0), true).then(() => done(), done)
      },
    })
    this.exited = this.#receive()
    this.exited.catch((e: unknown) => {
      // an error reaches stream readers that listen for it; otherwise the streams just end
      for (const stream of [this.stdout, this.stderr]) {
        if (stream.listenerCount('error') > 0) stream.destroy(e as Error)
        else stream.push(null)
      }
    })
  }

  /** The exit code once the process ended. */
  get exitCode(): number | undefined {
    return this.#exitCode
  }

  /** Sends Ctrl+C (`ctrl_c`) or Ctrl+Break (`ctrl_break`) to the process. */
  async signal(code: 'ctrl_c' | 'ctrl_break' = 'ctrl_c'): Promise<void> {
    await this.#conn.request(winrsSignal({ shellId: this.#shellId, commandId: this.commandId, code }))
  }

  /** Terminates the process (`terminate` signal) and stops reading its output. */
  async kill(): Promise<void> {
    if (this.#exitCode !== undefined) return
    await this.#conn.request(
      winrsSignal({ shellId: this.#shellId, commandId: this.commandId, code: 'terminate' }),
    )
    this.#stop.abort()
  }

  async #send(data: Uint8Array, end: boolean): Promise<void> {
    await this.#conn.request(
      winrsSend({ shellId: this.#shellId, commandId: this.commandId, data, stream: 'stdin', end }),
    )
  }

  async #receive(): Promise<number | null> {
    const lane = `winrs:${this.commandId}`
    try {
      for (;;) {
        // backpressure: wait while a consumer has not read what we pushed
        if (
          this.stdout.readableLength > this.stdout.readableHighWaterMark * 4 ||
          this.stderr.readableLength > this.stderr.readableHighWaterMark * 4
        ) {
          await new Promise<void>((r) => (this.#resumeReading = r))
          continue
        }
        const res = await this.#conn.request(
          winrsReceive({ shellId: this.#shellId, commandId: this.commandId }),
          { lane, signal: this.#stop.signal },
        )
        if (res.kind === 'timedOut') continue
        if (res.kind !== 'receive') throw new ProtocolError(`the server answered Receive with ${res.kind}`)
        for (const s of res.streams) {
          const target = s.name === 'stderr' ? this.stderr : this.stdout
          if (s.data.length > 0) target.push(Buffer.from(s.data))
        }
        const state = res.commandState
        if (state?.done === true) {
          this.#exitCode = state.exitCode ?? 0
          this.stdout.push(null)
          this.stderr.push(null)
          return this.#exitCode
        }
      }
    } catch (e) {
      if (this.#stop.signal.aborted) {
        this.stdout.push(null)
        this.stderr.push(null)
        return null
      }
      if (e instanceof WSManFaultError && e.fault.wsmanFaultCode === WSManFaultCode.InvalidSelectors) {
        // the shell or this command is gone (or never existed): say which, keep the server's fault
        throw new WSManFaultError(
          `the server does not know command ${this.commandId} in shell ${this.#shellId}: ${e.message}`,
          e.fault,
          { cause: e },
        )
      }
      throw e instanceof PsrpError ? e : new TransportError(String(e), { cause: e })
    } finally {
      this.#conn.http.releaseLane(lane)
    }
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}
