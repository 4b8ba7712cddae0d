/**
 * The Unix-socket side of the KCM credential cache (`src/auth/kerberos/ccache-kcm.ts` has the
 * protocol): one stream connection to the daemon (sssd-kcm, Heimdal kcm), requests written with their
 * 4-byte length, replies reassembled by {@link KcmReplyReader}. Every call has a time limit and can be
 * aborted; a failure closes the connection.
 *
 * @module
 */
import { connect, type Socket } from 'node:net'
import { TransportError } from '../errors.ts'
import {
  DEFAULT_KCM_SOCKET_PATH,
  frameKcmRequest,
  KcmReplyReader,
  type KcmConnection,
} from '../auth/kerberos/ccache-kcm.ts'
import { cancelScope, type CallOptions } from './cancel.ts'

/** Options of {@link connectKcm}. */
export interface KcmConnectOptions extends CallOptions {
  /** Milliseconds for the connection and for each call (default 5000). */
  timeout?: number | undefined
}

/** Connects to a KCM daemon (default socket {@link DEFAULT_KCM_SOCKET_PATH}). */
export async function connectKcm(
  socketPath: string = DEFAULT_KCM_SOCKET_PATH,
  options: KcmConnectOptions = {},
): Promise<KcmConnection> {
  const timeout = options.timeout ?? 5000
  const socket = connect({ path: socketPath })
  const scope = cancelScope({ signal: options.signal, timeout }, { what: `connecting to KCM ${socketPath}` })
  try {
    await scope.race(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            new TransportError(
              `Kerberos: cannot reach the KCM daemon at ${socketPath} (${err.code ?? err.message}; is sssd-kcm running?)`,
              { cause: err },
            ),
          ),
        )
      }),
      () => socket.destroy(),
    )
  } catch (err) {
    socket.destroy()
    throw err
  } finally {
    scope.dispose()
  }
  return new SocketKcmConnection(socket, socketPath, { signal: options.signal, timeout })
}

class SocketKcmConnection implements KcmConnection {
  readonly #socket: Socket
  readonly #path: string
  readonly #options: CallOptions
  readonly #reader = new KcmReplyReader()
  #waiting: { resolve: (reply: Uint8Array) => void; reject: (err: unknown) => void } | undefined
  #failure: unknown

  constructor(socket: Socket, path: string, options: CallOptions) {
    this.#socket = socket
    this.#path = path
    this.#options = options
    socket.on('data', (chunk: Buffer) => {
      this.#reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
      this.#deliver()
    })
    socket.on('error', (err) =>
      this.#fail(new TransportError(`Kerberos: KCM ${path}: ${err.message}`, { cause: err })),
    )
    socket.on('close', () =>
      this.#fail(new TransportError(`Kerberos: the KCM daemon at ${path} closed the connection`)),
    )
  }

  #deliver(): void {
    const w = this.#waiting
    if (w === undefined) return
    let reply: Uint8Array | undefined
    try {
      reply = this.#reader.next()
    } catch (err) {
      this.#fail(err)
      return
    }
    if (reply === undefined) return
    this.#waiting = undefined
    w.resolve(reply)
  }

  #fail(err: unknown): void {
    this.#failure ??= err
    const w = this.#waiting
    this.#waiting = undefined
    w?.reject(this.#failure)
    this.#socket.destroy()
  }

  async call(request: Uint8Array): Promise<Uint8Array> {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#waiting !== undefined) throw new TransportError('Kerberos: one KCM call at a time')
    const scope = cancelScope(this.#options, { what: `a KCM call to ${this.#path}` })
    try {
      return await scope.race(
        new Promise<Uint8Array>((resolve, reject) => {
          this.#waiting = { resolve, reject }
          this.#socket.write(frameKcmRequest(request))
          this.#deliver()
        }),
        () => this.#fail(scope.reason),
      )
    } finally {
      scope.dispose()
    }
  }

  close(): void {
    this.#socket.destroy()
  }
}
