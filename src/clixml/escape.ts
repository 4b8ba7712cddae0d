/**
 * String escaping of CLIXML (MS-PSRP 2.2.5.3.2): characters XML cannot carry are written as
 * `_xHHHH_` (UTF-16 code unit in upper-case hex). PowerShell's `InternalSerializer.EncodeString`
 * escapes control characters (U+0000–U+001F, U+007F–U+009F), every surrogate code unit (paired or not),
 * and an underscore followed by `x` or `X` (written `_x005F_`). Decoding follows `XmlConvert.DecodeName`:
 * `_xHHHH_` and `_xHHHHHHHH_` become the character; anything else stays as is.
 *
 * @module
 */

const HEX = '0123456789ABCDEF'

function needsEscape(s: string, i: number, c: number): boolean {
  return (
    c <= 0x1f ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0xd800 && c <= 0xdfff) ||
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

/** Reverses {@link encodeClixmlString} (and decodes any `_xHHHH_` sequence PowerShell may send). */
export function decodeClixmlString(s: string): string {
  let i = s.indexOf('_x')
  if (i < 0) return s
  let out = ''
  let run = 0
  while (i >= 0) {
    let consumed = 0
    let value = -1
    if (i + 6 < s.length && s.charCodeAt(i + 6) === 0x5f) {
      value = readHex(s, i + 2, 4)
      if (value >= 0) consumed = 7
    }
    if (value < 0 && i + 10 < s.length && s.charCodeAt(i + 10) === 0x5f) {
      value = readHex(s, i + 2, 8)
      if (value >= 0 && value <= 0x10ffff) consumed = 11
      else value = -1
    }
    if (value >= 0) {
      out += s.slice(run, i) + (consumed === 7 ? String.fromCharCode(value) : String.fromCodePoint(value))
      run = i + consumed
      i = s.indexOf('_x', run)
    } else {
      i = s.indexOf('_x', i + 1)
    }
  }
  return out + s.slice(run)
}
