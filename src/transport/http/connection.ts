/**
 * One persistent HTTP/1.1 connection: writes a request, parses its response, one exchange at a time.
 * It remembers whether any response byte arrived (retry safety) and owns the connection's
 * {@link AuthSession}. Any failure or abort destroys it; the client then opens a fresh one.
 *
 * @module
 */
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { InvalidStateError } from '../../errors.ts'
import type { AuthSession } from './auth.ts'
import { classifySocketError, protocolFailure, type ConnectionFailure } from './connector.ts'
import { ResponseParser, type ParsedResponse, type ResponseParserOptions } from './http1.ts'
import { abortReason } from './signals.ts'

interface Pending {
  /** The request carried a body (a SOAP envelope, not an empty authentication handshake). */
  readonly withBody: boolean
  readonly parser: ResponseParser
  readonly resolve: (res: ParsedResponse) => void
  readonly reject: (err: unknown) => void
}

/** The size limits every response on a connection is parsed with (head and body, in bytes). */
export type ResponseLimits = Pick<ResponseParserOptions, 'maxHeaderSize' | 'maxBodySize'>

/** An open connection to the server (possibly through a proxy tunnel). */
export class HttpConnection {
  /** The socket (TLS for https targets). */
  readonly socket: Socket | TLSSocket
  /** True when requests use the absolute-URI form (forward proxy). */
  readonly absoluteForm: boolean
  /** DER of the server certificate (https). */
  readonly peerCertificate: Uint8Array | undefined
  /** The authentication state bound to this connection. */
  readonly session: AuthSession
  readonly #where: string
  readonly #limits: ResponseLimits
  #exchanges = 0
  #pending: Pending | undefined
  #closed = false

  constructor(
    opened: {
      socket: Socket | TLSSocket
      absoluteForm: boolean
      peerCertificate: Uint8Array | undefined
    },
    session: AuthSession,
    where: string,
    limits: ResponseLimits,
  ) {
    this.socket = opened.socket
    this.absoluteForm = opened.absoluteForm
    this.peerCertificate = opened.peerCertificate
    this.session = session
    this.#where = where
    this.#limits = limits
    const socket = this.socket
    socket.setNoDelay(true)
    // TCP keep-alive probes keep long-polls alive through NAT and detect dead peers
    socket.setKeepAlive(true, 30_000)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('end', () => this.#onEnd())
    socket.on('error', (err) => this.#onError(err))
    socket.on('close', () => this.#onClose())
    socket.unref()
    socket.resume()
  }

  /** True while the connection can take another request. */
  get usable(): boolean {
    return !this.#closed && this.#pending === undefined && !this.socket.destroyed && this.socket.writable
  }

  /** Number of completed exchanges on this connection. */
  get exchanges(): number {
    return this.#exchanges
  }

  /**
   * Sends one request and resolves with its complete response. Rejects with a
   * {@link ConnectionFailure} (the connection is then destroyed) or with the signal's reason (the
   * connection is destroyed too: a response in flight would desynchronise it).
   */
  exchange(head: Buffer, body: Uint8Array, signal: AbortSignal): Promise<ParsedResponse> {
    if (!this.usable) {
      return Promise.reject(new InvalidStateError('send an HTTP request', this.#closed ? 'closed' : 'busy'))
    }
    if (signal.aborted) return Promise.reject(abortReason(signal))
    return new Promise<ParsedResponse>((resolve, reject) => {
      const onAbort = (): void => {
        this.#pending = undefined
        this.destroy()
        reject(abortReason(signal))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#pending = {
        withBody: body.length > 0,
        parser: new ResponseParser(this.#limits),
        resolve: (res) => {
          signal.removeEventListener('abort', onAbort)
          resolve(res)
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      this.socket.ref()
      this.socket.write(body.length === 0 ? head : Buffer.concat([head, body]))
    })
  }

  /** Destroys the socket (idempotent). A pending exchange is rejected as a retriable reset. */
  destroy(): void {
    this.#closed = true
    this.socket.destroy()
  }

  #settle(): Pending | undefined {
    const p = this.#pending
    this.#pending = undefined
    if (!this.#closed) this.socket.unref()
    return p
  }

  #onData(chunk: Buffer): void {
    const p = this.#pending
    if (p === undefined) {
      // bytes without a request: the connection is out of sync
      this.destroy()
      return
    }
    let res: ParsedResponse | undefined
    try {
      res = p.parser.push(chunk)
    } catch (err) {
      this.#settle()
      this.destroy()
      p.reject(protocolFailure(err, this.#where))
      return
    }
    if (res === undefined) return
    this.#settle()
    this.#exchanges++
    if (res.closeConnection || p.parser.rest.length > 0) this.destroy()
    p.resolve(res)
  }

  #onEnd(): void {
    const p = this.#settle()
    this.#closed = true
    if (p === undefined) {
      this.socket.destroy()
      return
    }
    let res: ParsedResponse | undefined
    try {
      res = p.parser.end()
    } catch {
      // the only failure at the end is a response cut short: the connection was lost, not a bad peer
      this.socket.destroy()
      const cut = Object.assign(new Error('the connection closed in the middle of the HTTP response'), {
        code: 'ECONNRESET',
      })
      p.reject(this.#failure(cut, p))
      return
    }
    this.socket.destroy()
    if (res !== undefined) {
      this.#exchanges++
      p.resolve(res)
      return
    }
    const reset = Object.assign(new Error('the server closed the connection'), { code: 'ECONNRESET' })
    p.reject(this.#failure(reset, p))
  }

  #onError(err: Error): void {
    const p = this.#settle()
    this.#closed = true
    if (p !== undefined) p.reject(this.#failure(err, p))
  }

  #onClose(): void {
    this.#closed = true
    const p = this.#settle()
    if (p !== undefined) {
      const reset = Object.assign(new Error('the connection was closed'), { code: 'ECONNRESET' })
      p.reject(this.#failure(reset, p))
    }
  }

  #failure(err: unknown, p: Pending): ConnectionFailure {
    return classifySocketError(err, this.#where, {
      responseStarted: p.parser.bytesReceived > 0,
      reused: this.#exchanges > 0,
      requestSent: p.withBody,
    })
  }
}
