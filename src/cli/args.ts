/**
 * Argument parsing for the `psrp` subcommands: a small strict option parser, the connection flags
 * shared by `run`, `cmd`, `shell`, `copy` and `fetch`, and one parse function per subcommand. Pure:
 * no I/O, so the unit tests exercise it directly. Files named by flags (`--ca`, `--cert`, `--key`,
 * `-f`) are read later, by the command that runs.
 *
 * @module
 */

/** A command-line mistake: printed with the subcommand's usage hint, exit code 2. */
export class UsageError extends Error {
  /** The subcommand the mistake was made in (for the `--help` hint). */
  readonly command: string
  constructor(command: string, message: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

/** One option of {@link parseOptions}. */
export interface OptionSpec {
  /** `string` options take a value (`--port 5986` or `--port=5986`); `boolean` ones do not. */
  readonly type: 'string' | 'boolean'
  /** A one-letter alias (`-f`). */
  readonly short?: string
}

/** What {@link parseOptions} returns. */
export interface ParsedOptions {
  /** Values by long option name; a boolean option is `true` when given. */
  readonly values: Map<string, string | boolean>
  /** Arguments that are not options, in order. */
  readonly positionals: string[]
}

/**
 * Parses `argv` against `spec`. Unknown options are a {@link UsageError}. With
 * `stopAtPositional`, the first positional argument ends option parsing (everything after it is
 * positional, so `psrp cmd ping -n 1` passes `-n 1` to the remote program). `--` always ends options.
 */
export function parseOptions(
  command: string,
  argv: readonly string[],
  spec: Readonly<Record<string, OptionSpec>>,
  options: { stopAtPositional?: boolean } = {},
): ParsedOptions {
  const values = new Map<string, string | boolean>()
  const positionals: string[] = []
  const shorts = new Map<string, string>()
  for (const [name, s] of Object.entries(spec)) if (s.short !== undefined) shorts.set(s.short, name)
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    let name: string | undefined
    let inline: string | undefined
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      inline = eq < 0 ? undefined : arg.slice(eq + 1)
      if (!Object.hasOwn(spec, name)) throw new UsageError(command, `unknown option --${name}`)
    } else if (arg.startsWith('-') && arg.length === 2 && arg !== '-') {
      name = shorts.get(arg.slice(1))
      if (name === undefined) throw new UsageError(command, `unknown option ${arg}`)
    } else {
      positionals.push(arg)
      if (options.stopAtPositional === true) {
        positionals.push(...argv.slice(i + 1))
        break
      }
      continue
    }
    const s = spec[name] as OptionSpec
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(command, `--${name} takes no value`)
      values.set(name, true)
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new UsageError(command, `--${name} needs a value`)
    values.set(name, value)
  }
  return { values, positionals }
}

/** Authentication names accepted by `--auth`. */
export const AUTH_METHODS = ['basic', 'certificate', 'negotiate', 'ntlm', 'kerberos', 'credssp'] as const
/** One of {@link AUTH_METHODS}. */
export type AuthMethod = (typeof AUTH_METHODS)[number]

/** Values accepted by `--encryption`. */
export const ENCRYPTION_MODES = ['auto', 'always', 'never'] as const

/** The flags every connecting subcommand accepts. */
export const CONNECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  host: { type: 'string', short: 'H' },
  port: { type: 'string', short: 'p' },
  ssl: { type: 'boolean' },
  auth: { type: 'string', short: 'a' },
  user: { type: 'string', short: 'u' },
  local: { type: 'boolean' },
  'configuration-name': { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  encryption: { type: 'string' },
  'allow-unencrypted': { type: 'boolean' },
  timeout: { type: 'string', short: 't' },
  help: { type: 'boolean', short: 'h' },
}

/** Help text of the connection flags (shared by every connecting subcommand's `--help`). */
export const CONNECTION_HELP = `connection (default: a local pwsh, as with --local):
  -H, --host <name>        WinRM server; without it the command runs in a local \`pwsh -s\`
  -p, --port <n>           port (default 5986 with --ssl, else 5985)
      --ssl                HTTPS (default plain HTTP with WinRM message encryption)
  -a, --auth <method>      basic | certificate | ntlm | negotiate | kerberos | credssp
                           (default: certificate with --cert, else ntlm)
  -u, --user <name>        user name; the password comes from PSRP_PASSWORD or a prompt
      --local              run in a local pwsh even if --host is given elsewhere
      --configuration-name <name>
                           PowerShell endpoint (session configuration, e.g. a JEA endpoint)
  -k, --insecure           do not validate the server certificate (prints a warning)
      --ca <file>          trust the CA certificates in this PEM file
      --cert <file>        client certificate (PEM) for --auth certificate
      --key <file>         its private key (PEM); passphrase from PSRP_KEY_PASSPHRASE
      --encryption <mode>  auto | always | never: WinRM message encryption (default auto)
      --allow-unencrypted  allow credentials or SOAP in clear text over plain HTTP
                           (Basic over HTTP, --encryption never); prints a warning
  -t, --timeout <seconds>  time limit for connecting and for the command (shell: connecting)
  -h, --help               this help`

/** Where to connect, as parsed from the flags (files not read yet, password not asked yet). */
export type ConnectionSpec =
  | { readonly kind: 'local'; readonly timeoutMs?: number }
  | {
      readonly kind: 'wsman'
      readonly server: string
      readonly port?: number
      readonly ssl: boolean
      readonly auth: AuthMethod
      readonly username?: string
      readonly configurationName?: string
      readonly insecure: boolean
      readonly caFile?: string
      readonly certFile?: string
      readonly keyFile?: string
      readonly encryption?: (typeof ENCRYPTION_MODES)[number]
      readonly allowUnencrypted: boolean
      readonly timeoutMs?: number
    }

function str(values: Map<string, string | boolean>, name: string): string | undefined {
  const v = values.get(name)
  return typeof v === 'string' ? v : undefined
}

function positiveNumber(
  command: string,
  flag: string,
  text: string | undefined,
  max: number,
): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0) || n > max)
    throw new UsageError(
      command,
      `--${flag} must be a number between 0 and ${max}, got ${JSON.stringify(text)}`,
    )
  return n
}

/** Builds the {@link ConnectionSpec} from parsed flags; inconsistent flags are a {@link UsageError}. */
export function connectionSpec(command: string, values: Map<string, string | boolean>): ConnectionSpec {
  const timeout = positiveNumber(command, 'timeout', str(values, 'timeout'), 86_400)
  const timeoutMs = timeout === undefined ? undefined : Math.round(timeout * 1000)
  const server = str(values, 'host')
  if (values.get('local') === true || server === undefined) {
    const remoteOnly = [
      'port',
      'ssl',
      'auth',
      'user',
      'insecure',
      'ca',
      'cert',
      'key',
      'encryption',
      'allow-unencrypted',
      'configuration-name',
    ]
    const given = remoteOnly.filter((f) => values.has(f))
    if (given.length > 0)
      throw new UsageError(
        command,
        `${given.map((f) => `--${f}`).join(', ')} need${given.length === 1 ? 's' : ''} --host (a local pwsh takes no connection flags)`,
      )
    return { kind: 'local', ...(timeoutMs === undefined ? {} : { timeoutMs }) }
  }
  if (server === '') throw new UsageError(command, '--host must not be empty')
  const configurationName = str(values, 'configuration-name')
  const port = positiveNumber(command, 'port', str(values, 'port'), 65_535)
  if (port !== undefined && !Number.isInteger(port))
    throw new UsageError(command, '--port must be an integer')
  const certFile = str(values, 'cert')
  const keyFile = str(values, 'key')
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError(command, '--cert and --key go together')
  const authText = str(values, 'auth') ?? (certFile !== undefined ? 'certificate' : 'ntlm')
  if (!(AUTH_METHODS as readonly string[]).includes(authText))
    throw new UsageError(
      command,
      `--auth must be one of ${AUTH_METHODS.join(', ')}, got ${JSON.stringify(authText)}`,
    )
  const auth = authText as AuthMethod
  const ssl = values.get('ssl') === true
  if (auth === 'certificate' && certFile === undefined)
    throw new UsageError(command, '--auth certificate needs --cert and --key')
  if (auth === 'certificate' && !ssl) throw new UsageError(command, '--auth certificate needs --ssl')
  if (auth !== 'certificate' && certFile !== undefined)
    throw new UsageError(command, '--cert/--key are for --auth certificate')
  const username = str(values, 'user')
  if (auth !== 'certificate' && username === undefined)
    throw new UsageError(command, `--auth ${auth} needs --user`)
  const encryption = str(values, 'encryption')
  if (encryption !== undefined && !(ENCRYPTION_MODES as readonly string[]).includes(encryption))
    throw new UsageError(command, `--encryption must be one of ${ENCRYPTION_MODES.join(', ')}`)
  const insecure = values.get('insecure') === true
  if (insecure && !ssl) throw new UsageError(command, '--insecure applies to --ssl only')
  const caFile = str(values, 'ca')
  if (caFile !== undefined && !ssl) throw new UsageError(command, '--ca applies to --ssl only')
  return {
    kind: 'wsman',
    server,
    ssl,
    auth,
    insecure,
    allowUnencrypted: values.get('allow-unencrypted') === true,
    ...(port === undefined ? {} : { port }),
    ...(username === undefined ? {} : { username }),
    ...(configurationName === undefined ? {} : { configurationName }),
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
    ...(encryption === undefined ? {} : { encryption: encryption as (typeof ENCRYPTION_MODES)[number] }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  }
}

/** `psrp run`. */
export interface RunArgs {
  readonly help: boolean
  readonly connection: ConnectionSpec
  /** The script text, or undefined when it comes from {@link file}. */
  readonly script?: string
  /** `-f <file>`: the script file (`-` for stdin). */
  readonly file?: string
  /** `--json`: one JSON object per output value instead of formatted text. */
  readonly json: boolean
  /** `--width <n>`: formatting width (default the terminal's columns, else 120). */
  readonly width?: number
}

/** Help of `psrp run`. */
export const RUN_HELP = `usage: psrp run [options] <script>
       psrp run [options] -f <file>      (- reads the script from stdin)

Runs a PowerShell script and prints its output as PowerShell formats it (on the server, with
Out-String -Stream), or with --json one JSON object per line. Error, warning, verbose, debug and
information records go to stderr. Exit code 1 when the script failed or wrote an error record.

  -f, --file <file>        read the script from a file
      --json               print each output object as JSON (typed values keep their .NET type)
  -w, --width <n>          formatting width (default: the terminal's columns, else 120)

${CONNECTION_HELP}`

/** Parses `psrp run` arguments. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const { values, positionals } = parseOptions('run', argv, {
    ...CONNECTION_OPTIONS,
    file: { type: 'string', short: 'f' },
    json: { type: 'boolean' },
    width: { type: 'string', short: 'w' },
  })
  const help = values.get('help') === true
  const connection = connectionSpec('run', values)
  const width = positiveNumber('run', 'width', str(values, 'width'), 10_000)
  const file = str(values, 'file')
  const base = {
    help,
    connection,
    json: values.get('json') === true,
    ...(width === undefined ? {} : { width: Math.floor(width) }),
  }
  if (help) return base
  if (file !== undefined) {
    if (positionals.length > 0) throw new UsageError('run', 'give either a script or -f <file>, not both')
    return { ...base, file }
  }
  if (positionals.length === 0) throw new UsageError('run', 'missing the script (or -f <file>)')
  if (positionals.length > 1)
    throw new UsageError('run', `one script argument expected (quote it), got ${positionals.length}`)
  return { ...base, script: positionals[0] as string }
}

/** `psrp cmd`. */
export interface CmdArgs {
  readonly help: boolean
  readonly connection: ConnectionSpec
  readonly executable: string
  readonly args: readonly string[]
  /** `--no-cmd-shell`: run the program directly instead of through `cmd.exe /c`. */
  readonly skipCmdShell: boolean
}

/** Help of `psrp cmd`. */
export const CMD_HELP = `usage: psrp cmd --host <server> [options] <exe> [args…]

Runs a program in a WinRS shell on a WinRM server; its stdout and stderr stream to ours as it runs
and psrp exits with the program's exit code. Options end at <exe>: later arguments go to the
program. Stdin is forwarded when it is not a terminal. Ctrl+C sends ctrl_c to the program; a second
Ctrl+C terminates it (exit code 130).

      --no-cmd-shell       run <exe> directly instead of through cmd.exe /c

${CONNECTION_HELP}`

/** Parses `psrp cmd` arguments. */
export function parseCmdArgs(argv: readonly string[]): CmdArgs {
  const { values, positionals } = parseOptions(
    'cmd',
    argv,
    { ...CONNECTION_OPTIONS, 'no-cmd-shell': { type: 'boolean' } },
    { stopAtPositional: true },
  )
  const help = values.get('help') === true
  const connection = connectionSpec('cmd', values)
  const [executable, ...args] = positionals
  const base = { help, connection, skipCmdShell: values.get('no-cmd-shell') === true }
  if (help) return { ...base, executable: '', args: [] }
  if (connection.kind === 'local')
    throw new UsageError('cmd', 'WinRS needs a WinRM server: give --host (and --user)')
  if (executable === undefined || executable === '') throw new UsageError('cmd', 'missing the program to run')
  return { ...base, executable, args }
}

/** `psrp shell`. */
export interface ShellArgs {
  readonly help: boolean
  readonly connection: ConnectionSpec
}

/** Help of `psrp shell`. */
export const SHELL_HELP = `usage: psrp shell [options]

An interactive PowerShell console on the server, like Enter-PSSession: the remote prompt function,
line editing and history, Tab completion (the remote TabExpansion2), multi-line input (a \`>> \`
prompt while a statement is incomplete), Ctrl+C stops the running command, Read-Host and
Get-Credential are answered here (secure input masked), progress is drawn as a bar. \`exit\` or
Ctrl+D ends the session.

${CONNECTION_HELP}`

/** Parses `psrp shell` arguments. */
export function parseShellArgs(argv: readonly string[]): ShellArgs {
  const { values, positionals } = parseOptions('shell', argv, CONNECTION_OPTIONS)
  const help = values.get('help') === true
  const connection = connectionSpec('shell', values)
  if (!help && positionals.length > 0)
    throw new UsageError('shell', `unexpected arguments ${JSON.stringify(positionals)}`)
  return { help, connection }
}

/** `psrp copy` / `psrp fetch`. */
export interface TransferArgs {
  readonly help: boolean
  readonly direction: 'copy' | 'fetch'
  readonly connection: ConnectionSpec
  readonly source: string
  readonly destination: string
  /** `--force`: replace an existing destination file. */
  readonly overwrite: boolean
  /** `--expand`: expand PowerShell variables (`$env:TEMP`) in the remote path. */
  readonly expandVariables: boolean
  /** `--no-progress`: never draw the progress bar. */
  readonly progress: boolean
}

/** Help of `psrp copy` and `psrp fetch`. */
export function transferHelp(direction: 'copy' | 'fetch'): string {
  const what =
    direction === 'copy'
      ? 'usage: psrp copy [options] <local file> <remote path>\n\nCopies a local file to the server.'
      : 'usage: psrp fetch [options] <remote path> <local file>\n\nCopies a file from the server.'
  return `${what} On a terminal a progress bar shows bytes, rate and ETA.

      --force              replace an existing destination file
      --expand             expand variables in the remote path ($env:TEMP\\x.bin); the path is
                           then evaluated by PowerShell, so use it with trusted paths only
      --no-progress        no progress bar

${CONNECTION_HELP}`
}

/** Parses `psrp copy` / `psrp fetch` arguments. */
export function parseTransferArgs(direction: 'copy' | 'fetch', argv: readonly string[]): TransferArgs {
  const { values, positionals } = parseOptions(direction, argv, {
    ...CONNECTION_OPTIONS,
    force: { type: 'boolean' },
    expand: { type: 'boolean' },
    'no-progress': { type: 'boolean' },
  })
  const help = values.get('help') === true
  const connection = connectionSpec(direction, values)
  const base = {
    help,
    direction,
    connection,
    overwrite: values.get('force') === true,
    expandVariables: values.get('expand') === true,
    progress: values.get('no-progress') !== true,
  }
  if (help) return { ...base, source: '', destination: '' }
  if (positionals.length !== 2)
    throw new UsageError(direction, `expected <source> <destination>, got ${positionals.length} argument(s)`)
  const [source, destination] = positionals as [string, string]
  if (source === '' || destination === '') throw new UsageError(direction, 'paths must not be empty')
  return { ...base, source, destination }
}
