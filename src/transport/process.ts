/**
 * The local-process transport: PSRP over the stdin/stdout of `pwsh -s` (PowerShell's
 * `NewProcessConnectionInfo` / `Start-Job` mechanism). Built on {@link OutOfProcStreamTransport}.
 *
 * Behaviour (`notes/transports.md` §1.3, §2):
 * - spawns `pwsh -NoLogo -NoProfile -s` (POSIX: in its own process group, because the .NET global-tool
 *   `pwsh` is a shim that starts `dotnet pwsh.dll` as a child);
 * - any text on stderr is a transport failure (as in PowerShell's own client), reported with the text;
 * - process exit before the pool's CloseAck is a {@link TransportError} with the exit code and stderr;
 * - {@link ProcessConnection.close} closes the pool, ends stdin (pwsh then exits with 4000) and kills
 *   the process group if it has not exited shortly after.
 *
 * @module
 */
import type { ChildProcess } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { TransportError, type PsrpError } from '../errors.ts'
import { Attr, SpanName, withSpan } from '../internal/telemetry.ts'
import type { OutOfProcSessionOptions } from '../outofproc/index.ts'
import { closeQuietly, openFifoPipes, spawnOnPipes } from './fifo.ts'
import { addPwshGcSettings, checkPwshGcOptions } from './pwsh-gc.ts'
import {
  OutOfProcStreamTransport,
  type OutOfProcConnectContext,
  type OutOfProcStreams,
} from './outofproc-stream.ts'

/** Arguments passed to pwsh when {@link ProcessConnectionOptions.arguments} is not given. */
export const DEFAULT_PWSH_ARGUMENTS: readonly string[] = ['-NoLogo', '-NoProfile', '-s']

/** Options of {@link ProcessConnection}. */
export interface ProcessConnectionOptions {
  /** The PowerShell executable; default {@link findPwsh}(). */
  executable?: string | undefined
  /** Command-line arguments; default `-NoLogo -NoProfile -s`. */
  arguments?: readonly string[] | undefined
  /**
   * Environment variables merged over `process.env` (a value of `undefined` removes the variable).
   * `POWERSHELL_TELEMETRY_OPTOUT=1` is set unless given here.
   */
  env?: Readonly<Record<string, string | undefined>> | undefined
  /** Working directory of the process. */
  cwd?: string | undefined
  /**
   * First-generation allocation budget of pwsh's garbage collector, in bytes, given to it as
   * `DOTNET_GCgen0size`; default {@link DEFAULT_GC_GEN0_BUDGET} (16 MiB), which lets the server send
   * small objects 1.5–3 times as fast for 12–20 MB more memory. `0` leaves .NET's own budget. Not set
   * when `env` or `process.env` already has `DOTNET_GCgen0size` or `COMPlus_GCgen0size` (`env` may name
   * either with the value `undefined` to keep .NET's own). The variable is part of the session's
   * environment, so programs the session starts inherit it; Windows PowerShell 5.1 (.NET Framework)
   * ignores it. The constructor throws an `InvalidArgumentError` unless it is `0` or an integer from
   * 65,536 to 2^32.
   */
  gcGen0Budget?: number | undefined
  /**
   * Size in bytes from which pwsh's garbage collector puts an object on its large-object heap, given
   * to it as `DOTNET_GCLOHThreshold`; default {@link DEFAULT_GC_LARGE_OBJECT_THRESHOLD} (4 MiB), which
   * made file transfers 15–25% faster. `0` leaves .NET's own (85,000 bytes). A `DOTNET_GCLOHThreshold`
   * or `COMPlus_GCLOHThreshold` in `env` or `process.env` stands, as for `gcGen0Budget`. The
   * constructor throws an `InvalidArgumentError` unless it is `0` or an integer from 85,000 to 2^32.
   */
  gcLargeObjectThreshold?: number | undefined
  /**
   * Connect pwsh's stdin and stdout through kernel pipes (made from a short-lived FIFO), as
   * PowerShell's own client does, instead of Node's socket pair; POSIX only, default `true`. pwsh
   * writes its output in 256-byte pieces, which a pipe takes far more cheaply than a socket: a 50 MiB
   * fetch ran 15.5–16.6 → 17–20 MiB/s and cost the client 1.0–1.4 s of CPU instead of 1.5–2.4. Falls
   * back to the socket pair when `mkfifo` cannot be run.
   */
  kernelPipes?: boolean | undefined
  /**
   * Milliseconds allowed for the process to start and for its first answer after our first packet;
   * default 30 000.
   */
  connectTimeout?: number | undefined
  /** Default timeout of signal, pipeline close and pool close; default 60 000 (as PowerShell). */
  closeTimeout?: number | undefined
  /** Milliseconds to wait for the process to exit after stdin is closed before killing it; default 3 000. */
  exitTimeout?: number | undefined
  /**
   * Longest line accepted from the server, in characters (terminator excluded); default 16 Mi
   * characters (`DEFAULT_MAX_LINE_LENGTH` of `psrp/outofproc`; pwsh's longest line is about 44 KB).
   * It is checked as text arrives, before a line is joined: a longer line fails the connection with a
   * `ProtocolError` (`ERR_PROTOCOL`), and every pending call rejects with it. Takes precedence over
   * `session.maxLineLength`; the constructor throws an `InvalidArgumentError` when it is not a positive
   * integer.
   */
  maxLineLength?: number | undefined
  /** Options of the sans-IO OutOfProc session. */
  session?: OutOfProcSessionOptions | undefined
}

const STDERR_LIMIT = 64 * 1024
/** Time to let stderr / exit information arrive before reporting a failure. */
const SETTLE_MS = 100

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    if (process.platform !== 'win32') accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Where {@link findPwsh} looks, in order: `PSRP_PWSH` (when set, only there), every `PATH` entry, then
 * `~/.dotnet/tools` (home from `HOME`, or `USERPROFILE` on Windows, of the given environment).
 */
export function pwshCandidates(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const explicit = env['PSRP_PWSH']
  if (explicit !== undefined && explicit !== '') return [explicit]
  const names = process.platform === 'win32' ? ['pwsh.exe'] : ['pwsh']
  const dirs = (env['PATH'] ?? env['Path'] ?? '').split(delimiter).filter((d) => d !== '')
  const home = (process.platform === 'win32' ? env['USERPROFILE'] : env['HOME']) || homedir()
  dirs.push(join(home, '.dotnet', 'tools'))
  const out: string[] = []
  for (const d of dirs) for (const n of names) out.push(join(d, n))
  return [...new Set(out)]
}

/**
 * Finds a PowerShell 7 executable: `PSRP_PWSH` if set, else `pwsh` on `PATH`, else
 * `~/.dotnet/tools/pwsh`.
 *
 * @throws {TransportError} naming every place it looked when none exists.
 */
export function findPwsh(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const candidates = pwshCandidates(env)
  for (const c of candidates) if (isExecutableFile(c)) return c
  const fromEnv = env['PSRP_PWSH'] !== undefined && env['PSRP_PWSH'] !== ''
  throw new TransportError(
    `PowerShell (pwsh) not found; looked ${fromEnv ? 'at PSRP_PWSH=' : 'in '}${candidates.join(', ')}. ` +
      'Install it (e.g. `dotnet tool install --global PowerShell`), put it on PATH, or set PSRP_PWSH ' +
      'or the `executable` option.',
  )
}

/**
 * A PSRP transport to a local `pwsh -s` process.
 *
 * ```ts
 * const conn = new ProcessConnection()          // finds pwsh
 * await conn.start()
 * await conn.send({ stream: 'default', data: sessionCapabilityAndInitFragments })
 * for await (const ev of conn.events()) …       // { type: 'data', pipelineId, data } | { type: 'failed', error }
 * await conn.close()
 * ```
 */
export class ProcessConnection extends OutOfProcStreamTransport {
  /** The options this connection was created with (the executable is resolved at {@link start}). */
  readonly options: Readonly<ProcessConnectionOptions>
  readonly #box: { child?: ChildProcess }

  /**
   * @throws {InvalidArgumentError} when `maxLineLength`, `gcGen0Budget`, `gcLargeObjectThreshold` or a
   *   session option is out of range.
   */
  constructor(options: ProcessConnectionOptions = {}) {
    const opts = { ...options }
    checkPwshGcOptions(opts)
    const box: { child?: ChildProcess } = {}
    const start = (context: OutOfProcConnectContext): Promise<OutOfProcStreams> =>
      withSpan(
        SpanName.processStart,
        { [Attr.transport]: 'process', [Attr.networkTransport]: 'pipe' },
        async (span) => {
          const streams = await connectProcess(opts, context, box)
          if (box.child?.pid !== undefined) span.setAttribute(Attr.processPid, box.child.pid)
          return streams
        },
      )
    super(start, {
      connectTimeout: opts.connectTimeout,
      closeTimeout: opts.closeTimeout,
      maxLineLength: opts.maxLineLength,
      session: opts.session,
      peerName: 'pwsh',
    })
    this.options = opts
    this.#box = box
  }

  /** The child process id once started. */
  get pid(): number | undefined {
    return this.#box.child?.pid
  }
}

async function connectProcess(
  opts: Readonly<ProcessConnectionOptions>,
  context: OutOfProcConnectContext,
  box: { child?: ChildProcess },
): Promise<OutOfProcStreams> {
  const executable = opts.executable ?? findPwsh()
  const args = [...(opts.arguments ?? DEFAULT_PWSH_ARGUMENTS)]
  const env: Record<string, string> = {}
  const merged: Record<string, string | undefined> = {
    ...process.env,
    POWERSHELL_TELEMETRY_OPTOUT: '1',
    ...opts.env,
  }
  addPwshGcSettings(merged, opts)
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) env[k] = v
  const posix = process.platform !== 'win32'
  const exitTimeout = opts.exitTimeout ?? 3_000

  const kernelPipes = posix && opts.kernelPipes !== false
  const [inPipe, outPipe] = (kernelPipes ? await openFifoPipes(2) : undefined) ?? []
  if (context.signal.aborted) {
    // cancelled while the pipes were made (mkfifo runs as a process): nothing was started
    for (const fd of [inPipe?.readFd, inPipe?.writeFd, outPipe?.readFd, outPipe?.writeFd]) closeQuietly(fd)
    throw new TransportError(`starting ${executable} was cancelled`)
  }
  const {
    child,
    stdin,
    stdout,
    stderr: stderrStream,
  } = spawnOnPipes(
    executable,
    args,
    { cwd: opts.cwd, env, detached: posix, windowsHide: true },
    inPipe,
    outPipe,
  )
  box.child = child

  let stderr = ''
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  let stderrTimer: ReturnType<typeof setTimeout> | undefined
  let shuttingDown = false
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const killGroup = (): void => {
    try {
      if (posix && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      else child.kill('SIGKILL')
    } catch {
      try {
        child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  const describe = (prefix: string): string => {
    const parts = [prefix]
    if (exit !== undefined) {
      parts.push(
        exit.code !== null
          ? `exited with code ${exit.code}${exit.code === 4000 || exit.code === 160 ? ' (unhandled server error)' : ''}`
          : `was killed by ${exit.signal ?? 'a signal'}`,
      )
    }
    const text = stderr.trim()
    if (text !== '') parts.push(`stderr: ${text}`)
    return parts.join('; ')
  }
  const exitError = (): TransportError =>
    new TransportError(describe(`pwsh (${executable}, pid ${child.pid})`))

  await new Promise<void>((resolve, reject) => {
    const onSpawn = (): void => {
      child.off('error', onError)
      context.signal.removeEventListener('abort', onAbort)
      resolve()
    }
    const onError = (e: NodeJS.ErrnoException): void => {
      child.off('spawn', onSpawn)
      context.signal.removeEventListener('abort', onAbort)
      const why = e.code === 'ENOENT' ? 'not found' : e.code === 'EACCES' ? 'not executable' : e.message
      stdin.destroy()
      stdout.destroy()
      reject(new TransportError(`cannot start ${executable}: ${why} (${e.code ?? 'error'})`, { cause: e }))
    }
    const onAbort = (): void => {
      child.off('spawn', onSpawn)
      child.off('error', onError)
      killGroup()
      stdin.destroy()
      stdout.destroy()
      reject(new TransportError(`starting ${executable} was cancelled`))
    }
    child.once('spawn', onSpawn)
    child.once('error', onError)
    context.signal.addEventListener('abort', onAbort, { once: true })
  })

  child.on('error', (e) => {
    if (!shuttingDown) context.fail(new TransportError(`pwsh process error: ${e.message}`, { cause: e }))
  })
  stderrStream.setEncoding('utf8')
  stderrStream.on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length)
    if (shuttingDown || context.closing() || stderrTimer !== undefined) return
    // Let the rest of the message (and perhaps the exit) arrive, then fail.
    stderrTimer = setTimeout(() => {
      context.fail(new TransportError(describe('pwsh wrote to stderr')))
    }, SETTLE_MS)
  })
  child.once('exit', (code, signal) => {
    exit = { code, signal }
    if (stderrTimer !== undefined) clearTimeout(stderrTimer)
    if (shuttingDown) return
    // The shim may have died while the real server (its child) keeps the pipes open: kill the group.
    killGroup()
    if (context.closing() && (code === 4000 || code === 160)) return
    setTimeout(() => context.fail(exitError()), SETTLE_MS)
  })

  const waitExit = (ms: number): Promise<boolean> =>
    exit !== undefined
      ? Promise.resolve(true)
      : new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), ms)
          void exited.then(() => {
            clearTimeout(t)
            resolve(true)
          })
        })

  return {
    readable: stdout,
    writable: stdin,
    describeEnd: async (cause) => {
      await waitExit(1_000)
      const e: PsrpError =
        exit !== undefined ? exitError() : new TransportError(describe('pwsh closed stdout'))
      if (cause !== undefined && e.cause === undefined) {
        return new TransportError(`${e.message}; ${cause.message}`, { cause })
      }
      return e
    },
    shutdown: async (reason) => {
      shuttingDown = true
      if (stderrTimer !== undefined) clearTimeout(stderrTimer)
      if (reason === 'closed') {
        stdin.end()
        if (!(await waitExit(exitTimeout))) killGroup()
      } else {
        stdin.destroy()
        killGroup()
      }
      await waitExit(exitTimeout)
      if (exit === undefined) child.kill('SIGKILL')
      // The pipes may be held by an orphan; do not keep the event loop alive for them.
      stdout.destroy()
      stderrStream.destroy()
      stdin.destroy()
    },
  }
}
