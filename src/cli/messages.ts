/**
 * The CLI's words for errors: the one place that turns an error into the line `psrp` prints and its
 * exit code. The library's messages name its options (`overwrite`, `allowUnencryptedBasic`,
 * `privateKeyPath`, …); here such errors are recognised by class, code and the command's own flags,
 * never by their English text, and told in flags (`--force`, `--allow-unencrypted`, `-i`,
 * `PSRP_PASSWORD`).
 *
 * @module
 */
import { AuthenticationError, FileTransferError, InvalidArgumentError, PsrpError } from '../errors.ts'
import { UsageError, type ConnectionSpec } from './args.ts'
import { EndOfInputError, InterruptedError } from './terminal.ts'

/** Exit code when stdout was closed by its reader (as a shell tool killed by SIGPIPE: 128 + 13). */
export const EXIT_OUTPUT_CLOSED = 141

/** What the failed command was: the subcommand and its parsed connection, when known. */
export interface ErrorContext {
  /** `run`, `cmd`, `shell`, `copy`, `fetch`, `decode`. */
  readonly command?: string | undefined
  /** The connection the flags named. */
  readonly connection?: ConnectionSpec | undefined
}

/**
 * A failure already told in the CLI's words, without an error code of its own: printed as
 * `psrp: <message>`, exit code 1 (e.g. a script file that cannot be read).
 */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
  }
}

/** Short words for the errno codes of file access. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
}

/** The errno code of `e` in words (`ENOENT` → `no such file`), else its message. */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (typeof code === 'string' && Object.hasOwn(ERRNO_TEXT, code)) return ERRNO_TEXT[code] as string
  if (typeof code === 'string') return code
  return e instanceof Error ? e.message : String(e)
}

/** `cannot read <file>: no such file` for a local file the command could not read. */
export function cannotRead(file: string, e: unknown): CliError {
  return new CliError(`cannot read ${file}: ${errnoText(e)}`, { cause: e })
}

/** `user@host`, or the host, of an SSH spec. */
function sshWho(spec: Extract<ConnectionSpec, { kind: 'ssh' }>): string {
  return spec.username === undefined ? spec.host : `${spec.username}@${spec.host}`
}

/**
 * An SSH login that failed with no password offered and no terminal to ask on: the keys and agent
 * were refused, or there were none (the library then names its options).
 */
export function sshNoPasswordToOffer(
  e: AuthenticationError,
  spec: Extract<ConnectionSpec, { kind: 'ssh' }>,
): AuthenticationError {
  return new AuthenticationError(
    `SSH authentication of ${sshWho(spec)} failed: no key or ssh-agent login worked; give a key with ` +
      '-i <file>, or set PSRP_PASSWORD (stdin is not a terminal to ask for a password on)',
    { cause: e },
  )
}

/**
 * `err` told in the CLI's flags when the library's message names an option; other errors come back
 * unchanged. Recognised by class, code and the command's flags:
 * - a {@link FileTransferError} with reason `exists` → `--force`;
 * - an {@link InvalidArgumentError} over WinRM on plain HTTP without `--allow-unencrypted`, with
 *   `--auth basic` or `--encryption never` → `--ssl` / `--allow-unencrypted`.
 */
export function inCliWords(err: unknown, context: ErrorContext = {}): unknown {
  if (err instanceof FileTransferError && err.reason === 'exists') {
    return new FileTransferError(
      `the destination '${err.path}' already exists (or files in it do): give --force to replace it`,
      err.reason,
      err.path,
      { cause: err },
    )
  }
  const spec = context.connection
  if (err instanceof InvalidArgumentError && spec?.kind === 'wsman' && !spec.ssl && !spec.allowUnencrypted) {
    if (spec.auth === 'basic')
      return new InvalidArgumentError(
        'Basic authentication over plain HTTP would send the password and all messages unencrypted: ' +
          'use --ssl, or give --allow-unencrypted (the server also needs AllowUnencrypted)',
        { cause: err },
      )
    if (spec.encryption === 'never')
      return new InvalidArgumentError(
        '--encryption never over plain HTTP would send every message unencrypted: use --ssl or ' +
          '--encryption auto, or give --allow-unencrypted (the server also needs AllowUnencrypted)',
        { cause: err },
      )
  }
  return err
}

/**
 * The exit code and the message for an error that ended a command: usage errors exit 2 with a
 * hint, psrp errors print `psrp: <code>: <message>` (in the CLI's words, {@link inCliWords}) and exit
 * 1, Ctrl+C at a prompt exits 130, a local file error prints `psrp: <what>: <errno in words>`.
 */
export function reportError(err: unknown, context: ErrorContext = {}): { code: number; message: string } {
  if (err instanceof UsageError)
    return { code: 2, message: `psrp ${err.command}: ${err.message}\ntry 'psrp ${err.command} --help'` }
  if (err instanceof InterruptedError) return { code: 130, message: '' }
  if (err instanceof EndOfInputError)
    return { code: 1, message: 'psrp: end of input while asking a question' }
  if (err instanceof CliError) return { code: 1, message: `psrp: ${err.message}` }
  const e = inCliWords(err, context)
  if (e instanceof PsrpError) return { code: 1, message: `psrp: ${e.code}: ${e.message}` }
  const errno = e as NodeJS.ErrnoException
  if (errno instanceof Error && typeof errno.code === 'string') {
    // Node's message starts with the code already ("ENOENT: no such file or directory, open 'x'")
    const text = errno.message.startsWith(`${errno.code}:`)
      ? errno.message
      : `${errno.code}: ${errno.message}`
    return { code: 1, message: `psrp: ${text}` }
  }
  return { code: 1, message: `psrp: ${e instanceof Error ? e.message : String(e)}` }
}
