/**
 * The `psrp` command line's generic argument parser: tokenising `argv` into long (`--port 5986`,
 * `--port=5986`) and short (`-p 5986`) options, boolean and string flag types, `--` and the first
 * positional ending options, and the {@link UsageError} every mistake becomes (exit code 2, printed
 * with the subcommand's `--help` hint). It knows no command: their flags, help and checks are in
 * `commands.ts` and `commands-connection.ts`. Pure: no I/O.
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

/** The value of a string flag, or undefined when it was not given. */
export function str(values: Map<string, string | boolean>, name: string): string | undefined {
  const v = values.get(name)
  return typeof v === 'string' ? v : undefined
}

/**
 * A flag's number: above 0 and at most `max`, decimals allowed; undefined when the flag was not given.
 *
 * @throws {UsageError} for anything else, naming the flag and the range.
 */
export function positiveNumber(
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

/** `--a, --b` for a message. */
export const flagList = (flags: readonly string[]): string => flags.map((f) => `--${f}`).join(', ')
