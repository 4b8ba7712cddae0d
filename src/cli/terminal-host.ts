/**
 * The PSHost of the `psrp` command: what a remote script reaches through `$Host` is answered at this
 * terminal. `Write-Host` text goes to stdout (with its colours on a TTY), warning/verbose/debug and
 * error lines to stderr, `Read-Host`, `Get-Credential`, `$Host.UI.Prompt` and `PromptForChoice` are
 * asked here (secure input masked with `*`), progress records draw a progress bar on stderr, and
 * `$Host.UI.RawUI.WindowSize` follows the terminal.
 *
 * @module
 */
import {
  PSCredential,
  PSSecureString,
  type PSHost,
  type PSHostRawUserInterface,
  type PSHostUserInterface,
  type ProgressRecord,
} from '../index.ts'
import type { ChoiceDescription, FieldDescription } from '../clixml/index.ts'
import { formatProgressRecord, ProgressLine } from './progress.ts'
import {
  Colour,
  InterruptedError,
  paint,
  readLine,
  readSecret,
  wantsColour,
  type TerminalInput,
  type TerminalOutput,
} from './terminal.ts'

/** The streams a {@link TerminalHost} talks to. */
export interface TerminalStreams {
  readonly input: TerminalInput
  readonly output: TerminalOutput
  readonly error: TerminalOutput
}

/** ConsoleColor the host reports as `$Host.UI.RawUI.ForegroundColor` (Gray): printed uncoloured. */
const DEFAULT_FOREGROUND = 7
/** ConsoleColor the host reports as `$Host.UI.RawUI.BackgroundColor` (Black): printed uncoloured. */
const DEFAULT_BACKGROUND = 0

/** The hot key of a choice label (`&Yes` → `Y`), or the first letter. */
export function choiceHotKey(label: string): string {
  const i = label.indexOf('&')
  const ch = i >= 0 && i + 1 < label.length ? label[i + 1] : label[0]
  return (ch ?? '').toUpperCase()
}

/**
 * The choice line PowerShell's console shows: `[Y] Yes  [N] No  [?] Help (default is "Y"): `.
 */
export function formatChoices(labels: readonly string[], defaults: readonly number[]): string {
  const items = labels.map((l) => `[${choiceHotKey(l)}] ${l.replace('&', '')}`)
  const def = defaults
    .filter((d) => d >= 0 && d < labels.length)
    .map((d) => choiceHotKey(labels[d] as string))
  const defText = def.length === 0 ? '' : ` (default is "${def.join(',')}")`
  return `${items.join('  ')}  [?] Help${defText}: `
}

/**
 * The index a typed answer selects among `labels` (by hot key or full label, case-insensitive), or
 * `undefined` when it matches none.
 */
export function matchChoice(answer: string, labels: readonly string[]): number | undefined {
  const a = answer.trim().toUpperCase()
  if (a === '') return undefined
  const i = labels.findIndex((l) => choiceHotKey(l) === a || l.replace('&', '').toUpperCase() === a)
  return i < 0 ? undefined : i
}

/** A PSHost answered at the terminal. */
export class TerminalHost implements PSHost {
  readonly name = 'psrp'
  readonly version = '1.0'
  readonly instanceId = globalThis.crypto.randomUUID()
  readonly currentCulture: string
  readonly currentUICulture: string
  readonly ui: PSHostUserInterface
  /** The exit code of the last `SetShouldExit` (an `exit n` the server passed to the host). */
  shouldExit: number | undefined
  /**
   * Called when the user presses Ctrl+C at a host prompt (`Read-Host`, …); the shell stops the
   * running pipeline. The prompt itself fails on the server.
   */
  onInterrupt: (() => void) | undefined
  /** The progress bar on stderr. */
  readonly progress: ProgressLine
  readonly #io: TerminalStreams
  readonly #colourOut: boolean
  readonly #colourErr: boolean
  /** Whether the last thing written to stdout ended a line (so a prompt starts on a fresh line). */
  #atLineStart = true

  constructor(io: TerminalStreams, options: { culture?: string } = {}) {
    this.#io = io
    this.#colourOut = wantsColour(io.output)
    this.#colourErr = wantsColour(io.error)
    const culture = options.culture ?? (Intl.DateTimeFormat().resolvedOptions().locale || 'en-US')
    this.currentCulture = culture
    this.currentUICulture = culture
    this.progress = new ProgressLine(io.error)
    const out = io.output
    const rawUI: PSHostRawUserInterface = {
      foregroundColor: DEFAULT_FOREGROUND,
      backgroundColor: DEFAULT_BACKGROUND,
      cursorSize: 25,
      windowTitle: 'psrp',
      get windowSize() {
        return { width: out.columns ?? 120, height: out.rows ?? 50 }
      },
      get bufferSize() {
        return { width: out.columns ?? 120, height: 3000 }
      },
      get maxWindowSize() {
        return { width: out.columns ?? 120, height: out.rows ?? 50 }
      },
      get maxPhysicalWindowSize() {
        return { width: out.columns ?? 120, height: out.rows ?? 50 }
      },
    }
    this.ui = {
      rawUI,
      write: (text, fg, bg) => this.#write(text, fg, bg),
      writeLine: (text, fg, bg) => this.#write(`${text}\n`, fg, bg),
      writeErrorLine: (text) => this.writeError(text),
      writeWarningLine: (text) => this.writeStream('WARNING: ', text, Colour.Yellow),
      writeVerboseLine: (text) => this.writeStream('VERBOSE: ', text, Colour.Yellow),
      writeDebugLine: (text) => this.writeStream('DEBUG: ', text, Colour.Yellow),
      writeProgress: (_sourceId, record) => this.showProgress(record),
      readLine: () => this.#ask(() => readLine('', io.input, io.output)),
      readLineAsSecureString: () => this.#ask(() => readSecret('', io.input, io.output)),
      prompt: (caption, message, fields) => this.#prompt(caption, message, fields),
      promptForCredential: (caption, message, userName) => this.#credential(caption, message, userName),
      promptForChoice: (caption, message, choices, defaultChoice) =>
        this.#choice(caption, message, choices, defaultChoice),
      promptForChoiceMultipleSelection: (caption, message, choices, defaults) =>
        this.#choices(caption, message, choices, defaults),
    }
  }

  /** Records the exit code a remote `exit n` asked for. */
  setShouldExit(exitCode: number): void {
    this.shouldExit = exitCode
  }

  /** Writes output text to stdout (clearing the progress bar first). */
  writeOutput(text: string): void {
    this.#write(text)
  }

  /** Whether error text should be coloured (stderr is a TTY and `NO_COLOR` is unset). */
  get colourErrors(): boolean {
    return this.#colourErr
  }

  /** Writes error text that is already formatted (and coloured, if wanted) to stderr. */
  writeErrorText(text: string): void {
    this.progress.clear()
    this.#io.error.write(`${text}\n`)
  }

  /** Writes an error line to stderr (red on a TTY). */
  writeError(text: string): void {
    this.progress.clear()
    this.#io.error.write(`${this.#colourErr ? paint(text, Colour.Red) : text}\n`)
  }

  /** Writes a `WARNING: `/`VERBOSE: `/`DEBUG: ` line to stderr in `colour` on a TTY. */
  writeStream(prefix: string, text: string, colour: number): void {
    this.progress.clear()
    const line = `${prefix}${text}`
    this.#io.error.write(`${this.#colourErr ? paint(line, colour) : line}\n`)
  }

  /** Draws a PowerShell progress record as the progress bar (a Completed record erases it). */
  showProgress(record: ProgressRecord): void {
    if (record.recordType === 'Completed') return this.progress.clear()
    this.progress.draw(formatProgressRecord(record, this.progress.columns), record.percentComplete === 100)
  }

  /** Moves to a new line if the last output left the cursor mid-line (before a prompt). */
  ensureNewLine(): void {
    this.progress.clear()
    if (!this.#atLineStart) this.#write('\n')
  }

  #write(text: string, fg?: number, bg?: number): void {
    if (text === '') return
    this.progress.clear()
    const plain =
      !this.#colourOut ||
      ((fg === undefined || fg === DEFAULT_FOREGROUND || fg < 0) &&
        (bg === undefined || bg === DEFAULT_BACKGROUND || bg < 0))
    const coloured = plain
      ? text
      : text
          .split('\n')
          .map((l) =>
            paint(l, fg === DEFAULT_FOREGROUND ? undefined : fg, bg === DEFAULT_BACKGROUND ? undefined : bg),
          )
          .join('\n')
    this.#io.output.write(coloured)
    this.#atLineStart = text.endsWith('\n')
  }

  async #ask<T>(question: () => Promise<T>): Promise<T> {
    this.progress.clear()
    try {
      const answer = await question()
      this.#atLineStart = true
      return answer
    } catch (e) {
      this.#atLineStart = true
      if (e instanceof InterruptedError) this.onInterrupt?.()
      throw e
    }
  }

  #heading(caption: string, message: string): void {
    if (caption !== '') this.#write(`\n${caption}\n`)
    if (message !== '') this.#write(`${message}\n`)
  }

  async #prompt(
    caption: string,
    message: string,
    fields: FieldDescription[],
  ): Promise<Record<string, unknown>> {
    this.#heading(caption, message)
    const answers: Record<string, unknown> = {}
    const io = this.#io
    for (const f of fields) {
      const type = f.parameterTypeFullName ?? f.parameterTypeName ?? ''
      const label = f.label !== '' ? f.label : f.name
      if (/PSCredential$/.test(type)) {
        const c = await this.#credential('', '', '')
        answers[f.name] = PSCredential.create(c.userName, c.password)
      } else if (/SecureString$/.test(type)) {
        answers[f.name] = new PSSecureString(
          await this.#ask(() => readSecret(`${label}: `, io.input, io.output)),
        )
      } else {
        answers[f.name] = await this.#ask(() => readLine(`${label}: `, io.input, io.output))
      }
    }
    return answers
  }

  async #credential(
    caption: string,
    message: string,
    userName: string,
  ): Promise<{ userName: string; password: string }> {
    this.#heading(caption, message)
    const io = this.#io
    const user = userName !== '' ? userName : await this.#ask(() => readLine('User: ', io.input, io.output))
    const password = await this.#ask(() => readSecret(`Password for user ${user}: `, io.input, io.output))
    return { userName: user, password }
  }

  #help(choices: ChoiceDescription[]): void {
    for (const c of choices) this.#write(`${choiceHotKey(c.label)} - ${c.helpMessage}\n`)
  }

  async #choice(
    caption: string,
    message: string,
    choices: ChoiceDescription[],
    defaultChoice: number,
  ): Promise<number> {
    this.#heading(caption, message)
    const labels = choices.map((c) => c.label)
    const io = this.#io
    for (;;) {
      const answer = await this.#ask(() =>
        readLine(formatChoices(labels, [defaultChoice]), io.input, io.output),
      )
      if (answer.trim() === '' && defaultChoice >= 0 && defaultChoice < labels.length) return defaultChoice
      if (answer.trim() === '?') {
        this.#help(choices)
        continue
      }
      const i = matchChoice(answer, labels)
      if (i !== undefined) return i
    }
  }

  async #choices(
    caption: string,
    message: string,
    choices: ChoiceDescription[],
    defaults: number[],
  ): Promise<number[]> {
    this.#heading(caption, message)
    const labels = choices.map((c) => c.label)
    this.#write(formatChoices(labels, defaults).replace(/: $/, '\n'))
    const picked: number[] = []
    const io = this.#io
    for (;;) {
      const answer = await this.#ask(() => readLine(`Choice[${picked.length}]: `, io.input, io.output))
      if (answer.trim() === '') return picked.length === 0 ? defaults : picked
      if (answer.trim() === '?') {
        this.#help(choices)
        continue
      }
      const i = matchChoice(answer, labels)
      if (i !== undefined) picked.push(i)
    }
  }
}
