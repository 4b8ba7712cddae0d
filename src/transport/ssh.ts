/**
 * PSRP over SSH, in-process: the OutOfProc protocol over the `powershell` subsystem (or an explicit
 * command such as `pwsh -sshs -NoLogo`) of an SSH channel opened with the `ssh2` package, as
 * PowerShell 7's `Enter-PSSession -HostName` does with the `ssh` binary (`notes/transports.md` §3).
 * Built on {@link OutOfProcStreamTransport}.
 *
 * - Authentication: password, private key (contents or path, with passphrase), ssh-agent and
 *   keyboard-interactive; with no credential given, the agent (`SSH_AUTH_SOCK`) and the identity files
 *   (`IdentityFile` from `~/.ssh/config`, else `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`) are tried, as
 *   `ssh` does. A refused login is an {@link AuthenticationError}.
 * - Host keys are verified by default against `~/.ssh/known_hosts` (+ `known_hosts2` and
 *   `/etc/ssh/ssh_known_hosts`, or the config's `UserKnownHostsFile`), including hashed and
 *   `[host]:port` entries; an unknown, changed or revoked key is a {@link HostKeyVerificationError}
 *   naming the fingerprint. Nothing is ever written to known_hosts.
 * - `~/.ssh/config`: `Host` blocks with `HostName`, `User`, `Port`, `IdentityFile`, `IdentitiesOnly`,
 *   `UserKnownHostsFile`, `HostKeyAlias`, `ConnectTimeout`, `ServerAliveInterval`/`CountMax`,
 *   `Include` (see {@link resolveSshConfig}).
 * - A dropped connection (TCP reset, keepalive timeout, channel closed) fails every pending call with a
 *   {@link TransportError}. SSH lacks WinRM's disconnect/reconnect and shell enumeration: those
 *   {@link RunspacePool} methods reject with {@link NotSupportedError}.
 *
 * The parts, one concern each: `ssh-options.ts` (options and public types), `ssh-config-file.ts`
 * (reading `~/.ssh/config`), `ssh-host-key.ts` (host key verification), `ssh-auth.ts` (client
 * authentication), `ssh-connect.ts` (connection and handshake), `ssh-channel.ts` (the PowerShell
 * channel as the OutOfProc byte streams); this file is the {@link PsrpTransport} the client uses.
 *
 * @module
 */
import { inspect } from 'node:util'
import { OutOfProcStreamTransport } from './outofproc-stream.ts'
import { plannedMethods } from './ssh-auth.ts'
import { openPowerShellChannel } from './ssh-channel.ts'
import { connectSshClient } from './ssh-connect.ts'
import {
  sessionOptions,
  validateSshOptions,
  type SSHAuthMethod,
  type SSHConnectionInfo,
  type SSHConnectionOptions,
} from './ssh-options.ts'

export type {
  HostKeyPolicy,
  KeyboardInteractiveChallenge,
  KeyboardInteractiveHandler,
  SSHAuthMethod,
  SSHConnectionInfo,
  SSHConnectionOptions,
} from './ssh-options.ts'

const DEFAULT_CONNECT_TIMEOUT = 30_000

/** Facts the connector learns that the connection object shows. */
interface SSHState {
  authenticatedWith: SSHAuthMethod | undefined
}

/**
 * A PSRP connection over SSH (one runspace pool per connection).
 *
 * @example
 * ```ts
 * import { RunspacePool, PowerShell, SSHConnection } from 'psrp'
 * const conn = new SSHConnection({ host: 'server1', username: 'admin', privateKeyPath: '~/.ssh/id_ed25519' })
 * await using pool = await RunspacePool.open(conn)
 * console.log(await new PowerShell(pool).addScript('$PSVersionTable.PSVersion').invoke())
 * ```
 * @example
 * ```ts
 * // password, a pinned host key, and an explicit server command instead of the subsystem
 * new SSHConnection({ host: '10.0.0.5', username: 'ops', password, command: 'pwsh -sshs -NoLogo',
 *   hostKey: { fingerprint: 'SHA256:QhLLWGE5qGXvt47/tIzR3E0bCFbScgXm6AYDNw4mfLU' } })
 * ```
 */
export class SSHConnection extends OutOfProcStreamTransport {
  readonly #opts: Readonly<SSHConnectionOptions>
  readonly #state: SSHState

  /**
   * @throws {InvalidArgumentError} for contradictory options (both `subsystem` and `command`,
   * `keyboardInteractive: true` without a password, a bad port, a `maxLineLength` that is not a
   * positive integer).
   */
  constructor(options: SSHConnectionOptions) {
    validateSshOptions(options)
    const opts = { ...options }
    const state: SSHState = { authenticatedWith: undefined }
    const connectTimeout = opts.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT
    super(
      async (context) => {
        const session = await connectSshClient(opts, context.signal, connectTimeout)
        state.authenticatedWith = session.authenticatedWith
        return openPowerShellChannel(session, opts, context)
      },
      {
        connectTimeout,
        closeTimeout: opts.closeTimeout,
        session: sessionOptions(opts),
        peerName: `ssh ${opts.host}`,
      },
    )
    this.#opts = opts
    this.#state = state
  }

  /** The host as given (an address, name or config alias). */
  get host(): string {
    return this.#opts.host
  }

  /** The method that authenticated the session, once connected. */
  get authenticatedWith(): SSHAuthMethod | undefined {
    return this.#state.authenticatedWith
  }

  /** A description without secrets (also what `util.inspect` and `JSON.stringify` show). */
  get info(): SSHConnectionInfo {
    const o = this.#opts
    return {
      host: o.host,
      port: o.port,
      username: o.username,
      target: o.command !== undefined ? `command ${o.command}` : `subsystem ${o.subsystem ?? 'powershell'}`,
      authMethods: plannedMethods(o),
      authenticatedWith: this.#state.authenticatedWith,
    }
  }

  /** JSON form: {@link info} (no password, key or passphrase). */
  toJSON(): SSHConnectionInfo {
    return this.info
  }

  /** `util.inspect` form: {@link info}. */
  [inspect.custom](): string {
    return `SSHConnection ${inspect(this.info)}`
  }
}
