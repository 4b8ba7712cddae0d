/**
 * Terminal helpers of the CLI: ANSI colours for PowerShell's ConsoleColor values, and reading a line
 * or a masked secret from the terminal (Ctrl+C rejects with {@link InterruptedError}).
 *
 * @module
 */
import { createInterface } from 'node:readline'

/** Input side of a terminal (process.stdin). */
export type TerminalInput = NodeJS.ReadableStream & {
  readonly isTTY?: boolean | undefined
  setRawMode?: (mode: boolean) => unknown
}

/** Output side of a terminal (process.stdout / process.stderr). */
export type TerminalOutput = NodeJS.WritableStream & {
  readonly isTTY?: boolean | undefined
  readonly columns?: number | undefined
  readonly rows?: number | undefined
}

/** Ctrl+C while reading a line or a secret. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted (Ctrl+C)')
    this.name = 'InterruptedError'
  }
}

/** End of input (Ctrl+D, or the end of piped stdin) while reading. */
export class EndOfInputError extends Error {
  constructor() {
    super('end of input')
    this.name = 'EndOfInputError'
  }
}

/** ANSI SGR foreground codes of ConsoleColor 0..15 (Black, DarkBlue, … White). */
const ANSI_FOREGROUND = [30, 34, 32, 36, 31, 35, 33, 37, 90, 94, 92, 96, 91, 95, 93, 97] as const

/** ConsoleColor values used by the CLI. */
export const Colour = {
  DarkGray: 8,
  Green: 10,
  Cyan: 11,
  Red: 12,
  Yellow: 14,
} as const

/** True when `stream` should get colours: a TTY and `NO_COLOR` unset (https://no-color.org). */
export function wantsColour(stream: TerminalOutput, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb'
}

/**
 * `text` in ConsoleColor `foreground` (and `background`), as ANSI escapes; unchanged when a colour
 * is undefined or out of range.
 */
export function paint(text: string, foreground?: number, background?: number): string {
  const codes: number[] = []
  const fg = foreground === undefined ? undefined : ANSI_FOREGROUND[foreground]
  const bg = background === undefined ? undefined : ANSI_FOREGROUND[background]
  if (fg !== undefined) codes.push(fg)
  if (bg !== undefined) codes.push(bg + 10)
  if (codes.length === 0 || text === '') return text
  return `\x1b[${codes.join(';')}m${text}\x1b[0m`
}

/**
 * Lines of `input` (without their line ends), for pipeline input: what `run` and `cmd` pass to the
 * server when stdin is piped.
 */
export async function* inputLines(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let rest = ''
  for await (const chunk of input) {
    // stream mode keeps a UTF-8 sequence split across chunks whole
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Buffer, { stream: true })
    const parts = rest.split(/\r?\n/)
    rest = parts.pop() as string
    yield* parts
  }
  rest += decoder.decode()
  if (rest !== '') yield rest
}

/** One line reader per non-TTY input: a readline interface buffers ahead, so it must be shared. */
const pipedReaders = new WeakMap<object, AsyncIterator<string>>()

/**
 * The next line of a non-TTY input (a pipe or file), or undefined at its end. All reads of one input
 * share one reader, so lines buffered by an earlier read are not lost.
 */
export async function nextPipedLine(input: TerminalInput): Promise<string | undefined> {
  let reader = pipedReaders.get(input)
  if (reader === undefined) {
    reader = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY })[
      Symbol.asyncIterator
    ]()
    pipedReaders.set(input, reader)
  }
  const r = await reader.next()
  return r.done === true ? undefined : r.value
}

/**
 * Reads one line (with line editing on a TTY; from the shared piped reader otherwise). Ctrl+C
 * rejects with {@link InterruptedError}, the end of input with {@link EndOfInputError}.
 */
export async function readLine(
  prompt: string,
  input: TerminalInput,
  output: TerminalOutput,
): Promise<string> {
  if (input.isTTY !== true) {
    output.write(prompt)
    const line = await nextPipedLine(input)
    if (line === undefined) throw new EndOfInputError()
    output.write(`${line}\n`)
    return line
  }
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input, output, terminal: input.isTTY === true && output.isTTY === true })
    let settled = false
    const done = (fn: () => void): void => {
      if (settled) return
      settled = true
      rl.close()
      fn()
    }
    rl.on('SIGINT', () => {
      output.write('^C\n')
      done(() => reject(new InterruptedError()))
    })
    rl.on('close', () => done(() => reject(new EndOfInputError())))
    rl.question(prompt, (answer) => done(() => resolve(answer)))
  })
}

/**
 * Reads a secret without echoing it: each character shows as `*`. Needs a TTY on `input` (raw
 * mode); on other input it reads a plain line without echo. Ctrl+C rejects with
 * {@link InterruptedError}, Ctrl+D on an empty line with {@link EndOfInputError}.
 */
export function readSecret(prompt: string, input: TerminalInput, output: TerminalOutput): Promise<string> {
  if (input.isTTY !== true || input.setRawMode === undefined) {
    output.write(prompt)
    return nextPipedLine(input).then((line) => {
      if (line === undefined) throw new EndOfInputError()
      output.write('\n')
      return line
    })
  }
  const setRaw = input.setRawMode.bind(input)
  return new Promise((resolve, reject) => {
    let secret = ''
    output.write(prompt)
    setRaw(true)
    input.resume()
    const finish = (fn: () => void): void => {
      input.removeListener('data', onData)
      setRaw(false)
      input.pause()
      fn()
    }
    const onData = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8')
      if (text.startsWith('\x1b')) return // arrow keys and other escape sequences
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') {
          output.write('\n')
          return finish(() => resolve(secret))
        }
        if (ch === '\x03') {
          output.write('^C\n')
          return finish(() => reject(new InterruptedError()))
        }
        if (ch === '\x04') {
          if (secret !== '') continue
          output.write('\n')
          return finish(() => reject(new EndOfInputError()))
        }
        if (ch === '\x7f' || ch === '\b') {
          if (secret === '') continue
          secret = [...secret].slice(0, -1).join('')
          output.write('\b \b')
          continue
        }
        if (ch === '\x15') {
          // Ctrl+U: erase everything typed
          output.write('\b \b'.repeat([...secret].length))
          secret = ''
          continue
        }
        if (ch < ' ') continue
        secret += ch
        output.write('*')
      }
    }
    input.on('data', onData)
  })
}
