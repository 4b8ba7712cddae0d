/**
 * An ASN.1 DER writer (ITU-T X.690 §8, §10, §11). Values are built as an immutable tree of
 * {@link DerNode}s whose sizes are known on construction, then serialised in one pass into a single
 * buffer by {@link encodeDer} — no intermediate copies per nesting level.
 *
 * ```ts
 * const bytes = encodeDer(derSequence([derField(0, derInteger(5)), derField(1, derOctetString(b))]))
 * ```
 *
 * Invalid values (bad OID text, unsafe numbers, bad times) are a `ProtocolError` with `side: 'local'`.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { encodeOidContent } from './oid.ts'
import {
  type TagClass,
  TagClass as Class,
  UniversalTag,
  parseGeneralizedTime,
  readElement,
} from './reader.ts'

/** An encodable DER value. Build with the `der*` functions; serialise with {@link encodeDer}. */
export interface DerNode {
  /** Encoded size in bytes (identifier, length and contents). */
  readonly size: number
  /** Writes the encoding at `offset` and returns the offset after it. */
  writeTo(out: Uint8Array, offset: number): number
}

const localError = (message: string): never => {
  throw new ProtocolError(message, { side: 'local' })
}

function identifier(tagClass: TagClass, constructed: boolean, tag: number): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0x0fffffff) return localError(`invalid tag number ${tag}`)
  if (tagClass !== 0 && tagClass !== 1 && tagClass !== 2 && tagClass !== 3) {
    return localError(`invalid tag class ${String(tagClass)}`)
  }
  const lead = (tagClass << 6) | (constructed ? 0x20 : 0)
  if (tag < 0x1f) return Uint8Array.of(lead | tag)
  const bytes: number[] = [tag & 0x7f]
  for (let t = tag >>> 7; t > 0; t >>>= 7) bytes.unshift((t & 0x7f) | 0x80)
  return Uint8Array.of(lead | 0x1f, ...bytes)
}

const lengthSize = (n: number): number =>
  n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5

function writeLength(out: Uint8Array, offset: number, n: number): number {
  if (n < 0x80) {
    out[offset] = n
    return offset + 1
  }
  const k = lengthSize(n) - 1
  out[offset++] = 0x80 | k
  for (let i = k - 1; i >= 0; i--) out[offset++] = Math.floor(n / 2 ** (8 * i)) & 0xff
  return offset
}

class Tlv implements DerNode {
  readonly size: number
  readonly #id: Uint8Array
  readonly #content: Uint8Array | readonly DerNode[]
  readonly #contentLength: number

  constructor(id: Uint8Array, content: Uint8Array | readonly DerNode[]) {
    this.#id = id
    this.#content = content
    let len = 0
    if (content instanceof Uint8Array) len = content.length
    else for (const c of content) len += c.size
    if (len > 0x7fffffff) localError('DER value too large')
    this.#contentLength = len
    this.size = id.length + lengthSize(len) + len
  }

  writeTo(out: Uint8Array, offset: number): number {
    out.set(this.#id, offset)
    let o = writeLength(out, offset + this.#id.length, this.#contentLength)
    if (this.#content instanceof Uint8Array) {
      out.set(this.#content, o)
      return o + this.#content.length
    }
    for (const c of this.#content) o = c.writeTo(out, o)
    return o
  }
}

class Raw implements DerNode {
  readonly size: number
  readonly #bytes: Uint8Array
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
    this.size = bytes.length
  }
  writeTo(out: Uint8Array, offset: number): number {
    out.set(this.#bytes, offset)
    return offset + this.#bytes.length
  }
}

/** Serialises a value into a new buffer. */
export function encodeDer(node: DerNode): Uint8Array {
  const out = new Uint8Array(node.size)
  const end = node.writeTo(out, 0)
  if (end !== out.length) localError('DER writer size mismatch')
  return out
}

/** Any TLV: primitive with byte contents, or constructed from child values. */
export function derTlv(tagClass: TagClass, tag: number, content: Uint8Array | readonly DerNode[]): DerNode {
  return new Tlv(identifier(tagClass, !(content instanceof Uint8Array), tag), content)
}

const present = (items: readonly (DerNode | undefined)[]): DerNode[] =>
  items.filter((i): i is DerNode => i !== undefined)

/** SEQUENCE (or SEQUENCE OF) of the given values; `undefined` entries (absent OPTIONAL fields) are skipped. */
export function derSequence(items: readonly (DerNode | undefined)[]): DerNode {
  return derTlv(Class.universal, UniversalTag.SEQUENCE, present(items))
}

/** Explicit context tag `[n]` around one value. */
export function derField(n: number, value: DerNode): DerNode {
  return derTlv(Class.context, n, [value])
}

/** `[n] value` when value is defined, else undefined (for OPTIONAL fields in {@link derSequence}). */
export function derOptionalField(n: number, value: DerNode | undefined): DerNode | undefined {
  return value === undefined ? undefined : derField(n, value)
}

/** `[APPLICATION n]` (constructed) around one value. */
export function derApplication(n: number, value: DerNode): DerNode {
  return derTlv(Class.application, n, [value])
}

/** A value that is already DER (one complete TLV, checked). */
export function derRaw(encoded: Uint8Array): DerNode {
  let e
  try {
    e = readElement(encoded, 0, encoded.length, 'derRaw')
  } catch (err) {
    return localError(`derRaw: not a DER element (${(err as Error).message})`)
  }
  if (e.encoded.length !== encoded.length) localError('derRaw: trailing bytes after the element')
  return new Raw(encoded)
}

/** Minimal two's-complement contents of an integer. */
export function integerContent(value: bigint | number): Uint8Array {
  let v: bigint
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return localError(`INTEGER ${value} is not a safe integer`)
    if (value >= -0x80000000 && value <= 0x7fffffff) {
      const n = value | 0
      const size =
        n >= -0x80 && n <= 0x7f
          ? 1
          : n >= -0x8000 && n <= 0x7fff
            ? 2
            : n >= -0x800000 && n <= 0x7fffff
              ? 3
              : 4
      const out = new Uint8Array(size)
      for (let i = 0; i < size; i++) out[i] = (n >> (8 * (size - 1 - i))) & 0xff
      return out
    }
    v = BigInt(value)
  } else v = value
  const bytes: number[] = []
  for (;;) {
    const b = Number(v & 0xffn)
    bytes.unshift(b)
    v >>= 8n
    if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break
  }
  return Uint8Array.from(bytes)
}

/** INTEGER (bigint or safe integer). */
export function derInteger(value: bigint | number): DerNode {
  return derTlv(Class.universal, UniversalTag.INTEGER, integerContent(value))
}

/** ENUMERATED. */
export function derEnumerated(value: number): DerNode {
  return derTlv(Class.universal, UniversalTag.ENUMERATED, integerContent(value))
}

/** BOOLEAN (0xFF for true). */
export function derBoolean(value: boolean): DerNode {
  return derTlv(Class.universal, UniversalTag.BOOLEAN, Uint8Array.of(value ? 0xff : 0))
}

/** NULL. */
export function derNull(): DerNode {
  return derTlv(Class.universal, UniversalTag.NULL, new Uint8Array(0))
}

/** OCTET STRING. */
export function derOctetString(bytes: Uint8Array): DerNode {
  return derTlv(Class.universal, UniversalTag.OCTET_STRING, bytes)
}

/** BIT STRING; the padding bits of the last byte must be zero (DER). */
export function derBitString(bytes: Uint8Array, unusedBits = 0): DerNode {
  if (
    !Number.isInteger(unusedBits) ||
    unusedBits < 0 ||
    unusedBits > 7 ||
    (bytes.length === 0 && unusedBits !== 0)
  ) {
    return localError('BIT STRING: bad unused-bits count')
  }
  if (unusedBits > 0 && ((bytes[bytes.length - 1] as number) & ((1 << unusedBits) - 1)) !== 0) {
    localError('BIT STRING: padding bits must be zero')
  }
  const content = new Uint8Array(bytes.length + 1)
  content[0] = unusedBits
  content.set(bytes, 1)
  return derTlv(Class.universal, UniversalTag.BIT_STRING, content)
}

/** OBJECT IDENTIFIER from dotted-decimal text. */
export function derOid(oid: string): DerNode {
  return derTlv(Class.universal, UniversalTag.OBJECT_IDENTIFIER, encodeOidContent(oid))
}

const utf8 = new TextEncoder()

/** GeneralString (UTF-8 bytes, as Windows and MIT Kerberos write them). */
export function derGeneralString(text: string): DerNode {
  return derTlv(Class.universal, UniversalTag.GeneralString, utf8.encode(text))
}

/** UTF8String. */
export function derUtf8String(text: string): DerNode {
  return derTlv(Class.universal, UniversalTag.UTF8String, utf8.encode(text))
}

/** IA5String (7-bit text only). */
export function derIa5String(text: string): DerNode {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) localError('IA5String with non-ASCII')
  return derTlv(Class.universal, UniversalTag.IA5String, utf8.encode(text))
}

/**
 * GeneralizedTime: a Date (written `YYYYMMDDHHMMSSZ`, plus `.fff` trimmed of zeros when it has
 * milliseconds) or DER text such as `20200613210423Z` (checked).
 */
export function derGeneralizedTime(time: Date | string): DerNode {
  let text: string
  if (typeof time === 'string') {
    try {
      text = parseGeneralizedTime(time).text
    } catch (err) {
      return localError((err as Error).message)
    }
  } else {
    const t = time.getTime()
    if (!Number.isFinite(t)) return localError('GeneralizedTime: invalid Date')
    const y = time.getUTCFullYear()
    if (y < 0 || y > 9999) return localError('GeneralizedTime: year out of range')
    const p = (n: number, w = 2): string => String(n).padStart(w, '0')
    const ms = time.getUTCMilliseconds()
    text =
      p(y, 4) +
      p(time.getUTCMonth() + 1) +
      p(time.getUTCDate()) +
      p(time.getUTCHours()) +
      p(time.getUTCMinutes()) +
      p(time.getUTCSeconds()) +
      (ms === 0 ? '' : '.' + p(ms, 3).replace(/0+$/, '')) +
      'Z'
  }
  return derTlv(
    Class.universal,
    UniversalTag.GeneralizedTime,
    Uint8Array.from(text, (c) => c.charCodeAt(0)),
  )
}
