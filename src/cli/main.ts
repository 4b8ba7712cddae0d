#!/usr/bin/env node
/**
 * The `psrp` command.
 *
 * ```
 * psrp --version
 * psrp decode [--no-body] [file]   # dissect PSRP bytes (base64/hex/XML) from a file or stdin
 * psrp run [connection] <script> | -f <file> [--json] [--width n]
 *   connection: --host <server> (WinRM) | --ssh [user@]host[:port] | --pipe <pid|name|path> | --local
 * psrp cmd [connection] <exe> [args…]
 * psrp shell [connection]
 * psrp copy [connection] <local> <remote> / psrp fetch [connection] <remote> <local>
 * psrp wsman get|enumerate|invoke <class|uri> … --host <server> [--json]
 * psrp --trace <file> <command> …  # also write the run's spans to file as OTLP JSON
 * ```
 *
 * Exit codes: 0 success; 1 a failed script/command or a psrp error (printed as
 * `psrp: <code>: <message>`, in the CLI's flags: `messages.ts`); 2 a usage error; `cmd` passes the
 * remote exit code through; 141 when stdout's reader closed it (EPIPE, `psrp run … | head`).
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { dissect } from './decode.ts'
import {
  CMD_HELP,
  DECODE_HELP,
  RUN_HELP,
  SHELL_HELP,
  parseCmdArgs,
  parseDecodeArgs,
  parseRunArgs,
  parseShellArgs,
  parseTransferArgs,
  transferHelp,
} from './args.ts'
import { parseWsmanArgs, WSMAN_HELP } from './commands-wsman.ts'
import { cannotRead, EXIT_OUTPUT_CLOSED, reportError, type ErrorContext } from './messages.ts'
import type { CliIO } from './run.ts'

export { reportError } from './messages.ts'

const USAGE = `usage: psrp <command>

commands:
  run <script>    run a PowerShell script (or -f <file>) and print its output, formatted by
                  PowerShell, or one JSON object per line with --json
  cmd <exe> [args…]
                  run a program (through WinRS over WinRM, else through PowerShell) and exit
                  with its exit code
  shell           an interactive PowerShell console (like Enter-PSSession)
  copy <local> <remote>
                  copy a file (or directory) to the server, with a progress bar
  fetch <remote> <local>
                  copy a file (or directory) from the server, with a progress bar
  wsman get|enumerate|invoke
                  WMI (CIM) over WinRM: get an instance, enumerate a class or a WQL query,
                  invoke a method (--host only)
  decode [--no-body] [file]
                  dissect PSRP data (base64, hex, a WS-Man envelope or OutOfProc <Data> lines)
                  read from file, or from stdin when no file is given
  --version       print the version
  --help          print this help
  --trace <file>  (before the command) write the OpenTelemetry spans of the run to file as OTLP JSON

Where commands run: --host <server> connects over WinRM, --ssh [user@]host[:port] over SSH (the
powershell subsystem), --pipe <pid|name|path> attaches to a running pwsh on this machine; without
them a local \`pwsh -s\` is used. Passwords come from PSRP_PASSWORD or a prompt.
\`psrp <command> --help\` lists the flags.

Exit codes: 0 success; 1 the script or command failed (or could not connect); 2 a usage error;
\`cmd\` passes the program's exit code through; 130 after Ctrl+C; 141 when stdout was closed by its
reader (\`psrp run … | head\`: the remote pipeline is stopped, as a shell tool ends on SIGPIPE).`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function help(text: string): number {
  process.stdout.write(`${text}\n`)
  return 0
}

/** Aborted when stdout fails: its reader closed it (EPIPE, as after \`| head\`) or it cannot be written. */
const stdoutClosed = new AbortController()
process.stdout.on('error', (e: NodeJS.ErrnoException) => stdoutClosed.abort(e))
// a closed stderr leaves nobody to tell: its errors must not end the process with a stack trace
process.stderr.on('error', () => undefined)

function io(): CliIO {
  return {
    input: process.stdin,
    output: process.stdout,
    error: process.stderr,
    env: process.env,
    outputClosed: stdoutClosed.signal,
  }
}

/** What {@link main} was running, for the wording of an error that ends it. */
const context: { command?: string; connection?: ErrorContext['connection'] } = {}

/** Runs the CLI with the given arguments; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  switch (cmd) {
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`)
      return 0
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`)
      return cmd === undefined ? 2 : 0
    case 'decode': {
      context.command = 'decode'
      const args = parseDecodeArgs(rest)
      if (args.help) return help(DECODE_HELP)
      let input: string
      if (args.file === undefined) {
        if (process.stdin.isTTY === true)
          process.stderr.write(
            'psrp decode: reading PSRP data (base64, hex, XML or OutOfProc lines) from the terminal; ' +
              'end it with Ctrl+D on an empty line (or give a file: psrp decode <file>)\n',
          )
        input = await readStdin()
      } else {
        try {
          input = readFileSync(args.file, 'utf8')
        } catch (e) {
          throw cannotRead(args.file, e)
        }
      }
      const result = dissect(input, { bodies: args.bodies })
      process.stdout.write(`${result.text}\n`)
      return result.errors > 0 ? 1 : 0
    }
    case 'run': {
      context.command = 'run'
      const args = parseRunArgs(rest)
      context.connection = args.connection
      if (args.help) return help(RUN_HELP)
      // subcommands load the client library only when they run (decode and --version stay light)
      const { runCommand } = await import('./run.ts')
      return runCommand(args, io())
    }
    case 'cmd': {
      context.command = 'cmd'
      const args = parseCmdArgs(rest)
      context.connection = args.connection
      if (args.help) return help(CMD_HELP)
      const { cmdCommand } = await import('./cmd.ts')
      return cmdCommand(args, io())
    }
    case 'shell': {
      context.command = 'shell'
      const args = parseShellArgs(rest)
      context.connection = args.connection
      if (args.help) return help(SHELL_HELP)
      const { shellCommand } = await import('./shell.ts')
      return shellCommand(args, io())
    }
    case 'copy':
    case 'fetch': {
      context.command = cmd
      const args = parseTransferArgs(cmd, rest)
      context.connection = args.connection
      if (args.help) return help(transferHelp(cmd))
      const { transferCommand } = await import('./transfer.ts')
      return transferCommand(args, io())
    }
    case 'wsman': {
      context.command = 'wsman'
      const args = parseWsmanArgs(rest)
      context.connection = args.connection
      if (args.help) return help(WSMAN_HELP)
      const { wsmanCommand } = await import('./wsman.ts')
      return wsmanCommand(args, io())
    }
    default:
      process.stderr.write(`psrp: unknown command ${JSON.stringify(cmd)}\n${USAGE}\n`)
      return 2
  }
}

/**
 * Ends the process with `code` once stdout and stderr are flushed, even if a socket lingers. When
 * stdout's reader went away (EPIPE) the code is {@link EXIT_OUTPUT_CLOSED}, and nothing more is
 * said.
 */
function finish(code: number): void {
  const reason = stdoutClosed.signal.reason as NodeJS.ErrnoException | undefined
  if (stdoutClosed.signal.aborted) {
    if (reason?.code === 'EPIPE') code = EXIT_OUTPUT_CLOSED
    else {
      process.stderr.write(`psrp: cannot write to stdout: ${reason?.code ?? String(reason)}\n`)
      if (code === 0) code = 1
    }
  }
  process.exitCode = code
  let pending = 2
  const done = (): void => {
    if (--pending === 0) setTimeout(() => process.exit(code), 1000).unref()
  }
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.destroyed || stream.writableEnded) done()
    else stream.write('', done)
  }
}

/**
 * {@link main}, recording its spans when the arguments start with `--trace <file>` (or
 * `--trace=<file>`) and writing them to that file as OTLP JSON when the command ends, failed or not.
 */
async function mainWithTrace(argv: string[]): Promise<number> {
  const [first, second, ...others] = argv
  let file: string | undefined
  let rest = argv
  if (first === '--trace' && second !== undefined) [file, rest] = [second, others]
  else if (first?.startsWith('--trace=') === true)
    [file, rest] = [first.slice('--trace='.length), argv.slice(1)]
  if (file === undefined || file === '') return main(rest)
  const { startTraceRecording } = await import('./trace-file.ts')
  const recording = startTraceRecording()
  try {
    return await recording.run(rest[0] ?? '', () => main(rest))
  } finally {
    await recording.write(file)
  }
}

mainWithTrace(process.argv.slice(2)).then(finish, (err: unknown) => {
  const { code, message } = reportError(err, context)
  if (message !== '' && !stdoutClosed.signal.aborted) process.stderr.write(`${message}\n`)
  finish(code)
})
