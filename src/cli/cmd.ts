/**
 * `psrp cmd <exe> [args…]`: runs a program and resolves to its exit code.
 *
 * - Over WinRM it runs in a WinRS shell. Its stdout and stderr are copied to ours as they arrive; our
 *   stdin is forwarded when it is not a terminal; Ctrl+C sends `ctrl_c` to the program and a second
 *   Ctrl+C terminates it (130).
 * - Over a local pwsh, SSH or a named pipe (no WinRS) PowerShell runs it ({@link NATIVE_SCRIPT}):
 *   `& $exe @args | Out-String -Stream`, so stdout lines stream as they are written; the program's
 *   stderr lines arrive as `NativeCommandError` records and are printed as plain lines on stderr;
 *   piped stdin (unless `--no-stdin`) is passed in as pipeline input (lines); the script's last output is
 *   `$LASTEXITCODE` (127 when the command does not exist). Ctrl+C stops the pipeline (130).
 *
 * @module
 */
import type { Readable } from 'node:stream'
import type { CmdArgs } from './args.ts'
import { openSession, type Session } from './connect.ts'
import { ClixmlStderrFilter } from '../index.ts'
import { EXIT_OUTPUT_CLOSED } from './messages.ts'
import { formatErrorRecord, formatWidth, outputGone, stopOnCtrlC, writeFailure, type CliIO } from './run.ts'
import { inputLines } from './terminal.ts'
import { TerminalHost } from './terminal-host.ts'
import {
  PipelineFailedError,
  PipelineStoppedError,
  PowerShell,
  TimeoutError,
  type ErrorRecord,
} from '../index.ts'

/**
 * What runs a program through PowerShell: its output (formatted to text in case `$Exe` names a
 * cmdlet), then the exit code as an `[int]` (every other output is a string).
 */
export const NATIVE_SCRIPT = `param([string]$Exe, [string[]]$ArgList, [switch]$Stdin, [int]$Width = 120)
$global:LASTEXITCODE = 0
try {
  if ($Stdin) { $input | & $Exe @ArgList | Out-String -Stream -Width $Width }
  else { & $Exe @ArgList | Out-String -Stream -Width $Width }
} catch [System.Management.Automation.CommandNotFoundException] {
  Write-Error -ErrorRecord $_
  $global:LASTEXITCODE = 127
}
[int]$global:LASTEXITCODE`

/** `psrp cmd` without WinRS: the program runs through PowerShell on a runspace pool. */
async function viaPowerShell(args: CmdArgs, io: CliIO, session: Session): Promise<number> {
  const host = new TerminalHost(io)
  const pool = await session.openPool(host)
  try {
    const stdin = args.stdin && io.input.isTTY !== true
    const ps = new PowerShell(pool, { host }).addScript(NATIVE_SCRIPT, true).addParameters({
      Exe: args.executable,
      ArgList: [...args.args],
      Width: formatWidth(undefined, io.output),
      ...(stdin ? { Stdin: true } : {}),
    })
    let otherErrors = false
    ps.on('error', (r: ErrorRecord) => {
      // the program's own stderr: one record per line, printed as the line
      if (/^NativeCommandError/.test(r.fullyQualifiedErrorId ?? '')) {
        host.progress.clear()
        io.error.write(`${r.message}\n`)
      } else {
        otherErrors = true
        host.writeErrorText(formatErrorRecord(r, { colour: host.colourErrors }))
      }
    })
    const releaseCtrlC = stopOnCtrlC(ps, host)
    let exitCode = 0
    try {
      const options = args.connection.timeoutMs === undefined ? {} : { timeout: args.connection.timeoutMs }
      for await (const value of ps.stream(stdin ? inputLines(io.input) : undefined, options)) {
        if (typeof value === 'number') exitCode = value
        else host.writeOutput(`${String(value ?? '')}\n`)
        // leaving the loop stops the pipeline (and with it the program)
        if (outputGone(io)) return EXIT_OUTPUT_CLOSED
      }
    } catch (e) {
      if (outputGone(io)) return EXIT_OUTPUT_CLOSED
      if (e instanceof PipelineStoppedError) return 130
      if (!(e instanceof PipelineFailedError)) throw e
      writeFailure(host, e)
      return exitCode !== 0 ? exitCode : 1
    } finally {
      releaseCtrlC()
      host.progress.clear()
    }
    if (outputGone(io)) return EXIT_OUTPUT_CLOSED
    // a cmdlet (not a program) that failed has no exit code of its own
    return exitCode === 0 && otherErrors ? 1 : exitCode
  } finally {
    await pool.close().catch(() => undefined)
  }
}

/**
 * Copies a readable to a writable, respecting the writable's backpressure; resolves at the end, or
 * when `closed` fires (the writable's reader went away; the rest is not read).
 */
async function pipeOut(from: Readable, to: NodeJS.WritableStream, closed?: AbortSignal): Promise<void> {
  for await (const chunk of from) {
    if (closed?.aborted === true) return
    if (!to.write(chunk as Buffer))
      await new Promise<void>((r) => {
        const done = (): void => {
          to.off('drain', done)
          closed?.removeEventListener('abort', done)
          r()
        }
        to.once('drain', done)
        closed?.addEventListener('abort', done, { once: true })
      })
  }
}

/** Runs `psrp cmd` (through WinRS over WinRM, else through PowerShell); resolves to the exit code. */
export async function cmdCommand(args: CmdArgs, io: CliIO): Promise<number> {
  if (args.fleet !== undefined) return (await import('./fleet.ts')).runFleetCmd(args, io)
  const session = await openSession('cmd', args.connection, io)
  if (session.kind !== 'wsman') {
    try {
      return await viaPowerShell(args, io, session)
    } finally {
      await session.close()
    }
  }
  try {
    const shell = await session.openWinRS()
    try {
      const proc = await shell.spawn(args.executable, args.args, { skipCmdShell: args.skipCmdShell })
      if (io.input.isTTY === true || !args.stdin) proc.stdin.end()
      else io.input.pipe(proc.stdin)
      let interrupts = 0
      const onSigint = (): void => {
        interrupts++
        if (interrupts === 1) void proc.signal('ctrl_c').catch(() => undefined)
        else void proc.kill().catch(() => undefined)
      }
      process.on('SIGINT', onSigint)
      let timer: NodeJS.Timeout | undefined
      const timeoutMs = args.connection.timeoutMs
      const timedOut =
        timeoutMs === undefined
          ? new Promise<never>(() => undefined)
          : new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                void proc.kill().catch(() => undefined)
                reject(new TimeoutError(`the program ran longer than ${timeoutMs} ms`, timeoutMs))
              }, timeoutMs)
            })
      // stdout closed by its reader: the program is terminated, as a SIGPIPE would end it
      const outputClosed = new Promise<number>((resolve) => {
        const closed = io.outputClosed
        if (closed === undefined) return
        const onClosed = (): void => {
          void proc.kill().catch(() => undefined)
          resolve(EXIT_OUTPUT_CLOSED)
        }
        if (closed.aborted) onClosed()
        else closed.addEventListener('abort', onClosed, { once: true })
      })
      try {
        const [code] = await Promise.race([
          Promise.all([
            proc.exited,
            pipeOut(proc.stdout, io.output, io.outputClosed),
            pipeOut(args.rawStderr ? proc.stderr : proc.stderr.pipe(new ClixmlStderrFilter()), io.error),
          ]),
          timedOut,
          outputClosed.then((c) => [c] as const),
        ])
        return outputGone(io) ? EXIT_OUTPUT_CLOSED : (code ?? 130)
      } finally {
        if (timer !== undefined) clearTimeout(timer)
        process.removeListener('SIGINT', onSigint)
        io.input.unpipe(proc.stdin)
      }
    } finally {
      await shell.close().catch(() => undefined)
    }
  } finally {
    await session.close()
  }
}
