/**
 * Turns a parsed {@link ConnectionSpec} into a live connection: reads the `--ca`/`--cert`/`--key`
 * files, takes the password from `PSRP_PASSWORD` or asks for it (masked) on the terminal, prints the
 * warnings of `--insecure` and `--allow-unencrypted`, and opens runspace pools or WinRS shells over
 * WinRM, a local pwsh, SSH (`ssh.ts`) or a named pipe.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import {
  Client,
  NamedPipeConnection,
  pipePath,
  ProcessConnection,
  RunspacePool,
  TransportError,
  WinRSShell,
  WSManConnection,
  type ClientOptions,
  type PSHost,
  type WSManConnectionOptions,
} from '../index.ts'
import { UsageError, type ConnectionSpec, type PipeTarget } from './args.ts'
import { withSshConnection } from './ssh.ts'
import {
  paint,
  readSecret,
  wantsColour,
  Colour,
  type TerminalInput,
  type TerminalOutput,
} from './terminal.ts'

/** Where {@link openSession} reads secrets and writes warnings. */
export interface ConnectIO {
  readonly env: NodeJS.ProcessEnv
  readonly input: TerminalInput
  readonly error: TerminalOutput
}

/** A connection ready to open pools (and, for WinRM, WinRS shells); {@link close} releases it. */
export interface Session {
  /** `local` (a pwsh child process), `wsman`, `ssh` or `pipe`; only `wsman` has WinRS. */
  readonly kind: ConnectionSpec['kind']
  /** A label for prompts: the server name, or `localhost`. */
  readonly label: string
  /** Opens a runspace pool with `host`. */
  openPool(host: PSHost): Promise<RunspacePool>
  /** Opens a WinRS shell (WinRM only). */
  openWinRS(): Promise<WinRSShell>
  /** Closes what was opened (the pool closes itself; this releases HTTP sockets). */
  close(): Promise<void>
}

function readFile(command: string, flag: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (e) {
    throw new UsageError(command, `--${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
}

/** Prints a `psrp: warning: …` line on stderr (yellow on a TTY). */
export function warn(error: TerminalOutput, text: string): void {
  const line = `psrp: warning: ${text}`
  error.write(`${wantsColour(error) ? paint(line, Colour.Yellow) : line}\n`)
}

/** The password: `PSRP_PASSWORD`, else a masked prompt on a terminal, else a usage error. */
async function password(command: string, user: string, server: string, io: ConnectIO): Promise<string> {
  const env = io.env['PSRP_PASSWORD']
  if (env !== undefined) return env
  if (io.input.isTTY !== true)
    throw new UsageError(command, 'no password: set PSRP_PASSWORD (stdin is not a terminal to ask on)')
  return readSecret(`Password for ${user}@${server}: `, io.input, io.error)
}

/** Builds the {@link WSManConnectionOptions} of a WinRM spec (reading files and the password). */
export async function wsmanOptions(
  command: string,
  spec: Extract<ConnectionSpec, { kind: 'wsman' }>,
  io: ConnectIO,
): Promise<WSManConnectionOptions> {
  if (spec.insecure) warn(io.error, `--insecure: the certificate of ${spec.server} is not validated`)
  if (spec.allowUnencrypted && !spec.ssl)
    warn(io.error, '--allow-unencrypted: credentials or messages may cross the network in clear text')
  // a certificate needs none; Kerberos without a user takes its ticket from the cache
  const needsPassword =
    spec.auth !== 'certificate' && !(spec.auth === 'kerberos' && spec.username === undefined)
  const passphrase = io.env['PSRP_KEY_PASSPHRASE']
  return {
    server: spec.server,
    ssl: spec.ssl,
    auth: spec.auth,
    ...(spec.port === undefined ? {} : { port: spec.port }),
    ...(spec.username === undefined ? {} : { username: spec.username }),
    ...(needsPassword ? { password: await password(command, spec.username ?? '', spec.server, io) } : {}),
    ...(spec.caFile === undefined ? {} : { ca: readFile(command, 'ca', spec.caFile) }),
    ...(spec.certFile === undefined || spec.keyFile === undefined
      ? {}
      : {
          certificate: {
            cert: readFile(command, 'cert', spec.certFile),
            key: readFile(command, 'key', spec.keyFile),
            ...(passphrase === undefined ? {} : { passphrase }),
          },
        }),
    ...(spec.insecure ? { rejectUnauthorized: false } : {}),
    ...(spec.encryption === undefined ? {} : { encryption: spec.encryption }),
    ...(spec.allowUnencrypted ? { allowUnencryptedBasic: true, allowUnencrypted: true } : {}),
    ...(spec.configurationName === undefined ? {} : { configurationName: spec.configurationName }),
    ...(spec.timeoutMs === undefined ? {} : { connectTimeout: spec.timeoutMs }),
  }
}

/**
 * How long a missing pipe socket is looked for: pwsh re-creates its listener after each client, and
 * a pwsh started just before (`pwsh -CustomPipeName x … &` then `psrp run --pipe x`) creates it only
 * once it has started, which took over a second on a loaded machine (the README's snippet failed with
 * 1 s).
 */
const PIPE_APPEAR_MS = 5_000

/**
 * Fails at once, naming the pipe and where it looked, when the socket of a `--pipe <name|path>`
 * does not exist (the library would wait for it until the connect timeout). A process id is looked
 * up by the library, which fails at once too.
 */
export async function checkPipeExists(target: PipeTarget): Promise<void> {
  if ('pid' in target) return
  const path = 'path' in target ? target.path : pipePath(target.pipeName)
  const deadline = Date.now() + PIPE_APPEAR_MS
  while (!existsSync(path)) {
    if (Date.now() >= deadline) {
      throw new TransportError(
        'pipeName' in target
          ? `no PowerShell pipe named '${target.pipeName}': ${path} does not exist (is a pwsh started ` +
              `with -CustomPipeName ${target.pipeName} running as this user, with the same TMPDIR?)`
          : `no PowerShell pipe at ${path}: it does not exist`,
      )
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function pipeConnection(spec: Extract<ConnectionSpec, { kind: 'pipe' }>): Promise<NamedPipeConnection> {
  await checkPipeExists(spec.target)
  return new NamedPipeConnection({
    ...spec.target,
    ...(spec.timeoutMs === undefined ? {} : { connectTimeout: spec.timeoutMs }),
  })
}

function noWinRS(command: string, kind: string): Promise<never> {
  return Promise.reject(
    new UsageError(command, `WinRS needs a WinRM server (--host); this is a ${kind} connection`),
  )
}

/** A high-level {@link Client} on the connection `spec` names, and how to release it. */
export interface OpenedClient {
  readonly client: Client
  /** Closes the client and the connection. */
  close(): Promise<void>
}

/**
 * A {@link Client} for `spec`. Over SSH the pool is opened here already, so that a refused login can
 * ask for a password and try again before any work starts.
 */
export async function openClient(
  command: string,
  spec: ConnectionSpec,
  io: ConnectIO,
  options: ClientOptions = {},
): Promise<OpenedClient> {
  if (spec.kind === 'ssh') {
    const client = await withSshConnection(command, spec, io, async (conn) => {
      const c = new Client(conn, options)
      try {
        await c.pool()
        return c
      } catch (e) {
        await c.close().catch(() => undefined)
        throw e
      }
    })
    return { client, close: () => client.close() }
  }
  if (spec.kind === 'wsman') {
    const conn = new WSManConnection(await wsmanOptions(command, spec, io))
    const client = new Client(conn, options)
    return {
      client,
      close: async () => {
        await client.close()
        // the client closes only connections it created itself
        await conn.close()
      },
    }
  }
  const conn =
    spec.kind === 'pipe'
      ? await pipeConnection(spec)
      : new ProcessConnection(spec.timeoutMs === undefined ? {} : { connectTimeout: spec.timeoutMs })
  // an OutOfProc connection ends with its pool, which the client closes
  const client = new Client(conn, options)
  return { client, close: () => client.close() }
}

/** Opens a {@link Session} for `spec` (nothing is contacted until a pool or shell is opened). */
export async function openSession(command: string, spec: ConnectionSpec, io: ConnectIO): Promise<Session> {
  const openTimeout = spec.timeoutMs ?? 120_000
  if (spec.kind === 'local') {
    return {
      kind: 'local',
      label: 'localhost',
      openPool: (host) => RunspacePool.open(new ProcessConnection(), { host, timeout: openTimeout }),
      openWinRS: () => noWinRS(command, 'local pwsh'),
      close: async () => undefined,
    }
  }
  if (spec.kind === 'ssh') {
    return {
      kind: 'ssh',
      label: spec.host,
      openPool: (host) =>
        withSshConnection(command, spec, io, (conn) =>
          RunspacePool.open(conn, { host, timeout: openTimeout }),
        ),
      openWinRS: () => noWinRS(command, 'SSH'),
      close: async () => undefined,
    }
  }
  if (spec.kind === 'pipe') {
    return {
      kind: 'pipe',
      label: 'localhost',
      openPool: async (host) => RunspacePool.open(await pipeConnection(spec), { host, timeout: openTimeout }),
      openWinRS: () => noWinRS(command, 'named-pipe'),
      close: async () => undefined,
    }
  }
  const conn = new WSManConnection(await wsmanOptions(command, spec, io))
  return {
    kind: 'wsman',
    label: spec.server,
    openPool: (host) =>
      RunspacePool.open(conn, {
        host,
        timeout: openTimeout,
        ...(spec.configurationName === undefined ? {} : { configurationName: spec.configurationName }),
      }),
    openWinRS: () =>
      WinRSShell.open(
        conn,
        spec.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(spec.timeoutMs) },
      ),
    close: () => conn.close(),
  }
}
