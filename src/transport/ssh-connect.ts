/**
 * Opens an authenticated SSH connection with the `ssh2` package: applies `~/.ssh/config`, makes the
 * TCP connection and the transport-layer handshake (RFC 4253) with the host key checked by
 * {@link HostKeyVerifier}, authenticates (RFC 4252) with {@link SshAuthentication}, and maps ssh2's
 * failures to typed errors: a refused host key is the {@link HostKeyVerificationError}, a refused
 * login an {@link AuthenticationError}, a handshake that takes too long a {@link TimeoutError}, and
 * anything else a {@link TransportError}. The channel to PowerShell is opened by `ssh-channel.ts`.
 *
 * @module
 */
import { lookup } from 'node:dns/promises'
import ssh2 from 'ssh2'
import type { ConnectConfig } from 'ssh2'
import { TimeoutError, TransportError, type PsrpError } from '../errors.ts'
import { noCredentialsError, SshAuthentication } from './ssh-auth.ts'
import { defaultUser, loadSshConfig } from './ssh-config-file.ts'
import { HostKeyVerifier } from './ssh-host-key.ts'
import { hostLabel, type SSHAuthMethod, type SSHConnectionOptions } from './ssh-options.ts'
import { Attr, hostAttributes, SpanKind, SpanName, withSpan, type Span } from '../internal/telemetry.ts'

const { Client } = ssh2

/** An ssh2 client. */
export type SshClient = InstanceType<typeof Client>

const DEFAULT_KEEPALIVE = 15_000

/** An SSH connection that has authenticated, and how to describe its failures. */
export interface SshClientSession {
  readonly client: SshClient
  /** The host connected to (the config's `HostName`, else the host given). */
  readonly hostName: string
  readonly port: number
  /** `user@host` or `user@[host]:port`, for messages. */
  readonly label: string
  /** The method the server accepted. */
  readonly authenticatedWith: SSHAuthMethod | undefined
  /** The typed error for an ssh2 `error` event (its `level` says which stage failed). */
  mapError(e: Error & { level?: string }): PsrpError
}

/**
 * Connects and authenticates, within `connectTimeout` ms (the `connectTimeout` option, else the
 * config's `ConnectTimeout`, else the transport's default) and until `signal` aborts.
 *
 * @throws {HostKeyVerificationError}, {@link AuthenticationError}, {@link TimeoutError},
 *   {@link TransportError} (unreachable, cancelled, closed during login), {@link InvalidArgumentError}
 *   (an unreadable `sshConfig` or private key).
 */
export function connectSshClient(
  o: Readonly<SSHConnectionOptions>,
  signal: AbortSignal,
  connectTimeout: number,
): Promise<SshClientSession> {
  const attributes = {
    ...hostAttributes(o.host, o.port),
    [Attr.transport]: 'ssh',
    [Attr.networkTransport]: 'tcp',
  }
  return withSpan(SpanName.connect, attributes, (span) => connectAndLogIn(o, signal, connectTimeout, span), {
    kind: SpanKind.CLIENT,
  })
}

/** {@link connectSshClient} inside its `psrp.connect` span, which gets the resolved host and the auth method. */
async function connectAndLogIn(
  o: Readonly<SSHConnectionOptions>,
  signal: AbortSignal,
  connectTimeout: number,
  span: Span,
): Promise<SshClientSession> {
  const cfg = await loadSshConfig(o)
  const hostName = cfg?.hostName ?? o.host
  const port = o.port ?? cfg?.port ?? 22
  span.setAttributes(hostAttributes(hostName, port))
  const username = o.username ?? cfg?.user ?? defaultUser()
  const where = hostLabel(hostName, port)
  const label = `${username}@${where}`

  const hostKey = await HostKeyVerifier.load(o.hostKey, cfg, cfg?.hostKeyAlias ?? hostName, port)
  const auth = await SshAuthentication.plan(o, cfg, username)
  if (auth.empty) {
    // a host that does not resolve is the first thing to report (ssh says so before anything else)
    await lookup(hostName).catch((e: Error) => {
      throw new TransportError(`cannot connect to ${where} over SSH: ${e.message}`, { cause: e })
    })
    throw noCredentialsError(label)
  }

  const client = new Client()
  const readyTimeout =
    o.connectTimeout ?? (cfg?.connectTimeout !== undefined ? cfg.connectTimeout * 1000 : connectTimeout)
  const config: ConnectConfig = {
    host: hostName,
    port,
    username,
    readyTimeout,
    keepaliveInterval:
      o.keepaliveInterval ??
      (cfg?.serverAliveInterval !== undefined ? cfg.serverAliveInterval * 1000 : DEFAULT_KEEPALIVE),
    keepaliveCountMax: o.keepaliveCountMax ?? cfg?.serverAliveCountMax ?? 3,
    hostVerifier: hostKey.verifier,
    authHandler: auth.handler,
    ...(hostKey.preferredAlgorithms.length > 0
      ? {
          algorithms: {
            serverHostKey: { prepend: [...hostKey.preferredAlgorithms], append: [], remove: [] },
          },
        }
      : {}),
    ...(o.debug !== undefined ? { debug: o.debug } : {}),
  }

  const mapError = (e: Error & { level?: string }): PsrpError => {
    if (hostKey.error !== undefined) return hostKey.error
    switch (e.level) {
      case 'client-authentication':
        return auth.refused(label)
      case 'client-timeout':
        return new TimeoutError(
          `SSH handshake with ${where} timed out after ${readyTimeout} ms`,
          readyTimeout,
          {
            cause: e,
          },
        )
      case 'client-socket':
      case 'client-dns':
        return new TransportError(`cannot connect to ${where} over SSH: ${e.message}`, { cause: e })
      default:
        return new TransportError(`SSH connection to ${where} failed: ${e.message}`, { cause: e })
    }
  }

  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      client.off('ready', onReady)
      client.off('error', onError)
      client.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const onReady = (): void => {
      cleanup()
      resolve()
    }
    const onError = (e: Error & { level?: string }): void => {
      cleanup()
      client.destroy()
      reject(mapError(e))
    }
    const onClose = (): void => {
      cleanup()
      reject(
        hostKey.error ?? new TransportError(`the SSH server ${where} closed the connection during login`),
      )
    }
    const onAbort = (): void => {
      cleanup()
      client.destroy()
      reject(new TransportError(`connecting to ${where} over SSH was cancelled`))
    }
    client.on('ready', onReady)
    client.on('error', onError)
    client.on('close', onClose)
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      client.connect(config)
      // OutOfProc is stop-and-wait (one unacknowledged packet per pipeline), so every packet is a
      // round trip. ssh2 leaves Nagle's algorithm on: the tail of each packet then waits for the
      // server's delayed ACK (40 ms on Linux), which capped uploads at ~700 KiB/s. ssh does the same
      // for interactive sessions (TCP_NODELAY); applied when the socket connects.
      client.setNoDelay(true)
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)))
    }
  })
  if (auth.lastMethod !== undefined) span.setAttribute(Attr.authMechanism, auth.lastMethod)
  return { client, hostName, port, label, authenticatedWith: auth.lastMethod, mapError }
}
