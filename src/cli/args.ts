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
  ssh: { type: 'string' },
  pipe: { type: 'string' },
  local: { type: 'boolean' },
  port: { type: 'string', short: 'p' },
  ssl: { type: 'boolean' },
  auth: { type: 'string', short: 'a' },
  user: { type: 'string', short: 'u' },
  'configuration-name': { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  encryption: { type: 'string' },
  'allow-unencrypted': { type: 'boolean' },
  identity: { type: 'string', short: 'i' },
  'known-hosts': { type: 'string' },
  'host-key': { type: 'string' },
  subsystem: { type: 'string' },
  timeout: { type: 'string', short: 't' },
  help: { type: 'boolean', short: 'h' },
}

/** Help text of the connection flags (shared by every connecting subcommand's `--help`). */
export const CONNECTION_HELP = `connection (one of --host, --ssh, --pipe; default: a local pwsh, as with --local):
  -H, --host <name>        WinRM server
      --ssh [user@]host[:port]
                           PowerShell over SSH (the server's \`powershell\` subsystem)
      --pipe <pid|name|path>
                           attach to a running pwsh on this machine through its IPC pipe (as
                           Enter-PSHostProcess): a process id, a -CustomPipeName, or a socket path
      --local              a local \`pwsh -s\` (the default)
  -p, --port <n>           port (WinRM: default 5986 with --ssl, else 5985; SSH: default 22)
  -u, --user <name>        user name; the password comes from PSRP_PASSWORD or a prompt
  -t, --timeout <seconds>  time limit for connecting and for the command (shell: connecting)
  -h, --help               this help

WinRM (--host):
      --ssl                HTTPS (default plain HTTP with WinRM message encryption)
  -a, --auth <method>      basic | certificate | ntlm | negotiate | kerberos | credssp
                           (default: certificate with --cert, else negotiate)
      --configuration-name <name>
                           PowerShell endpoint (session configuration, e.g. a JEA endpoint)
  -k, --insecure           do not validate the server certificate (prints a warning)
      --ca <file>          trust the CA certificates in this PEM file
      --cert <file>        client certificate (PEM) for --auth certificate
      --key <file>         its private key (PEM); passphrase from PSRP_KEY_PASSPHRASE
      --encryption <mode>  auto | always | never: WinRM message encryption (default auto)
      --allow-unencrypted  allow credentials or SOAP in clear text over plain HTTP
                           (Basic over HTTP, --encryption never); prints a warning

SSH (--ssh); ~/.ssh/config (HostName, User, Port, IdentityFile, …) applies:
  -i, --identity <file>    private key; passphrase from PSRP_SSH_PASSPHRASE or a prompt.
                           Without it the ssh-agent (SSH_AUTH_SOCK) and ~/.ssh/id_* are tried.
                           PSRP_PASSWORD, if set, is offered as the password; else, when the keys
                           are refused, the password is asked for on the terminal
      --known-hosts <file> verify the host key against this file (default ~/.ssh/known_hosts,
                           /etc/ssh/ssh_known_hosts); an unknown key is an error, never accepted
      --host-key <SHA256:…>
                           accept exactly this host key fingerprint (as ssh-keygen -l prints it)
      --subsystem <name>   the server's subsystem running pwsh (default powershell)`

/** Which running pwsh `--pipe` attaches to: a process id, a pipe name or a socket path. */
export type PipeTarget = { readonly pid: number } | { readonly pipeName: string } | { readonly path: string }

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
  | {
      readonly kind: 'ssh'
      /** Host name, address or `~/.ssh/config` alias (IPv6 without brackets). */
      readonly host: string
      readonly port?: number
      readonly username?: string
      /** `-i`: the private key file. */
      readonly identityFile?: string
      /** `--known-hosts`: the known_hosts file to verify against. */
      readonly knownHostsFile?: string
      /** `--host-key`: the one accepted host key fingerprint. */
      readonly hostKeyFingerprint?: string
      readonly subsystem?: string
      readonly timeoutMs?: number
    }
  | { readonly kind: 'pipe'; readonly target: PipeTarget; readonly timeoutMs?: number }

/** The flags that belong to WinRM (`--host`) only. */
const WINRM_FLAGS = [
  'ssl',
  'auth',
  'insecure',
  'ca',
  'cert',
  'key',
  'encryption',
  'allow-unencrypted',
  'configuration-name',
] as const
/** The flags that belong to SSH (`--ssh`) only. */
const SSH_FLAGS = ['identity', 'known-hosts', 'host-key', 'subsystem'] as const
/** The target flags: at most one of them. */
const TARGET_FLAGS = ['host', 'ssh', 'pipe', 'local'] as const

/**
 * Splits `--ssh [user@]host[:port]`. The user is everything before the last `@` (so `a@corp@h`
 * works); an IPv6 address takes brackets when a port follows (`[::1]:2222`; a bare `::1` is a host).
 */
export function parseSshTarget(
  command: string,
  text: string,
): { host: string; username?: string; port?: number } {
  const at = text.lastIndexOf('@')
  const username = at < 0 ? undefined : text.slice(0, at)
  let rest = at < 0 ? text : text.slice(at + 1)
  let portText: string | undefined
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0) throw new UsageError(command, `--ssh ${JSON.stringify(text)}: missing ']'`)
    const after = rest.slice(close + 1)
    if (after !== '' && !after.startsWith(':'))
      throw new UsageError(command, `--ssh ${JSON.stringify(text)}: unexpected text after ']'`)
    portText = after === '' ? undefined : after.slice(1)
    rest = rest.slice(1, close)
  } else {
    const colon = rest.indexOf(':')
    if (colon >= 0 && colon === rest.lastIndexOf(':')) {
      portText = rest.slice(colon + 1)
      rest = rest.slice(0, colon)
    }
  }
  if (username === '')
    throw new UsageError(command, `--ssh ${JSON.stringify(text)}: empty user name before '@'`)
  if (rest === '') throw new UsageError(command, `--ssh ${JSON.stringify(text)}: missing the host`)
  let port: number | undefined
  if (portText !== undefined) {
    port = Number(portText)
    if (!/^\d+$/.test(portText) || port < 1 || port > 65_535)
      throw new UsageError(command, `--ssh ${JSON.stringify(text)}: the port must be 1 to 65535`)
  }
  return {
    host: rest,
    ...(username === undefined ? {} : { username }),
    ...(port === undefined ? {} : { port }),
  }
}

/** `--pipe`: digits are a process id, a text with `/` or `\\` a socket/pipe path, else a pipe name. */
export function parsePipeTarget(command: string, text: string): PipeTarget {
  if (text === '') throw new UsageError(command, '--pipe must not be empty')
  if (/^\d+$/.test(text)) {
    const pid = Number(text)
    if (!Number.isSafeInteger(pid) || pid < 1)
      throw new UsageError(command, `--pipe ${text}: not a process id`)
    return { pid }
  }
  if (text.includes('/') || text.includes('\\')) return { path: text }
  return { pipeName: text }
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

const flagList = (flags: readonly string[]): string => flags.map((f) => `--${f}`).join(', ')

/** Builds the {@link ConnectionSpec} from parsed flags; inconsistent flags are a {@link UsageError}. */
export function connectionSpec(command: string, values: Map<string, string | boolean>): ConnectionSpec {
  const timeout = positiveNumber(command, 'timeout', str(values, 'timeout'), 86_400)
  const timeoutMs = timeout === undefined ? undefined : Math.round(timeout * 1000)
  const targets = TARGET_FLAGS.filter((f) => values.has(f))
  if (targets.length > 1)
    throw new UsageError(
      command,
      `${targets.map((f) => `--${f}`).join(' and ')} conflict: give one of --host (WinRM), --ssh (SSH), ` +
        '--pipe (a local pwsh process) or --local',
    )
  const target = targets[0] ?? 'local'
  const given = (flags: readonly string[]): string[] => flags.filter((f) => values.has(f))
  const winrmOnly = given(WINRM_FLAGS)
  const sshOnly = given(SSH_FLAGS)
  if (target !== 'host' && winrmOnly.length > 0) {
    if (target === 'ssh' && values.has('insecure'))
      throw new UsageError(
        command,
        '--insecure is for WinRM over HTTPS; SSH host keys are always verified: add the key to a ' +
          'known_hosts file (--known-hosts <file>) or pin it with --host-key <SHA256:…>',
      )
    throw new UsageError(
      command,
      `${flagList(winrmOnly)} need${winrmOnly.length === 1 ? 's' : ''} --host (WinRM)` +
        (target === 'local' ? ' (a local pwsh takes no connection flags)' : ''),
    )
  }
  if (target !== 'ssh' && sshOnly.length > 0)
    throw new UsageError(command, `${flagList(sshOnly)} need${sshOnly.length === 1 ? 's' : ''} --ssh`)
  if (target === 'local' || target === 'pipe') {
    const shared = given(['port', 'user'])
    if (shared.length > 0)
      throw new UsageError(
        command,
        `${flagList(shared)} need${shared.length === 1 ? 's' : ''} --host or --ssh` +
          (target === 'local'
            ? ' (a local pwsh takes no connection flags)'
            : ' (a pipe has no port or user)'),
      )
    const t = timeoutMs === undefined ? {} : { timeoutMs }
    if (target === 'local') return { kind: 'local', ...t }
    return { kind: 'pipe', target: parsePipeTarget(command, str(values, 'pipe') as string), ...t }
  }
  const port = positiveNumber(command, 'port', str(values, 'port'), 65_535)
  if (port !== undefined && !Number.isInteger(port))
    throw new UsageError(command, '--port must be an integer')
  if (target === 'ssh') return sshSpec(command, values, port, timeoutMs)
  const server = str(values, 'host') as string
  if (server === '') throw new UsageError(command, '--host must not be empty')
  const configurationName = str(values, 'configuration-name')
  const certFile = str(values, 'cert')
  const keyFile = str(values, 'key')
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError(command, '--cert and --key go together')
  const authText = str(values, 'auth') ?? (certFile !== undefined ? 'certificate' : 'negotiate')
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
  // Kerberos without --user uses the ticket cache (KRB5CCNAME, as after kinit)
  if (auth !== 'certificate' && auth !== 'kerberos' && username === undefined)
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

/** The SSH part of {@link connectionSpec}. */
function sshSpec(
  command: string,
  values: Map<string, string | boolean>,
  port: number | undefined,
  timeoutMs: number | undefined,
): ConnectionSpec {
  const target = parseSshTarget(command, str(values, 'ssh') as string)
  const user = str(values, 'user')
  if (user !== undefined && target.username !== undefined)
    throw new UsageError(command, 'give the user either as --ssh user@host or with --user, not both')
  if (port !== undefined && target.port !== undefined)
    throw new UsageError(command, 'give the port either as --ssh host:port or with --port, not both')
  if (user === '') throw new UsageError(command, '--user must not be empty')
  const username = user ?? target.username
  const sshPort = port ?? target.port
  const identityFile = str(values, 'identity')
  const knownHostsFile = str(values, 'known-hosts')
  const hostKeyFingerprint = str(values, 'host-key')
  const subsystem = str(values, 'subsystem')
  if (identityFile === '') throw new UsageError(command, '--identity must not be empty')
  if (knownHostsFile === '') throw new UsageError(command, '--known-hosts must not be empty')
  if (subsystem === '') throw new UsageError(command, '--subsystem must not be empty')
  if (knownHostsFile !== undefined && hostKeyFingerprint !== undefined)
    throw new UsageError(command, 'give either --known-hosts or --host-key, not both')
  if (
    hostKeyFingerprint !== undefined &&
    !/^(SHA256:[A-Za-z0-9+/]{43}=?|(MD5:)?([0-9a-f]{2}:){15}[0-9a-f]{2})$/i.test(hostKeyFingerprint)
  )
    throw new UsageError(
      command,
      `--host-key must be a fingerprint as ssh-keygen -l prints it (SHA256:…), got ${JSON.stringify(hostKeyFingerprint)}`,
    )
  return {
    kind: 'ssh',
    host: target.host,
    ...(sshPort === undefined ? {} : { port: sshPort }),
    ...(username === undefined ? {} : { username }),
    ...(identityFile === undefined ? {} : { identityFile }),
    ...(knownHostsFile === undefined ? {} : { knownHostsFile }),
    ...(hostKeyFingerprint === undefined ? {} : { hostKeyFingerprint }),
    ...(subsystem === undefined ? {} : { subsystem }),
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
  /**
   * False with `-n`/`--no-stdin`: piped stdin is not passed to the script as pipeline input
   * (`$input`). Stdin that is a terminal never is, nor is it with `-f -`.
   */
  readonly stdin: boolean
}

/** Help of `psrp run`. */
export const RUN_HELP = `usage: psrp run [options] <script>
       psrp run [options] -f <file>      (- reads the script from stdin)

Runs a PowerShell script and prints its output as PowerShell formats it (on the server, with
Out-String -Stream), or with --json one JSON object per line. Error, warning, verbose, debug and
information records go to stderr; errors look as pwsh 7 shows them (Exception: …, Write-Error: …).
When stdin is not a terminal its lines are the script's pipeline input ($input), as with pwsh -c:
  printf 'a\nb\n' | psrp run '$input | % { "got $_" }'
Exit code: the script's \`exit n\`; else 1 when it failed or wrote an error record; 130 after
Ctrl+C; 141 when stdout was closed by its reader (| head): the remote pipeline is stopped.

  -f, --file <file>        read the script from a file
      --json               print each output object as JSON (typed values keep their .NET type;
                           an object reached twice is written once with "$id", then {"$ref": id})
  -w, --width <n>          formatting width (default: the terminal's columns, else 120)
  -n, --no-stdin           do not pass piped stdin as pipeline input (as ssh -n): for callers
                           whose stdin stays open, or to leave piped lines to Read-Host

${CONNECTION_HELP}`

/** Parses `psrp run` arguments. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const { values, positionals } = parseOptions('run', argv, {
    ...CONNECTION_OPTIONS,
    file: { type: 'string', short: 'f' },
    json: { type: 'boolean' },
    width: { type: 'string', short: 'w' },
    'no-stdin': { type: 'boolean', short: 'n' },
  })
  const help = values.get('help') === true
  const connection = connectionSpec('run', values)
  const width = positiveNumber('run', 'width', str(values, 'width'), 10_000)
  const file = str(values, 'file')
  const base = {
    help,
    connection,
    json: values.get('json') === true,
    stdin: values.get('no-stdin') !== true,
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
  /** `--no-cmd-shell`: run the program directly instead of through `cmd.exe /c` (WinRS only). */
  readonly skipCmdShell: boolean
  /** False with `-n`/`--no-stdin`: our stdin is not forwarded even when it is not a terminal. */
  readonly stdin: boolean
}

/** Help of `psrp cmd`. */
export const CMD_HELP = `usage: psrp cmd [options] <exe> [args…]

Runs a program and exits with its exit code; its stdout and stderr stream to ours as it runs.
Options end at <exe>: later arguments go to the program unchanged.

Over WinRM (--host) the program runs in a WinRS shell: output is passed through byte for byte,
stdin is forwarded when it is not a terminal, Ctrl+C sends ctrl_c to the program and a second
Ctrl+C terminates it (exit code 130).

Over SSH, --pipe and a local pwsh (no WinRS there) PowerShell runs it, as \`& <exe> @args\`:
output arrives line by line as text (a missing final newline is added), each stderr line is an
error record printed on stderr, piped stdin is passed in as lines, and the exit code is
$LASTEXITCODE (127 when the program is not found). Ctrl+C stops it (exit code 130).
When stdout is closed by its reader (| head) the program is stopped and the exit code is 141.

  -n, --no-stdin           do not forward stdin (as ssh -n; for scripts whose stdin stays open)
      --no-cmd-shell       WinRM: run <exe> directly instead of through cmd.exe /c

${CONNECTION_HELP}`

/** Parses `psrp cmd` arguments. */
export function parseCmdArgs(argv: readonly string[]): CmdArgs {
  const { values, positionals } = parseOptions(
    'cmd',
    argv,
    {
      ...CONNECTION_OPTIONS,
      'no-cmd-shell': { type: 'boolean' },
      'no-stdin': { type: 'boolean', short: 'n' },
    },
    { stopAtPositional: true },
  )
  const help = values.get('help') === true
  const connection = connectionSpec('cmd', values)
  const [executable, ...args] = positionals
  const base = {
    help,
    connection,
    skipCmdShell: values.get('no-cmd-shell') === true,
    stdin: values.get('no-stdin') !== true,
  }
  if (help) return { ...base, executable: '', args: [] }
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
      ? 'usage: psrp copy [options] <local path> <remote path>\n\nCopies a local file, or a directory with everything in it, to the server.'
      : 'usage: psrp fetch [options] <remote path> <local path>\n\nCopies a file, or a directory with everything in it, from the server.'
  return `${what}
A file sent to an existing directory goes inside it under its own name. On a terminal a progress bar
shows bytes, rate and ETA. Ctrl+C stops the transfer and removes its partial file; Ctrl+C again quits
at once.

      --force              replace existing destination files
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

/** `psrp decode`. */
export interface DecodeArgs {
  readonly help: boolean
  /** False with `--no-body`: no CLIXML bodies in the dissection. */
  readonly bodies: boolean
  /** The file to read; undefined (or `-`) reads stdin. */
  readonly file?: string
}

/** Help of `psrp decode`. */
export const DECODE_HELP = `usage: psrp decode [--no-body] [file]

Dissects PSRP data: base64 or hex of PSRP fragments, WS-Man SOAP envelopes, OutOfProc <Data>
lines (as pwsh -s speaks them) or a recording. Prints the fragments, message headers, typed fields
and CLIXML bodies. Reads the file, or stdin when no file (or -) is given; on a terminal, end the
input with Ctrl+D on an empty line. Exit code 1 when some data could not be decoded.

      --no-body            leave out the CLIXML bodies
  -h, --help               this help`

/** Parses `psrp decode` arguments. */
export function parseDecodeArgs(argv: readonly string[]): DecodeArgs {
  const { values, positionals } = parseOptions('decode', argv, {
    'no-body': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  const help = values.get('help') === true
  const base = { help, bodies: values.get('no-body') !== true }
  if (help) return base
  if (positionals.length > 1)
    throw new UsageError('decode', `unexpected arguments ${JSON.stringify(positionals)}: one file expected`)
  const file = positionals[0]
  return file === undefined || file === '-' ? base : { ...base, file }
}
