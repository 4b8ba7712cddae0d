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
 * ```
 *
 * Exit codes: 0 success; 1 a failed script/command or a psrp error (printed as
 * `psrp: <code>: <message>`); 2 a usage error; `cmd` passes the remote exit code through.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { dissect } from './decode.ts'
import { PsrpError } from '../errors.ts'
import {
  CMD_HELP,
  RUN_HELP,
  SHELL_HELP,
  UsageError,
  parseCmdArgs,
  parseRunArgs,
  parseShellArgs,
  parseTransferArgs,
  transferHelp,
} from './args.ts'
import type { CliIO } from './run.ts'
import { EndOfInputError, InterruptedError } from './terminal.ts'

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
  decode [--no-body] [file]
                  dissect PSRP data (base64, hex, a WS-Man envelope or OutOfProc <Data> lines)
                  read from file, or from stdin when no file is given; prints fragments,
                  message headers, typed fields and CLIXML bodies (--no-body: no CLIXML).
                  Exit code 1 when some data could not be decoded.
  --version       print the version
  --help          print this help

Where commands run: --host <server> connects over WinRM, --ssh [user@]host[:port] over SSH (the
powershell subsystem), --pipe <pid|name|path> attaches to a running pwsh on this machine; without
them a local \`pwsh -s\` is used. Passwords come from PSRP_PASSWORD or a prompt.
\`psrp <command> --help\` lists the flags.`

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

function io(): CliIO {
  return { input: process.stdin, output: process.stdout, error: process.stderr, env: process.env }
}

/**
 * The exit code and message for an error that ended a command: usage errors exit 2 with a hint,
 * psrp errors print `psrp: <code>: <message>` and exit 1, Ctrl+C at a prompt exits 130.
 */
export function reportError(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError)
    return { code: 2, message: `psrp ${err.command}: ${err.message}\ntry 'psrp ${err.command} --help'` }
  if (err instanceof InterruptedError) return { code: 130, message: '' }
  if (err instanceof EndOfInputError)
    return { code: 1, message: 'psrp: end of input while asking a question' }
  if (err instanceof PsrpError) return { code: 1, message: `psrp: ${err.code}: ${err.message}` }
  const e = err as NodeJS.ErrnoException
  if (e instanceof Error && typeof e.code === 'string')
    return { code: 1, message: `psrp: ${e.code}: ${e.message}` }
  return { code: 1, message: `psrp: ${err instanceof Error ? err.message : String(err)}` }
}

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
      const bodies = !rest.includes('--no-body')
      const files = rest.filter((a) => a !== '--no-body')
      if (files.length > 1 || files.some((f) => f.startsWith('-') && f !== '-')) {
        process.stderr.write(`psrp decode: unexpected arguments ${JSON.stringify(files)}\n${USAGE}\n`)
        return 2
      }
      const file = files[0]
      const input = file === undefined || file === '-' ? await readStdin() : readFileSync(file, 'utf8')
      const result = dissect(input, { bodies })
      process.stdout.write(`${result.text}\n`)
      return result.errors > 0 ? 1 : 0
    }
    case 'run': {
      const args = parseRunArgs(rest)
      if (args.help) return help(RUN_HELP)
      // subcommands load the client library only when they run (decode and --version stay light)
      const { runCommand } = await import('./run.ts')
      return runCommand(args, io())
    }
    case 'cmd': {
      const args = parseCmdArgs(rest)
      if (args.help) return help(CMD_HELP)
      const { cmdCommand } = await import('./cmd.ts')
      return cmdCommand(args, io())
    }
    case 'shell': {
      const args = parseShellArgs(rest)
      if (args.help) return help(SHELL_HELP)
      const { shellCommand } = await import('./shell.ts')
      return shellCommand(args, io())
    }
    case 'copy':
    case 'fetch': {
      const args = parseTransferArgs(cmd, rest)
      if (args.help) return help(transferHelp(cmd))
      const { transferCommand } = await import('./transfer.ts')
      return transferCommand(args, io())
    }
    default:
      process.stderr.write(`psrp: unknown command ${JSON.stringify(cmd)}\n${USAGE}\n`)
      return 2
  }
}

/** Ends the process with `code` once stdout and stderr are flushed, even if a socket lingers. */
function finish(code: number): void {
  process.exitCode = code
  let pending = 2
  const done = (): void => {
    if (--pending === 0) setTimeout(() => process.exit(code), 1000).unref()
  }
  process.stdout.write('', done)
  process.stderr.write('', done)
}

main(process.argv.slice(2)).then(finish, (err: unknown) => {
  const { code, message } = reportError(err)
  if (message !== '') process.stderr.write(`${message}\n`)
  finish(code)
})
