/**
 * String escaping of CLIXML (MS-PSRP 2.2.5.3.2): characters XML cannot carry are written as
 * `_xHHHH_` (UTF-16 code unit in upper-case hex). PowerShell's `InternalSerializer.EncodeString`
 * escapes control characters (U+0000–U+001F, U+007F–U+009F), every surrogate code unit (paired or not),
 * and an underscore followed by `x` or `X` (written `_x005F_`). We also escape U+FFFE and U+FFFF, which
 * XML 1.0 forbids: PowerShell's XmlWriter throws on them instead, and its deserializer reads `_xFFFE_` back.
 *
 * Decoding follows `XmlConvert.DecodeName`, which PowerShell's deserializer calls: matches of
 * `_[Xx]([0-9a-fA-F]{4}|[0-9a-fA-F]{8})_` (either case of `x`), taken left to right without overlap,
 * become the character; anything else stays as is.
 *
 * @module
 */

const HEX = '0123456789ABCDEF'

function needsEscape(s: string, i: number, c: number): boolean {
  return (
    c <= 0x1f ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0xd800 && c <= 0xdfff) ||
    c === 0xfffe ||
    c === 0xffff ||
    (c === 0x5f && i + 1 < s.length && (s.charCodeAt(i + 1) | 0x20) === 0x78)
  )
}

/** Escapes a string for a CLIXML element or `N` attribute, exactly as PowerShell does. */
export function encodeClixmlString(s: string): string {
  const len = s.length
  let first = -1
  for (let i = 0; i < len; i++) {
    if (needsEscape(s, i, s.charCodeAt(i))) {
      first = i
      break
    }
  }
  if (first < 0) return s
  let out = s.slice(0, first)
  let run = first
  for (let i = first; i < len; i++) {
    const c = s.charCodeAt(i)
    if (needsEscape(s, i, c)) {
      if (run < i) out += s.slice(run, i)
      out += '_x' + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15] + '_'
      run = i + 1
    }
  }
  if (run < len) out += s.slice(run)
  return out
}

/**
 * What the one-scan checks of {@link encodeClixmlText} and {@link encodeClixmlAttr} look for in an
 * ASCII character: 1 when {@link encodeClixmlString} escapes it (a control character), 2 for `_`
 * (escaped before an `x` or `X`), 4 for what XML text escapes (`&`, `<`, `>`), 8 for what an attribute
 * value escapes on top (`"`).
 */
const ASCII_CLASS = new Uint8Array(128)
for (let c = 0; c <= 0x1f; c++) ASCII_CLASS[c] = 1
ASCII_CLASS[0x7f] = 1
ASCII_CLASS[0x5f] = 2
for (const c of [0x26, 0x3c, 0x3e]) ASCII_CLASS[c] = 4
ASCII_CLASS[0x22] = 8

/**
 * True when `s` reads the same after {@link encodeClixmlString} and XML escaping: no character that
 * either escapes. `special` is 4 for element text, 4 | 8 for an attribute value.
 */
function isPlain(s: string, special: number): boolean {
  const len = s.length
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      const k = ASCII_CLASS[c] as number
      if (k === 0) continue
      if (k === 2) {
        if (i + 1 < len && (s.charCodeAt(i + 1) | 0x20) === 0x78) return false
        continue
      }
      if ((k & (1 | special)) !== 0) return false
    } else if (c <= 0x9f || (c >= 0xd800 && c <= 0xdfff) || c >= 0xfffe) return false
  }
  return true
}

/**
 * `escapeXmlText(encodeClixmlString(s))` (the text of a CLIXML string element) in one scan of `s` when
 * nothing needs escaping, which is most text.
 */
export function encodeClixmlText(s: string): string {
  return isPlain(s, 4) ? s : encodeEscaped(s, false)
}

/** `escapeXmlAttr(encodeClixmlString(s))` (an `N` attribute value), in one scan when nothing needs escaping. */
export function encodeClixmlAttr(s: string): string {
  return isPlain(s, 4 | 8) ? s : encodeEscaped(s, true)
}

/**
 * {@link encodeClixmlString} and XML escaping (`&`, `<`, `>`, and `"` in an attribute) in one pass:
 * after CLIXML escaping no TAB, LF or CR is left for XML escaping to write as a reference.
 */
function encodeEscaped(s: string, attribute: boolean): string {
  const len = s.length
  let out = ''
  let run = 0
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    let escaped: string
    if (needsEscape(s, i, c)) {
      escaped = '_x' + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15] + '_'
    } else if (c === 0x26) escaped = '&amp;'
    else if (c === 0x3c) escaped = '&lt;'
    else if (c === 0x3e) escaped = '&gt;'
    else if (c === 0x22 && attribute) escaped = '&quot;'
    else continue
    if (run < i) out += s.slice(run, i)
    out += escaped
    run = i + 1
  }
  return run < len ? out + s.slice(run) : out
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const l = c | 0x20
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10
  return -1
}

function readHex(s: string, from: number, count: number): number {
  let v = 0
  for (let k = 0; k < count; k++) {
    const h = hexValue(s.charCodeAt(from + k))
    if (h < 0) return -1
    v = v * 16 + h
  }
  return v
}

/** Index of the next `_x` or `_X` in `s` at or after `from`, or -1. */
function nextEscape(s: string, from: number): number {
  let i = s.indexOf('_', from)
  while (i >= 0 && (s.charCodeAt(i + 1) | 0x20) !== 0x78) i = s.indexOf('_', i + 1)
  return i
}

/**
 * Reverses {@link encodeClixmlString}, decoding exactly as .NET's `XmlConvert.DecodeName` does (checked
 * against PowerShell 7.6.9): `_xHHHH_` is that UTF-16 code unit; `_xHHHHHHHH_` is read as a 32-bit
 * signed integer, so a value in U+10000–U+10FFFF becomes a surrogate pair, a value over U+10FFFF is left
 * as written, and anything below U+10000 (including values that overflow to negative, like
 * `_x80000041_`) becomes its low 16 bits.
 */
export function decodeClixmlString(s: string): string {
  let i = nextEscape(s, 0)
  if (i < 0) return s
  // the pieces are joined once: one flat string, where concatenating kept a rope of them (and views
  // into the document) for as long as the value lives
  const parts: string[] = []
  let run = 0
  while (i >= 0) {
    if (i + 6 < s.length && s.charCodeAt(i + 6) === 0x5f) {
      const value = readHex(s, i + 2, 4)
      if (value >= 0) {
        parts.push(s.slice(run, i), String.fromCharCode(value))
        run = i + 7
        i = nextEscape(s, run)
        continue
      }
    }
    if (i + 10 < s.length && s.charCodeAt(i + 10) === 0x5f) {
      const value = readHex(s, i + 2, 8)
      if (value >= 0) {
        const u = value | 0 // .NET computes it in (unchecked) Int32
        if (u <= 0x10ffff) {
          parts.push(
            s.slice(run, i),
            u >= 0x10000 ? String.fromCodePoint(u) : String.fromCharCode(u & 0xffff),
          )
          run = i + 11
        }
        // a match over U+10FFFF stays as written, but is still consumed (regex matches never overlap)
        i = nextEscape(s, i + 11)
        continue
      }
    }
    i = nextEscape(s, i + 1)
  }
  if (parts.length === 0) return s
  parts.push(s.slice(run))
  return parts.join('')
}
