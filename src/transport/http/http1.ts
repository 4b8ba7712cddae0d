/**
 * A minimal HTTP/1.1 codec for the WS-Management client: request-head serialisation and an incremental
 * response parser (status line, headers, `Content-Length`, `Transfer-Encoding: chunked`, read-to-EOF).
 *
 * Why not `node:http`: WinRM authentication (NTLM, Negotiate, Kerberos, CredSSP) and message encryption
 * are bound to one TCP connection, so the client must know exactly which socket every request uses and
 * whether any response byte arrived before a failure (retry safety). `node:http`'s agent hides both.
 *
 * The parser is synchronous and does no I/O: bytes in, a {@link ParsedResponse} out.
 *
 * @module
 */
import { InvalidArgumentError, ProtocolError } from '../../errors.ts'

/** Response headers: lower-case names; a header sent several times becomes an array. */
export type HttpHeaders = Record<string, string | string[]>

/** One complete HTTP response. */
export interface ParsedResponse {
  /** Status code, e.g. 200. */
  readonly status: number
  /** Reason phrase as sent by the server. */
  readonly statusText: string
  /** `1.0` or `1.1`. */
  readonly httpVersion: string
  /** Headers, lower-case names. */
  readonly headers: HttpHeaders
  /** The body bytes (de-chunked). */
  readonly body: Buffer
  /** True when the server asked to close the connection after this response (or must, by protocol). */
  readonly closeConnection: boolean
}

/** Limits of {@link ResponseParser}. */
export interface ResponseParserOptions {
  /** Largest accepted status line + headers, in bytes; default 64 KiB. */
  maxHeaderSize?: number | undefined
  /** Largest accepted body, in bytes; default 64 MiB. */
  maxBodySize?: number | undefined
  /** True for the response to a `CONNECT`: a 2xx has no body and the bytes after the head are the tunnel. */
  connect?: boolean | undefined
}

const CRLF = Buffer.from('\r\n')
const HEAD_END = Buffer.from('\r\n\r\n')
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const STATUS_LINE = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/

type State =
  | { kind: 'head' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunkSize' }
  | { kind: 'chunkData'; remaining: number }
  | { kind: 'chunkDataEnd' }
  | { kind: 'trailers' }
  | { kind: 'eof' }
  | { kind: 'done' }

interface Head {
  status: number
  statusText: string
  httpVersion: string
  headers: HttpHeaders
  closeConnection: boolean
}

/**
 * Incremental HTTP/1.1 response parser for one response. Feed bytes with {@link push} and the end of
 * the stream with {@link end}; {@link response} is set once the response is complete. Interim `1xx`
 * responses (e.g. `100 Continue`) are skipped. Malformed input throws {@link ProtocolError} (remote).
 */
export class ResponseParser {
  readonly #maxHeaderSize: number
  readonly #maxBodySize: number
  readonly #connect: boolean
  #buffer: Buffer = Buffer.alloc(0)
  #state: State = { kind: 'head' }
  #head: Head | undefined
  #body: Buffer[] = []
  #bodySize = 0
  #received = 0
  #response: ParsedResponse | undefined
  #rest: Buffer = Buffer.alloc(0)

  constructor(options: ResponseParserOptions = {}) {
    this.#maxHeaderSize = options.maxHeaderSize ?? 64 * 1024
    this.#maxBodySize = options.maxBodySize ?? 64 * 1024 * 1024
    this.#connect = options.connect ?? false
  }

  /** Number of bytes received so far (0 means the server has not answered at all). */
  get bytesReceived(): number {
    return this.#received
  }

  /** The complete response, once parsed. */
  get response(): ParsedResponse | undefined {
    return this.#response
  }

  /** Bytes received after the end of the response (for `CONNECT`: the first tunnel bytes). */
  get rest(): Buffer {
    return this.#rest
  }

  /** Adds received bytes. Returns the response when it became complete with these bytes. */
  push(chunk: Buffer): ParsedResponse | undefined {
    this.#received += chunk.length
    if (this.#state.kind === 'done') {
      this.#rest = Buffer.concat([this.#rest, chunk])
      return undefined
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    this.#run()
    return this.#response
  }

  /** Signals the end of the byte stream. Returns the response (read-to-EOF bodies end here). */
  end(): ParsedResponse | undefined {
    if (this.#state.kind === 'eof') {
      this.#finish()
      return this.#response
    }
    if (this.#state.kind !== 'done' && this.#received > 0) {
      throw new ProtocolError('the server closed the connection in the middle of an HTTP response')
    }
    return this.#response
  }

  #run(): void {
    for (;;) {
      const state = this.#state
      switch (state.kind) {
        case 'head': {
          const end = this.#buffer.indexOf(HEAD_END)
          if (end < 0) {
            if (this.#buffer.length > this.#maxHeaderSize) {
              throw new ProtocolError(`HTTP response head exceeds ${this.#maxHeaderSize} bytes`)
            }
            return
          }
          if (end > this.#maxHeaderSize) {
            throw new ProtocolError(`HTTP response head exceeds ${this.#maxHeaderSize} bytes`)
          }
          const text = this.#buffer.subarray(0, end).toString('latin1')
          this.#buffer = this.#buffer.subarray(end + HEAD_END.length)
          const head = parseHead(text)
          if (head.status >= 100 && head.status < 200) {
            if (head.status === 101) throw new ProtocolError('unexpected HTTP 101 Switching Protocols')
            continue // interim response: the real one follows
          }
          this.#head = head
          this.#state = this.#bodyState(head)
          break
        }
        case 'length': {
          const take = Math.min(state.remaining, this.#buffer.length)
          if (take > 0) this.#addBody(this.#buffer.subarray(0, take))
          this.#buffer = this.#buffer.subarray(take)
          state.remaining -= take
          if (state.remaining > 0) return
          this.#finish()
          return
        }
        case 'chunkSize': {
          const end = this.#buffer.indexOf(CRLF)
          if (end < 0) {
            if (this.#buffer.length > 1024) throw new ProtocolError('HTTP chunk-size line too long')
            return
          }
          const line = this.#buffer.subarray(0, end).toString('latin1')
          this.#buffer = this.#buffer.subarray(end + 2)
          const sizeText = (line.split(';', 1)[0] ?? '').trim()
          if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new ProtocolError('invalid HTTP chunk size')
          const size = Number.parseInt(sizeText, 16)
          this.#state = size === 0 ? { kind: 'trailers' } : { kind: 'chunkData', remaining: size }
          break
        }
        case 'chunkData': {
          const take = Math.min(state.remaining, this.#buffer.length)
          if (take > 0) this.#addBody(this.#buffer.subarray(0, take))
          this.#buffer = this.#buffer.subarray(take)
          state.remaining -= take
          if (state.remaining > 0) return
          this.#state = { kind: 'chunkDataEnd' }
          break
        }
        case 'chunkDataEnd': {
          if (this.#buffer.length < 2) return
          if (this.#buffer[0] !== 0x0d || this.#buffer[1] !== 0x0a) {
            throw new ProtocolError('missing CRLF after HTTP chunk data')
          }
          this.#buffer = this.#buffer.subarray(2)
          this.#state = { kind: 'chunkSize' }
          break
        }
        case 'trailers': {
          const end = this.#buffer.indexOf(CRLF)
          if (end < 0) {
            if (this.#buffer.length > this.#maxHeaderSize) throw new ProtocolError('HTTP trailers too long')
            return
          }
          this.#buffer = this.#buffer.subarray(end + 2)
          if (end === 0) {
            this.#finish()
            return
          }
          break // trailer fields are ignored
        }
        case 'eof': {
          if (this.#buffer.length > 0) this.#addBody(this.#buffer)
          this.#buffer = Buffer.alloc(0)
          return
        }
        case 'done':
          return
      }
    }
  }

  #bodyState(head: Head): State {
    if (this.#connect && head.status >= 200 && head.status < 300) return { kind: 'length', remaining: 0 }
    if (head.status === 204 || head.status === 304) return { kind: 'length', remaining: 0 }
    const te = headerValue(head.headers, 'transfer-encoding')
    if (te !== undefined) {
      const codings = te
        .toLowerCase()
        .split(',')
        .map((s) => s.trim())
      if (codings[codings.length - 1] === 'chunked') {
        if (codings.length !== 1) throw new ProtocolError(`unsupported HTTP transfer-encoding: ${te}`)
        return { kind: 'chunkSize' }
      }
      head.closeConnection = true
      return { kind: 'eof' }
    }
    const cl = Object.hasOwn(head.headers, 'content-length') ? head.headers['content-length'] : undefined
    if (cl !== undefined) {
      const values = (Array.isArray(cl) ? cl : [cl]).flatMap((v) => v.split(',').map((s) => s.trim()))
      const first = values[0] ?? ''
      if (!/^\d{1,15}$/.test(first) || values.some((v) => v !== first)) {
        throw new ProtocolError('invalid HTTP Content-Length')
      }
      const length = Number(first)
      if (length > this.#maxBodySize) {
        throw new ProtocolError(`HTTP response body of ${length} bytes exceeds ${this.#maxBodySize}`)
      }
      return { kind: 'length', remaining: length }
    }
    head.closeConnection = true
    return { kind: 'eof' }
  }

  #addBody(bytes: Buffer): void {
    this.#bodySize += bytes.length
    if (this.#bodySize > this.#maxBodySize) {
      throw new ProtocolError(`HTTP response body exceeds ${this.#maxBodySize} bytes`)
    }
    // copy: the slice may reference a buffer that is reused by the socket
    this.#body.push(Buffer.from(bytes))
  }

  #finish(): void {
    const head = this.#head
    if (head === undefined) throw new ProtocolError('HTTP response without a head')
    this.#state = { kind: 'done' }
    this.#rest = this.#buffer
    this.#buffer = Buffer.alloc(0)
    this.#response = {
      status: head.status,
      statusText: head.statusText,
      httpVersion: head.httpVersion,
      headers: head.headers,
      body: Buffer.concat(this.#body),
      closeConnection: head.closeConnection,
    }
  }
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n')
  const statusLine = lines[0] ?? ''
  const m = STATUS_LINE.exec(statusLine)
  if (m === null)
    throw new ProtocolError(`invalid HTTP status line: ${JSON.stringify(statusLine.slice(0, 80))}`)
  const httpVersion = m[1] ?? '1.1'
  const headers: HttpHeaders = {}
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (line.startsWith(' ') || line.startsWith('\t')) {
      throw new ProtocolError('obsolete HTTP header line folding is not accepted')
    }
    const colon = line.indexOf(':')
    const name = colon > 0 ? line.slice(0, colon) : ''
    if (!TOKEN.test(name)) throw new ProtocolError('invalid HTTP header line')
    const key = name.toLowerCase()
    const value = line.slice(colon + 1).trim()
    const prev = Object.hasOwn(headers, key) ? headers[key] : undefined
    // defineProperty: a header named __proto__ must not change the object's prototype
    Object.defineProperty(headers, key, {
      value: prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value],
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  const connection = (headerValue(headers, 'connection') ?? '').toLowerCase()
  const tokens = connection.split(',').map((s) => s.trim())
  const closeConnection = httpVersion === '1.0' ? !tokens.includes('keep-alive') : tokens.includes('close')
  return { status: Number(m[2]), statusText: m[3] ?? '', httpVersion, headers, closeConnection }
}

/** The value of a header (several values joined with `, `), or undefined. */
export function headerValue(headers: HttpHeaders, name: string): string | undefined {
  const key = name.toLowerCase()
  const v = Object.hasOwn(headers, key) ? headers[key] : undefined
  return Array.isArray(v) ? v.join(', ') : v
}

/** The values of a header as a list (one entry per header line), empty when absent. */
export function headerValues(headers: HttpHeaders, name: string): string[] {
  const key = name.toLowerCase()
  const v = Object.hasOwn(headers, key) ? headers[key] : undefined
  return v === undefined ? [] : Array.isArray(v) ? [...v] : [v]
}

/** Fields of a request head produced by {@link serializeRequestHead}. */
export interface RequestHead {
  /** e.g. `POST`, `CONNECT`. */
  readonly method: string
  /** origin-form path, absolute URI (forward proxy) or `host:port` (CONNECT). */
  readonly target: string
  /** Header name → value, in sending order. */
  readonly headers: ReadonlyArray<readonly [string, string]>
}

/**
 * Serialises a request line and headers (terminated by the empty line). Header names must be tokens
 * and values must not contain CR, LF or NUL (request smuggling); violations throw
 * {@link InvalidArgumentError} naming the header, never its value.
 */
export function serializeRequestHead(head: RequestHead): Buffer {
  if (!TOKEN.test(head.method)) throw new InvalidArgumentError('invalid HTTP method')
  if (/[\s\0]/.test(head.target)) throw new InvalidArgumentError('invalid HTTP request target')
  let text = `${head.method} ${head.target} HTTP/1.1\r\n`
  for (const [name, value] of head.headers) {
    if (!TOKEN.test(name)) throw new InvalidArgumentError(`invalid HTTP header name ${JSON.stringify(name)}`)
    if (/[\r\n\0]/.test(value)) throw new InvalidArgumentError(`invalid characters in HTTP header ${name}`)
    text += `${name}: ${value}\r\n`
  }
  text += '\r\n'
  return Buffer.from(text, 'latin1')
}
