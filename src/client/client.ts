/**
 * `Client`: the high-level API. One object per server, over any connection kind (WinRM, a local
 * `pwsh`, SSH, a named pipe), that runs PowerShell and processes and moves files, reusing one
 * runspace pool for every call.
 *
 * ```ts
 * import { Client } from 'psrp'
 *
 * const client = new Client('win1', { auth: 'ntlm', username: 'me', password: process.env.PW })
 * try {
 *   // `$name` is bound although the script declares no param(): see RunPsOptions.parameters
 *   const { output } = await client.runPs('Get-Service -Name $name', { parameters: { name: 'winrm' } })
 *   const { stdout, rc } = await client.runCmd('whoami', ['/all'])
 *   await client.copy('build.zip', '$env:TEMP\\build.zip', { expandVariables: true, overwrite: true })
 * } finally {
 *   await client.close()   // or `await using client = …` where your toolchain supports it (TypeScript ≥ 5.2)
 * }
 * ```
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Readable, Writable } from 'node:stream'
import {
  InvalidArgumentError,
  InvalidStateError,
  NotSupportedError,
  PipelineFailedError,
  ProtocolError,
} from '../errors.ts'
import { ProcessConnection, type ProcessConnectionOptions } from '../transport/process.ts'
import { WSManConnection, type WSManConnectionOptions } from '../transport/wsman-connection.ts'
import type { PSHost } from './host.ts'
import { PowerShell, type PipelineInput, type PipelineOptions, type PSDataStreams } from './powershell.ts'
import {
  RunspacePool,
  type CallOptions,
  type PsrpConnection,
  type RunspacePoolOptions,
} from './runspace-pool.ts'
import { withCancel as cancellable } from '../transport/cancel.ts'
import { WinRSShell, type WinRSProcess } from './winrs.ts'
import { copyToRemote, fetchFromRemote, type TransferOptions, type TransferResult } from './file-transfer.ts'
import { RUN_PROCESS_SCRIPT } from './run-process-script.ts'
import { PSObject } from '../clixml/index.ts'
import { clixmlStderrToText } from './clixml-stderr.ts'
import { Attr, SpanName, withSpan } from '../internal/telemetry.ts'
import { connectionAttributes } from './trace-attributes.ts'

/** Ask for a local `pwsh` (a {@link ProcessConnection}); the other fields are its options. */
export interface LocalTarget extends ProcessConnectionOptions {
  readonly local: true
}

/** Where a {@link Client} connects: a connection object, a WinRM host name, or a local `pwsh`. */
export type ClientTarget = PsrpConnection | string | LocalTarget

/** Options of {@link Client} for every target. */
export interface ClientOptions {
  /**
   * Runspaces of the pool: how many `runPs` calls and file transfers run at once (default 4). Calls
   * beyond it wait on the server for a free runspace.
   */
  maxRunspaces?: number | undefined
  /** The host for remote `Write-Host`, `Read-Host`, prompts (default none; see {@link RunPsOptions.host}). */
  host?: PSHost | undefined
  /**
   * Further runspace-pool options (configuration name, protocol version, application arguments, the
   * limits on what the server sends: `maxReceivedObjectSize`, `maxClixmlDepth`, `maxClixmlLength` …).
   */
  pool?: Omit<RunspacePoolOptions, 'maxRunspaces' | 'host' | 'signal' | 'timeout'> | undefined
  /** Milliseconds allowed to open the pool on first use (default 60 000). */
  openTimeout?: number | undefined
}

/** Options of {@link Client} for a WinRM host name: the {@link WSManConnectionOptions} except `server`. */
export type ClientWSManOptions = ClientOptions & Omit<WSManConnectionOptions, 'server'>

/**
 * Which of the client's runspace pools a call runs in. Over WinRM a client keeps one pool per
 * configuration name, each opened on its first call and closed with the client.
 */
export interface PoolSelection {
  /**
   * The PowerShell endpoint (session configuration, e.g. a JEA endpoint) of this call; default the
   * client's (`pool.configurationName`, else the connection's, else `Microsoft.PowerShell`). WinRM
   * only: over other connections giving one is a {@link NotSupportedError}.
   */
  configurationName?: string | undefined
}

/** Options of {@link Client.copy} and {@link Client.fetch}. */
export type ClientTransferOptions = TransferOptions & PoolSelection

/** Options of {@link Client.runPs}. */
export interface RunPsOptions extends CallOptions, PoolSelection, PipelineOptions {
  /**
   * Named parameters of the script. A script with a `param(…)` block binds them as PowerShell does
   * (`AddParameter`). A script without one gets them declared: `runPs('Get-Item $p', { parameters:
   * { p: '/' } })` runs as `param($p) Get-Item $p` (after any `using` statements), so every name is a
   * variable of the script. Whether the script has a `param` block is decided by the server's
   * PowerShell parser (one extra round trip per distinct script text, remembered by the client;
   * skipped when the script starts with `param(`). A script that does not parse is sent unchanged,
   * so the server reports the parse error; so is every script when the server refuses to run the
   * parser (a constrained language mode). Names must then be plain identifiers (letters, digits,
   * `_`). Values are bound by name; for positional values use {@link arguments}.
   */
  parameters?: Record<string, unknown> | Map<string, unknown> | undefined
  /**
   * Positional arguments of the script, bound in order as `Invoke-Command -ArgumentList` (and
   * pypsrp's `add_argument`) bind them: to the script's `param(…)` parameters by position, or to
   * `$args` when it declares none. May be combined with {@link parameters}.
   *
   * ```ts
   * await client.runPs('param($a, $b) $a + $b', { arguments: [1, 2] })   // [3]
   * await client.runPs('$args.Count', { arguments: ['x', 'y'] })         // [2]
   * ```
   */
  arguments?: readonly unknown[] | undefined
  /** Pipeline input (`$input`, or `ValueFromPipeline` parameters), streamed in fragments. */
  input?: PipelineInput | undefined
  /**
   * Working directory for this call (`Push-Location`, restored afterwards). With `cwd` or
   * `environment` the script runs in a child scope, so its variables do not stay in the runspace.
   */
  cwd?: string | undefined
  /**
   * Environment variables for this call, restored afterwards. Environment variables belong to the
   * server process, so calls running at the same time in the same pool see them too.
   */
  environment?: Record<string, string> | undefined
  /** The host for this call (overrides the client's). */
  host?: PSHost | undefined
}

/** Options of {@link Client.runPsText}. */
export interface RunPsTextOptions extends RunPsOptions {
  /** Line width of PowerShell's formatting (`Out-String -Width`); default the server's. */
  width?: number | undefined
}

/** What {@link Client.runPs} resolves to. */
export interface RunPsResult {
  /** The output objects, deserialized (PSObject, primitives, Maps, arrays). */
  readonly output: unknown[]
  /** Error, warning, verbose, debug, information and progress records. */
  readonly streams: PSDataStreams
  /** True when an error record was written. */
  readonly hadErrors: boolean
}

/** What {@link Client.runPsText} resolves to. */
export interface RunPsTextResult {
  /** The output as PowerShell formats it (`Out-String`). */
  readonly text: string
  readonly streams: PSDataStreams
  readonly hadErrors: boolean
}

/** Options of {@link Client.runCmd} and {@link Client.spawnCmd}. */
export interface RunCmdOptions extends CallOptions {
  /** Working directory of the process. */
  cwd?: string | undefined
  /** Environment variables added for the process. */
  environment?: Record<string, string> | undefined
  /** Written to the process's stdin, which is then closed (default: closed at once). */
  stdin?: string | Uint8Array | undefined
  /**
   * How `stdout`/`stderr` are returned by `runCmd`: a Node text encoding (default `utf8`; the shell
   * runs with code page 65001), or `buffer` for raw bytes.
   */
  encoding?: BufferEncoding | 'buffer' | undefined
  /** Run the executable directly instead of through `cmd.exe /c` (default false, as WinRS does). */
  skipCmdShell?: boolean | undefined
  /**
   * Keep the `#< CLIXML` blocks `powershell.exe` writes to stderr under WinRS as they are. By default
   * `runCmd` turns them into the text a console shows (error lines, `WARNING: …`; progress dropped),
   * as pypsrp's `sanitise_clixml` does; with `encoding: 'buffer'` stderr is always raw.
   */
  rawStderr?: boolean | undefined
}

/** What {@link Client.runCmd} resolves to. */
export interface RunCmdResult<T extends string | Buffer = string> {
  readonly stdout: T
  readonly stderr: T
  /** The exit code. */
  readonly rc: number
}

/** A process started by {@link Client.spawnCmd}; its WinRS shell closes when it exits. */
export interface CmdProcess extends AsyncDisposable {
  /** Standard output as it arrives. */
  readonly stdout: Readable
  /** Standard error as it arrives. */
  readonly stderr: Readable
  /** Standard input; `end()` closes it. */
  readonly stdin: Writable
  /** Resolves with the exit code (`null` when killed), after the shell is closed. */
  readonly exited: Promise<number | null>
  /** Terminates the process. */
  kill(): Promise<void>
}

/**
 * Copy chunk size over OutOfProc transports (measured fastest against local pwsh 7.6). Pipeline input
 * waits for an acknowledgement after every 4 MiB of bytes, which bounds what the client buffers.
 */
const OUTOFPROC_CHUNK = 256 * 1024
/** Fetch chunk size over OutOfProc transports (output is bounded by the stream's high-water mark). */
const OUTOFPROC_FETCH_CHUNK = 1024 * 1024
/** Room in one WinRM envelope for the PSRP fragment, message headers and CLIXML around the base64. */
const WSMAN_CHUNK_OVERHEAD = 1024
const DEFAULT_MAX_RUNSPACES = 4
const DEFAULT_OPEN_TIMEOUT = 60_000

function isLocalTarget(t: ClientTarget): t is LocalTarget {
  return typeof t === 'object' && (t as Partial<LocalTarget>).local === true
}

/**
 * A PowerShell server to run scripts and processes on and move files to and from. Nothing connects
 * until the first call; then one runspace pool (of `maxRunspaces` runspaces) serves every call until
 * {@link close} (or `await using`).
 *
 * Targets:
 * - a host name: WinRM (`new Client('win1', { auth: 'ntlm', username, password })`, options are
 *   {@link WSManConnectionOptions} without `server`); the client owns and closes the connection;
 * - omitted or `{ local: true, …ProcessConnectionOptions }`: a local `pwsh -s`, owned by the client;
 * - a connection object ({@link WSManConnection}, {@link ProcessConnection}, `SSHConnection`,
 *   `NamedPipeConnection`): used as is;
 *   the caller closes a {@link WSManConnection}, while a one-pool transport such as
 *   {@link ProcessConnection} ends with the pool.
 *
 * File transfers size their chunks to the connection (see {@link Client.chunkSize}): over WinRM one
 * chunk fills one envelope. Before its first transfer the client reads the server's envelope limit
 * ({@link WSManConnection.adoptServerEnvelopeSize}: Windows allows it to administrators; otherwise
 * WinRM's default of 150 KiB stands), unless the connection was given `maxEnvelopeSize`.
 *
 * ```ts
 * const client = new Client({ local: true })
 * try {
 *   const { output } = await client.runPs('Get-Date')
 *   await client.copy('./data', '/tmp/data', { overwrite: true, onProgress: (p) => console.log(p.bytes) })
 * } finally {
 *   await client.close()
 * }
 * ```
 */
export class Client implements AsyncDisposable {
  /** The connection the pool runs on. */
  readonly connection: PsrpConnection
  readonly #ownsConnection: boolean
  readonly #options: ClientOptions
  /** The open (or opening) pools by configuration name ('' for the client's default). */
  readonly #pools = new Map<string, Promise<RunspacePool>>()
  #closed: Promise<void> | undefined
  /**
   * SHA-256 of a script text → where to declare parameters (-1: it has a param block or does not
   * parse). Hashes, so that remembered scripts do not keep their (possibly large) texts alive.
   */
  readonly #paramBlockAt = new Map<string, number>()

  /** A local `pwsh -s`. */
  constructor()
  /** A WinRM server by host name; the options are WSManConnectionOptions without `server`. */
  constructor(target: string, options?: ClientWSManOptions)
  /** A local `pwsh -s` with process options, or a connection object. */
  constructor(target: LocalTarget | PsrpConnection, options?: ClientOptions)
  constructor(target: ClientTarget = { local: true }, options: ClientWSManOptions | ClientOptions = {}) {
    const { maxRunspaces, host, pool, openTimeout, ...rest } = options as ClientWSManOptions
    this.#options = { maxRunspaces, host, pool, openTimeout }
    if (maxRunspaces !== undefined && (!Number.isSafeInteger(maxRunspaces) || maxRunspaces < 1))
      throw new InvalidArgumentError('maxRunspaces must be a positive integer')
    if (typeof target === 'string') {
      this.connection = new WSManConnection({ ...rest, server: target })
      this.#ownsConnection = true
    } else if (isLocalTarget(target)) {
      const { local: _local, ...processOptions } = target
      this.connection = new ProcessConnection(processOptions)
      this.#ownsConnection = true
    } else {
      this.connection = target
      this.#ownsConnection = false
    }
  }

  /**
   * The client's runspace pool, opened on first use (one open even when calls start together); with
   * `configurationName` (WinRM), the pool of that endpoint, opened on its first use. A pool that broke
   * (e.g. the server process died) is replaced on the next call when the connection can host another
   * pool (WinRM).
   *
   * @throws {NotSupportedError} for a `configurationName` over a connection that is not WinRM.
   */
  async pool(options: CallOptions & PoolSelection = {}): Promise<RunspacePool> {
    if (this.#closed !== undefined)
      throw new InvalidStateError('use the client', 'Closed', 'the client is closed')
    const configurationName = options.configurationName
    if (configurationName !== undefined && !(this.connection instanceof WSManConnection))
      throw new NotSupportedError(
        'configurationName needs WinRM (WSManConnection): this connection hosts only its own endpoint',
      )
    const key = configurationName ?? ''
    const current = this.#pools.get(key)
    if (current !== undefined) {
      const pool = await current
      if (pool.failure === undefined || !(this.connection instanceof WSManConnection)) return pool
      if (this.#pools.get(key) === current) this.#pools.delete(key)
      void pool.close().catch(() => undefined)
      return this.pool(options)
    }
    const opening = RunspacePool.open(this.connection, {
      ...this.#options.pool,
      ...(configurationName === undefined ? {} : { configurationName }),
      maxRunspaces: this.#options.maxRunspaces ?? DEFAULT_MAX_RUNSPACES,
      ...(this.#options.host === undefined ? {} : { host: this.#options.host }),
      timeout: this.#options.openTimeout ?? DEFAULT_OPEN_TIMEOUT,
    })
    this.#pools.set(key, opening)
    // a failed open is forgotten so that a later call tries again (where the connection allows)
    opening.catch(() => {
      if (this.#pools.get(key) === opening) this.#pools.delete(key)
    })
    return opening
  }

  /**
   * Runs a PowerShell script and returns its output as objects plus its record streams. A
   * terminating error rejects with {@link PipelineFailedError}; non-terminating errors are records in
   * `streams.error` and set `hadErrors`. `timeout` and `signal` stop the pipeline on the server and
   * reject with {@link TimeoutError} / {@link AbortError}.
   *
   * ```ts
   * const { output, streams } = await client.runPs('param($n) 1..$n; Write-Warning "done"', {
   *   parameters: { n: 3 },
   * })
   * // output: [1, 2, 3]; streams.warning[0].message: 'done'
   * const same = await client.runPs('1..$n', { parameters: { n: 3 } })   // $n declared for you
   * ```
   */
  async runPs(script: string, options: RunPsOptions = {}): Promise<RunPsResult> {
    const pool = await this.pool(options)
    const ps = this.#powershell(pool, await this.#declareParameters(pool, script, options), options)
    const output = await ps.invoke(options.input, { ...callOptions(options), ...pipelineOptions(options) })
    return { output, streams: ps.streams, hadErrors: ps.hadErrors }
  }

  /**
   * Runs a PowerShell script and returns its output formatted by PowerShell itself (`| Out-String`),
   * as a console would show it.
   *
   * ```ts
   * const { text } = await client.runPsText('Get-Process | Select-Object -First 3', { width: 120 })
   * ```
   */
  async runPsText(script: string, options: RunPsTextOptions = {}): Promise<RunPsTextResult> {
    const pool = await this.pool(options)
    const ps = this.#powershell(pool, await this.#declareParameters(pool, script, options), options)
    ps.addCommand('Out-String')
    if (options.width !== undefined) ps.addParameter('Width', options.width)
    const output = await ps.invoke(options.input, { ...callOptions(options), ...pipelineOptions(options) })
    return { text: output.map((o) => String(o)).join(''), streams: ps.streams, hadErrors: ps.hadErrors }
  }

  /**
   * The script to run for `options.parameters`: unchanged when it has a `param` block (or none are
   * given, or it does not parse), else with `param($a, $b)` declared after its `using` statements.
   */
  async #declareParameters(pool: RunspacePool, script: string, options: RunPsOptions): Promise<string> {
    const given = options.parameters
    if (given === undefined) return script
    const names = given instanceof Map ? [...given.keys()] : Object.keys(given)
    if (names.length === 0 || /^\s*param\s*\(/i.test(script)) return script
    const key = createHash('sha256').update(script).digest('base64')
    let at = this.#paramBlockAt.get(key)
    if (at === undefined) {
      // a server that refuses the parser (e.g. ConstrainedLanguage) gets the script as given
      const out = await new PowerShell(pool)
        .addScript(PARAM_BLOCK_SCRIPT, true)
        .addParameter('Script', script)
        .invoke(undefined, callOptions(options))
        .catch((e: unknown) => {
          if (e instanceof PipelineFailedError) return []
          throw e
        })
      at = typeof out[0] === 'number' ? out[0] : -1
      if (this.#paramBlockAt.size >= PARAM_BLOCK_CACHE) {
        const oldest = this.#paramBlockAt.keys().next()
        if (oldest.done !== true) this.#paramBlockAt.delete(oldest.value)
      }
      this.#paramBlockAt.set(key, at)
    }
    if (at < 0) return script
    for (const n of names) {
      if (!/^[\p{L}\p{N}_]+$/u.test(n))
        throw new InvalidArgumentError(
          `parameter name '${n}' cannot be declared for a script without param(); declare it in the script`,
        )
    }
    const block = `param(${names.map((n) => `$${n}`).join(', ')}) `
    // after `using` statements a `;` keeps the script's line numbers; at the start no separator is needed
    return at === 0 ? block + script : `${script.slice(0, at)};${block}${script.slice(at)}`
  }

  #powershell(pool: RunspacePool, script: string, options: RunPsOptions): PowerShell {
    const ps = new PowerShell(pool, options.host === undefined ? {} : { host: options.host })
    if (options.cwd === undefined && options.environment === undefined) {
      ps.addScript(script)
      for (const a of options.arguments ?? []) ps.addArgument(a)
      if (options.parameters !== undefined) ps.addParameters(options.parameters)
      return ps
    }
    const parameters =
      options.parameters === undefined
        ? new Map<string, unknown>()
        : options.parameters instanceof Map
          ? options.parameters
          : new Map(Object.entries(options.parameters))
    return ps.addScript(SCOPED_SCRIPT).addParameters({
      PsrpScript: script,
      PsrpParameters: parameters,
      PsrpArguments: [...(options.arguments ?? [])],
      PsrpCwd: options.cwd ?? null,
      PsrpEnvironment:
        options.environment === undefined ? null : new Map(Object.entries(options.environment)),
    })
  }

  /**
   * Runs a process and collects its output, byte-exact. Over WinRM it runs in a WinRS shell of its
   * own; over other connections (local pwsh, SSH, named pipe) PowerShell on the server starts it
   * with `System.Diagnostics.Process` (through `cmd.exe /c` on Windows unless `skipCmdShell`).
   * `cwd` and `environment` apply to this call only. `timeout` and `signal` terminate the process
   * and reject with {@link TimeoutError} / {@link AbortError}.
   *
   * ```ts
   * const { stdout, stderr, rc } = await client.runCmd('ipconfig', ['/all'])
   * const raw = await client.runCmd('type', ['C:\\data.bin'], { encoding: 'buffer' })
   * ```
   *
   * @throws {PipelineFailedError} without WinRS when the program cannot be started (naming it).
   */
  runCmd(
    executable: string,
    args?: readonly string[],
    options?: RunCmdOptions & { encoding?: BufferEncoding },
  ): Promise<RunCmdResult<string>>
  runCmd(
    executable: string,
    args: readonly string[],
    options: RunCmdOptions & { encoding: 'buffer' },
  ): Promise<RunCmdResult<Buffer>>
  async runCmd(
    executable: string,
    args: readonly string[] = [],
    options: RunCmdOptions = {},
  ): Promise<RunCmdResult<string> | RunCmdResult<Buffer>> {
    if (!(this.connection instanceof WSManConnection))
      return this.#runCmdViaPowerShell(executable, args, options)
    const proc = await this.spawnCmd(executable, args, options)
    const cancel = (): void => void proc.kill().catch(() => undefined)
    const collect = async (s: Readable): Promise<Buffer> => {
      const parts: Buffer[] = []
      for await (const c of s) parts.push(c as Buffer)
      return Buffer.concat(parts)
    }
    const work = Promise.all([collect(proc.stdout), collect(proc.stderr), proc.exited])
    const [stdout, stderr, rc] = await withCancel(work, options, `running ${executable}`, cancel)
    return cmdResult(stdout, stderr, rc ?? -1, options)
  }

  /** {@link runCmd} without WinRS: PowerShell starts the program and returns its raw output. */
  async #runCmdViaPowerShell(
    executable: string,
    args: readonly string[],
    options: RunCmdOptions,
  ): Promise<RunCmdResult<string> | RunCmdResult<Buffer>> {
    const stdin =
      options.stdin === undefined
        ? null
        : typeof options.stdin === 'string'
          ? new Uint8Array(Buffer.from(options.stdin, 'utf8'))
          : options.stdin
    // a local scope: the script's variables and preferences stay out of the pool's runspace
    const output = await new PowerShell(await this.pool(options))
      .addScript(RUN_PROCESS_SCRIPT, true)
      .addParameters({
        Exe: executable,
        ArgList: [...args],
        Cwd: options.cwd ?? null,
        Environment: options.environment === undefined ? null : new Map(Object.entries(options.environment)),
        Stdin: stdin,
        SkipCmdShell: options.skipCmdShell === true,
      })
      .invoke(undefined, callOptions(options))
    const stdoutParts: Buffer[] = []
    const stderrParts: Buffer[] = []
    let rc: number | undefined
    for (const o of output) {
      const event = o instanceof PSObject ? o : undefined
      const stream = event?.get('S')
      const data = event?.get('D')
      if (stream === 0 && typeof data === 'number') rc = data
      else if ((stream === 1 || stream === 2) && data instanceof Uint8Array)
        (stream === 1 ? stdoutParts : stderrParts).push(
          Buffer.from(data.buffer, data.byteOffset, data.length),
        )
      else throw new ProtocolError(`runCmd: unexpected output from the process script: ${String(o)}`)
    }
    if (rc === undefined) throw new ProtocolError('runCmd: the process script returned no exit code')
    return cmdResult(Buffer.concat(stdoutParts), Buffer.concat(stderrParts), rc, options)
  }

  /**
   * Starts a process over WinRS (WinRM only) and hands out its streams as they flow; the process's
   * shell is deleted when it exits or is killed. `options.stdin`, when given, is written and stdin
   * closed; otherwise write to `stdin` and `end()` it.
   *
   * ```ts
   * await using proc = await client.spawnCmd('ping', ['-n', '3', 'localhost'])
   * for await (const chunk of proc.stdout) process.stdout.write(chunk)
   * console.log('exit code', await proc.exited)
   * ```
   *
   * @throws {NotSupportedError} over a connection that is not WinRM.
   */
  async spawnCmd(
    executable: string,
    args: readonly string[] = [],
    options: RunCmdOptions = {},
  ): Promise<CmdProcess> {
    if (this.#closed !== undefined)
      throw new InvalidStateError('use the client', 'Closed', 'the client is closed')
    const conn = this.connection
    if (!(conn instanceof WSManConnection))
      throw new NotSupportedError(
        'runCmd and spawnCmd need WinRS, which only WinRM (WSManConnection) offers; over this connection run the program through runPs instead',
      )
    const open = WinRSShell.open(conn, {
      ...(options.cwd === undefined ? {} : { workingDirectory: options.cwd }),
      ...(options.environment === undefined ? {} : { environment: options.environment }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    const shell = await withCancel(open, options, `starting ${executable}`)
    let proc: WinRSProcess
    try {
      proc = await withCancel(
        shell.spawn(
          executable,
          args,
          options.skipCmdShell === undefined ? {} : { skipCmdShell: options.skipCmdShell },
        ),
        options,
        `starting ${executable}`,
      )
    } catch (e) {
      await shell.close().catch(() => undefined)
      throw e
    }
    if (options.stdin !== undefined) proc.stdin.end(options.stdin)
    const exited = proc.exited.finally(() => shell.close().catch(() => undefined))
    exited.catch(() => undefined)
    const kill = async (): Promise<void> => {
      await proc.kill().catch(() => undefined)
      await shell.close().catch(() => undefined)
    }
    return {
      stdout: proc.stdout,
      stderr: proc.stderr,
      stdin: proc.stdin,
      exited,
      kill,
      [Symbol.asyncDispose]: async () => {
        if (proc.exitCode === undefined) await kill()
        await exited.catch(() => undefined)
      },
    }
  }

  /**
   * Copies a local file or directory tree to the server, streamed in chunks, SHA-256 verified,
   * written under `<name>.<random>.tmp` and renamed into place. For a file, `remotePath` names the
   * destination file (its directory must exist), or an existing directory, which receives the file
   * under its own name (as `cp` and `Copy-Item` do); for a directory, the destination directory
   * (created, or merged into). Existing files are refused unless `overwrite` is set. Aborting
   * (`signal`) or a `timeout` stops the transfer and removes the temporary file on the server; the
   * {@link AbortError}/{@link TimeoutError} message says so, or where it was left and why.
   *
   * ```ts
   * const r = await client.copy('big.iso', 'C:\\images\\big.iso', {
   *   overwrite: true,
   *   onProgress: ({ bytes, totalBytes }) => console.log(`${((100 * bytes) / totalBytes).toFixed(0)} %`),
   * })
   * console.log(r.sha256)
   * ```
   *
   * @throws {FileTransferError} for every failure of the transfer, naming the path: `reason`
   *   `not-found` (the local path does not exist), `exists` (a destination file exists and
   *   `overwrite` is not set), `checksum` (the server received other bytes than were sent) or `io`
   *   (a file cannot be read or written on either side: missing directory, access denied, …; `cause`
   *   is the server's {@link PipelineFailedError} or Node's error).
   */
  async copy(
    localPath: string,
    remotePath: string,
    options: ClientTransferOptions = {},
  ): Promise<TransferResult> {
    return this.#traceTransfer(SpanName.copy, async () => {
      const pool = await this.pool(options)
      await this.#adoptServerEnvelopeSize(options)
      return copyToRemote(pool, localPath, remotePath, {
        ...this.#splitDefault('copy', options),
        ...options,
        chunkSize: options.chunkSize ?? this.chunkSize,
      })
    })
  }

  /**
   * Fetches a remote file or directory tree, streamed in chunks, verified against the SHA-256 the
   * server computed while reading, written under `<name>.<random>.tmp` and renamed into place. For a
   * file, `localPath` names the destination file, or an existing directory, which receives the file
   * under its remote name (as `cp` and `Copy-Item` do). Aborting or a timeout removes the local
   * temporary file (the error message says so).
   *
   * ```ts
   * await client.fetch('$env:TEMP\\report.csv', './report.csv', { expandVariables: true, overwrite: true })
   * ```
   *
   * @throws {FileTransferError} for every failure of the transfer, naming the path: `reason`
   *   `not-found` (the remote path does not exist), `exists` (a local file exists and `overwrite` is
   *   not set), `checksum` (the received bytes do not match the server's SHA-256) or `io` (a file
   *   cannot be read or written on either side; `cause` is Node's error or the server's
   *   {@link PipelineFailedError}).
   */
  async fetch(
    remotePath: string,
    localPath: string,
    options: ClientTransferOptions = {},
  ): Promise<TransferResult> {
    return this.#traceTransfer(SpanName.fetch, async () => {
      const pool = await this.pool(options)
      await this.#adoptServerEnvelopeSize(options)
      const chunkSize =
        options.chunkSize ??
        (this.connection instanceof WSManConnection ? this.chunkSize : OUTOFPROC_FETCH_CHUNK)
      return fetchFromRemote(pool, remotePath, localPath, {
        ...this.#splitDefault('fetch', options),
        ...options,
        chunkSize,
      })
    })
  }

  /**
   * Over WinRM, the server's own envelope limit before a transfer, read once per connection
   * ({@link WSManConnection.adoptServerEnvelopeSize}; not when `maxEnvelopeSize` was given): each
   * chunk fills one envelope, so a larger limit means fewer, larger requests both ways.
   */
  async #adoptServerEnvelopeSize(options: ClientTransferOptions): Promise<void> {
    if (this.connection instanceof WSManConnection)
      await this.connection.adoptServerEnvelopeSize({ signal: options.signal, timeout: options.timeout })
  }

  /**
   * How many pipelines one file may take (`splitLimit`). A copy takes one unless the caller sets
   * `concurrency`: over a local pwsh -s one pipeline copied 50 MiB 32–45% faster than three (the
   * server spends the same CPU either way, and on two cores the extra pipelines only contend). Over
   * WinRM always one: split across four, a 32 MiB copy through the WinRM test server stalled, and with
   * three it ran slower than one. A fetch takes one everywhere: split over pwsh -s, a 64 MiB fetch
   * held 52.7 MiB in the client. Most of that was the OutOfProc session keeping taken fragments alive
   * (fixed since): re-measured, a 64 MiB fetch split three ways held 3.8-4.2 MiB and ran at 18-22
   * MiB/s against 15-20 MiB/s for one pipeline (two alternating pairs), which is not yet enough
   * evidence to change this default.
   */
  #splitDefault(direction: 'copy' | 'fetch', options: ClientTransferOptions): { splitLimit: number } {
    if (direction === 'fetch' || this.connection instanceof WSManConnection) return { splitLimit: 1 }
    return { splitLimit: options.concurrency ?? 1 }
  }

  /** A copy or fetch in its span: the host, then bytes, files and the file's SHA-256 (never the paths' contents). */
  #traceTransfer(name: string, transfer: () => Promise<TransferResult>): Promise<TransferResult> {
    return withSpan(name, connectionAttributes(this.connection), async (span) => {
      const result = await transfer()
      span.setAttributes({ [Attr.transferBytes]: result.bytes, [Attr.transferFiles]: result.files })
      if (result.sha256 !== undefined) span.setAttribute(Attr.transferSha256, result.sha256)
      return result
    })
  }

  /**
   * The default chunk size of file transfers for this connection: over WinRM as much file data as
   * one envelope of `maxEnvelopeSize` carries after base64 (twice: CLIXML, then the SOAP body) and
   * headers, in whole KiB, both ways; over OutOfProc transports 256 KiB for copy and 1 MiB for fetch
   * (measured fastest against local pwsh 7.6 within the memory bound).
   */
  get chunkSize(): number {
    const conn = this.connection
    if (!(conn instanceof WSManConnection)) return OUTOFPROC_CHUNK
    const perEnvelope = Math.floor(((conn.maxEnvelopeSize - 4096) * 3) / 4)
    const chunk = Math.floor(((perEnvelope - WSMAN_CHUNK_OVERHEAD) * 3) / 4)
    return Math.max(1024, chunk - (chunk % 1024))
  }

  /**
   * Closes the pool (stopping running pipelines) and, when the client created the connection, the
   * connection. Idempotent; calls after it reject with {@link InvalidStateError}.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const opened = [...this.#pools.values()]
      this.#pools.clear()
      await Promise.all(
        opened.map(async (p) => {
          const pool = await p.catch(() => undefined)
          await pool?.close().catch(() => undefined)
        }),
      )
      if (this.#ownsConnection && this.connection instanceof WSManConnection) await this.connection.close()
    })()
    return this.#closed
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** The invocation settings among a call's options (the undefined ones left out). */
function pipelineOptions(o: PipelineOptions): PipelineOptions {
  const picked: PipelineOptions = {
    apartmentState: o.apartmentState,
    addToHistory: o.addToHistory,
    history: o.history,
    redirectShellErrorOutputPipe: o.redirectShellErrorOutputPipe,
    addInvocationInfo: o.addInvocationInfo,
  }
  return Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined))
}

function callOptions(o: CallOptions): CallOptions {
  return {
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
  }
}

/** How many scripts' parameter-declaration offsets a client remembers. */
const PARAM_BLOCK_CACHE = 128

/**
 * Asks the server's parser where a script without a `param` block gets one: the end of its last
 * `using` statement (0 without any), or -1 when it has a param block or does not parse.
 */
const PARAM_BLOCK_SCRIPT = `param([string]$Script)
$ErrorActionPreference = 'Stop'
$errors = $null
$tokens = $null
$ast = [System.Management.Automation.Language.Parser]::ParseInput($Script, [ref]$tokens, [ref]$errors)
if ($null -eq $ast -or $errors.Count -gt 0 -or $null -ne $ast.ParamBlock) { return -1 }
$at = 0
foreach ($u in $ast.UsingStatements) { if ($u.Extent.EndOffset -gt $at) { $at = $u.Extent.EndOffset } }
$at
`

/**
 * Runs the user's script in a child scope with a working directory and environment variables, both
 * restored afterwards. Parameter names are prefixed so they cannot clash with the user's.
 */
const SCOPED_SCRIPT = `param([string]$PsrpScript, $PsrpParameters, $PsrpArguments, $PsrpCwd, $PsrpEnvironment)
$psrpSaved = @{}
if ($null -ne $PsrpEnvironment) {
  foreach ($psrpKey in @($PsrpEnvironment.Keys)) {
    $psrpSaved[$psrpKey] = [Environment]::GetEnvironmentVariable($psrpKey)
    [Environment]::SetEnvironmentVariable($psrpKey, [string]$PsrpEnvironment[$psrpKey])
  }
}
$psrpPushed = $false
try {
  if ($null -ne $PsrpCwd) { Push-Location -LiteralPath $PsrpCwd -ErrorAction Stop; $psrpPushed = $true }
  $psrpBlock = [scriptblock]::Create($PsrpScript)
  if ($null -eq $PsrpParameters) { $PsrpParameters = @{} }
  if ($null -eq $PsrpArguments) { $PsrpArguments = @() }
  $input | & $psrpBlock @PsrpArguments @PsrpParameters
} finally {
  if ($psrpPushed) { Pop-Location }
  foreach ($psrpKey in $psrpSaved.Keys) { [Environment]::SetEnvironmentVariable($psrpKey, $psrpSaved[$psrpKey]) }
}
`

/** A {@link RunCmdResult} with the output as bytes (`buffer`) or decoded text (default UTF-8). */
function cmdResult(
  stdout: Buffer,
  stderr: Buffer,
  rc: number,
  options: RunCmdOptions,
): RunCmdResult<string> | RunCmdResult<Buffer> {
  const encoding = options.encoding ?? 'utf8'
  if (encoding === 'buffer') return { stdout, stderr, rc }
  const errorText = stderr.toString(encoding)
  return {
    stdout: stdout.toString(encoding),
    stderr: options.rawStderr === true ? errorText : clixmlStderrToText(errorText),
    rc,
  }
}

/** Applies `signal`/`timeout` to a promise; `onCancel` runs when they fire. */
function withCancel<T>(
  work: Promise<T>,
  options: CallOptions,
  what: string,
  onCancel?: () => void,
): Promise<T> {
  // a cancelled wait leaves `work` to settle on its own: keep its rejection from going unhandled
  work.catch(() => undefined)
  return cancellable(work, options, what, onCancel)
}
