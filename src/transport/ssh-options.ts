/**
 * The options and public types of {@link SSHConnection}, and the checks made on them before anything
 * connects: what to connect to, how to authenticate (RFC 4252; keyboard-interactive RFC 4256), how
 * to verify the server's host key (RFC 4253 §8, sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), what runs on
 * the server (a subsystem or a command, RFC 4254 §6.5), timeouts and the OutOfProc limits.
 *
 * @module
 */
import { InvalidArgumentError, type SSHHostKey } from '../errors.ts'
import type { OutOfProcSessionOptions } from '../outofproc/index.ts'

/**
 * How the server's host key is verified.
 *
 * - `{ knownHosts }`: these known_hosts files (default policy: the user's and the system's);
 * - `{ fingerprint }`: accept exactly these keys (`SHA256:…` or `MD5:…`, as `ssh-keygen -l` prints);
 * - `{ verify }`: your callback decides (return `true` to accept);
 * - `'insecure-accept-any'`: no verification at all (tests only: anyone on the path can impersonate
 *   the server and read the password).
 */
export type HostKeyPolicy =
  | { readonly knownHosts: string | readonly string[] }
  | { readonly fingerprint: string | readonly string[] }
  | {
      /** Your decision: resolve `true` to accept the host key, `false` to refuse it (`ERR_HOST_KEY`). */
      readonly verify: (key: SSHHostKey) => boolean | Promise<boolean>
    }
  | 'insecure-accept-any'

/** One keyboard-interactive round: answer every prompt, in order. */
export interface KeyboardInteractiveChallenge {
  readonly name: string
  readonly instructions: string
  readonly prompts: readonly { readonly prompt: string; readonly echo: boolean }[]
}

/** Answers keyboard-interactive prompts. */
export type KeyboardInteractiveHandler = (
  challenge: KeyboardInteractiveChallenge,
) => readonly string[] | Promise<readonly string[]>

/** An authentication method {@link SSHConnection} may use. */
export type SSHAuthMethod = 'publickey' | 'agent' | 'keyboard-interactive' | 'password'

/** Options of {@link SSHConnection}. */
export interface SSHConnectionOptions {
  /** Host name, address or `~/.ssh/config` alias. */
  host: string
  /** Default: the config's `Port`, else 22. */
  port?: number | undefined
  /** Default: the config's `User`, else the local user name. */
  username?: string | undefined
  /** Password (for `password` and, with `keyboardInteractive: true`, keyboard-interactive). */
  password?: string | undefined
  /** A private key (OpenSSH or PEM text, or its bytes). */
  privateKey?: string | Uint8Array | undefined
  /** A private key file (`ssh -i`); read when connecting. */
  privateKeyPath?: string | undefined
  /** Passphrase of an encrypted private key. */
  passphrase?: string | undefined
  /**
   * ssh-agent: a socket path, `true` for `SSH_AUTH_SOCK`, `false` to never use it. Default: used when
   * no password, key or keyboard-interactive handler is given and `SSH_AUTH_SOCK` is set.
   */
  agent?: string | boolean | undefined
  /**
   * Keyboard-interactive: `true` answers every prompt with {@link password} (PAM's `Password:`), a
   * function answers the prompts itself. Tried before `password`, as `ssh` does.
   */
  keyboardInteractive?: boolean | KeyboardInteractiveHandler | undefined
  /** Host key verification; default `~/.ssh/known_hosts` etc. (see {@link HostKeyPolicy}). */
  hostKey?: HostKeyPolicy | undefined
  /** The SSH subsystem running the PowerShell server; default `powershell`. */
  subsystem?: string | undefined
  /** Run this command instead of a subsystem, e.g. `pwsh -sshs -NoLogo` (goes through the login shell). */
  command?: string | undefined
  /** Milliseconds for TCP + handshake + authentication + channel + the server's first answer; default 30 000. */
  connectTimeout?: number | undefined
  /** Milliseconds between SSH keepalives (0 = off); default the config's `ServerAliveInterval`, else 15 000. */
  keepaliveInterval?: number | undefined
  /** Unanswered keepalives before the connection is declared dead; default 3. */
  keepaliveCountMax?: number | undefined
  /** An ssh_config file to apply, or `false` for none; default `~/.ssh/config`. */
  sshConfig?: string | false | undefined
  /** Default timeout of signal, pipeline close and pool close; default 60 000. */
  closeTimeout?: number | undefined
  /**
   * Longest OutOfProc line accepted from the server, in characters (terminator excluded); default
   * 16 Mi characters (`DEFAULT_MAX_LINE_LENGTH` of `psrp/outofproc`). It is checked as text arrives,
   * before a line is joined: a longer line fails the connection with a `ProtocolError`
   * (`ERR_PROTOCOL`), and every pending call rejects with it. Takes precedence over
   * `session.maxLineLength`; the constructor throws an `InvalidArgumentError` when it is not a positive
   * integer.
   */
  maxLineLength?: number | undefined
  /** Options of the sans-IO OutOfProc session. */
  session?: OutOfProcSessionOptions | undefined
  /** Receives ssh2's debug lines (they contain no secrets). */
  debug?: ((line: string) => void) | undefined
}

/** What an {@link SSHConnection} shows of itself (no secrets). */
export interface SSHConnectionInfo {
  readonly host: string
  readonly port: number | undefined
  readonly username: string | undefined
  readonly target: string
  readonly authMethods: readonly SSHAuthMethod[]
  readonly authenticatedWith: SSHAuthMethod | undefined
}

/**
 * Refuses contradictory or malformed options before anything connects.
 *
 * @throws {InvalidArgumentError} naming the problem.
 */
export function validateSshOptions(o: SSHConnectionOptions): void {
  if (typeof o.host !== 'string' || o.host === '')
    throw new InvalidArgumentError('SSHConnection needs a host')
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port > 0 && o.port < 65536)) {
    throw new InvalidArgumentError(`invalid SSH port ${String(o.port)}`)
  }
  if (o.subsystem !== undefined && o.command !== undefined) {
    throw new InvalidArgumentError('give either subsystem or command, not both')
  }
  if (o.keyboardInteractive === true && o.password === undefined) {
    throw new InvalidArgumentError(
      'keyboardInteractive: true answers prompts with the password; give a password',
    )
  }
  if (o.privateKey !== undefined && o.privateKeyPath !== undefined) {
    throw new InvalidArgumentError('give either privateKey or privateKeyPath, not both')
  }
}

/** The OutOfProc session options of a connection: `session`, with `maxLineLength` applied. */
export function sessionOptions(o: SSHConnectionOptions): OutOfProcSessionOptions | undefined {
  if (o.maxLineLength === undefined) return o.session
  return { ...o.session, maxLineLength: o.maxLineLength }
}

/** A host for messages: `host` on port 22, else `[host]:port` (as `ssh` names it). */
export function hostLabel(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/** What runs on the server, for messages: `subsystem 'powershell'` or `command '…'`. */
export function sshTarget(o: SSHConnectionOptions): string {
  return o.command !== undefined ? `command '${o.command}'` : `subsystem '${o.subsystem ?? 'powershell'}'`
}
