/**
 * The tree-walking CLIXML deserializer that `src/clixml/deserialize.ts` replaced (as of commit 51544d0),
 * kept only as the oracle of the differential test: it builds the whole element tree with `parseXml`,
 * then walks it (two passes per `<Obj>`: type names and the collection first, then the children in
 * order). The pull deserializer must give the same value, or an error of the same class, for every
 * input.
 *
 * @module
 */
import { ClixmlError } from '../../../src/errors.ts'
import { parseXml, type XmlElement } from '../../../src/internal/xml.ts'
import { fromBase64, utf16leDecode } from '../../../src/internal/base64.ts'
import { decodeClixmlString } from '../../../src/clixml/escape.ts'
import {
  PSEnum,
  PSObject,
  setMeta,
  type CollectionKind,
  type CollectionMeta,
} from '../../../src/clixml/ps-object.ts'
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
} from '../../../src/clixml/primitives.ts'
import type { SecureStringCipher } from '../../../src/clixml/serialize.ts'
import { lookupType } from '../../../src/clixml/registry.ts'
import '../../../src/clixml/types/index.ts'
import { ProgressRecordType } from '../../../src/clixml/types/enums.ts'
import { ProgressRecord } from '../../../src/clixml/types/records.ts'

/** Options of {@link deserialize}. */
interface DeserializeOptions {
  /** Session cipher for `<SS>` values; without it SecureStrings keep their encrypted bytes. */
  cipher?: SecureStringCipher
  /** Maximum element depth (default 256). */
  maxDepth?: number
  /** Maximum input length in characters (default 64 MiB). */
  maxLength?: number
}

const COLLECTION_TAGS: Record<string, CollectionKind> = {
  LST: 'LST',
  IE: 'IE',
  QUE: 'QUE',
  STK: 'STK',
  DCT: 'DCT',
}
const INT = /^[+-]?\d+$/
/** The children of `<PR>` in PowerShell's order; undefined stands for the CurrentOperation object. */
const PR_CHILDREN = ['AV', 'AI', undefined, 'PI', 'PC', 'T', 'SR', 'SD'] as const

class Reader {
  readonly objects = new Map<string, unknown>()
  readonly typeNameLists = new Map<string, string[]>()
  readonly path: string[] = []
  constructor(readonly options: DeserializeOptions) {}

  fail(message: string, el: XmlElement, cause?: unknown): never {
    throw new ClixmlError(message, {
      path: [...this.path, label(el)].join('/'),
      offset: el.offset,
      ...(cause === undefined ? {} : { cause }),
    })
  }

  int(el: XmlElement, min: bigint, max: bigint): bigint {
    const t = el.text.trim()
    if (!INT.test(t)) this.fail(`${el.name} is not an integer: ${JSON.stringify(t.slice(0, 40))}`, el)
    const v = BigInt(t)
    if (v < min || v > max) this.fail(`${el.name} value ${t} is out of range`, el)
    return v
  }

  float(el: XmlElement): number {
    const t = el.text.trim()
    switch (t) {
      case 'INF':
      case 'Infinity':
      case '∞':
        return Infinity
      case '-INF':
      case '-Infinity':
      case '-∞':
        return -Infinity
      case 'NaN':
        return NaN
    }
    const v = Number(t)
    if (t === '' || Number.isNaN(v))
      this.fail(`${el.name} is not a number: ${JSON.stringify(t.slice(0, 40))}`, el)
    return v
  }

  wrap<T>(el: XmlElement, build: () => T): T {
    try {
      return build()
    } catch (err) {
      if (err instanceof ClixmlError && err.path === undefined) this.fail(err.message, el, err)
      throw err
    }
  }

  value(el: XmlElement): unknown {
    switch (el.name) {
      case 'S':
        return decodeClixmlString(el.text)
      case 'B': {
        const t = el.text.trim().toLowerCase()
        if (t === 'true') return true
        if (t === 'false') return false
        return this.fail(`B is not a boolean: ${JSON.stringify(t.slice(0, 40))}`, el)
      }
      case 'I32':
        return Number(this.int(el, -0x80000000n, 0x7fffffffn))
      case 'I64':
        return this.int(el, -0x8000000000000000n, 0x7fffffffffffffffn)
      case 'U64':
        return new PSUInt64(this.int(el, 0n, 0xffffffffffffffffn))
      case 'U32':
        return new PSUInt32(Number(this.int(el, 0n, 0xffffffffn)))
      case 'I16':
        return new PSInt16(Number(this.int(el, -0x8000n, 0x7fffn)))
      case 'U16':
        return new PSUInt16(Number(this.int(el, 0n, 0xffffn)))
      case 'By':
        return new PSByte(Number(this.int(el, 0n, 0xffn)))
      case 'SB':
        return new PSSByte(Number(this.int(el, -0x80n, 0x7fn)))
      case 'C':
        return new PSChar(Number(this.int(el, 0n, 0xffffn)))
      case 'Db': {
        const v = this.float(el)
        return Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff ? new PSDouble(v) : v
      }
      case 'Sg':
        return new PSSingle(this.float(el))
      case 'D':
        return this.wrap(el, () => new PSDecimal(el.text))
      case 'DT':
        return this.wrap(el, () => PSDateTime.parse(el.text))
      case 'TS':
        return this.wrap(el, () => PSTimeSpan.parse(el.text))
      case 'G':
        return this.wrap(el, () => new PSGuid(el.text))
      case 'Version':
        return this.wrap(el, () => new PSVersion(el.text))
      case 'URI':
        return new PSUri(decodeClixmlString(el.text))
      case 'XD':
        return new PSXmlDocument(decodeClixmlString(el.text))
      case 'SBK':
        return new PSScriptBlock(decodeClixmlString(el.text))
      case 'BA': {
        const bytes = fromBase64(el.text)
        if (bytes === undefined) return this.fail('BA is not valid base64', el)
        return bytes
      }
      case 'SS':
        return this.secureString(el)
      case 'Nil':
        return null
      case 'Ref': {
        const id = el.attrs['RefId']
        if (id === undefined) return this.fail('Ref without RefId', el)
        if (!this.objects.has(id)) return this.fail(`Ref to unknown RefId ${id}`, el)
        return this.objects.get(id)
      }
      case 'Obj':
        return this.object(el)
      case 'PR':
        return this.progressRecord(el)
      default:
        return this.fail(`unknown element <${el.name}>`, el)
    }
  }

  secureString(el: XmlElement): PSSecureString {
    const bytes = fromBase64(el.text)
    if (bytes === undefined) return this.fail('SS is not valid base64', el)
    const cipher = this.options.cipher
    if (cipher === undefined) return new PSSecureString(undefined, bytes)
    let plain: Uint8Array
    try {
      plain = cipher.decrypt(bytes)
    } catch (err) {
      return this.fail('SecureString could not be decrypted with the session key', el, err)
    }
    return new PSSecureString(utf16leDecode(plain))
  }

  /**
   * `<PR>`, the ProgressRecord element of PowerShell's serializer, read as its
   * `DeserializeProgressRecord` does: AV, AI, the CurrentOperation as one object (its text, or null when
   * null or empty), PI, PC, T (a ProgressRecordType name in any case, or a number), SR, SD.
   */
  progressRecord(el: XmlElement): ProgressRecord {
    const kids = el.children
    if (kids.length !== PR_CHILDREN.length) {
      this.fail(
        `PR needs ${PR_CHILDREN.length} child elements (AV AI CurrentOperation PI PC T SR SD), not ${kids.length}`,
        el,
      )
    }
    this.path.push(label(el))
    const child = (i: number): XmlElement => {
      const c = kids[i] as XmlElement
      const want = PR_CHILDREN[i]
      if (want !== undefined && c.name !== want) this.fail(`<${c.name}> where PR expects <${want}>`, c)
      return c
    }
    const text = (i: number): string => decodeClixmlString(child(i).text)
    const int32 = (i: number): number => {
      const t = text(i).trim()
      const v = INT.test(t) ? Number(t) : NaN
      if (!(v >= -0x80000000 && v <= 0x7fffffff))
        this.fail(`${kids[i]?.name} is not an Int32: ${JSON.stringify(t.slice(0, 40))}`, child(i))
      return v
    }
    const activity = text(0)
    const activityId = int32(1)
    const op = this.value(child(2))
    const currentOperation = op === null || op === undefined || String(op) === '' ? null : String(op)
    const parentActivityId = int32(3)
    const percentComplete = int32(4)
    const typeText = text(5).trim()
    const named = Object.entries(ProgressRecordType.values).find(
      ([k]) => k.toLowerCase() === typeText.toLowerCase(),
    )
    const typeValue = named !== undefined ? named[1] : INT.test(typeText) ? Number(typeText) : NaN
    if (!(typeValue >= -0x80000000 && typeValue <= 0x7fffffff)) {
      this.fail(`T is not a ProgressRecordType: ${JSON.stringify(typeText.slice(0, 40))}`, child(5))
    }
    const secondsRemaining = int32(6)
    const statusDescription = text(7)
    this.path.pop()
    const rec = new ProgressRecord({
      typeNames: ['System.Management.Automation.ProgressRecord', 'System.Object'],
      extended: [
        ['Activity', activity],
        ['ActivityId', activityId],
        ['StatusDescription', statusDescription],
        ['CurrentOperation', currentOperation],
        ['ParentActivityId', parentActivityId],
        ['PercentComplete', percentComplete],
        ['SecondsRemaining', secondsRemaining],
        ['Type', ProgressRecordType.of(typeValue)],
      ],
    })
    rec.element = 'PR'
    return rec
  }

  typeNames(el: XmlElement): string[] {
    const id = el.attrs['RefId']
    if (el.name === 'TNRef') {
      const names = id === undefined ? undefined : this.typeNameLists.get(id)
      if (names === undefined) return this.fail(`TNRef to unknown RefId ${String(id)}`, el)
      return names
    }
    const names = el.children.map((t) => {
      if (t.name !== 'T') this.fail(`unexpected <${t.name}> in TN`, t)
      return decodeClixmlString(t.text)
    })
    if (id !== undefined) this.typeNameLists.set(id, names)
    return names
  }

  object(el: XmlElement): unknown {
    this.path.push(label(el))
    let typeNames: string[] = []
    let collection: XmlElement | undefined
    for (const c of el.children) {
      if (c.name === 'TN' || c.name === 'TNRef') typeNames = this.typeNames(c)
      else if (COLLECTION_TAGS[c.name] !== undefined) {
        if (collection !== undefined) this.fail('Obj has more than one collection', c)
        collection = c
      }
    }
    const refId = el.attrs['RefId']
    let toStringValue: string | undefined
    const adapted = new Map<string, unknown>()
    const extended = new Map<string, unknown>()
    let result: unknown
    let psobj: PSObject | undefined
    let meta: CollectionMeta | undefined
    if (collection !== undefined) {
      const kind = COLLECTION_TAGS[collection.name] as CollectionKind
      result = kind === 'DCT' ? new Map() : []
      meta = { typeNames, toStringValue: undefined, kind, adapted, extended }
      setMeta(result as object, meta)
    } else {
      const Ctor = lookupType(typeNames) ?? (isEnum(typeNames) ? PSEnum : PSObject)
      psobj = new Ctor({ typeNames })
      result = psobj
    }
    if (refId !== undefined) this.objects.set(refId, result)

    let base: unknown = undefined
    for (const c of el.children) {
      switch (c.name) {
        case 'TN':
        case 'TNRef':
          break
        case 'ToString':
          toStringValue = decodeClixmlString(c.text)
          break
        case 'Props':
          this.properties(c, adapted)
          break
        case 'MS':
          this.properties(c, extended)
          break
        case 'LST':
        case 'IE':
        case 'QUE':
        case 'STK':
          this.path.push(c.name)
          for (const item of c.children) (result as unknown[]).push(this.value(item))
          this.path.pop()
          break
        case 'DCT':
          this.path.push('DCT')
          for (const en of c.children) this.entry(en, result as Map<unknown, unknown>)
          this.path.pop()
          break
        default:
          if (base !== undefined) this.fail('Obj has more than one base value', c)
          base = this.value(c)
      }
    }
    if (psobj !== undefined) {
      psobj.toStringValue = toStringValue
      psobj.baseValue = base
      for (const [k, v] of adapted) psobj.adapted.set(k, v)
      for (const [k, v] of extended) psobj.extended.set(k, v)
    } else if (meta !== undefined) {
      if (base !== undefined) this.fail('Obj has both a collection and a base value', el)
      meta.toStringValue = toStringValue
    }
    this.path.pop()
    return result
  }

  properties(el: XmlElement, into: Map<string, unknown>): void {
    this.path.push(el.name)
    for (const c of el.children) {
      const n = c.attrs['N']
      if (n === undefined) this.fail(`property in ${el.name} without N attribute`, c)
      into.set(decodeClixmlString(n), this.value(c))
    }
    this.path.pop()
  }

  entry(en: XmlElement, into: Map<unknown, unknown>): void {
    if (en.name !== 'En') this.fail(`unexpected <${en.name}> in DCT`, en)
    let key: unknown
    let value: unknown
    let hasKey = false
    let hasValue = false
    for (const c of en.children) {
      const n = c.attrs['N']
      if (n === 'Key') {
        key = this.value(c)
        hasKey = true
      } else if (n === 'Value') {
        value = this.value(c)
        hasValue = true
      } else this.fail('DCT entry child must be named Key or Value', c)
    }
    if (!hasKey || !hasValue) this.fail('DCT entry needs a Key and a Value', en)
    into.set(key, value)
  }
}

function isEnum(typeNames: string[]): boolean {
  return typeNames.some((t) => t === 'System.Enum' || t === 'Deserialized.System.Enum')
}

function label(el: XmlElement): string {
  const n = el.attrs['N']
  return n === undefined ? el.name : `${el.name}[N=${n}]`
}

/**
 * Deserializes one CLIXML element (the body of one PSRP message), like PowerShell's
 * `PSSerializer.Deserialize`. An `<Objs>` wrapper (as `Export-Clixml` writes) yields an array.
 */
export function treeDeserialize(xml: string, options: DeserializeOptions = {}): unknown {
  const root = parseXml(xml, {
    maxDepth: options.maxDepth ?? 256,
    maxLength: options.maxLength ?? 64 * 1024 * 1024,
    error: (message, offset) => new ClixmlError(message, { offset }),
  })
  const reader = new Reader(options)
  if (root.name === 'Objs') return root.children.map((c) => reader.value(c))
  return reader.value(root)
}
