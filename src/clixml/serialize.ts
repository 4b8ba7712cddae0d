/**
 * CLIXML serializer (MS-PSRP 2.2.5): turns a JS value into one CLIXML element, the way PowerShell's
 * `PSSerializer` writes it (element order TN, ToString, base value, Props, MS; RefId/TNRef reuse;
 * `<Ref>` for repeated object identity, so cycles terminate).
 *
 * @module
 */
import { ClixmlError } from '../errors.ts'
import { escapeXmlText } from '../internal/xml.ts'
import { toBase64, utf16leEncode } from '../internal/base64.ts'
import { encodeClixmlAttr, encodeClixmlString, encodeClixmlText } from './escape.ts'
import { getMeta, PSEnum, PSObject, type CollectionKind } from './ps-object.ts'
import { enumName, ProgressRecordType } from './types/enums.ts'
import { ProgressRecord } from './types/records.ts'
import {
  PSByte,
  PSChar,
  PSDateTime,
  PSDecimal,
  PSDouble,
  PSGuid,
  PSInt16,
  PSSByte,
  PSScriptBlock,
  PSSecureString,
  PSSingle,
  PSTimeSpan,
  PSUInt16,
  PSUInt32,
  PSUInt64,
  PSUri,
  PSVersion,
  PSXmlDocument,
  formatSingle,
} from './primitives.ts'

/** Encrypts and decrypts `<SS>` values with the PSRP session key (MS-PSRP 2.2.5.1.24). */
export interface SecureStringCipher {
  /** Encrypts UTF-16LE plaintext bytes. */
  encrypt(plain: Uint8Array): Uint8Array
  /** Decrypts to UTF-16LE plaintext bytes. */
  decrypt(data: Uint8Array): Uint8Array
}

/** Options of {@link serialize}. */
export interface SerializeOptions {
  /** Session cipher used for SecureString values. Without it a SecureString with known plaintext cannot be sent. */
  cipher?: SecureStringCipher
}

const LIST_TYPES = ['System.Object[]', 'System.Array', 'System.Object']
const HASHTABLE_TYPES = ['System.Collections.Hashtable', 'System.Object']
const MAX_DEPTH = 1000

/**
 * Written forms of names that recur from object to object: the ` N="…"` attribute of property names
 * and the `<T>…</T>` element of type names, by the name. Each table is emptied when it reaches
 * {@link NAME_CACHE_LIMIT} entries, and names longer than {@link NAME_CACHE_LENGTH} are not kept; a
 * kept name is a string of its own and its text is made flat, so the tables never hold on to a caller's string
 * (which could be a view into a whole document).
 */
const nameAttrs = new Map<string, string>()
const typeNameElements = new Map<string, string>()
const NAME_CACHE_LIMIT = 4096
const NAME_CACHE_LENGTH = 256

/** A string of its own equal to `s`: the copy that concatenating and slicing make (V8 copies short slices anyway). */
function ownCopy(s: string): string {
  return s.length > 12 ? (' ' + s).slice(1) : s
}

/** The text `cache` holds for `name`, made by `make` (and kept) the first time. */
function cached(cache: Map<string, string>, name: string, make: (name: string) => string): string {
  let text = cache.get(name)
  if (text === undefined) {
    text = make(name)
    if (name.length <= NAME_CACHE_LENGTH) {
      if (cache.size >= NAME_CACHE_LIMIT) cache.clear()
      text = flat(text)
      cache.set(ownCopy(name), text)
    }
  }
  return text
}

const makeNameAttr = (name: string): string => ` N="${encodeClixmlAttr(name)}"`
const makeTypeNameElement = (name: string): string => `<T>${encodeClixmlText(name)}</T>`

/** ` N="…"` for a property name, escaped as {@link encodeClixmlString} and XML attributes want it. */
function nameAttr(name: string): string {
  return cached(nameAttrs, name, makeNameAttr)
}

/**
 * A key equal for equal type name lists and different for different ones: each name prefixed by its
 * length, so no name's text can fake a boundary (`['A\0B']` and `['A', 'B']` differ).
 */
function typeNamesKey(names: readonly string[]): string {
  let key = ''
  for (const name of names) key += String(name.length) + ':' + name
  return key
}

/**
 * Writes one value. The output grows by concatenation, which V8 keeps as a rope of the pieces until
 * the text is read; {@link flat} then copies it once (cheaper than collecting the pieces in an array
 * and joining them).
 */
class Writer {
  /** What has been written so far (since the last entry of {@link parts}). */
  out = ''
  /**
   * With {@link serializeParts}: the text before each large `<BA>` content, then that content's
   * bytes; {@link out} holds what follows the last of them.
   */
  readonly parts: (string | Uint8Array)[] = []
  readonly refIds = new Map<object, number>()
  /** The `<TN>` RefId of each type name list written so far, by {@link typeNamesKey}. */
  readonly typeNameIds = new Map<string, number>()
  depth = 0
  constructor(
    readonly options: SerializeOptions,
    /** Byte arrays of at least this many bytes go to {@link parts} as bytes. */
    readonly bytesAsPartsFrom = Number.POSITIVE_INFINITY,
  ) {}

  write(value: unknown, name: string | undefined): void {
    const n = name === undefined ? '' : nameAttr(name)
    switch (typeof value) {
      case 'string':
        this.out += '<S' + n + '>' + encodeClixmlText(value) + '</S>'
        return
      case 'boolean':
        this.out += '<B' + n + (value ? '>true</B>' : '>false</B>')
        return
      case 'number':
        if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0)) {
          this.out += '<I32' + n + '>' + String(value) + '</I32>'
        } else {
          this.out += '<Db' + n + '>' + formatDouble(value) + '</Db>'
        }
        return
      case 'bigint':
        if (value < -0x8000000000000000n || value > 0x7fffffffffffffffn) {
          throw new ClixmlError(`bigint ${value} does not fit Int64; use PSUInt64 or PSDecimal`)
        }
        this.out += '<I64' + n + '>' + String(value) + '</I64>'
        return
      case 'undefined':
        this.out += '<Nil' + n + ' />'
        return
      case 'object':
        if (value === null) {
          this.out += '<Nil' + n + ' />'
          return
        }
        this.object(value, n)
        return
      default:
        throw new ClixmlError(`cannot serialize a ${typeof value}`)
    }
  }

  /** An element whose content is `content` XML-escaped (it needs no CLIXML escaping, or has had it). */
  text(tag: string, n: string, content: string): void {
    this.out += '<' + tag + n + '>' + escapeText(content) + '</' + tag + '>'
  }

  /** An element whose content has nothing to escape (a DateTime or TimeSpan as their `toString` writes them). */
  plain(tag: string, n: string, content: string): void {
    this.out += '<' + tag + n + '>' + content + '</' + tag + '>'
  }

  object(value: object, n: string): void {
    // the common classes by their prototype first: one comparison each, where the instanceof chain
    // below tries twenty classes before it gets to an object or a collection
    const proto = Object.getPrototypeOf(value) as unknown
    if (proto === PSObject.prototype || proto === Array.prototype || proto === Map.prototype)
      return this.complex(value, n)
    if (proto === PSDateTime.prototype) return this.plain('DT', n, (value as PSDateTime).toString())
    // base64 has nothing to escape: scanning it was 5% of the client's CPU copying a large file
    if (value instanceof Uint8Array) {
      if (value.length < this.bytesAsPartsFrom) return this.plain('BA', n, toBase64(value))
      this.parts.push(flat(this.out + '<BA' + n + '>'), value)
      this.out = '</BA>'
      return
    }
    if (value instanceof PSDateTime) return this.text('DT', n, value.toString())
    if (value instanceof Date) return this.text('DT', n, PSDateTime.from(value).toString())
    if (value instanceof PSTimeSpan) return this.text('TS', n, value.toString())
    if (value instanceof PSChar) return this.text('C', n, String(value.value))
    if (value instanceof PSByte) return this.text('By', n, String(value.value))
    if (value instanceof PSSByte) return this.text('SB', n, String(value.value))
    if (value instanceof PSInt16) return this.text('I16', n, String(value.value))
    if (value instanceof PSUInt16) return this.text('U16', n, String(value.value))
    if (value instanceof PSUInt32) return this.text('U32', n, String(value.value))
    if (value instanceof PSUInt64) return this.text('U64', n, String(value.value))
    if (value instanceof PSSingle) return this.text('Sg', n, formatSingle(value.value))
    if (value instanceof PSDouble) return this.text('Db', n, formatDouble(value.value))
    if (value instanceof PSDecimal) return this.text('D', n, value.value)
    if (value instanceof PSGuid) return this.text('G', n, value.value)
    if (value instanceof PSVersion) return this.text('Version', n, value.value)
    if (value instanceof PSUri) return this.text('URI', n, encodeClixmlString(value.value))
    if (value instanceof PSXmlDocument) return this.text('XD', n, encodeClixmlString(value.value))
    if (value instanceof PSScriptBlock) return this.text('SBK', n, encodeClixmlString(value.value))
    if (value instanceof PSSecureString) return this.text('SS', n, this.secureString(value))
    // like the primitives, PowerShell's <PR> carries no RefId
    if (value instanceof ProgressRecord && value.element === 'PR') return this.progressRecord(value, n)
    this.complex(value, n)
  }

  /** An `<Obj>`: a PSObject, a collection or a plain object (or a `<Ref>` to one written before). */
  complex(value: object, n: string): void {
    const seen = this.refIds.get(value)
    if (seen !== undefined) {
      this.out += '<Ref' + n + ' RefId="' + String(seen) + '" />'
      return
    }
    const refId = this.refIds.size
    this.refIds.set(value, refId)
    if (++this.depth > MAX_DEPTH) throw new ClixmlError(`object graph deeper than ${MAX_DEPTH}`)
    this.out += '<Obj' + n + ' RefId="' + String(refId) + '">'
    if (value instanceof PSObject) this.psObject(value)
    else if (Array.isArray(value)) this.collection(value, getMeta(value), LIST_TYPES, 'LST')
    else if (value instanceof Map) this.collection(value, getMeta(value), HASHTABLE_TYPES, 'DCT')
    else if (value instanceof Set) this.collection([...value], undefined, LIST_TYPES, 'LST')
    else if (isPlainObject(value))
      this.collection(new Map(Object.entries(value)), undefined, HASHTABLE_TYPES, 'DCT')
    else
      throw new ClixmlError(`cannot serialize an instance of ${value.constructor?.name ?? 'unknown class'}`)
    this.out += '</Obj>'
    this.depth--
  }
  /** `<PR>` as PowerShell's `WriteProgressRecord` writes it: AV AI CurrentOperation PI PC T SR SD. */
  progressRecord(rec: ProgressRecord, n: string): void {
    const text = (name: string): string => {
      const v = rec.get(name)
      return escapeXmlText(encodeClixmlString(v === undefined || v === null ? '' : String(v)))
    }
    const int32 = (name: string, fallback: number): number => {
      const raw = rec.get(name)
      const v = raw === undefined || raw === null ? fallback : Number(raw)
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
        throw new ClixmlError(`ProgressRecord ${name} ${String(raw)} is not an Int32`)
      }
      return v
    }
    const t = rec.get('Type')
    const type =
      t instanceof PSEnum
        ? t.name
        : typeof t === 'number'
          ? enumName(ProgressRecordType.values, t, false)
          : t === undefined || t === null
            ? 'Processing'
            : String(t)
    const op = rec.get('CurrentOperation')
    this.out += `<PR${n}><AV>${text('Activity')}</AV><AI>${int32('ActivityId', 0)}</AI>`
    this.write(op === undefined || op === null ? null : String(op), undefined)
    this.out +=
      `<PI>${int32('ParentActivityId', -1)}</PI><PC>${int32('PercentComplete', -1)}</PC>` +
      `<T>${escapeXmlText(encodeClixmlString(type))}</T><SR>${int32('SecondsRemaining', -1)}</SR>` +
      `<SD>${text('StatusDescription')}</SD></PR>`
  }

  secureString(value: PSSecureString): string {
    if (!value.hasPlaintext && value.encrypted !== undefined) return toBase64(value.encrypted)
    const cipher = this.options.cipher
    if (cipher === undefined) {
      throw new ClixmlError('a SecureString needs a session key: exchange keys on the runspace pool first')
    }
    return toBase64(cipher.encrypt(utf16leEncode(value.reveal())))
  }

  /**
   * `<TN>` with the type names, or `<TNRef>` to the `<TN>` of an equal list written before (MS-PSRP
   * 2.2.5.2.3), found by {@link typeNamesKey} in one lookup (comparing with every earlier list that
   * shares a first name made 40,000 distinct lists cost 12.5 s).
   */
  typeNames(names: string[]): void {
    const count = names.length
    if (count === 0) return
    const key = typeNamesKey(names)
    const seen = this.typeNameIds.get(key)
    if (seen !== undefined) {
      this.out += '<TNRef RefId="' + String(seen) + '" />'
      return
    }
    const id = this.typeNameIds.size
    this.typeNameIds.set(key, id)
    this.out += '<TN RefId="' + String(id) + '">'
    for (let i = 0; i < count; i++)
      this.out += cached(typeNameElements, names[i] as string, makeTypeNameElement)
    this.out += '</TN>'
  }

  toStringValue(s: string | undefined): void {
    if (s !== undefined) this.out += '<ToString>' + encodeClixmlText(s) + '</ToString>'
  }

  properties(tag: 'Props' | 'MS', props: Map<string, unknown>): void {
    if (props.size === 0) return
    this.out += tag === 'Props' ? '<Props>' : '<MS>'
    props.forEach(writeProperty, this)
    this.out += tag === 'Props' ? '</Props>' : '</MS>'
  }

  psObject(o: PSObject): void {
    this.typeNames(o.typeNames)
    this.toStringValue(o.toStringValue)
    const base = o.baseValue
    if (base !== undefined) {
      const meta = typeof base === 'object' && base !== null ? getMeta(base) : undefined
      if (Array.isArray(base)) this.items(base, meta?.kind ?? 'LST')
      else if (base instanceof Map) this.entries(base)
      else this.write(base, undefined)
    }
    this.properties('Props', o.adapted)
    this.properties('MS', o.extended)
  }

  collection(
    value: unknown[] | Map<unknown, unknown>,
    meta: ReturnType<typeof getMeta>,
    defaultTypes: string[],
    defaultKind: CollectionKind,
  ): void {
    this.typeNames(meta?.typeNames ?? defaultTypes)
    this.toStringValue(meta?.toStringValue)
    if (value instanceof Map) this.entries(value)
    else this.items(value, meta?.kind ?? defaultKind)
    if (meta !== undefined) {
      this.properties('Props', meta.adapted)
      this.properties('MS', meta.extended)
    }
  }

  items(list: unknown[], kind: CollectionKind): void {
    const tag = kind === 'DCT' ? 'LST' : kind
    if (list.length === 0) {
      this.out += '<' + tag + ' />'
      return
    }
    this.out += '<' + tag + '>'
    for (const item of list) this.write(item, undefined)
    this.out += '</' + tag + '>'
  }

  entries(map: Map<unknown, unknown>): void {
    if (map.size === 0) {
      this.out += '<DCT />'
      return
    }
    this.out += '<DCT>'
    for (const [k, v] of map) {
      this.out += '<En>'
      this.write(k, 'Key')
      this.write(v, 'Value')
      this.out += '</En>'
    }
    this.out += '</DCT>'
  }
}

/** {@link escapeXmlText}, after a scan that finds most text has nothing to escape. */
function escapeText(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x26 || c === 0x3c || c === 0x3e || c === 0x0d) return escapeXmlText(s)
  }
  return s
}

/**
 * `text` made flat: a rope built by concatenation is copied into one string when a character is first
 * read, so here, where its cost is the serializer's, rather than in whatever reads the text next.
 */
function flat(text: string): string {
  text.charCodeAt(0)
  return text
}

/** One property of {@link Writer.properties}: the `Map.forEach` callback, the writer as `this`. */
function writeProperty(this: Writer, value: unknown, name: string): void {
  this.write(value, name)
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * Formats a double as .NET Core's round-trip `ToString()` does: shortest digits, `E+XX` notation
 * for decimal exponents ≥ 17 or ≤ -5, and `NaN`, `Infinity`, `-Infinity` spelled as XML Schema does (`NaN`,
 * `INF`, `-INF`).
 */
export function formatDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'INF'
  if (v === -Infinity) return '-INF'
  if (v === 0) return Object.is(v, -0) ? '-0' : '0'
  // between 1e-4 and 1e17 the shortest digits have a decimal exponent from -4 to 16, which JavaScript
  // writes without an exponent, as .NET does (the bounds are exact: a double below the double nearest
  // 1e-4, or from 1e17 up, has shortest digits below 1e-4, or from 1e17 up, and so the other way round)
  const magnitude = v < 0 ? -v : v
  if (magnitude >= 1e-4 && magnitude < 1e17) return String(v)
  const exp = v.toExponential() // shortest round-trip digits
  const e = exp.indexOf('e')
  const mantissa = exp.slice(0, e)
  const power = Number(exp.slice(e + 1))
  if (power >= 17 || power < -4) {
    const sign = power < 0 ? '-' : '+'
    return `${mantissa.toUpperCase()}E${sign}${String(Math.abs(power)).padStart(2, '0')}`
  }
  return String(v)
}

/**
 * Serializes one value to a CLIXML element (the body of one PSRP message), like PowerShell's
 * `PSSerializer.Serialize` without the `<Objs>` wrapper.
 */
export function serialize(value: unknown, options: SerializeOptions = {}): string {
  const w = new Writer(options)
  w.write(value, undefined)
  return flat(w.out)
}

/**
 * CLIXML text in pieces: strings, and byte arrays that stand for their base64 text. A message
 * encoder writes each array's base64 straight into the message bytes.
 */
export type ClixmlParts = readonly (string | Uint8Array)[]

/**
 * Byte arrays from this size on are left as bytes by {@link serializeParts}: their base64 text would
 * be over 128 KiB, a large heap object to V8 (fresh pages and a collection of its own for each), and
 * then flattened into a second one with the rest of the message.
 */
const BYTES_AS_PARTS_FROM = 64 * 1024

/**
 * {@link serialize}, with the content of each large byte array (`<BA>`) left as its bytes: the same
 * text once every array is replaced by its base64.
 */
export function serializeParts(value: unknown, options: SerializeOptions = {}): ClixmlParts {
  const w = new Writer(options, BYTES_AS_PARTS_FROM)
  w.write(value, undefined)
  if (w.parts.length === 0) return [flat(w.out)]
  w.parts.push(flat(w.out))
  return w.parts
}

/** Serializes a value as a named property element (e.g. `<I32 N="MinRunspaces">1</I32>`). */
export function serializeNamed(name: string, value: unknown, options: SerializeOptions = {}): string {
  const w = new Writer(options)
  w.write(value, name)
  return flat(w.out)
}
