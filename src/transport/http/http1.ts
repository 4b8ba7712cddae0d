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

/** Default of {@link ResponseParserOptions.maxHeaderSize}: 64 KiB. */
export const DEFAULT_MAX_HEADER_SIZE = 64 * 1024
/** Default of {@link ResponseParserOptions.maxBodySize}: 64 MiB. */
export const DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024

/** Limits of {@link ResponseParser} (all limits: docs/limits.md). */
export interface ResponseParserOptions {
  /**
   * Largest accepted status line + headers, in bytes (also each trailer line); default
   * {@link DEFAULT_MAX_HEADER_SIZE}. A longer head is a {@link ProtocolError}, raised before it is buffered.
   */
  maxHeaderSize?: number | undefined
  /**
   * Largest accepted body, in bytes (after de-chunking); default {@link DEFAULT_MAX_BODY_SIZE}. A larger
   * `Content-Length`, or more body bytes, is a {@link ProtocolError}, raised before the bytes are kept.
   */
  maxBodySize?: number | undefined
  /** True for the response to a `CONNECT`: a 2xx has no body and the bytes after the head are the tunnel. */
  connect?: boolean | undefined
}

const CRLF = Buffer.from('\r\n')
const HEAD_END = Buffer.from('\r\n\r\n')
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const STATUS_LINE = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/
/** Longest accepted chunk-size line (size, extensions), CRLF excluded. */
const MAX_CHUNK_LINE = 1024

type State =
  | { kind: 'head' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunkSize' }
  | { kind: 'chunkData'; remaining: number }
  | { kind: 'chunkDataEnd'; seen: number }
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
 * Bytes of one delimited item (the head, a chunk-size line, a trailer line) that arrive over several
 * reads. Appends are amortised O(1) per byte (the buffer doubles, up to the item's limit) and every
 * byte is searched once, so an item fed one byte per read costs time linear in its length.
 */
class Delimited {
  #buf: Buffer = Buffer.alloc(0)
  #len = 0

  /**
   * Consumes `input[pos..]` up to and including the first `delim` (which may straddle reads). At most
   * `limit` bytes may precede the delimiter: beyond that `tooLong` is thrown before more is copied.
   *
   * @returns the bytes before the delimiter and the input position after it, or undefined when the
   *   whole input was consumed without completing the item
   */
  take(
    input: Buffer,
    pos: number,
    delim: Buffer,
    limit: number,
    tooLong: () => Error,
  ): { item: Buffer; next: number } | undefined {
    const cap = limit + delim.length
    const take = Math.min(input.length - pos, cap - this.#len)
    if (this.#len === 0) {
      // fast path: the whole item is in this read
      const at = input.indexOf(delim, pos)
      if (at >= 0 && at - pos <= limit) return { item: input.subarray(pos, at), next: at + delim.length }
    }
    const from = Math.max(0, this.#len - (delim.length - 1))
    this.#append(input, pos, pos + take)
    const at = this.#buf.subarray(0, this.#len).indexOf(delim, from)
    if (at < 0) {
      if (this.#len >= cap) throw tooLong()
      return undefined
    }
    if (at > limit) throw tooLong()
    const item = this.#buf.subarray(0, at) // the buffer is dropped below: no copy needed
    // bytes appended after the delimiter are given back to the input
    const next = pos + take - (this.#len - (at + delim.length))
    this.#buf = Buffer.alloc(0)
    this.#len = 0
    return { item, next }
  }

  #append(src: Buffer, from: number, to: number): void {
    const n = to - from
    if (this.#len + n > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#len + n, 2 * this.#buf.length, 256))
      this.#buf.copy(grown, 0, 0, this.#len)
      this.#buf = grown
    }
    src.copy(this.#buf, this.#len, from, to)
    this.#len += n
  }
}

/** Size of the blocks small body pieces are copied into. */
const BODY_BLOCK = 64 * 1024

/**
 * The body bytes. Pieces of at least `BODY_BLOCK / 8` bytes are copied as they are; smaller ones are
 * packed into shared 64 KiB blocks, so a body received a few bytes at a time costs neither one object
 * per read nor quadratic copying.
 */
class Body {
  readonly #parts: Buffer[] = []
  #block: Buffer | undefined
  #blockStart = 0
  #blockLen = 0
  size = 0

  add(bytes: Buffer): void {
    this.size += bytes.length
    if (bytes.length >= BODY_BLOCK / 8) {
      this.#flush()
      // copy: the slice may reference a buffer that is reused by the socket
      this.#parts.push(Buffer.from(bytes))
      return
    }
    if (this.#block === undefined || this.#blockLen + bytes.length > this.#block.length) {
      this.#flush()
      this.#block = Buffer.allocUnsafe(BODY_BLOCK)
      this.#blockStart = 0
      this.#blockLen = 0
    }
    bytes.copy(this.#block, this.#blockLen)
    this.#blockLen += bytes.length
  }

  #flush(): void {
    if (this.#block !== undefined && this.#blockLen > this.#blockStart) {
      this.#parts.push(this.#block.subarray(this.#blockStart, this.#blockLen))
      this.#blockStart = this.#blockLen
    }
  }

  finish(): Buffer {
    this.#flush()
    this.#block = undefined
    return Buffer.concat(this.#parts, this.size)
  }
}

/**
 * Incremental HTTP/1.1 response parser for one response. Feed bytes with {@link push} and the end of
 * the stream with {@link end}; {@link response} is set once the response is complete. Interim `1xx`
 * responses (e.g. `100 Continue`) are skipped. Malformed input throws {@link ProtocolError} (remote).
 *
 * Time and memory are linear in the bytes received, however they are split into reads: a partial
 * head or line is kept in a growing buffer and searched only where new bytes arrived; the size limits
 * are checked before bytes are copied.
 */
export class ResponseParser {
  readonly #maxHeaderSize: number
  readonly #maxBodySize: number
  readonly #connect: boolean
  readonly #pending = new Delimited()
  #state: State = { kind: 'head' }
  #head: Head | undefined
  #body = new Body()
  #received = 0
  #response: ParsedResponse | undefined
  #rest: Buffer[] = []

  constructor(options: ResponseParserOptions = {}) {
    this.#maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE
    this.#maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE
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
    if (this.#rest.length > 1) this.#rest = [Buffer.concat(this.#rest)]
    return this.#rest[0] ?? Buffer.alloc(0)
  }

  /** Adds received bytes. Returns the response when it became complete with these bytes. */
  push(chunk: Buffer): ParsedResponse | undefined {
    this.#received += chunk.length
    if (this.#state.kind === 'done') {
      if (chunk.length > 0) this.#rest.push(chunk)
      return undefined
    }
    this.#run(chunk)
    return this.#response
  }

  /** Signals the end of the byte stream. Returns the response (read-to-EOF bodies end here). */
  end(): ParsedResponse | undefined {
    if (this.#state.kind === 'eof') {
      this.#finish(Buffer.alloc(0), 0)
      return this.#response
    }
    if (this.#state.kind !== 'done' && this.#received > 0) {
      throw new ProtocolError('the server closed the connection in the middle of an HTTP response')
    }
    return this.#response
  }

  #run(input: Buffer): void {
    let pos = 0
    for (;;) {
      const state = this.#state
      switch (state.kind) {
        case 'head': {
          const max = this.#maxHeaderSize
          const got = this.#pending.take(
            input,
            pos,
            HEAD_END,
            max,
            () => new ProtocolError(`HTTP response head exceeds ${max} bytes`),
          )
          if (got === undefined) return
          pos = got.next
          const head = parseHead(got.item.toString('latin1'))
          if (head.status >= 100 && head.status < 200) {
            if (head.status === 101) throw new ProtocolError('unexpected HTTP 101 Switching Protocols')
            continue // interim response: the real one follows
          }
          this.#head = head
          this.#state = this.#bodyState(head)
          break
        }
        case 'length': {
          const take = Math.min(state.remaining, input.length - pos)
          if (take > 0) this.#addBody(input.subarray(pos, pos + take))
          pos += take
          state.remaining -= take
          if (state.remaining > 0) return
          this.#finish(input, pos)
          return
        }
        case 'chunkSize': {
          const got = this.#pending.take(
            input,
            pos,
            CRLF,
            MAX_CHUNK_LINE,
            () => new ProtocolError('HTTP chunk-size line too long'),
          )
          if (got === undefined) return
          pos = got.next
          const line = got.item.toString('latin1')
          const semi = line.indexOf(';')
          const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim()
          if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new ProtocolError('invalid HTTP chunk size')
          const size = Number.parseInt(sizeText, 16)
          this.#state = size === 0 ? { kind: 'trailers' } : { kind: 'chunkData', remaining: size }
          break
        }
        case 'chunkData': {
          const take = Math.min(state.remaining, input.length - pos)
          if (take > 0) this.#addBody(input.subarray(pos, pos + take))
          pos += take
          state.remaining -= take
          if (state.remaining > 0) return
          this.#state = { kind: 'chunkDataEnd', seen: 0 }
          break
        }
        case 'chunkDataEnd': {
          while (state.seen < 2) {
            if (pos >= input.length) return
            if (input[pos] !== CRLF[state.seen]) throw new ProtocolError('missing CRLF after HTTP chunk data')
            pos++
            state.seen++
          }
          this.#state = { kind: 'chunkSize' }
          break
        }
        case 'trailers': {
          const got = this.#pending.take(
            input,
            pos,
            CRLF,
            this.#maxHeaderSize,
            () => new ProtocolError('HTTP trailers too long'),
          )
          if (got === undefined) return
          pos = got.next
          if (got.item.length === 0) {
            this.#finish(input, pos)
            return
          }
          break // trailer fields are ignored
        }
        case 'eof': {
          if (pos < input.length) this.#addBody(input.subarray(pos))
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
    if (this.#body.size + bytes.length > this.#maxBodySize) {
      throw new ProtocolError(`HTTP response body exceeds ${this.#maxBodySize} bytes`)
    }
    this.#body.add(bytes)
  }

  /** Completes the response; `input[pos..]` are bytes after it. */
  #finish(input: Buffer, pos: number): void {
    const head = this.#head
    if (head === undefined) throw new ProtocolError('HTTP response without a head')
    this.#state = { kind: 'done' }
    if (pos < input.length) this.#rest.push(input.subarray(pos))
    this.#response = {
      status: head.status,
      statusText: head.statusText,
      httpVersion: head.httpVersion,
      headers: head.headers,
      body: this.#body.finish(),
      closeConnection: head.closeConnection,
    }
  }
}

/** Parses a response head (without its final empty line), one line at a time, without splitting it. */
function parseHead(text: string): Head {
  const statusEnd = lineEnd(text, 0)
  const statusLine = text.slice(0, statusEnd)
  const m = STATUS_LINE.exec(statusLine)
  if (m === null)
    throw new ProtocolError(`invalid HTTP status line: ${JSON.stringify(statusLine.slice(0, 80))}`)
  const httpVersion = m[1] ?? '1.1'
  const headers: HttpHeaders = {}
  for (let start = statusEnd + 2; start <= text.length;) {
    const end = lineEnd(text, start)
    const first = text.charCodeAt(start)
    if (first === 0x20 || first === 0x09) {
      throw new ProtocolError('obsolete HTTP header line folding is not accepted')
    }
    const colon = text.indexOf(':', start)
    const name = colon > start && colon < end ? text.slice(start, colon) : ''
    if (!TOKEN.test(name)) throw new ProtocolError('invalid HTTP header line')
    const key = name.toLowerCase()
    const value = text.slice(colon + 1, end).trim()
    start = end + 2
    const prev = Object.hasOwn(headers, key) ? headers[key] : undefined
    if (Array.isArray(prev)) {
      prev.push(value) // the array is the parser's own: appending keeps many repeats linear
      continue
    }
    // defineProperty: a header named __proto__ must not change the object's prototype
    Object.defineProperty(headers, key, {
      value: prev === undefined ? value : [prev, value],
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

/** Where the line starting at `start` ends: its CRLF, or the end of the text. */
function lineEnd(text: string, start: number): number {
  const at = text.indexOf('\r\n', start)
  return at < 0 ? text.length : at
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
