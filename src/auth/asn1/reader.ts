/**
 * A strict, zero-copy ASN.1 DER reader (ITU-T X.690 §8 and §10 — the Distinguished Encoding Rules)
 * for the structures of SPNEGO (RFC 4178), Kerberos (RFC 4120) and CredSSP (MS-CSSP).
 *
 * Strict means: definite lengths only, in their shortest form (X.690 §10.1); tag numbers below 31 in
 * the one-byte form; minimal INTEGER/ENUMERATED contents (§8.3.2); BOOLEAN 0x00/0xFF (§11.1); BIT
 * STRING padding bits zero (§11.2); strings primitive (§10.2); GeneralizedTime as
 * `YYYYMMDDHHMMSS[.f]Z` (§11.7); no trailing bytes where a structure ends. Anything else is a
 * {@link ProtocolError} (`side: 'remote'`), never another exception type.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { decodeOidContent } from './oid.ts'

/** The class bits of an identifier octet (X.690 §8.1.2.2). */
export const TagClass = {
  universal: 0,
  application: 1,
  context: 2,
  private: 3,
} as const
/** One of the four tag classes. */
export type TagClass = (typeof TagClass)[keyof typeof TagClass]

/** Universal tag numbers used by the auth protocols (X.680 §8.4). */
export const UniversalTag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OBJECT_IDENTIFIER: 6,
  ENUMERATED: 10,
  UTF8String: 12,
  SEQUENCE: 16,
  SET: 17,
  PrintableString: 19,
  IA5String: 22,
  UTCTime: 23,
  GeneralizedTime: 24,
  GeneralString: 27,
} as const

/** Largest tag number accepted (fits in four base-128 bytes). */
export const MAX_TAG_NUMBER = 0x0fffffff
/** Largest content length accepted (four length octets' worth of an in-memory buffer). */
export const MAX_CONTENT_LENGTH = 0x7fffffff

/** One decoded TLV. `content` and `encoded` are views into the input (no copy). */
export interface DerElement {
  /** Tag class. */
  readonly tagClass: TagClass
  /** True for the constructed form (bit 6 of the identifier). */
  readonly constructed: boolean
  /** Tag number. */
  readonly tag: number
  /** The contents octets. */
  readonly content: Uint8Array
  /** The whole TLV (identifier, length and contents). */
  readonly encoded: Uint8Array
}

/** A decoded BIT STRING. */
export interface BitString {
  /** The bits, first bit in the high bit of the first byte. */
  readonly bytes: Uint8Array
  /** Unused bits at the end of the last byte (0–7; 0 when `bytes` is empty). */
  readonly unusedBits: number
}

const fail = (what: string, message: string): never => {
  throw new ProtocolError(`${what}: ${message}`)
}

/**
 * Reads one TLV starting at `offset` and ending no later than `end` (strict DER header rules).
 *
 * @param what names the structure in error messages
 */
export function readElement(bytes: Uint8Array, offset: number, end: number, what = 'DER'): DerElement {
  end = Math.min(end, bytes.length)
  let i = offset
  if (i >= end) fail(what, 'unexpected end of data (identifier)')
  const id = bytes[i++] as number
  let tag = id & 0x1f
  if (tag === 0x1f) {
    tag = 0
    let n = 0
    for (;;) {
      if (i >= end) fail(what, 'unexpected end of data (tag number)')
      const b = bytes[i++] as number
      if (n === 0 && b === 0x80) fail(what, 'non-minimal tag number')
      if (++n > 4) fail(what, 'tag number too large')
      tag = tag * 128 + (b & 0x7f)
      if ((b & 0x80) === 0) break
    }
    if (tag < 0x1f) fail(what, 'tag number below 31 in the multi-byte form')
    if (tag > MAX_TAG_NUMBER) fail(what, 'tag number too large')
  }
  if (i >= end) fail(what, 'unexpected end of data (length)')
  const first = bytes[i++] as number
  let length: number
  if (first < 0x80) length = first
  else if (first === 0x80) return fail(what, 'indefinite length is not DER')
  else {
    const n = first & 0x7f
    if (n > 4) return fail(what, `length of ${n} octets is too large`)
    if (end - i < n) return fail(what, 'unexpected end of data (length octets)')
    if (bytes[i] === 0) return fail(what, 'non-minimal length (leading zero octet)')
    length = 0
    for (let k = 0; k < n; k++) length = length * 256 + (bytes[i++] as number)
    if (length < 0x80) return fail(what, 'non-minimal length (long form below 128)')
    if (length > MAX_CONTENT_LENGTH) return fail(what, 'length too large')
  }
  if (end - i < length) fail(what, `length ${length} exceeds the ${end - i} bytes available`)
  return {
    tagClass: (id >> 6) as TagClass,
    constructed: (id & 0x20) !== 0,
    tag,
    content: bytes.subarray(i, i + length),
    encoded: bytes.subarray(offset, i + length),
  }
}

/** Human-readable tag, e.g. `[2]`, `[APPLICATION 14]`, `UNIVERSAL 16`. */
export function describeTag(tagClass: TagClass, tag: number): string {
  switch (tagClass) {
    case TagClass.context:
      return `[${tag}]`
    case TagClass.application:
      return `[APPLICATION ${tag}]`
    case TagClass.private:
      return `[PRIVATE ${tag}]`
    default:
      return `UNIVERSAL ${tag}`
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function minimalInteger(what: string, c: Uint8Array): void {
  if (c.length === 0) fail(what, 'empty INTEGER')
  if (c.length > 1) {
    const a = c[0] as number
    const b = (c[1] as number) & 0x80
    if ((a === 0 && b === 0) || (a === 0xff && b !== 0)) fail(what, 'non-minimal INTEGER')
  }
}

/** Contents longer than this are converted through hexadecimal text (linear time) rather than byte by byte. */
const HEX_CONVERSION_FROM = 16

/**
 * Two's-complement big-endian contents to bigint (contents already checked minimal). Linear in the
 * length: large contents go through one hexadecimal `BigInt()` parse (shifting a bigint per byte would
 * copy it every time, quadratic in the length).
 */
function integerValue(c: Uint8Array): bigint {
  if (c.length <= 6) {
    let v = 0
    for (const b of c) v = v * 256 + b
    if (((c[0] as number) & 0x80) !== 0) v -= 2 ** (8 * c.length)
    return BigInt(v)
  }
  let v: bigint
  if (c.length < HEX_CONVERSION_FROM) {
    v = 0n
    for (const b of c) v = (v << 8n) | BigInt(b)
  } else {
    v = BigInt(`0x${hexOf(c)}`)
  }
  if (((c[0] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * c.length)
  return v
}

const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0))

/** Lower-case hexadecimal text of `c` (through ASCII bytes: one pass, no per-byte strings). */
function hexOf(c: Uint8Array): string {
  const out = new Uint8Array(2 * c.length)
  for (let i = 0; i < c.length; i++) {
    const b = c[i] as number
    out[2 * i] = HEX_DIGITS[b >> 4] as number
    out[2 * i + 1] = HEX_DIGITS[b & 15] as number
  }
  return utf8.decode(out)
}

/** Most contents octets of a minimal INTEGER whose value can be a safe integer (±2^53 needs 7). */
const SAFE_INTEGER_BYTES = 7

/** Longest GeneralizedTime accepted: 14 digits, a fraction of up to 48 digits, `Z`. */
const MAX_TIME_LENGTH = 64

const TIME_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/

/**
 * Checks GeneralizedTime text in DER form (X.690 §11.7: `YYYYMMDDHHMMSS[.f]Z`, no trailing zeros in
 * the fraction, seconds 00–59, day valid for the month) and returns it with its Date; otherwise a
 * `ProtocolError`.
 */
export function parseGeneralizedTime(text: string, what = 'GeneralizedTime'): { date: Date; text: string } {
  const m = TIME_RE.exec(text)
  if (m === null) return fail(what, `GeneralizedTime ${JSON.stringify(text)} is not YYYYMMDDHHMMSS[.f]Z`)
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const frac = m[7] ?? ''
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) {
    fail(what, `GeneralizedTime ${text} out of range`)
  }
  const ms = frac === '' ? 0 : Math.floor(Number(`0.${frac}`) * 1000)
  const date = new Date(0)
  date.setUTCFullYear(y, mo - 1, d)
  date.setUTCHours(h, mi, s, ms)
  return { date, text }
}

/**
 * Sequential reader over the contents of one constructed value (or a whole buffer). Every `read`
 * method consumes exactly one element of the expected tag; `end()` checks nothing is left.
 *
 * ```ts
 * const seq = new DerReader(bytes, 'AP-REQ').application(14).sequence()
 * const pvno = seq.field(0, (r) => r.smallInteger())
 * const ticket = seq.optionalField(3, (r) => r.any())
 * seq.end()
 * ```
 */
export class DerReader {
  readonly #bytes: Uint8Array
  readonly #end: number
  readonly #what: string
  #pos: number

  /**
   * @param bytes the data to read (a view; nothing is copied)
   * @param what names the structure in error messages
   */
  constructor(bytes: Uint8Array, what = 'DER') {
    this.#bytes = bytes
    this.#pos = 0
    this.#end = bytes.length
    this.#what = what
  }

  /** Byte offset of the next element within the data given to the constructor. */
  get offset(): number {
    return this.#pos
  }

  /** True when every element has been read. */
  get done(): boolean {
    return this.#pos >= this.#end
  }

  /** The structure name used in error messages. */
  get what(): string {
    return this.#what
  }

  /** Fails with a `ProtocolError` naming this structure. */
  fail(message: string): never {
    return fail(this.#what, message)
  }

  /** The next element without consuming it, or undefined at the end. */
  peek(): DerElement | undefined {
    return this.done ? undefined : readElement(this.#bytes, this.#pos, this.#end, this.#what)
  }

  /** Consumes the next element whatever its tag. */
  any(): DerElement {
    const e = readElement(this.#bytes, this.#pos, this.#end, this.#what)
    this.#pos += e.encoded.length
    return e
  }

  /** Checks that nothing is left (`ProtocolError` on trailing data). */
  end(): void {
    if (!this.done) this.fail(`${this.#end - this.#pos} unexpected trailing bytes`)
  }

  /** True when the next element has this tag (and form, when given). */
  nextIs(tagClass: TagClass, tag: number, constructed?: boolean): boolean {
    if (this.done) return false
    const e = this.peek() as DerElement
    return (
      e.tagClass === tagClass && e.tag === tag && (constructed === undefined || e.constructed === constructed)
    )
  }

  /** Consumes the next element, which must have this tag and form. */
  element(tagClass: TagClass, tag: number, constructed: boolean): DerElement {
    if (this.done) this.fail(`expected ${describeTag(tagClass, tag)}, found end of data`)
    const e = readElement(this.#bytes, this.#pos, this.#end, this.#what)
    if (e.tagClass !== tagClass || e.tag !== tag) {
      this.fail(`expected ${describeTag(tagClass, tag)}, found ${describeTag(e.tagClass, e.tag)}`)
    }
    if (e.constructed !== constructed) {
      this.fail(`${describeTag(tagClass, tag)} must be ${constructed ? 'constructed' : 'primitive'}`)
    }
    this.#pos += e.encoded.length
    return e
  }

  #universal(tag: number): Uint8Array {
    return this.element(TagClass.universal, tag, false).content
  }

  #child(e: DerElement, what: string): DerReader {
    return new DerReader(e.content, `${this.#what} ${what}`)
  }

  /** SEQUENCE / SEQUENCE OF: a reader over its contents. */
  sequence(): DerReader {
    return this.#child(this.element(TagClass.universal, UniversalTag.SEQUENCE, true), 'SEQUENCE')
  }

  /** SET / SET OF: a reader over its contents (element order is not checked). */
  set(): DerReader {
    return this.#child(this.element(TagClass.universal, UniversalTag.SET, true), 'SET')
  }

  /** Explicit context tag `[n]` (constructed): a reader over its contents. */
  explicit(n: number): DerReader {
    return this.#child(this.element(TagClass.context, n, true), `[${n}]`)
  }

  /** `[APPLICATION n]` (constructed): a reader over its contents. */
  application(n: number): DerReader {
    return this.#child(this.element(TagClass.application, n, true), `[APPLICATION ${n}]`)
  }

  /** Reads `[n] Type` with `read`, checking the tag holds exactly one value. */
  field<T>(n: number, read: (r: DerReader) => T): T {
    const inner = this.explicit(n)
    const value = read(inner)
    inner.end()
    return value
  }

  /** Like {@link field} but returns undefined when the next element is not `[n]`. */
  optionalField<T>(n: number, read: (r: DerReader) => T): T | undefined {
    return this.nextIs(TagClass.context, n, true) ? this.field(n, read) : undefined
  }

  /** SEQUENCE OF Type: reads every element of the SEQUENCE with `read`. */
  sequenceOf<T>(read: (r: DerReader) => T): T[] {
    const seq = this.sequence()
    const out: T[] = []
    while (!seq.done) out.push(read(seq))
    return out
  }

  /**
   * INTEGER. Arbitrary size unless `maxBytes` is given: contents longer than that are a
   * `ProtocolError` ("INTEGER out of range"), checked before any conversion. Conversion is linear in
   * the length either way.
   */
  integer(maxBytes?: number): bigint {
    const c = this.#universal(UniversalTag.INTEGER)
    minimalInteger(this.#what, c)
    if (maxBytes !== undefined && c.length > maxBytes) this.fail('INTEGER out of range')
    return integerValue(c)
  }

  /**
   * INTEGER that must fit a JavaScript safe integer (`ProtocolError` otherwise). The length is
   * checked before conversion: a huge INTEGER fails at once.
   */
  smallInteger(): number {
    const v = this.integer(SAFE_INTEGER_BYTES)
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail('INTEGER out of range')
    }
    return Number(v)
  }

  /** ENUMERATED (a safe integer). */
  enumerated(): number {
    const c = this.#universal(UniversalTag.ENUMERATED)
    minimalInteger(this.#what, c)
    if (c.length > 6) this.fail('ENUMERATED out of range')
    return Number(integerValue(c))
  }

  /** BOOLEAN (DER: 0x00 or 0xFF). */
  boolean(): boolean {
    const c = this.#universal(UniversalTag.BOOLEAN)
    if (c.length !== 1 || (c[0] !== 0 && c[0] !== 0xff)) this.fail('BOOLEAN must be one byte 0x00 or 0xFF')
    return c[0] === 0xff
  }

  /** NULL. */
  null(): null {
    if (this.#universal(UniversalTag.NULL).length !== 0) this.fail('NULL with contents')
    return null
  }

  /** BIT STRING (primitive, padding bits zero). */
  bitString(): BitString {
    const c = this.#universal(UniversalTag.BIT_STRING)
    if (c.length === 0) this.fail('BIT STRING without the unused-bits octet')
    const unusedBits = c[0] as number
    if (unusedBits > 7 || (c.length === 1 && unusedBits !== 0)) this.fail('BIT STRING: bad unused-bits count')
    if (unusedBits > 0 && ((c[c.length - 1] as number) & ((1 << unusedBits) - 1)) !== 0) {
      this.fail('BIT STRING: padding bits are not zero')
    }
    return { bytes: c.subarray(1), unusedBits }
  }

  /** OCTET STRING (primitive); a view into the input. */
  octetString(): Uint8Array {
    return this.#universal(UniversalTag.OCTET_STRING)
  }

  /** OBJECT IDENTIFIER as dotted-decimal text. */
  oid(): string {
    try {
      return decodeOidContent(this.#universal(UniversalTag.OBJECT_IDENTIFIER))
    } catch (err) {
      if (err instanceof ProtocolError) this.fail(err.message)
      throw err
    }
  }

  #text(tag: number, name: string): string {
    const c = this.#universal(tag)
    try {
      return utf8.decode(c)
    } catch {
      return this.fail(`${name} is not valid UTF-8`)
    }
  }

  /** GeneralString (Kerberos strings); decoded as UTF-8, as Windows and MIT write them. */
  generalString(): string {
    return this.#text(UniversalTag.GeneralString, 'GeneralString')
  }

  /** UTF8String. */
  utf8String(): string {
    return this.#text(UniversalTag.UTF8String, 'UTF8String')
  }

  /** IA5String (7-bit). */
  ia5String(): string {
    const s = this.#text(UniversalTag.IA5String, 'IA5String')
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) this.fail('IA5String with non-ASCII')
    return s
  }

  /** GeneralizedTime in DER form, as its exact text (e.g. `20200613210423Z`). */
  generalizedTimeText(): string {
    const c = this.#universal(UniversalTag.GeneralizedTime)
    // YYYYMMDDHHMMSS.fZ: no real time needs more (checked before building any text)
    if (c.length > MAX_TIME_LENGTH) this.fail(`GeneralizedTime of ${c.length} bytes is too long`)
    let text = ''
    for (const b of c) text += String.fromCharCode(b)
    return parseGeneralizedTime(text, this.#what).text
  }

  /** GeneralizedTime as a Date (fractions beyond milliseconds are truncated). */
  generalizedTime(): Date {
    return parseGeneralizedTime(this.generalizedTimeText(), this.#what).date
  }
}

/** Decodes `bytes` as exactly one value read by `read` (trailing bytes are a `ProtocolError`). */
export function decodeDer<T>(bytes: Uint8Array, read: (r: DerReader) => T, what = 'DER'): T {
  const r = new DerReader(bytes, what)
  const value = read(r)
  r.end()
  return value
}
