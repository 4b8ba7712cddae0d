/**
 * WinRM message encryption framing (MS-WSMV 2.2.9.1): the `multipart/encrypted` and
 * `multipart/x-multi-encrypted` bodies that carry SOAP envelopes sealed with the keys of an NTLM,
 * Kerberos, SPNEGO or CredSSP security context over plain HTTP.
 *
 * Sans-IO and mechanism-agnostic: the caller supplies a *sealer* (plaintext → {@link SealedMessage})
 * and an *unsealer* (the reverse), usually {@link SecurityContext.wrap} / {@link SecurityContext.unwrap}.
 * What goes into the header and data halves is the mechanism's business (NTLM: 16-byte signature;
 * Kerberos: RFC 4121 wrap-token header; CredSSP: the first `trailer_len` bytes of a TLS record).
 *
 * One part pair, exactly as pypsrp/pywinrm/Windows write it (`\t` is a TAB, lines end in CRLF, and
 * there is no CRLF between the encrypted data and the next boundary):
 *
 * ```text
 * --Encrypted Boundary\r\n
 * \tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n
 * \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<N>\r\n
 * --Encrypted Boundary\r\n
 * \tContent-Type: application/octet-stream\r\n
 * <uint32 LE header length><header><data>--Encrypted Boundary--\r\n
 * ```
 *
 * @module
 */
import { CryptoError, ProtocolError, PsrpError } from '../errors.ts'
import type { SealedMessage } from './security-context.ts'

/** The `protocol` values of WinRM encrypted bodies (the inner part's `Content-Type`). */
export type WinRMEncryptionProtocol =
  | 'application/HTTP-SPNEGO-session-encrypted'
  | 'application/HTTP-Kerberos-session-encrypted'
  | 'application/HTTP-CredSSP-session-encrypted'

/** `application/HTTP-SPNEGO-session-encrypted`: Negotiate (SPNEGO → Kerberos or NTLM) and raw NTLM. */
export const SPNEGO_ENCRYPTED: WinRMEncryptionProtocol = 'application/HTTP-SPNEGO-session-encrypted'
/** `application/HTTP-Kerberos-session-encrypted`: the `Kerberos` HTTP auth scheme. */
export const KERBEROS_ENCRYPTED: WinRMEncryptionProtocol = 'application/HTTP-Kerberos-session-encrypted'
/** `application/HTTP-CredSSP-session-encrypted`: CredSSP (TLS records). */
export const CREDSSP_ENCRYPTED: WinRMEncryptionProtocol = 'application/HTTP-CredSSP-session-encrypted'

/** The boundary every WinRM client and server uses. */
export const ENCRYPTED_BOUNDARY = 'Encrypted Boundary'

/** Largest plaintext per part for CredSSP: one TLS record (pypsrp `_max_enc_block_size`). */
export const CREDSSP_CHUNK_SIZE = 16384

/** The content type of the plaintext WS-Management envelope. */
const SOAP_TYPE = 'application/soap+xml;charset=UTF-8'

/**
 * A sealed message as the framing consumes it: {@link SealedMessage} plus the Kerberos RC4 padding
 * length, which pypsrp adds to `OriginalContent … Length=` (notes/auth.md §1.4; zero for NTLM, AES
 * and CredSSP). A plain `SealedMessage` is accepted as is.
 */
export interface WinRMSealedMessage extends SealedMessage {
  /** Bytes of padding appended to `data` (Kerberos RC4-HMAC: 1); default 0. */
  readonly paddingLength?: number | undefined
}

/** Seals one plaintext chunk (e.g. `ctx.wrap.bind(ctx)`). */
export type WinRMSealer = (plaintext: Uint8Array) => WinRMSealedMessage

/** Verifies and unseals one part (e.g. `ctx.unwrap.bind(ctx)`); throws `CryptoError` on failure. */
export type WinRMUnsealer = (message: SealedMessage) => Uint8Array

/** Options of {@link encryptWinRMBody}. */
export interface EncryptWinRMBodyOptions {
  /**
   * Largest plaintext per part. A longer message is split into parts of this size and sent as
   * `multipart/x-multi-encrypted`. Default: {@link CREDSSP_CHUNK_SIZE} for CredSSP, unlimited otherwise.
   */
  readonly chunkSize?: number | undefined
  /** The plaintext's content type for `OriginalContent`; default `application/soap+xml;charset=UTF-8`. */
  readonly originalContentType?: string | undefined
}

/** An encrypted (or decrypted) body and its `Content-Type`. */
export interface WinRMEncryptedBody {
  /** The `multipart/encrypted` or `multipart/x-multi-encrypted` body bytes. */
  readonly body: Uint8Array
  /** The HTTP `Content-Type`, e.g. `multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`. */
  readonly contentType: string
}

/** The result of {@link decryptWinRMBody}. */
export interface WinRMDecryptedBody {
  /** The plaintext of all parts, concatenated. */
  readonly plaintext: Uint8Array
  /** The plaintext's content type from `OriginalContent` (without `Length`), e.g. `application/soap+xml;charset=UTF-8`. */
  readonly contentType: string
}

const PROTOCOLS: readonly string[] = [SPNEGO_ENCRYPTED, KERBEROS_ENCRYPTED, CREDSSP_ENCRYPTED]
const encoder = new TextEncoder()

function ascii(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Decodes bytes 1:1 to a string (bytes are < 0x100); for short header regions only. */
function latin1(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)))
  }
  return s
}

function isProtocol(value: string): value is WinRMEncryptionProtocol {
  return PROTOCOLS.includes(value)
}

/**
 * Seals `plaintext` and frames it as a WinRM encrypted body (MS-WSMV 2.2.9.1; notes/auth.md §1.2).
 *
 * Calls `sealer` once per part, in order (NTLM and CredSSP sealing is stateful). Messages longer than
 * the chunk size (CredSSP: 16 KiB) become several part pairs under `multipart/x-multi-encrypted`,
 * each with its own `Length=`, and a single closing boundary.
 *
 * @param plaintext the SOAP envelope bytes.
 * @param sealer seals one chunk; its errors propagate unchanged.
 * @param protocol the session-encryption protocol of the mechanism.
 * @param options chunk size and original content type.
 * @returns the body and the `Content-Type` to send.
 * @throws {ProtocolError} (side `local`) for an unknown protocol, a bad chunk size, or a sealer
 * result that is not a `SealedMessage`.
 */
export function encryptWinRMBody(
  plaintext: Uint8Array,
  sealer: WinRMSealer,
  protocol: WinRMEncryptionProtocol,
  options: EncryptWinRMBodyOptions = {},
): WinRMEncryptedBody {
  if (!isProtocol(protocol)) {
    throw new ProtocolError('unknown WinRM encryption protocol', { side: 'local' })
  }
  const chunkSize = options.chunkSize ?? (protocol === CREDSSP_ENCRYPTED ? CREDSSP_CHUNK_SIZE : Infinity)
  if (!(chunkSize === Infinity || (Number.isSafeInteger(chunkSize) && chunkSize > 0))) {
    throw new ProtocolError('the encryption chunk size must be a positive integer', { side: 'local' })
  }
  const originalType = options.originalContentType ?? SOAP_TYPE
  if (/[\r\n]/.test(originalType)) {
    throw new ProtocolError('the original content type must not contain line breaks', { side: 'local' })
  }
  const multi = plaintext.length > chunkSize
  const chunks: Uint8Array[] = []
  if (multi) {
    for (let i = 0; i < plaintext.length; i += chunkSize) chunks.push(plaintext.subarray(i, i + chunkSize))
  } else {
    chunks.push(plaintext)
  }

  const delimiter = `--${ENCRYPTED_BOUNDARY}\r\n`
  const pieces: Uint8Array[] = []
  for (const chunk of chunks) {
    const sealed = sealer(chunk)
    if (
      typeof sealed !== 'object' ||
      sealed === null ||
      !(sealed.header instanceof Uint8Array) ||
      !(sealed.data instanceof Uint8Array)
    ) {
      throw new ProtocolError('the sealer did not return a header and data', { side: 'local' })
    }
    const padding = sealed.paddingLength ?? 0
    if (!Number.isSafeInteger(padding) || padding < 0) {
      throw new ProtocolError('the sealer returned an invalid padding length', { side: 'local' })
    }
    const length = chunk.length + padding
    pieces.push(
      ascii(
        `${delimiter}\tContent-Type: ${protocol}\r\n` +
          `\tOriginalContent: type=${originalType};Length=${length}\r\n` +
          `${delimiter}\tContent-Type: application/octet-stream\r\n`,
      ),
    )
    const headerLength = new Uint8Array(4)
    new DataView(headerLength.buffer).setUint32(0, sealed.header.length, true)
    pieces.push(headerLength, sealed.header, sealed.data)
  }
  pieces.push(ascii(`--${ENCRYPTED_BOUNDARY}--\r\n`))

  let total = 0
  for (const p of pieces) total += p.length
  const body = new Uint8Array(total)
  let at = 0
  for (const p of pieces) {
    body.set(p, at)
    at += p.length
  }
  const subtype = multi ? 'x-multi-encrypted' : 'encrypted'
  return {
    body,
    contentType: `multipart/${subtype};protocol="${protocol}";boundary="${ENCRYPTED_BOUNDARY}"`,
  }
}

/** The media type and parameters of an encrypted body's `Content-Type`. */
interface EncryptedContentType {
  readonly multi: boolean
  readonly protocol: string | undefined
  readonly boundary: string
}

/**
 * Parses `multipart/encrypted;protocol="…";boundary="…"` (or `x-multi-encrypted`). Parameter names
 * are case-insensitive; values may be quoted with `"` or `'` or bare. A missing boundary defaults to
 * `Encrypted Boundary`.
 */
function parseContentType(contentType: string): EncryptedContentType {
  const semi = contentType.indexOf(';')
  const media = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
  if (media !== 'multipart/encrypted' && media !== 'multipart/x-multi-encrypted') {
    throw new ProtocolError(`expected a multipart/encrypted body, got content type ${clip(media)}`)
  }
  const params = new Map<string, string>()
  const re = /;\s*([A-Za-z][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^;\s]*))/g
  for (const m of (semi < 0 ? '' : contentType.slice(semi)).matchAll(re)) {
    const name = (m[1] ?? '').toLowerCase()
    if (!params.has(name)) params.set(name, m[2] ?? m[3] ?? m[4] ?? '')
  }
  const boundary = params.get('boundary') ?? ENCRYPTED_BOUNDARY
  if (boundary === '' || boundary.length > 200 || /[\r\n]/.test(boundary)) {
    throw new ProtocolError('the encrypted body has an invalid MIME boundary')
  }
  return { multi: media === 'multipart/x-multi-encrypted', protocol: params.get('protocol'), boundary }
}

/** Shortens peer-supplied text for error messages. */
function clip(text: string): string {
  const t = text.replace(/[^\x20-\x7e]/g, '?')
  return JSON.stringify(t.length > 80 ? `${t.slice(0, 80)}…` : t)
}

/**
 * True when the peer's `protocol` can be unsealed by a session encrypting with `ours`: any
 * `application/HTTP-…-session-encrypted` value of the same family. CredSSP seals with TLS, the others
 * with GSS; SPNEGO and Kerberos are interchangeable (pywinrm labels Kerberos bodies SPNEGO).
 */
function compatibleProtocol(theirs: string, ours: WinRMEncryptionProtocol): boolean {
  if (!/^application\/HTTP-[\w-]+-session-encrypted$/i.test(theirs)) return false
  const credssp = (p: string): boolean => p.toLowerCase() === CREDSSP_ENCRYPTED.toLowerCase()
  return credssp(theirs) === credssp(ours)
}

const DASH = 0x2d
const CR = 0x0d
const LF = 0x0a
const isBlank = (b: number | undefined): boolean => b === 0x20 || b === 0x09
const isSpace = (b: number | undefined): boolean => isBlank(b) || b === CR || b === LF

/** A boundary delimiter found in the body. */
interface Delimiter {
  /** Index of its leading `--`. */
  readonly start: number
  /** Index just after it (after the line break of a part delimiter, after `--` of the closing one). */
  readonly end: number
  /** True for the closing delimiter `--boundary--`. */
  readonly close: boolean
}

/** Parser state over one body. */
class BodyReader {
  readonly #body: Uint8Array
  readonly #boundary: Uint8Array

  constructor(body: Uint8Array, boundary: string) {
    this.#body = body
    this.#boundary = ascii(boundary)
  }

  /**
   * The delimiter whose boundary text starts at `at`, if `at` is preceded by `--` and optional
   * blanks (Exchange writes `-- Encrypted Boundary`) and followed by a line break or `--`.
   */
  #delimiterAround(at: number): Delimiter | undefined {
    const body = this.#body
    const b = this.#boundary
    for (let i = 0; i < b.length; i++) if (body[at + i] !== b[i]) return undefined
    let start = at
    while (start > 0 && isBlank(body[start - 1])) start--
    if (start < 2 || body[start - 1] !== DASH || body[start - 2] !== DASH) return undefined
    start -= 2
    let end = at + b.length
    if (body[end] === DASH && body[end + 1] === DASH) return { start, end: end + 2, close: true }
    if (body[end] === CR) end++
    if (body[end] !== LF) return undefined
    return { start, end: end + 1, close: false }
  }

  /**
   * The next delimiter at or after `from`. With `strict`, a part delimiter only counts when a header
   * line follows it and a closing delimiter only when nothing but white space follows it (so
   * ciphertext that happens to contain the boundary text is not mistaken for a delimiter); a part
   * delimiter at the very end counts as the closing one (pypsrp accepts `--boundary\r\n` there).
   */
  next(from: number, strict: boolean): Delimiter | undefined {
    const body = this.#body
    const first = this.#boundary[0] ?? 0
    for (let i = body.indexOf(first, from); i >= 0; i = body.indexOf(first, i + 1)) {
      const d = this.#delimiterAround(i)
      if (d === undefined || d.start < from) continue
      if (!strict) return d
      if (this.onlySpaceFrom(d.end)) return d.close ? d : { ...d, close: true }
      if (!d.close && this.#headerLineAt(d.end)) return d
    }
    return undefined
  }

  /** True when the bytes from `at` look like `[blanks]Name:`. */
  #headerLineAt(at: number): boolean {
    const body = this.#body
    let i = at
    while (isBlank(body[i])) i++
    const nameStart = i
    for (let c = body[i]; c !== undefined && /[A-Za-z0-9-]/.test(String.fromCharCode(c)); c = body[++i]);
    while (isBlank(body[i])) i++
    return i > nameStart && body[i] === 0x3a
  }

  /** True when only white space remains from `at`. */
  onlySpaceFrom(at: number): boolean {
    for (let i = at; i < this.#body.length; i++) if (!isSpace(this.#body[i])) return false
    return true
  }

  /** Index of the first non-white-space byte at or after `at`. */
  skipSpace(at: number): number {
    let i = at
    while (i < this.#body.length && isSpace(this.#body[i])) i++
    return i
  }

  /**
   * If a `Content-Type: application/octet-stream` line starts at `at` (any case, optional leading
   * blanks), returns the index after its line break; otherwise `at` (pypsrp simply removes that
   * line, so its absence is tolerated).
   */
  skipOctetStreamLine(at: number): number {
    const body = this.#body
    let i = at
    while (isBlank(body[i])) i++
    const window = latin1(body.subarray(i, Math.min(body.length, i + 64)))
    const m = /^content-type[ \t]*:[ \t]*application\/octet-stream[ \t]*\r?\n/i.exec(window)
    return m === null ? at : i + m[0].length
  }

  /** Reads a little-endian uint32 at `at`, or undefined past the end. */
  uint32(at: number): number | undefined {
    if (at + 4 > this.#body.length) return undefined
    return new DataView(this.#body.buffer, this.#body.byteOffset + at, 4).getUint32(0, true)
  }

  get length(): number {
    return this.#body.length
  }

  slice(start: number, end: number): Uint8Array {
    return this.#body.subarray(start, end)
  }
}

/** Largest header part (the `Content-Type` and `OriginalContent` lines) accepted. */
const MAX_HEADER_PART = 4096

/** Parses the lines of a header part into lower-case name → value. */
function parseHeaderPart(text: string): Map<string, string> {
  const headers = new Map<string, string>()
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '') continue
    const colon = line.indexOf(':')
    if (colon <= 0) throw new ProtocolError(`malformed header line in an encrypted body: ${clip(line)}`)
    const name = line.slice(0, colon).trim().toLowerCase()
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim())
  }
  return headers
}

/** Splits `OriginalContent: type=…;charset=…;Length=N` into the content type and N. */
function parseOriginalContent(value: string): { type: string; length: number } {
  let length: number | undefined
  const rest: string[] = []
  let type: string | undefined
  for (const piece of value.split(';')) {
    const p = piece.trim()
    const eq = p.indexOf('=')
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase()
    const v = eq < 0 ? '' : p.slice(eq + 1).trim()
    if (name === 'length') {
      if (length !== undefined || !/^\d{1,15}$/.test(v)) {
        throw new ProtocolError(`invalid Length in OriginalContent: ${clip(value)}`)
      }
      length = Number(v)
    } else if (name === 'type' && type === undefined) {
      type = v
    } else if (p !== '') {
      rest.push(p)
    }
  }
  if (length === undefined) throw new ProtocolError('OriginalContent of an encrypted body has no Length')
  const contentType = [type === undefined || type === '' ? 'application/soap+xml' : type, ...rest].join(';')
  return { type: type === undefined && rest.length === 0 ? SOAP_TYPE : contentType, length }
}

/**
 * Parses a WinRM encrypted body, unseals every part and checks each part's length
 * (MS-WSMV 2.2.9.1; notes/auth.md §1.2).
 *
 * Tolerant of what real servers send: `-- Encrypted Boundary` with blanks after the dashes
 * (Exchange), a missing CRLF after the closing boundary or a final boundary without its trailing
 * `--` (both accepted by pypsrp), header names in any case and order, leading
 * blanks other than TAB, `multipart/encrypted` bodies with several part pairs, `x-multi-encrypted`
 * with one. Strict where it matters: every part needs a protocol `Content-Type` of the same family as
 * `protocol` (SPNEGO and Kerberos are interchangeable, CredSSP is not), a header length that fits in
 * the part, and an unsealed length equal to its `OriginalContent` `Length`.
 *
 * @param body the HTTP response body.
 * @param contentType the response's `Content-Type` header.
 * @param unsealer unseals one part; called once per part, in order.
 * @param protocol the protocol the session encrypts with.
 * @returns the concatenated plaintext and its content type.
 * @throws {ProtocolError} for anything malformed; {@link CryptoError} (or the unsealer's own
 * `PsrpError`) when a part does not verify. Never anything that is not a `PsrpError`.
 */
export function decryptWinRMBody(
  body: Uint8Array,
  contentType: string,
  unsealer: WinRMUnsealer,
  protocol: WinRMEncryptionProtocol,
): WinRMDecryptedBody {
  if (!(body instanceof Uint8Array))
    throw new ProtocolError('the encrypted body must be bytes', { side: 'local' })
  if (typeof contentType !== 'string') throw new ProtocolError('the encrypted body has no content type')
  const ct = parseContentType(contentType)
  if (ct.protocol !== undefined && !compatibleProtocol(ct.protocol, protocol)) {
    throw new ProtocolError(`the server encrypted with protocol ${clip(ct.protocol)}, expected ${protocol}`)
  }
  const reader = new BodyReader(body, ct.boundary)
  let pos = reader.skipSpace(0)
  const first = reader.next(pos, false)
  if (first === undefined || first.start !== pos || first.close) {
    throw new ProtocolError('the encrypted body does not start with its MIME boundary')
  }
  pos = first.end

  const plaintexts: Uint8Array[] = []
  let originalType: string | undefined
  for (let part = 1; ; part++) {
    // header part: Content-Type (protocol) and OriginalContent (type and Length)
    const afterHeaders = reader.next(pos, false)
    if (afterHeaders === undefined || afterHeaders.close) {
      throw new ProtocolError(`part ${part} of the encrypted body has no octet-stream part`)
    }
    if (afterHeaders.start - pos > MAX_HEADER_PART) {
      throw new ProtocolError(`part ${part} of the encrypted body has oversized headers`)
    }
    const headers = parseHeaderPart(latin1(reader.slice(pos, afterHeaders.start)))
    const partType = headers.get('content-type')
    if (partType === undefined)
      throw new ProtocolError(`part ${part} of the encrypted body has no Content-Type`)
    if (!compatibleProtocol(partType, protocol)) {
      throw new ProtocolError(
        `part ${part} of the encrypted body has content type ${clip(partType)}, expected ${protocol}`,
      )
    }
    const original = headers.get('originalcontent')
    if (original === undefined)
      throw new ProtocolError(`part ${part} of the encrypted body has no OriginalContent`)
    const { type, length } = parseOriginalContent(original)
    originalType ??= type

    // payload part: [Content-Type: application/octet-stream CRLF] uint32le(n) header(n) data
    pos = reader.skipOctetStreamLine(afterHeaders.end)
    const headerLength = reader.uint32(pos)
    if (headerLength === undefined) throw new ProtocolError(`part ${part} of the encrypted body is truncated`)
    const headerStart = pos + 4
    const headerEnd = headerStart + headerLength
    if (headerEnd > reader.length) {
      throw new ProtocolError(
        `part ${part} of the encrypted body declares a ${headerLength}-byte header but only ${reader.length - headerStart} bytes follow`,
      )
    }
    const end = reader.next(headerEnd, true)
    if (end === undefined) {
      throw new ProtocolError(
        `part ${part} of the encrypted body is not followed by a MIME boundary (truncated?)`,
      )
    }
    const sealed: SealedMessage = {
      header: reader.slice(headerStart, headerEnd),
      data: reader.slice(headerEnd, end.start),
    }
    let plain: Uint8Array
    try {
      plain = unsealer(sealed)
    } catch (err) {
      if (err instanceof PsrpError) throw err
      throw new CryptoError(`part ${part} of the encrypted body could not be unsealed`, { cause: err })
    }
    if (!(plain instanceof Uint8Array)) {
      throw new CryptoError(`part ${part} of the encrypted body could not be unsealed`)
    }
    if (plain.length !== length) {
      throw new ProtocolError(
        `part ${part} of the encrypted body unsealed to ${plain.length} bytes but OriginalContent says Length=${length}`,
      )
    }
    plaintexts.push(plain)
    if (end.close) break
    pos = end.end
  }
  let total = 0
  for (const p of plaintexts) total += p.length
  const plaintext = new Uint8Array(total)
  let at = 0
  for (const p of plaintexts) {
    plaintext.set(p, at)
    at += p.length
  }
  return { plaintext, contentType: originalType ?? SOAP_TYPE }
}
