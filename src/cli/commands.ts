/**
 * The `psrp` subcommands' command lines: for `run`, `cmd`, `shell`, `copy`/`fetch` and `decode`, the
 * flags each accepts (on top of the connection flags of `commands-connection.ts`), its `--help` text
 * and the function that parses its arguments into a typed result. Pure: no I/O.
 *
 * @module
 */
import { parseOptions, positiveNumber, str, UsageError } from './args-parser.ts'
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  connectionSpec,
  type ConnectionSpec,
} from './commands-connection.ts'
import { FLEET_HELP, FLEET_OPTIONS, fleetSpec, type FleetSpec } from './commands-fleet.ts'

/** The connection of one target, or a placeholder when {@link FleetSpec | several} are given. */
function oneOrFleet(
  command: string,
  values: Map<string, string | boolean>,
): { connection: ConnectionSpec; fleet?: FleetSpec } {
  const fleet = fleetSpec(command, values)
  if (fleet === undefined) return { connection: connectionSpec(command, values) }
  return { connection: { kind: 'local' }, fleet }
}

/** `psrp run`. */
export interface RunArgs {
  readonly help: boolean
  /** The one target (a placeholder when {@link fleet} is set). */
  readonly connection: ConnectionSpec
  /** Several targets (`--host a,b,c`, `--hosts-file`). */
  readonly fleet?: FleetSpec
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

${CONNECTION_HELP}

${FLEET_HELP}`

/** Parses `psrp run` arguments. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const { values, positionals } = parseOptions('run', argv, {
    ...CONNECTION_OPTIONS,
    file: { type: 'string', short: 'f' },
    json: { type: 'boolean' },
    width: { type: 'string', short: 'w' },
    'no-stdin': { type: 'boolean', short: 'n' },
    ...FLEET_OPTIONS,
  })
  const help = values.get('help') === true
  const target = oneOrFleet('run', values)
  const width = positiveNumber('run', 'width', str(values, 'width'), 10_000)
  const file = str(values, 'file')
  const base = {
    help,
    ...target,
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
  /** The one target (a placeholder when {@link fleet} is set). */
  readonly connection: ConnectionSpec
  /** Several targets (`--host a,b,c`, `--hosts-file`). */
  readonly fleet?: FleetSpec
  readonly executable: string
  readonly args: readonly string[]
  /** `--no-cmd-shell`: run the program directly instead of through `cmd.exe /c` (WinRS only). */
  readonly skipCmdShell: boolean
  /** `--raw-stderr`: keep powershell.exe's `#< CLIXML` stderr blocks instead of printing them as text. */
  readonly rawStderr: boolean
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
      --raw-stderr         keep the #< CLIXML blocks powershell.exe writes to stderr as they are
                           (by default they are printed as the text a console shows)

${CONNECTION_HELP}

${FLEET_HELP}`

/** Parses `psrp cmd` arguments. */
export function parseCmdArgs(argv: readonly string[]): CmdArgs {
  const { values, positionals } = parseOptions(
    'cmd',
    argv,
    {
      ...CONNECTION_OPTIONS,
      'no-cmd-shell': { type: 'boolean' },
      'no-stdin': { type: 'boolean', short: 'n' },
      'raw-stderr': { type: 'boolean' },
      ...FLEET_OPTIONS,
    },
    { stopAtPositional: true },
  )
  const help = values.get('help') === true
  const target = oneOrFleet('cmd', values)
  const [executable, ...args] = positionals
  const base = {
    help,
    ...target,
    skipCmdShell: values.get('no-cmd-shell') === true,
    rawStderr: values.get('raw-stderr') === true,
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
  /** The one target (a placeholder when {@link fleet} is set). */
  readonly connection: ConnectionSpec
  /** `copy` to several targets (`--host a,b,c`, `--hosts-file`). */
  readonly fleet?: FleetSpec
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

${CONNECTION_HELP}${direction === 'copy' ? `\n\n${FLEET_HELP}` : ''}`
}

/** Parses `psrp copy` / `psrp fetch` arguments. */
export function parseTransferArgs(direction: 'copy' | 'fetch', argv: readonly string[]): TransferArgs {
  const { values, positionals } = parseOptions(direction, argv, {
    ...CONNECTION_OPTIONS,
    force: { type: 'boolean' },
    expand: { type: 'boolean' },
    'no-progress': { type: 'boolean' },
    ...(direction === 'copy' ? FLEET_OPTIONS : {}),
  })
  const help = values.get('help') === true
  const target =
    direction === 'copy' ? oneOrFleet(direction, values) : { connection: connectionSpec(direction, values) }
  const base = {
    help,
    direction,
    ...target,
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
