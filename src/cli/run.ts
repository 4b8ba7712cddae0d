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
import { ErrorRecord, PipelineFailedError, PipelineStoppedError, PowerShell, PSObject } from '../index.ts'
import type { RunArgs } from './args.ts'
import { openSession } from './connect.ts'
import { toJsonLine } from './json.ts'
import { cannotRead, EXIT_OUTPUT_CLOSED } from './messages.ts'
import { Colour, inputLines, paint } from './terminal.ts'
import { TerminalHost, type TerminalStreams } from './terminal-host.ts'

/** The process streams and environment a command runs with. */
export interface CliIO extends TerminalStreams {
  readonly env: NodeJS.ProcessEnv
  /**
   * Aborted when stdout can no longer be written (its reader closed it: EPIPE). A command then
   * stops its remote work and ends with {@link EXIT_OUTPUT_CLOSED}.
   */
  readonly outputClosed?: AbortSignal | undefined
}

/** True once stdout is gone: {@link CliIO.outputClosed} fired, or the stream was destroyed. */
export function outputGone(io: CliIO): boolean {
  return io.outputClosed?.aborted === true || (io.output as { destroyed?: boolean }).destroyed === true
}

/** Writes a pipeline failure: its error record as pwsh shows it, else the error's message. */
export function writeFailure(host: TerminalHost, e: PipelineFailedError): void {
  if (e.errorRecord instanceof ErrorRecord)
    host.writeErrorText(formatErrorRecord(e.errorRecord, { colour: host.colourErrors }))
  else host.writeError(e.message)
}

/** The parts of an error record {@link formatErrorRecord} reads, as PowerShell serialized them. */
function errorFacts(record: ErrorRecord): {
  thrown: boolean
  myCommand: string
  invocationName: string
  scriptName: string
  scriptLineNumber: number
  positionMessage: string
} {
  const exception = record.exception
  const inv = record.get('InvocationInfo')
  const fromInv = (name: string): unknown =>
    (inv instanceof PSObject ? inv.get(name) : undefined) ?? record.get(`InvocationInfo_${name}`)
  const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v))
  const myCommand = fromInv('MyCommand')
  return {
    thrown: exception?.get('WasThrownFromThrowStatement') === true,
    myCommand: myCommand instanceof PSObject ? text(myCommand.get('Name') ?? myCommand) : text(myCommand),
    invocationName: text(fromInv('InvocationName')),
    scriptName: text(fromInv('ScriptName')),
    scriptLineNumber: Number(fromInv('ScriptLineNumber') ?? 0),
    positionMessage: text(fromInv('PositionMessage')),
  }
}

/** `ErrorCategory.ParserError`. */
const PARSER_ERROR = 17

/** Where an error happened, for ConciseView's `Line |` block. */
interface ErrorPosition {
  readonly scriptName: string
  readonly lineNumber: number
  /** The script line, after the `+` of the position message. */
  readonly line: string
  /** The `~~~` line under it, after its `+`. */
  readonly highlight: string
  /** The message to show under it, when it is not the record's (a parse error's own part). */
  readonly message?: string
}

/**
 * The position ConciseView shows: for an error in a script file, or after the first line of a
 * script (from the invocation info), or for a parse error (whose message carries the position, as
 * `At line:1 char:7 / + text / + ~ / message`; the first error is shown, as pwsh does). Undefined
 * for an error on a script's first line, or without position.
 */
function errorPosition(
  f: ReturnType<typeof errorFacts>,
  parseMessage: string | undefined,
): ErrorPosition | undefined {
  const position = f.positionMessage.split(/\r?\n/)
  if (
    (f.scriptName !== '' || f.scriptLineNumber > 1) &&
    !/\.psm1$/i.test(f.scriptName) &&
    position.length >= 3
  ) {
    return {
      scriptName: f.scriptName,
      lineNumber: f.scriptLineNumber,
      line: (position[1] as string).slice(1),
      highlight: (position[position.length - 1] as string).slice(1),
    }
  }
  if (parseMessage === undefined) return undefined
  const parts = parseMessage.split(/~\r?\n/)
  if (parts.length < 2) return undefined
  const head = `${parts[0] as string}~`.split(/\r?\n/)
  const at = /^At (?:line:(\d+)|(.*):(\d+)) char:\d+$/.exec(head[0] as string)
  if (at === null || head.length < 3) return undefined
  return {
    scriptName: at[2] ?? '',
    lineNumber: Number(at[1] ?? at[3]),
    line: (head[1] as string).slice(1),
    highlight: (head[head.length - 1] as string).slice(1),
    message: (parts[1] as string).split(/\r?\n\r?\n/)[0] as string,
  }
}

/** Options of {@link formatErrorRecord}. */
export interface ErrorFormatOptions {
  /** Colour the text (red, the position in cyan) with ANSI escapes; default false. */
  readonly colour?: boolean | undefined
}

/**
 * An error record as pwsh 7 prints it by default (`$ErrorView = 'ConciseView'`):
 * `<reason>: <message>`, where the reason is `Exception` for `throw`, else the command that failed
 * (`Write-Error`, `Get-Item`), else the category activity, the invocation name, the category or the
 * exception type (`RuntimeException`). An error in a script file or after the first line of a script
 * adds the position:
 *
 * ```
 * Exception:
 * Line |
 *    2 |  throw "line2"
 *      |  ~~~~~~~~~~~~~
 *      | line2
 * ```
 *
 * A program's stderr line (`NativeCommandError`) is its text alone; a recommended action follows as
 * `  Recommendation: …`.
 */
export function formatErrorRecord(record: ErrorRecord, options: ErrorFormatOptions = {}): string {
  const colour = options.colour === true
  const red = (t: string): string => (colour ? paint(t, Colour.Red) : t)
  const accent = (t: string): string => (colour ? paint(t, Colour.Cyan) : t)
  const message = record.message
  const id = record.fullyQualifiedErrorId
  if (id === 'NativeCommandError' || id === 'NativeCommandErrorMessage') return red(message)
  const f = errorFacts(record)
  const category = record.categoryInfo
  // the script block text is no command name: pwsh checks with Get-Command, a name has no blanks
  const isCommand = f.myCommand !== '' && !/\s/.test(f.myCommand)
  const reason = f.thrown
    ? 'Exception'
    : isCommand
      ? f.myCommand
      : (category.activity ?? '') !== ''
        ? (category.activity as string)
        : f.myCommand !== ''
          ? f.myCommand
          : f.invocationName !== ''
            ? f.invocationName
            : category.category !== 0 && category.categoryName !== undefined
              ? category.categoryName
              : (category.reason ?? '') !== ''
                ? (category.reason as string)
                : 'Error'
  const pos = errorPosition(f, category.category === PARSER_ERROR ? message : undefined)
  let text: string
  if (pos !== undefined) {
    const digits = String(pos.lineNumber).length
    const headerSpace = ' '.repeat(Math.max(0, digits - 4))
    const lineSpace = ' '.repeat(Math.max(0, 4 - digits))
    const bar = `${headerSpace}     | `
    const lines = [
      `${red(`${reason}: `)}${pos.scriptName !== '' ? `${pos.scriptName}:${pos.lineNumber}` : ''}`,
      accent(`${headerSpace}Line |`),
      `${accent(`${lineSpace}${pos.lineNumber} | `)}${pos.line}`,
      ...(pos.highlight.trim() !== '' ? [`${accent(bar)}${red(pos.highlight)}`] : []),
      ...(pos.message ?? message).split(/\r?\n/).map((m) => `${accent(bar)}${red(m)}`),
    ]
    text = lines.join('\n')
  } else {
    text = red(`${reason}: ${message}`)
  }
  const recommended = record.recommendedAction ?? ''
  if (recommended.trim() !== '') text += `\n${red(`  Recommendation: ${recommended}`)}`
  return text
}

/**
 * Shows a pipeline's error records and progress records as they arrive. Warning, verbose, debug and
 * information text is not taken from the record streams: the server prints what its preference
 * variables let through by calling the host (`WriteWarningLine`, `WriteVerboseLine`, `WriteLine`, …),
 * exactly as a console does, and the records also arrive for every message, shown or not.
 */
export function showStreams(ps: PowerShell, host: TerminalHost): void {
  ps.on('error', (r: ErrorRecord) => host.writeErrorText(formatErrorRecord(r, { colour: host.colourErrors })))
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

/** The script of `psrp run`: the argument, the `-f` file, or stdin with `-f -`. */
export async function readScript(args: RunArgs, io: CliIO): Promise<string> {
  if (args.script !== undefined) return args.script
  const file = args.file as string
  if (file === '-') {
    const chunks: Buffer[] = []
    for await (const c of io.input) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer))
    return Buffer.concat(chunks).toString('utf8')
  }
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    throw cannotRead(file, e)
  }
}

/**
 * Runs `psrp run`; resolves to the exit code: the script's `exit n` when it called the host's
 * SetShouldExit, else 1 when it failed or wrote an error record, 130 when stopped with Ctrl+C,
 * {@link EXIT_OUTPUT_CLOSED} when stdout was closed by its reader (the pipeline is stopped), else 0.
 * Piped stdin (not a terminal, not `-f -`, not `--no-stdin`) is the script's pipeline input, a line
 * per object.
 */
export async function runCommand(args: RunArgs, io: CliIO): Promise<number> {
  const script = await readScript(args, io)
  if (args.fleet !== undefined) return (await import('./fleet.ts')).runFleetScript(args, script, io)
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
      const stdin = args.stdin && args.file !== '-' && io.input.isTTY !== true
      try {
        const options = args.connection.timeoutMs === undefined ? {} : { timeout: args.connection.timeoutMs }
        for await (const value of ps.stream(stdin ? inputLines(io.input) : undefined, options)) {
          host.writeOutput(`${args.json ? toJsonLine(value) : String(value ?? '')}\n`)
          // leaving the loop stops the remote pipeline
          if (outputGone(io)) return EXIT_OUTPUT_CLOSED
        }
      } catch (e) {
        if (outputGone(io)) return EXIT_OUTPUT_CLOSED
        if (e instanceof PipelineStoppedError) {
          host.progress.clear()
          return 130
        }
        if (!(e instanceof PipelineFailedError)) throw e
        failed = true
        writeFailure(host, e)
      } finally {
        releaseCtrlC()
        host.progress.clear()
      }
      if (outputGone(io)) return EXIT_OUTPUT_CLOSED
      if (host.shouldExit !== undefined) return host.shouldExit
      return failed || ps.hadErrors ? 1 : 0
    } finally {
      await pool.close().catch(() => undefined)
    }
  } finally {
    await session.close()
  }
}
