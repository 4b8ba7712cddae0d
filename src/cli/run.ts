/**
 * `psrp run`: runs a script and prints its output.
 *
 * Formatting happens on the server: the script is piped into `Out-String -Stream -Width <n>`, so
 * objects look exactly as PowerShell formats them (tables, lists, format.ps1xml views of types only
 * the server knows), each line arrives as soon as it is formatted, and the error stream stays apart
 * from the output (it goes to stderr here). `Out-Default` through the host would also format on the
 * server, but it sends every line as a host call and mixes error records into the formatted text, so
 * `--json` and a clean stdout/stderr split would be lost. With `--json` nothing is formatted: each
 * deserialized object is written as one JSON line (see `json.ts`).
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { ErrorRecord, PipelineFailedError, PipelineStoppedError, PowerShell } from '../index.ts'
import type { RunArgs } from './args.ts'
import { openSession } from './connect.ts'
import { toJsonLine } from './json.ts'
import { Colour } from './terminal.ts'
import { TerminalHost, type TerminalStreams } from './terminal-host.ts'

/** The process streams and environment a command runs with. */
export interface CliIO extends TerminalStreams {
  readonly env: NodeJS.ProcessEnv
}

/** How an error record is printed: `Command: message` (like PowerShell's ConciseView). */
export function formatErrorRecord(record: ErrorRecord): string {
  const message = record.message
  const info = record.invocationInfo
  const command = info?.commandName
  if (command !== undefined && command !== '' && !command.includes(' ') && !message.startsWith(`${command}:`))
    return `${command}: ${message}`
  if (info?.positionMessage !== undefined && info.positionMessage !== '' && command === undefined)
    return `${info.positionMessage}\n${message}`
  return message
}

/**
 * Shows a pipeline's error records and progress records as they arrive. Warning, verbose, debug and
 * information text is not taken from the record streams: the server prints what its preference
 * variables let through by calling the host (`WriteWarningLine`, `WriteVerboseLine`, `WriteLine`, …),
 * exactly as a console does, and the records also arrive for every message, shown or not.
 */
export function showStreams(ps: PowerShell, host: TerminalHost): void {
  ps.on('error', (r: ErrorRecord) => host.writeError(formatErrorRecord(r)))
  ps.on('progress', (r) => host.showProgress(r))
}

/**
 * Ctrl+C while `ps` runs: the first stops the pipeline (it then ends as stopped), a second exits at
 * once with 130. Returns what removes the handler.
 */
export function stopOnCtrlC(ps: PowerShell, host: TerminalHost): () => void {
  let interrupts = 0
  const onSigint = (): void => {
    interrupts++
    if (interrupts === 1) {
      host.writeStream('', 'stopping… (Ctrl+C again to quit at once)', Colour.DarkGray)
      void ps.stop().catch(() => undefined)
    } else process.exit(130)
  }
  process.on('SIGINT', onSigint)
  return () => process.removeListener('SIGINT', onSigint)
}

/** The formatting width: `--width`, else the terminal's columns, else 120. */
export function formatWidth(
  explicit: number | undefined,
  output: { readonly columns?: number | undefined; readonly isTTY?: boolean | undefined },
): number {
  if (explicit !== undefined) return explicit
  return output.isTTY === true && output.columns !== undefined && output.columns > 0 ? output.columns : 120
}

async function readScript(args: RunArgs, io: CliIO): Promise<string> {
  if (args.script !== undefined) return args.script
  const file = args.file as string
  if (file === '-') {
    const chunks: Buffer[] = []
    for await (const c of io.input) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer))
    return Buffer.concat(chunks).toString('utf8')
  }
  return readFileSync(file, 'utf8')
}

/**
 * Runs `psrp run`; resolves to the exit code: the script's `exit n` when it called the host's
 * SetShouldExit, else 1 when it failed or wrote an error record, 130 when stopped with Ctrl+C, else 0.
 */
export async function runCommand(args: RunArgs, io: CliIO): Promise<number> {
  const script = await readScript(args, io)
  const host = new TerminalHost(io)
  const session = await openSession('run', args.connection, io)
  try {
    const pool = await session.openPool(host)
    try {
      const ps = new PowerShell(pool, { host }).addScript(script)
      if (!args.json)
        ps.addCommand('Out-String')
          .addParameter('Stream')
          .addParameter('Width', formatWidth(args.width, io.output))
      ps.addInvocationInfo()
      showStreams(ps, host)
      const releaseCtrlC = stopOnCtrlC(ps, host)
      let failed = false
      try {
        const options = args.connection.timeoutMs === undefined ? {} : { timeout: args.connection.timeoutMs }
        for await (const value of ps.stream(undefined, options)) {
          host.writeOutput(`${args.json ? toJsonLine(value) : String(value ?? '')}\n`)
        }
      } catch (e) {
        if (e instanceof PipelineStoppedError) {
          host.progress.clear()
          return 130
        }
        if (!(e instanceof PipelineFailedError)) throw e
        failed = true
        host.writeError(e.errorRecord instanceof ErrorRecord ? formatErrorRecord(e.errorRecord) : e.message)
      } finally {
        releaseCtrlC()
        host.progress.clear()
      }
      if (host.shouldExit !== undefined) return host.shouldExit
      return failed || ps.hadErrors ? 1 : 0
    } finally {
      await pool.close().catch(() => undefined)
    }
  } finally {
    await session.close()
  }
}
