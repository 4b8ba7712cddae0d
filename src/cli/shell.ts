/**
 * `psrp shell`: an interactive console on a runspace pool, like `Enter-PSSession`.
 *
 * - The prompt is the remote `prompt` function's output (prefixed `[server]: ` for WinRM).
 * - Line editing and history come from `node:readline` (one interface per prompt, sharing history).
 * - Tab asks the server: `TabExpansion2 -inputScript <line> -cursorColumn <n>`; the replacement range
 *   it reports is applied even when the completion does not extend the typed text (`./fo` → `./foo.txt`).
 * - Multi-line input: after each line the server parses the text so far
 *   (`[Parser]::ParseInput`); while an error has `IncompleteInput` set, a `>> ` prompt reads more. An
 *   empty continuation line runs what was typed (PowerShell's console does the same).
 * - Each command runs as `<input> | Out-String -Stream -Width <columns>` with AddToHistory, so output
 *   is formatted by the server at the terminal's width and arrives line by line.
 * - Ctrl+C while a command runs stops the pipeline (PowerShell.stop) and the prompt returns; at an
 *   idle prompt it clears the line, and twice in a row it reminds how to leave.
 * - `exit` (or `exit <n>`, or Ctrl+D on an empty line) closes the session; the shell's exit code is n.
 *
 * @module
 */
import { createInterface, type CompleterResult, type Interface } from 'node:readline'
import {
  PipelineFailedError,
  PipelineStoppedError,
  PowerShell,
  PSObject,
  type RunspacePool,
} from '../index.ts'
import type { ShellArgs } from './args.ts'
import { openSession, type Session } from './connect.ts'
import { formatWidth, showStreams, writeFailure, type CliIO } from './run.ts'
import { Colour, nextPipedLine } from './terminal.ts'
import { TerminalHost } from './terminal-host.ts'

/** Server-side check: does the text end inside an unfinished statement? */
const INCOMPLETE_SCRIPT = `param([string]$InputText)
$errors = $null
$null = [System.Management.Automation.Language.Parser]::ParseInput($InputText, [ref]$null, [ref]$errors)
[bool](@($errors | Where-Object IncompleteInput).Count)`

/** Server-side completion through TabExpansion2, flattened so it survives serialization depth. */
const COMPLETE_SCRIPT = `param([string]$InputText, [int]$Cursor)
$c = TabExpansion2 -inputScript $InputText -cursorColumn $Cursor
[pscustomobject]@{
  Index = $c.ReplacementIndex
  Length = $c.ReplacementLength
  Matches = [string[]]@($c.CompletionMatches | ForEach-Object CompletionText)
}`

/** What one prompt read. */
type LineResult = { kind: 'line'; text: string } | { kind: 'interrupt' } | { kind: 'eof' }

/** A completion as TabExpansion2 answered it. */
export interface Completion {
  /** Start of the replaced text in the line. */
  readonly index: number
  /** Length of the replaced text. */
  readonly length: number
  /** Candidate texts. */
  readonly matches: readonly string[]
}

/**
 * How a {@link Completion} applies to `line` (the text before the cursor): either a readline
 * completer result (when every match extends the typed fragment, readline inserts or lists them), or
 * a direct replacement of the fragment by the first match (when a match changes what was typed, e.g.
 * its case or path separators).
 */
export function planCompletion(
  line: string,
  completion: Completion,
): { kind: 'readline'; result: CompleterResult } | { kind: 'replace'; erase: number; insert: string } {
  const start = Math.max(0, Math.min(line.length, completion.index))
  const fragment = line.slice(start, Math.min(line.length, start + Math.max(0, completion.length)))
  const matches = completion.matches.filter((m) => m !== '')
  if (matches.length === 0) return { kind: 'readline', result: [[], fragment] }
  if (matches.every((m) => m.startsWith(fragment)))
    return { kind: 'readline', result: [[...matches], fragment] }
  return {
    kind: 'replace',
    erase: line.length - start,
    insert: `${matches[0] as string}${line.slice(start + fragment.length)}`,
  }
}

/** `exit` / `exit <n>` typed at the prompt: the exit code, else undefined. */
export function exitRequest(input: string): number | undefined {
  const m = /^\s*exit(?:\s+(-?\d+))?\s*;?\s*$/i.exec(input)
  if (m === null) return undefined
  return m[1] === undefined ? 0 : Number(m[1])
}

/**
 * What goes before the remote prompt, as PowerShell shows it: `[server]` in a remote session
 * (Enter-PSSession), `[Process:<pid>]` attached to a process (Enter-PSHostProcess); nothing locally.
 */
async function promptPrefix(
  kind: Session['kind'],
  label: string,
  pool: RunspacePool,
): Promise<string | undefined> {
  if (kind === 'wsman' || kind === 'ssh') return label
  if (kind !== 'pipe') return undefined
  try {
    const [pid] = await new PowerShell(pool).addScript('$PID').invoke(undefined, { timeout: 30_000 })
    return `Process:${String(pid)}`
  } catch {
    return 'Process'
  }
}

/** Runs `psrp shell`; resolves to the exit code. */
export async function shellCommand(args: ShellArgs, io: CliIO): Promise<number> {
  const host = new TerminalHost(io)
  const session = await openSession('shell', args.connection, io)
  try {
    const pool = await session.openPool(host)
    try {
      return await new ShellLoop(pool, host, io, await promptPrefix(session.kind, session.label, pool)).run()
    } finally {
      await pool.close().catch(() => undefined)
    }
  } finally {
    await session.close()
  }
}

class ShellLoop {
  readonly #pool: RunspacePool
  readonly #host: TerminalHost
  readonly #io: CliIO
  readonly #remote: string | undefined
  readonly #terminal: boolean
  #history: string[] = []

  constructor(pool: RunspacePool, host: TerminalHost, io: CliIO, remote: string | undefined) {
    this.#pool = pool
    this.#host = host
    this.#io = io
    this.#remote = remote
    this.#terminal = io.input.isTTY === true && io.output.isTTY === true
  }

  async run(): Promise<number> {
    let interrupts = 0
    for (;;) {
      const prompt = await this.#prompt()
      const first = await this.#readLine(prompt, true)
      if (first.kind === 'eof') {
        this.#io.output.write('\n')
        return 0
      }
      if (first.kind === 'interrupt') {
        interrupts++
        if (interrupts >= 2) this.#host.writeStream('', '(type exit to leave the session)', Colour.DarkGray)
        continue
      }
      interrupts = 0
      let text = first.text
      if (text.trim() === '') continue
      let cancelled = false
      while (await this.#incomplete(text)) {
        const more = await this.#readLine('>> ', false)
        if (more.kind === 'interrupt') {
          cancelled = true
          break
        }
        if (more.kind === 'eof' || more.text === '') break
        text += `\n${more.text}`
      }
      if (cancelled) continue
      const code = exitRequest(text)
      if (code !== undefined) return code
      await this.#execute(text)
    }
  }

  async #prompt(): Promise<string> {
    let text = 'PS> '
    try {
      const out = await new PowerShell(this.#pool).addCommand('prompt').invoke(undefined, { timeout: 30_000 })
      const joined = out.map((v) => String(v ?? '')).join('')
      if (joined !== '') text = joined
    } catch {
      // no (working) prompt function: keep the default
    }
    return this.#remote === undefined ? text : `[${this.#remote}]: ${text}`
  }

  async #incomplete(text: string): Promise<boolean> {
    try {
      const [v] = await new PowerShell(this.#pool)
        .addScript(INCOMPLETE_SCRIPT, true)
        .addParameter('InputText', text)
        .invoke(undefined, { timeout: 30_000 })
      return v === true
    } catch {
      return false
    }
  }

  async #complete(line: string): Promise<Completion> {
    const [v] = await new PowerShell(this.#pool)
      .addScript(COMPLETE_SCRIPT, true)
      .addParameter('InputText', line)
      .addParameter('Cursor', line.length)
      .invoke(undefined, { timeout: 30_000 })
    if (!(v instanceof PSObject)) return { index: line.length, length: 0, matches: [] }
    const matches = v.get('Matches')
    return {
      index: Number(v.get('Index') ?? line.length),
      length: Number(v.get('Length') ?? 0),
      matches: Array.isArray(matches) ? matches.map((m) => String(m)) : [],
    }
  }

  async #readLine(prompt: string, withHistory: boolean): Promise<LineResult> {
    if (this.#io.input.isTTY !== true) {
      // piped input: no editing; every read shares one reader so buffered lines are not lost
      this.#io.output.write(prompt)
      const text = await nextPipedLine(this.#io.input)
      if (text !== undefined) this.#io.output.write(`${text}\n`)
      return text === undefined ? { kind: 'eof' } : { kind: 'line', text }
    }
    return new Promise((resolve) => {
      let rl: Interface | undefined = undefined
      const complete = (
        line: string,
        callback: (err: null | Error, result: CompleterResult) => void,
      ): void => {
        this.#complete(line).then(
          (c) => {
            const plan = planCompletion(line, c)
            if (plan.kind === 'readline') return callback(null, plan.result)
            callback(null, [[], line])
            const target = rl
            if (target === undefined) return
            for (let i = 0; i < plan.erase; i++) target.write(null, { name: 'backspace' })
            target.write(plan.insert)
          },
          () => callback(null, [[], line]),
        )
      }
      rl = createInterface({
        input: this.#io.input,
        output: this.#io.output,
        terminal: this.#terminal,
        history: withHistory ? [...this.#history] : [],
        historySize: 1000,
        removeHistoryDuplicates: true,
        completer: complete,
        tabSize: 4,
      })
      let settled = false
      const done = (r: LineResult): void => {
        if (settled) return
        settled = true
        rl?.close()
        resolve(r)
      }
      if (withHistory) rl.on('history', (h: string[]) => (this.#history = [...h]))
      rl.on('SIGINT', () => {
        this.#io.output.write('^C\n')
        done({ kind: 'interrupt' })
      })
      rl.on('close', () => done({ kind: 'eof' }))
      rl.on('line', (text) => {
        if (!withHistory && text.trim() !== '' && this.#history[0] !== text) this.#history.unshift(text)
        done({ kind: 'line', text })
      })
      rl.setPrompt(prompt)
      rl.prompt()
    })
  }

  async #execute(text: string): Promise<void> {
    const host = this.#host
    const ps = new PowerShell(this.#pool, { host })
      .addScript(text)
      .addCommand('Out-String')
      .addParameter('Stream')
      .addParameter('Width', formatWidth(undefined, this.#io.output))
      .addToHistory()
      .addInvocationInfo()
    showStreams(ps, host)
    const stop = (): void => {
      void ps.stop().catch(() => undefined)
    }
    host.onInterrupt = stop
    const onSigint = (): void => {
      // the terminal (cooked mode, ECHOCTL) has echoed ^C already
      this.#io.output.write('\n')
      stop()
    }
    process.on('SIGINT', onSigint)
    try {
      for await (const line of ps.stream()) host.writeOutput(`${String(line ?? '')}\n`)
    } catch (e) {
      if (e instanceof PipelineFailedError) writeFailure(host, e)
      else if (!(e instanceof PipelineStoppedError)) throw e
    } finally {
      process.removeListener('SIGINT', onSigint)
      host.onInterrupt = undefined
      host.ensureNewLine()
    }
  }
}
