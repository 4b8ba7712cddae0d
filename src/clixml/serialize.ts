/**
 * CLIXML serializer (MS-PSRP 2.2.5): turns a JS value into one CLIXML element, the way PowerShell's
 * `PSSerializer` writes it (element order TN, ToString, base value, Props, MS; RefId/TNRef reuse;
 * `<Ref>` for repeated object identity, so cycles terminate).
 *
 * @module
 */
import { ClixmlError } from '../errors.ts'
import { escapeXmlAttr, escapeXmlText } from '../internal/xml.ts'
import { toBase64, utf16leEncode } from '../internal/base64.ts'
import { encodeClixmlString } from './escape.ts'
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

class Writer {
  readonly out: string[] = []
  readonly refIds = new Map<object, number>()
  readonly tnIds = new Map<string, number>()
  depth = 0
  constructor(readonly options: SerializeOptions) {}

  write(value: unknown, name: string | undefined): void {
    const n = name === undefined ? '' : ` N="${escapeXmlAttr(encodeClixmlString(name))}"`
    switch (typeof value) {
      case 'string':
        this.text('S', n, encodeClixmlString(value))
        return
      case 'boolean':
        this.out.push(`<B${n}>${value ? 'true' : 'false'}</B>`)
        return
      case 'number':
        if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0)) {
          this.out.push(`<I32${n}>${value}</I32>`)
        } else {
          this.out.push(`<Db${n}>${formatDouble(value)}</Db>`)
        }
        return
      case 'bigint':
        if (value < -0x8000000000000000n || value > 0x7fffffffffffffffn) {
          throw new ClixmlError(`bigint ${value} does not fit Int64; use PSUInt64 or PSDecimal`)
        }
        this.out.push(`<I64${n}>${value}</I64>`)
        return
      case 'undefined':
        this.out.push(`<Nil${n} />`)
        return
      case 'object':
        if (value === null) {
          this.out.push(`<Nil${n} />`)
          return
        }
        this.object(value, n)
        return
      default:
        throw new ClixmlError(`cannot serialize a ${typeof value}`)
    }
  }

  text(tag: string, n: string, content: string): void {
    this.out.push(`<${tag}${n}>${escapeXmlText(content)}</${tag}>`)
  }

  object(value: object, n: string): void {
    if (value instanceof Uint8Array) return this.text('BA', n, toBase64(value))
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

    const seen = this.refIds.get(value)
    if (seen !== undefined) {
      this.out.push(`<Ref${n} RefId="${seen}" />`)
      return
    }
    const refId = this.refIds.size
    this.refIds.set(value, refId)
    if (++this.depth > MAX_DEPTH) throw new ClixmlError(`object graph deeper than ${MAX_DEPTH}`)
    this.out.push(`<Obj${n} RefId="${refId}">`)
    if (value instanceof PSObject) this.psObject(value)
    else if (Array.isArray(value)) this.collection(value, getMeta(value), LIST_TYPES, 'LST')
    else if (value instanceof Map) this.collection(value, getMeta(value), HASHTABLE_TYPES, 'DCT')
    else if (value instanceof Set) this.collection([...value], undefined, LIST_TYPES, 'LST')
    else if (isPlainObject(value))
      this.collection(new Map(Object.entries(value)), undefined, HASHTABLE_TYPES, 'DCT')
    else
      throw new ClixmlError(`cannot serialize an instance of ${value.constructor?.name ?? 'unknown class'}`)
    this.out.push('</Obj>')
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
    this.out.push(`<PR${n}><AV>${text('Activity')}</AV><AI>${int32('ActivityId', 0)}</AI>`)
    this.write(op === undefined || op === null ? null : String(op), undefined)
    this.out.push(
      `<PI>${int32('ParentActivityId', -1)}</PI><PC>${int32('PercentComplete', -1)}</PC>` +
        `<T>${escapeXmlText(encodeClixmlString(type))}</T><SR>${int32('SecondsRemaining', -1)}</SR>` +
        `<SD>${text('StatusDescription')}</SD></PR>`,
    )
  }

  secureString(value: PSSecureString): string {
    if (!value.hasPlaintext && value.encrypted !== undefined) return toBase64(value.encrypted)
    const cipher = this.options.cipher
    if (cipher === undefined) {
      throw new ClixmlError('a SecureString needs a session key: exchange keys on the runspace pool first')
    }
    return toBase64(cipher.encrypt(utf16leEncode(value.reveal())))
  }

  typeNames(names: string[]): void {
    if (names.length === 0) return
    const key = names.join('\u0000')
    const id = this.tnIds.get(key)
    if (id !== undefined) {
      this.out.push(`<TNRef RefId="${id}" />`)
      return
    }
    const newId = this.tnIds.size
    this.tnIds.set(key, newId)
    this.out.push(`<TN RefId="${newId}">`)
    for (const t of names) this.text('T', '', encodeClixmlString(t))
    this.out.push('</TN>')
  }

  toStringValue(s: string | undefined): void {
    if (s !== undefined) this.text('ToString', '', encodeClixmlString(s))
  }

  properties(tag: 'Props' | 'MS', props: Map<string, unknown>): void {
    if (props.size === 0) return
    this.out.push(`<${tag}>`)
    for (const [k, v] of props) this.write(v, k)
    this.out.push(`</${tag}>`)
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
      this.out.push(`<${tag} />`)
      return
    }
    this.out.push(`<${tag}>`)
    for (const item of list) this.write(item, undefined)
    this.out.push(`</${tag}>`)
  }

  entries(map: Map<unknown, unknown>): void {
    if (map.size === 0) {
      this.out.push('<DCT />')
      return
    }
    this.out.push('<DCT>')
    for (const [k, v] of map) {
      this.out.push('<En>')
      this.write(k, 'Key')
      this.write(v, 'Value')
      this.out.push('</En>')
    }
    this.out.push('</DCT>')
  }
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
  return w.out.join('')
}

/** Serializes a value as a named property element (e.g. `<I32 N="MinRunspaces">1</I32>`). */
export function serializeNamed(name: string, value: unknown, options: SerializeOptions = {}): string {
  const w = new Writer(options)
  w.write(value, name)
  return w.out.join('')
}
