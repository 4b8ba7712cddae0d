/**
 * Attaches to a running PowerShell over its IPC named pipe, as `Enter-PSHostProcess` does: on Linux
 * and macOS the pipe is a Unix domain socket `$TMPDIR/CoreFxPipe_<name>`, where `<name>` is
 * `PSHost.<starttime>.<pid>.<appdomain>.<process name>` for the pipe every pwsh opens, or the
 * `-CustomPipeName` given to pwsh (`notes/transports.md` §4.1). On Windows it is `\\.\pipe\<name>`.
 * The protocol is the OutOfProc line protocol ({@link OutOfProcStreamTransport}); the session runs in
 * a new runspace inside the target process.
 *
 * Limits of the transport: the target must run as the same user (.NET refuses other users), it serves
 * one client at a time, and, like SSH, it has no disconnect/reconnect or enumeration
 * ({@link NotSupportedError} from those {@link RunspacePool} methods).
 *
 * @module
 */
import { lstat, readdir, readFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Duplex } from 'node:stream'
import { InvalidArgumentError, TransportError } from '../errors.ts'
import { Attr, SpanKind, SpanName, withSpan, type Span } from '../internal/telemetry.ts'
import type { OutOfProcSessionOptions } from '../outofproc/index.ts'
import {
  OutOfProcStreamTransport,
  type OutOfProcConnectContext,
  type OutOfProcStreams,
} from './outofproc-stream.ts'

/** Which pipe to attach to: exactly one of `pid`, `pipeName` or `path`. */
export type NamedPipeTarget =
  | {
      /** The pwsh process id; its `PSHost.*.<pid>.*` pipe is looked up in the `tempDir` of {@link NamedPipeConnectionOptions}. */
      readonly pid: number
    }
  | {
      /** A pipe name: a `-CustomPipeName`, or a full `PSHost.…` name. */
      readonly pipeName: string
    }
  | {
      /** The socket path (`/tmp/CoreFxPipe_…`) or Windows pipe path (`\\.\pipe\…`). */
      readonly path: string
    }

/** Options of {@link NamedPipeConnection}. */
export type NamedPipeConnectionOptions = NamedPipeTarget & {
  /**
   * Where .NET puts the sockets: the target's `Path.GetTempPath()`, i.e. its `TMPDIR` or `/tmp`.
   * Default: this process's `TMPDIR`, else `/tmp`.
   */
  readonly tempDir?: string | undefined
  /**
   * Milliseconds to wait for the pipe to accept (it is retried every 100 ms while it does not exist or
   * is busy with another client, as PowerShell does) plus the server's first answer; default 30 000.
   */
  readonly connectTimeout?: number | undefined
  /** Default timeout of signal, pipeline close and pool close; default 60 000. */
  readonly closeTimeout?: number | undefined
  /**
   * Longest line accepted from the server, in characters (terminator excluded); default 16 Mi
   * characters (`DEFAULT_MAX_LINE_LENGTH` of `psrp/outofproc`; pwsh's longest line is about 44 KB).
   * It is checked as text arrives, before a line is joined: a longer line fails the connection with a
   * `ProtocolError` (`ERR_PROTOCOL`), and every pending call rejects with it. Takes precedence over
   * `session.maxLineLength`; the constructor throws an `InvalidArgumentError` when it is not a positive
   * integer.
   */
  readonly maxLineLength?: number | undefined
  /** Options of the sans-IO OutOfProc session. */
  readonly session?: OutOfProcSessionOptions | undefined
}

const DEFAULT_CONNECT_TIMEOUT = 30_000
const RETRY_MS = 100
const WINDOWS_PIPE_DIR = '\\\\.\\pipe\\'

/** The temp dir .NET's `Path.GetTempPath()` would use here. */
function defaultTempDir(): string {
  if (process.platform === 'win32') return tmpdir()
  const t = process.env['TMPDIR']
  return t !== undefined && t !== '' ? t : '/tmp'
}

/**
 * The socket path of a pipe name: `<tempDir>/CoreFxPipe_<name>` (Unix), `\\.\pipe\<name>` (Windows).
 *
 * @example
 * ```ts
 * pipePath('psrptest')              // '/tmp/CoreFxPipe_psrptest'
 * ```
 */
export function pipePath(pipeName: string, tempDir: string = defaultTempDir()): string {
  if (process.platform === 'win32') return WINDOWS_PIPE_DIR + pipeName
  return join(tempDir, `CoreFxPipe_${pipeName}`)
}

async function childPids(pid: number): Promise<number[]> {
  // the .NET global tool's `pwsh` is a shim whose child (`dotnet pwsh.dll`) owns the pipe
  try {
    const tasks = await readdir(`/proc/${pid}/task`)
    const out: number[] = []
    for (const t of tasks) {
      const text = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')
      for (const c of text.trim().split(/\s+/)) if (/^\d+$/.test(c)) out.push(Number(c))
    }
    return out
  } catch {
    return []
  }
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on every Linux ABI). */
const USER_HZ = 100

/**
 * When process `pid` started (ms since the epoch, to the second), from `/proc/<pid>/stat` (field 22,
 * ticks since boot) and `/proc/stat` (`btime`); undefined where there is no such `/proc`.
 */
async function processStartMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) is in parentheses and may hold spaces: count fields after it
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    const btime = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1]
    if (!Number.isFinite(ticks) || btime === undefined) return undefined
    return Number(btime) * 1000 + (ticks * 1000) / USER_HZ
  } catch {
    return undefined
  }
}

/**
 * The socket of process `pid` among `names` (files of `dir` named for that pid). Process ids are
 * reused, and a PowerShell process that was killed leaves its socket behind, so several may name the
 * same pid: only one made since the process started can be its own (the newest such one is taken).
 */
async function liveSocket(dir: string, names: string[], pid: number): Promise<string | undefined> {
  if (names.length === 0) return undefined
  const started = await processStartMs(pid)
  let best: { name: string; at: number } | undefined
  for (const name of names) {
    const at = (await lstat(join(dir, name)).catch(() => undefined))?.mtimeMs
    // a second of slack: the start time is known to the second
    if (at === undefined || (started !== undefined && at < started - 1000)) continue
    if (best === undefined || at > best.at) best = { name, at }
  }
  return best?.name
}

/**
 * Finds the default IPC pipe of a PowerShell process: the socket `CoreFxPipe_PSHost.*.<pid>.*` (Unix)
 * or pipe `PSHost.*.<pid>.*` (Windows). When `pid` has none and is the .NET global tool's shim, its
 * child's pipe is used. A socket left behind by an earlier process with the same id (a killed pwsh
 * does not remove its socket) is told apart by its time: it predates the process.
 *
 * @throws {TransportError} when there is none, naming where it looked.
 * @example
 * ```ts
 * await findPipeForPid(12345)   // '/tmp/CoreFxPipe_PSHost.DC2F3A4B.12345.None.pwsh'
 * ```
 */
export async function findPipeForPid(pid: number, tempDir: string = defaultTempDir()): Promise<string> {
  if (!Number.isInteger(pid) || pid <= 0) throw new InvalidArgumentError(`invalid pid ${String(pid)}`)
  const win = process.platform === 'win32'
  const dir = win ? WINDOWS_PIPE_DIR : tempDir
  const prefix = win ? 'PSHost.' : 'CoreFxPipe_PSHost.'
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (e) {
    throw new TransportError(`cannot list ${dir}: ${(e as Error).message}`, { cause: e })
  }
  const named = (p: number): string[] =>
    names.filter((n) => n.startsWith(prefix) && n.slice(prefix.length).split('.')[1] === String(p))
  let name = win ? named(pid)[0] : await liveSocket(dir, named(pid), pid)
  if (name === undefined && !win) {
    for (const child of await childPids(pid)) {
      name = await liveSocket(dir, named(child), child)
      if (name !== undefined) break
    }
  }
  if (name === undefined) {
    throw new TransportError(
      `no PowerShell IPC pipe for process ${pid} in ${dir} (${prefix}*.${pid}.*): is it a pwsh process ` +
        'of this user, with the same TMPDIR, and without POWERSHELL_DIAGNOSTICS_OPTOUT=1?',
    )
  }
  return win ? WINDOWS_PIPE_DIR + name : join(dir, name)
}

function validate(o: NamedPipeConnectionOptions): void {
  const given = ['pid', 'pipeName', 'path'].filter((k) => (o as Record<string, unknown>)[k] !== undefined)
  if (given.length !== 1) {
    throw new InvalidArgumentError(
      `NamedPipeConnection needs exactly one of pid, pipeName or path (got ${given.join(', ') || 'none'})`,
    )
  }
  if ('pipeName' in o && (typeof o.pipeName !== 'string' || o.pipeName === '' || /[/\\]/.test(o.pipeName))) {
    throw new InvalidArgumentError(`invalid pipe name ${JSON.stringify(o.pipeName)}`)
  }
}

/**
 * A PSRP connection to a running pwsh over its named pipe (one runspace pool per connection).
 *
 * @example
 * ```ts
 * // pwsh -NoLogo -CustomPipeName psrptest   (running as the same user)
 * await using pool = await RunspacePool.open(new NamedPipeConnection({ pipeName: 'psrptest' }))
 * await new PowerShell(pool).addScript('$PID').invoke()   // the target's pid
 * ```
 * @example
 * ```ts
 * new NamedPipeConnection({ pid: 12345 })                          // like Enter-PSHostProcess -Id 12345
 * new NamedPipeConnection({ path: '/tmp/CoreFxPipe_psrptest' })
 * ```
 */
export class NamedPipeConnection extends OutOfProcStreamTransport {
  /** The options it was created with. */
  readonly options: Readonly<NamedPipeConnectionOptions>
  readonly #resolved: { path?: string }

  /**
   * @throws {InvalidArgumentError} unless exactly one of `pid`, `pipeName`, `path` is given, or when
   *   `maxLineLength` (or a session option) is out of range.
   */
  constructor(options: NamedPipeConnectionOptions) {
    validate(options)
    const opts = { ...options }
    const resolved: { path?: string } = {}
    const connectTimeout = opts.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT
    const connector = (context: OutOfProcConnectContext): Promise<OutOfProcStreams> =>
      withSpan(
        SpanName.connect,
        { [Attr.transport]: 'named-pipe', [Attr.networkTransport]: 'pipe' },
        (span) => connectPipe(opts, context, resolved, span),
        { kind: SpanKind.CLIENT },
      )
    super(connector, {
      connectTimeout,
      closeTimeout: opts.closeTimeout,
      maxLineLength: opts.maxLineLength,
      session: opts.session,
      peerName: 'named pipe',
    })
    this.options = opts
    this.#resolved = resolved
  }

  /** The socket / pipe path, once connected. */
  get path(): string | undefined {
    return this.#resolved.path
  }
}

async function resolvePath(o: NamedPipeConnectionOptions): Promise<string> {
  const tempDir = o.tempDir ?? defaultTempDir()
  if ('path' in o) return o.path
  if ('pipeName' in o) return pipePath(o.pipeName, tempDir)
  return findPipeForPid(o.pid, tempDir)
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path })
    const onError = (e: Error): void => {
      socket.destroy()
      reject(e)
    }
    socket.once('error', onError)
    socket.once('connect', () => {
      socket.off('error', onError)
      resolve(socket)
    })
  })
}

/**
 * The socket of a pipe, as a Duplex that survives one race: right after a client disconnects, the
 * server disposes its listener and creates a new one, and a connection that landed in the old
 * listener's backlog is reset without ever being served. Until the server's first byte arrives, a
 * reset or EOF therefore reconnects (within the connect deadline) and replays what was written; after
 * it, the socket's end and errors are the stream's.
 */
/** @internal exported for its tests */
export class PipeStream extends Duplex {
  #socket: Socket
  #established = false
  #written: Buffer[] = []
  #retrying = false
  readonly #reconnect: () => Promise<Socket | undefined>

  constructor(socket: Socket, reconnect: () => Promise<Socket | undefined>) {
    super({ allowHalfOpen: false })
    this.#socket = socket
    this.#reconnect = reconnect
    this.#wire(socket)
  }

  #wire(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      if (!this.#established) {
        this.#established = true
        this.#written = []
      }
      if (!this.push(chunk)) socket.pause()
    })
    let gone = false
    const lost = (error: Error | undefined): void => {
      // error, end and close may all follow: act once per socket
      if (gone || socket !== this.#socket || this.destroyed) return
      gone = true
      if (!this.#established) {
        void this.#retry(error)
        return
      }
      if (error !== undefined) this.destroy(error)
      else this.push(null)
    }
    socket.on('error', (e) => lost(e))
    socket.on('end', () => lost(undefined))
    socket.on('close', () => lost(undefined))
  }

  async #retry(error: Error | undefined): Promise<void> {
    const old = this.#socket
    this.#retrying = true
    old.destroy()
    const next = await this.#reconnect()
    this.#retrying = false
    if (this.destroyed) {
      next?.destroy()
      return
    }
    if (next === undefined) {
      if (error !== undefined) this.destroy(error)
      else this.push(null)
      return
    }
    this.#socket = next
    this.#wire(next)
    for (const chunk of this.#written) next.write(chunk)
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const socket = this.#socket
    if (!this.#established) {
      this.#written.push(chunk)
      // between a reset and the next socket: the chunk is replayed there; writing it to the dead
      // socket would leave this callback (and with it every later write) pending forever
      if (this.#retrying || socket.destroyed) {
        callback()
        return
      }
    }
    if (socket.write(chunk)) {
      callback()
      return
    }
    // the socket may close instead of draining (a reset before the server's first byte is retried,
    // after it the stream is destroyed): either way this write is settled
    const settle = (): void => {
      socket.off('drain', settle)
      socket.off('close', settle)
      callback()
    }
    socket.once('drain', settle)
    socket.once('close', settle)
  }

  override _read(): void {
    this.#socket.resume()
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(() => callback())
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy()
    callback(error)
  }
}

/**
 * Opens the pipe inside its `psrp.connect` span, which gets the socket or pipe path as
 * `server.address` once it is known.
 */
async function connectPipe(
  o: Readonly<NamedPipeConnectionOptions>,
  context: OutOfProcConnectContext,
  resolved: { path?: string },
  span: Span,
): Promise<OutOfProcStreams> {
  const path = await resolvePath(o)
  resolved.path = path
  span.setAttribute(Attr.serverAddress, path)
  const deadline = Date.now() + (o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT)
  const stream = new PipeStream(await connectWithRetry(path, context.signal), async () => {
    // early reset: retry within the connect deadline, unless start() gave up already
    if (context.signal.aborted || Date.now() > deadline) return undefined
    await delay(RETRY_MS, context.signal)
    const c = new AbortController()
    const t = setTimeout(() => c.abort(), Math.max(0, deadline - Date.now()))
    try {
      return await connectWithRetry(path, c.signal)
    } catch {
      return undefined
    } finally {
      clearTimeout(t)
    }
  })
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()))
  return {
    readable: stream,
    writable: stream,
    describeEnd: async (cause) =>
      new TransportError(
        `the named pipe ${path} was closed by the server${cause !== undefined ? `: ${cause.message}` : ''} (did the target process exit?)`,
        cause === undefined ? undefined : { cause },
      ),
    shutdown: async (reason) => {
      stream.on('error', () => {})
      if (reason === 'closed') stream.end()
      else stream.destroy()
      const t = setTimeout(() => stream.destroy(), 2_000)
      await closed
      clearTimeout(t)
    },
  }
}

/** Connects, retrying every 100 ms while the socket does not exist or refuses, until `signal` aborts. */
async function connectWithRetry(path: string, signal: AbortSignal): Promise<Socket> {
  let last: NodeJS.ErrnoException | undefined
  for (;;) {
    if (signal.aborted) {
      throw new TransportError(
        `cannot connect to the named pipe ${path}${last !== undefined ? `: ${last.code ?? last.message}` : ''}`,
        last === undefined ? undefined : { cause: last },
      )
    }
    try {
      return await connectOnce(path)
    } catch (e) {
      last = e as NodeJS.ErrnoException
      if (last.code === 'EACCES' || last.code === 'EPERM') {
        throw new TransportError(
          `no permission to connect to ${path} (${last.code}): the target must run as the same user`,
          { cause: e },
        )
      }
      if (!['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EAGAIN', 'EBUSY'].includes(last.code ?? '')) {
        throw new TransportError(`cannot connect to the named pipe ${path}: ${last.message}`, { cause: e })
      }
      await delay(RETRY_MS, signal)
    }
  }
}
