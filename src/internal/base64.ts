/**
 * Base64 and UTF-8/UTF-16LE helpers for the sans-IO layers. Uses the global `Buffer` for speed (no
 * I/O involved) and validates strictly, which `Buffer.from(s, 'base64')` alone does not.
 *
 * @module
 */
import { isAscii } from 'node:buffer'

const EQUALS = 0x3d
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Encodes bytes as standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Length of the base64 text (with padding) of `byteLength` bytes. */
export function base64Length(byteLength: number): number {
  return Math.ceil(byteLength / 3) * 4
}

/**
 * Bytes of base64 per piece in {@link writeBase64}: a multiple of 3 (no padding inside the text) whose
 * text stays well under V8's 128 KiB limit for ordinary heap objects.
 */
const BASE64_PIECE = 48 * 1024

/**
 * Writes the base64 text of `bytes` into `out` at `offset` and returns its length
 * ({@link base64Length}). The text is made and copied a piece at a time: one string of a large
 * payload's base64 would be a large heap object, which V8 allocates on fresh pages and collects with a
 * scavenge of its own, and that cost 20-40 times what the encoding did (a 380 KiB payload: 190 MB/s
 * as one string, 5 GB/s in pieces).
 */
export function writeBase64(bytes: Uint8Array, out: Buffer, offset: number): number {
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = offset
  for (let i = 0; i < src.length; i += BASE64_PIECE) {
    at += out.write(src.subarray(i, Math.min(src.length, i + BASE64_PIECE)).toString('base64'), at, 'latin1')
  }
  return at - offset
}

/**
 * The UTF-8 bytes of a text given in pieces, where a byte array stands for its base64 text (written
 * with {@link writeBase64}), after `headroom` bytes left for the caller to fill.
 */
export function piecesToBytes(pieces: readonly (string | Uint8Array)[], headroom = 0): Buffer {
  let size = headroom
  for (const p of pieces)
    size += typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : base64Length(p.length)
  const out = Buffer.allocUnsafe(size)
  let at = headroom
  for (const p of pieces) at += typeof p === 'string' ? out.write(p, at, 'utf8') : writeBase64(p, out, at)
  return out
}

/** Decodes standard base64 (whitespace ignored); returns undefined when the text is not valid base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  // fast path, without whitespace: Node's decoder skips what is not in its alphabet and stops at '=',
  // so each such character costs the output at least one byte of the length that text of this length
  // and padding must decode to. The length alone proves the text valid, once '-' and '_' (Node also
  // reads base64url) are ruled out. This allocates only the output: re-encoding to compare (as before)
  // made a second string the size of the text, 3-6x slower on the 1.4 MB `<BA>` text of a fetch chunk.
  const length = text.length
  if (length % 4 === 0 && text.indexOf('-') < 0 && text.indexOf('_') < 0) {
    const b = Buffer.from(text, 'base64')
    const padding =
      length === 0 || text.charCodeAt(length - 1) !== EQUALS
        ? 0
        : text.charCodeAt(length - 2) !== EQUALS
          ? 1
          : 2
    if (b.length === (length / 4) * 3 - padding) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  }
  const compact = /\s/.test(text) ? text.replace(/\s+/g, '') : text
  if (!BASE64.test(compact)) return undefined
  const b = Buffer.from(compact, 'base64')
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** Base64 characters decoded per piece by {@link fromBase64Bytes}: a multiple of 4, under 128 KiB. */
const DECODE_PIECE = 64 * 1024
const MINUS = 0x2d
const UNDERSCORE = 0x5f

/**
 * Decodes the standard base64 text held as ASCII bytes in `src[start, end)`, without whitespace; returns
 * undefined when that text is not exactly valid padded base64 (whitespace included: callers that
 * allow it go on to {@link fromBase64}). The text is decoded a piece at a time into one output, so no
 * string of it is ever large (see {@link writeBase64} on what one large string costs). Validation is
 * {@link fromBase64}'s length argument, applied per piece: Node's decoder drops what is not in its
 * alphabet and stops at `=`, so a piece decodes to exactly 3/4 of its length (less the padding of the
 * last) only when it is valid, once base64url's `-` and `_` are ruled out.
 */
export function fromBase64Bytes(src: Uint8Array, start: number, end: number): Uint8Array | undefined {
  const length = end - start
  if (length % 4 !== 0) return undefined
  const text = Buffer.from(src.buffer, src.byteOffset + start, length)
  if (text.includes(MINUS) || text.includes(UNDERSCORE)) return undefined
  const padding = length === 0 || text[length - 1] !== EQUALS ? 0 : text[length - 2] !== EQUALS ? 1 : 2
  const out = Buffer.allocUnsafe((length / 4) * 3)
  let written = 0
  for (let at = 0; at < length; at += DECODE_PIECE) {
    const stop = Math.min(at + DECODE_PIECE, length)
    const want = ((stop - at) / 4) * 3 - (stop === length ? padding : 0)
    if (out.write(text.toString('latin1', at, stop), written, 'base64') !== want) return undefined
    written += want
  }
  return new Uint8Array(out.buffer, out.byteOffset, written)
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false })
/**
 * The text of bytes that are all ASCII, or undefined when one is not. ASCII bytes are their own UTF-8
 * and Latin-1 text, which V8 copies into a one-byte string several times faster than `TextDecoder`
 * decodes them; callers decode other bytes as UTF-8 themselves.
 */
export function asciiText(bytes: Uint8Array): string | undefined {
  if (!isAscii(bytes)) return undefined
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

/** UTF-8 decode; a leading BOM is dropped. */
export function utf8Decode(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes)
}

/** UTF-16LE encode (the encoding of .NET strings, used by SecureString). */
export function utf16leEncode(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out[i * 2] = c & 0xff
    out[i * 2 + 1] = c >> 8
  }
  return out
}

/** UTF-16LE decode (lone surrogates preserved). An odd trailing byte is ignored. */
export function utf16leDecode(bytes: Uint8Array): string {
  const units = bytes.length >> 1
  const codes = new Uint16Array(units)
  for (let i = 0; i < units; i++) codes[i] = (bytes[2 * i] as number) | ((bytes[2 * i + 1] as number) << 8)
  let s = ''
  for (let i = 0; i < units; i += 8192) {
    s += String.fromCharCode(...codes.subarray(i, Math.min(units, i + 8192)))
  }
  return s
}
