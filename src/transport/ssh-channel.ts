/**
 * The channel PowerShell runs in (RFC 4254 §6.5): a `subsystem` request (`powershell` by default, as
 * PowerShell 7's SSH remoting configures in sshd_config) or an `exec` of an explicit command, on an
 * authenticated connection from `ssh-connect.ts`. The channel's stdin/stdout carry the OutOfProc
 * lines; its stderr is kept (up to 64 KiB) for the error that describes an unexpected end, with the
 * exit status. From here on any failure of the SSH connection fails the transport, and shutting down
 * ends the channel (EOF ends the server's pwsh) before the connection.
 *
 * @module
 */
import type { ClientChannel } from 'ssh2'
import { TransportError, type PsrpError } from '../errors.ts'
import type { OutOfProcConnectContext, OutOfProcStreams } from './outofproc-stream.ts'
import type { SshClientSession } from './ssh-connect.ts'
import { hostLabel, sshTarget, type SSHConnectionOptions } from './ssh-options.ts'

/** Most stderr text kept from the server side. */
const STDERR_LIMIT = 64 * 1024

/**
 * Opens the PowerShell channel on `session` and returns it as the transport's byte streams.
 *
 * @throws {TransportError} when the server refuses the subsystem or command, or `context.signal`
 *   aborts first (the connection is then closed).
 */
export async function openPowerShellChannel(
  session: SshClientSession,
  o: Readonly<SSHConnectionOptions>,
  context: OutOfProcConnectContext,
): Promise<OutOfProcStreams> {
  const { client, mapError, label } = session
  const where = hostLabel(session.hostName, session.port)
  // from here on, a failure of the SSH connection fails the transport
  let shuttingDown = false
  let channelEnded = false
  let lateError: PsrpError | undefined
  const onLateError = (e: Error & { level?: string }): void => {
    lateError ??= mapError(e)
    if (!shuttingDown) context.fail(lateError)
  }
  const onLateClose = (): void => {
    if (!shuttingDown && !channelEnded) {
      context.fail(lateError ?? new TransportError(`the SSH connection to ${label} was closed`))
    }
  }
  client.on('error', onLateError)
  client.on('close', onLateClose)

  // open the channel
  const target = sshTarget(o)
  let channel: ClientChannel
  try {
    channel = await new Promise<ClientChannel>((resolve, reject) => {
      const onAbort = (): void => reject(new TransportError(`opening the SSH ${target} was cancelled`))
      if (context.signal.aborted) return onAbort()
      context.signal.addEventListener('abort', onAbort, { once: true })
      const done = (err: Error | undefined, ch: ClientChannel): void => {
        context.signal.removeEventListener('abort', onAbort)
        if (err !== undefined && err !== null) {
          reject(
            new TransportError(
              `the SSH server ${where} refused the ${target}: ${err.message}` +
                (o.command === undefined
                  ? ` (is 'Subsystem ${o.subsystem ?? 'powershell'} /path/to/pwsh -sshs -NoLogo' in sshd_config?)`
                  : ''),
              { cause: err },
            ),
          )
        } else {
          resolve(ch)
        }
      }
      if (o.command !== undefined) client.exec(o.command, done)
      else client.subsys(o.subsystem ?? 'powershell', done)
    })
  } catch (e) {
    shuttingDown = true
    client.destroy()
    throw e
  }

  let stderr = ''
  let exit: { code: number | null; signal: string | undefined } | undefined
  channel.stderr.setEncoding('utf8')
  channel.stderr.on('data', (t: string) => {
    // like PowerShell's client: ssh-side stderr is informational only (banners, warnings)
    if (stderr.length < STDERR_LIMIT) stderr += t.slice(0, STDERR_LIMIT - stderr.length)
  })
  channel.on('exit', (code: number | null, signal?: string) => {
    exit = { code, signal }
  })
  const channelClosed = new Promise<void>((resolve) => channel.once('close', () => resolve()))
  const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()))
  const within = (p: Promise<void>, ms: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), ms)
      void p.then(() => {
        clearTimeout(t)
        resolve(true)
      })
    })

  return {
    readable: channel,
    writable: channel,
    describeEnd: async (cause) => {
      await within(channelClosed, 500)
      if (lateError !== undefined) return lateError
      const parts = [`the SSH ${target} on ${label} ended`]
      if (exit !== undefined) {
        parts.push(exit.code !== null ? `exit code ${exit.code}` : `killed by ${exit.signal ?? 'a signal'}`)
      }
      if (cause !== undefined) parts.push(cause.message)
      const text = stderr.trim()
      if (text !== '') parts.push(`stderr: ${text}`)
      return new TransportError(parts.join('; '), cause === undefined ? undefined : { cause })
    },
    shutdown: async (reason) => {
      shuttingDown = true
      channelEnded = true
      if (reason === 'closed') {
        // EOF on the server's stdin ends pwsh (exit 4000); then close the connection
        channel.end()
        await within(channelClosed, 3_000)
        client.end()
        if (!(await within(clientClosed, 2_000))) client.destroy()
      } else {
        client.destroy()
      }
      channel.stderr.removeAllListeners('data')
      channel.on('error', () => {})
      client.on('error', () => {})
    },
  }
}
