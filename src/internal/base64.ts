/**
 * Base64 and UTF-8/UTF-16LE helpers for the sans-IO layers. Uses the global `Buffer` for speed (no
 * I/O involved) and validates strictly, which `Buffer.from(s, 'base64')` alone does not.
 *
 * @module
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Encodes bytes as standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Decodes standard base64 (whitespace ignored); returns undefined when the text is not valid base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  // fast path: canonical base64 (what .NET and Node write) re-encodes to itself, which is checked
  // natively in a fraction of the time the validating regex takes on multi-megabyte `<BA>` text
  if (text.length % 4 === 0) {
    const b = Buffer.from(text, 'base64')
    if (b.toString('base64') === text) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  }
  const compact = /\s/.test(text) ? text.replace(/\s+/g, '') : text
  if (!BASE64.test(compact)) return undefined
  const b = Buffer.from(compact, 'base64')
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false })
const utf8Encoder = new TextEncoder()

/** UTF-8 encode. */
export function utf8Encode(s: string): Uint8Array {
  return utf8Encoder.encode(s)
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
