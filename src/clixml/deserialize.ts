/**
 * CLIXML deserializer (MS-PSRP 2.2.5): one CLIXML element to a JS value, read straight from the pull
 * tokenizer (`src/internal/xml-reader.ts`) without building an element tree. Hardened: no DTDs, depth
 * and size limits, and every malformed input becomes a {@link ClixmlError} naming the element path
 * and the character offset where it broke.
 *
 * An `<Obj>` must be created (and its RefId registered) before its properties and items are read, since
 * they may refer back to it, and what is created depends on its type names and on whether it holds a
 * collection. PowerShell writes those children first (`TN`/`TNRef`, `ToString`, then the collection or
 * base value, `Props`, `MS`), and the first pass reads such objects as they stream by. Should an object
 * have a type name or a collection after other content, or should anything fail, the document is read
 * again from the start with the first pass of every object known in advance (`first-pass.ts`): each
 * object then reads exactly as when the whole tree was built first, its type names and collection
 * first, then its children in order, and the error reported is the one that reading gives (an XML
 * error anywhere first). Either way the work is linear in the input.
 *
 * @module
 */
import { ClixmlError } from '../errors.ts'
import type { XmlParseOptions } from '../internal/xml.ts'
import { XmlReader, XmlToken } from '../internal/xml-reader.ts'
import { fromBase64, utf16leDecode } from '../internal/base64.ts'
import { decodeClixmlString } from './escape.ts'
import { PSEnum, PSObject, setMeta, type CollectionKind, type CollectionMeta } from './ps-object.ts'
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
} from './primitives.ts'
import type { SecureStringCipher } from './serialize.ts'
import { lookupType } from './registry.ts'
import './types/index.ts'
import { ProgressRecordType } from './types/enums.ts'
import { ProgressRecord } from './types/records.ts'
import { scanFirstPass, type FirstPass, type FirstPassChild } from './first-pass.ts'

/** Options of {@link deserialize}. */
export interface DeserializeOptions {
  /** Session cipher for `<SS>` values; without it SecureStrings keep their encrypted bytes. */
  cipher?: SecureStringCipher
  /** Maximum element depth (default 256). */
  maxDepth?: number
  /** Maximum input length in characters (default 64 MiB). */
  maxLength?: number
}

const INT = /^[+-]?\d+$/
/** The children of `<PR>` in PowerShell's order; undefined stands for the CurrentOperation object. */
const PR_CHILDREN = ['AV', 'AI', undefined, 'PI', 'PC', 'T', 'SR', 'SD'] as const

/** The collection kind an element name stands for (MS-PSRP 2.2.5.2.6), or undefined. */
function collectionKind(name: string): CollectionKind | undefined {
  switch (name) {
    case 'LST':
    case 'IE':
    case 'QUE':
    case 'STK':
    case 'DCT':
      return name
    default:
      return undefined
  }
}

/**
 * Thrown by the streaming first pass when an `<Obj>` has a type name or a collection after other content,
 * or a `<PR>` has other than eight children: {@link deserialize} then reads the document again with
 * every first pass known in advance.
 */
class NotInWritingOrder extends Error {}

const xmlError = (message: string, offset: number): Error => new ClixmlError(message, { offset })

function label(name: string, n: string | undefined): string {
  return n === undefined ? name : `${name}[N=${n}]`
}

function isEnum(typeNames: string[]): boolean {
  for (const t of typeNames) if (t === 'System.Enum' || t === 'Deserialized.System.Enum') return true
  return false
}

/**
 * Property and type names read recently, each kept once: most objects of a stream repeat them, and a
 * name read from a document is a view into it (for 13 characters and more, in V8), so each object
 * would otherwise hold a string, and the document, of its own. Emptied when it reaches
 * {@link SHARED_LIMIT} names; names longer than {@link SHARED_LENGTH} are not kept.
 */
const sharedNames = new Map<string, string>()
const SHARED_LIMIT = 2048
const SHARED_LENGTH = 256

/** `name`, or the equal string read before. */
function shared(name: string): string {
  const known = sharedNames.get(name)
  if (known !== undefined) return known
  if (name.length > SHARED_LENGTH) return name
  if (sharedNames.size >= SHARED_LIMIT) sharedNames.clear()
  // a copy of its own (concatenating makes a new string, slicing that keeps only it), so that the
  // table never holds on to a document
  const own = name.length > 12 ? (' ' + name).slice(1) : name
  sharedNames.set(own, own)
  return own
}

/** Arrays of a released {@link Reader}: the path names, the path `N` attributes, the scratch. */
let spareArrays: [string[], (string | undefined)[], string[]] | undefined
/** Arrays longer than this are not kept by {@link Reader.release} (emptying them costs their length). */
const SPARE_LIMIT = 64

/**
 * Reads values from a pull tokenizer. Each method that reads an element is called with the reader on
 * that element's start tag and returns with its end tag consumed.
 */
class Reader {
  readonly objects = new Map<string, unknown>()
  readonly typeNameLists = new Map<string, string[]>()
  /** The elements read into (for error paths): names, and the `N` attribute of each. */
  readonly pathNames: string[]
  readonly pathNs: (string | undefined)[]
  /** Reused by {@link typeNameList}. */
  readonly scratch: string[]
  constructor(
    readonly r: XmlReader,
    readonly options: DeserializeOptions,
    /** Every object's first pass, when the document is read the second time; undefined the first time. */
    readonly firstPass: FirstPass | undefined,
  ) {
    // the arrays of a reader that has been released, if any (their storage is then not allocated again)
    const arrays = spareArrays ?? [[], [], []]
    spareArrays = undefined
    this.pathNames = arrays[0]
    this.pathNs = arrays[1]
    this.scratch = arrays[2]
  }

  /**
   * Ends the use of this reader and its tokenizer: their arrays, emptied, serve the next document
   * read (most are small, and these arrays were much of what reading one allocated).
   */
  release(): void {
    this.r.release()
    const { pathNames, pathNs, scratch } = this
    if (spareArrays !== undefined || scratch.length > SPARE_LIMIT || pathNames.length > SPARE_LIMIT) return
    // emptied so they hold no string (a view into) the document; the paths by pop, which keeps storage
    scratch.fill('')
    while (pathNames.length > 0) pathNames.pop()
    while (pathNs.length > 0) pathNs.pop()
    spareArrays = [pathNames, pathNs, scratch]
  }

  enter(name: string, n: string | undefined): void {
    this.pathNames.push(name)
    this.pathNs.push(n)
  }

  leave(): void {
    this.pathNames.pop()
    this.pathNs.pop()
  }

  fail(message: string, name: string, n: string | undefined, offset: number, cause?: unknown): never {
    const path = this.pathNames.map((p, i) => label(p, this.pathNs[i]))
    path.push(label(name, n))
    throw new ClixmlError(message, {
      path: path.join('/'),
      offset,
      ...(cause === undefined ? {} : { cause }),
    })
  }

  /** The document: one value, or an array of values for an `<Objs>` wrapper. */
  document(): unknown {
    const r = this.r
    r.next() // the root start tag: the tokenizer throws on anything else
    let result: unknown
    if (r.name === 'Objs') {
      const values: unknown[] = []
      for (let t = r.next(); t !== XmlToken.EndElement; t = r.next()) {
        if (t === XmlToken.StartElement) values.push(this.value(r.attr('N')))
      }
      // a copy of its exact size: an array grown by push keeps spare room (16 slots for one object)
      result = values.slice()
    } else {
      result = this.value(r.attr('N'))
    }
    r.next() // the end of the document: the tokenizer throws on a second root or text after it
    return result
  }

  int(text: string, name: string, n: string | undefined, offset: number, min: number, max: number): number {
    const t = text.trim()
    if (!INT.test(t))
      this.fail(`${name} is not an integer: ${JSON.stringify(t.slice(0, 40))}`, name, n, offset)
    // 15 digits are exact as a double; longer (leading zeros, or out of range anyway) go through BigInt
    const v = t.length <= 15 ? Number(t) : Number(BigInt(t))
    if (!(v >= min && v <= max)) this.fail(`${name} value ${t} is out of range`, name, n, offset)
    return v + 0 // -0 reads as 0
  }

  bigInt(
    text: string,
    name: string,
    n: string | undefined,
    offset: number,
    min: bigint,
    max: bigint,
  ): bigint {
    const t = text.trim()
    if (!INT.test(t))
      this.fail(`${name} is not an integer: ${JSON.stringify(t.slice(0, 40))}`, name, n, offset)
    const v = BigInt(t)
    if (v < min || v > max) this.fail(`${name} value ${t} is out of range`, name, n, offset)
    return v
  }

  float(text: string, name: string, n: string | undefined, offset: number): number {
    const t = text.trim()
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
      this.fail(`${name} is not a number: ${JSON.stringify(t.slice(0, 40))}`, name, n, offset)
    return v
  }

  /** Parses the text of a `D`, `DT`, `TS`, `G` or `Version`, giving its ClixmlError the element's path and offset. */
  parsed(text: string, name: string, n: string | undefined, offset: number): unknown {
    try {
      switch (name) {
        case 'DT':
          return PSDateTime.parse(text)
        case 'G':
          return new PSGuid(text)
        case 'Version':
          return new PSVersion(text)
        case 'D':
          return new PSDecimal(text)
        default:
          return PSTimeSpan.parse(text)
      }
    } catch (err) {
      if (err instanceof ClixmlError && err.path === undefined) this.fail(err.message, name, n, offset, err)
      throw err
    }
  }

  /** The value of the element whose start tag the reader is on; `n` is its `N` attribute. */
  value(n: string | undefined): unknown {
    const r = this.r
    const name = r.name
    const offset = r.offset
    // the most frequent first: a switch on strings compares them in order
    switch (name) {
      case 'S':
        return decodeClixmlString(r.readOwnText())
      case 'Obj':
        return this.object(n, offset)
      case 'I32':
        return this.int(r.readOwnText(), name, n, offset, -0x80000000, 0x7fffffff)
      case 'B': {
        const text = r.readOwnText()
        if (text === 'true') return true
        if (text === 'false') return false
        const t = text.trim().toLowerCase()
        if (t === 'true') return true
        if (t === 'false') return false
        return this.fail(`B is not a boolean: ${JSON.stringify(t.slice(0, 40))}`, name, n, offset)
      }
      case 'Ref': {
        const id = r.attr('RefId')
        r.skipElement()
        if (id === undefined) return this.fail('Ref without RefId', name, n, offset)
        const target = this.objects.get(id)
        if (target === undefined && !this.objects.has(id))
          return this.fail(`Ref to unknown RefId ${id}`, name, n, offset)
        return target
      }
      case 'Nil':
        r.skipElement()
        return null
      case 'I64':
        return this.bigInt(r.readOwnText(), name, n, offset, -0x8000000000000000n, 0x7fffffffffffffffn)
      case 'DT':
      case 'G':
      case 'Version':
      case 'D':
      case 'TS':
        return this.parsed(r.readOwnText(), name, n, offset)
      case 'Db': {
        const v = this.float(r.readOwnText(), name, n, offset)
        return Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff ? new PSDouble(v) : v
      }
      case 'U64':
        return new PSUInt64(this.bigInt(r.readOwnText(), name, n, offset, 0n, 0xffffffffffffffffn))
      case 'U32':
        return new PSUInt32(this.int(r.readOwnText(), name, n, offset, 0, 0xffffffff))
      case 'I16':
        return new PSInt16(this.int(r.readOwnText(), name, n, offset, -0x8000, 0x7fff))
      case 'U16':
        return new PSUInt16(this.int(r.readOwnText(), name, n, offset, 0, 0xffff))
      case 'By':
        return new PSByte(this.int(r.readOwnText(), name, n, offset, 0, 0xff))
      case 'SB':
        return new PSSByte(this.int(r.readOwnText(), name, n, offset, -0x80, 0x7f))
      case 'C':
        return new PSChar(this.int(r.readOwnText(), name, n, offset, 0, 0xffff))
      case 'Sg':
        return new PSSingle(this.float(r.readOwnText(), name, n, offset))
      case 'URI':
        return new PSUri(decodeClixmlString(r.readOwnText()))
      case 'XD':
        return new PSXmlDocument(decodeClixmlString(r.readOwnText()))
      case 'SBK':
        return new PSScriptBlock(decodeClixmlString(r.readOwnText()))
      case 'BA': {
        const bytes = fromBase64(r.readOwnText())
        if (bytes === undefined) return this.fail('BA is not valid base64', name, n, offset)
        return bytes
      }
      case 'SS':
        return this.secureString(r.readOwnText(), n, offset)
      case 'PR':
        return this.progressRecord(n, offset)
      default:
        return this.fail(`unknown element <${name}>`, name, n, offset)
    }
  }

  secureString(text: string, n: string | undefined, offset: number): PSSecureString {
    const bytes = fromBase64(text)
    if (bytes === undefined) return this.fail('SS is not valid base64', 'SS', n, offset)
    const cipher = this.options.cipher
    if (cipher === undefined) return new PSSecureString(undefined, bytes)
    let plain: Uint8Array
    try {
      plain = cipher.decrypt(bytes)
    } catch (err) {
      return this.fail('SecureString could not be decrypted with the session key', 'SS', n, offset, err)
    }
    return new PSSecureString(utf16leDecode(plain))
  }

  /** Moves to the next child element of the current element: true on its start tag, false at the end tag. */
  nextChild(): boolean {
    for (;;) {
      const t = this.r.next()
      if (t === XmlToken.StartElement) return true
      if (t === XmlToken.EndElement) return false
    }
  }

  /**
   * `<PR>`, the ProgressRecord element of PowerShell's serializer, read as its
   * `DeserializeProgressRecord` does: AV, AI, the CurrentOperation as one object (its text, or null when
   * null or empty), PI, PC, T (a ProgressRecordType name in any case, or a number), SR, SD.
   */
  progressRecord(n: string | undefined, offset: number): ProgressRecord {
    const r = this.r
    if (this.firstPass !== undefined) {
      const count = this.firstPass.progressChildren.get(offset) ?? 0
      if (count !== PR_CHILDREN.length) {
        this.fail(
          `PR needs ${PR_CHILDREN.length} child elements (AV AI CurrentOperation PI PC T SR SD), not ${count}`,
          'PR',
          n,
          offset,
        )
      }
    }
    this.enter('PR', n)
    // each child in turn: its name checked (but the CurrentOperation's), then read
    let childName = ''
    let childN: string | undefined
    let childOffset = 0
    const child = (i: number): void => {
      if (!this.nextChild()) throw new NotInWritingOrder()
      childName = r.name
      childN = r.attr('N')
      childOffset = r.offset
      const want = PR_CHILDREN[i]
      if (want !== undefined && childName !== want)
        this.fail(`<${childName}> where PR expects <${want}>`, childName, childN, childOffset)
    }
    const text = (i: number): string => {
      child(i)
      return decodeClixmlString(r.readOwnText())
    }
    const int32 = (i: number): number => {
      const t = text(i).trim()
      const v = INT.test(t) ? Number(t) : NaN
      if (!(v >= -0x80000000 && v <= 0x7fffffff))
        this.fail(
          `${childName} is not an Int32: ${JSON.stringify(t.slice(0, 40))}`,
          childName,
          childN,
          childOffset,
        )
      return v
    }
    const activity = text(0)
    const activityId = int32(1)
    child(2)
    const op = this.value(childN)
    const currentOperation = op === null || op === undefined || String(op) === '' ? null : String(op)
    const parentActivityId = int32(3)
    const percentComplete = int32(4)
    const typeText = text(5).trim()
    const named = Object.entries(ProgressRecordType.values).find(
      ([k]) => k.toLowerCase() === typeText.toLowerCase(),
    )
    const typeValue = named !== undefined ? named[1] : INT.test(typeText) ? Number(typeText) : NaN
    if (!(typeValue >= -0x80000000 && typeValue <= 0x7fffffff)) {
      this.fail(
        `T is not a ProgressRecordType: ${JSON.stringify(typeText.slice(0, 40))}`,
        childName,
        childN,
        childOffset,
      )
    }
    const secondsRemaining = int32(6)
    const statusDescription = text(7)
    if (this.nextChild()) throw new NotInWritingOrder() // a ninth child
    this.leave()
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

  /** A `<TN>`: its type names, registered under its RefId. */
  typeNameList(): string[] {
    const r = this.r
    const id = r.attr('RefId')
    // gathered in a scratch array and copied once: an array grown by push keeps spare room, and type
    // names stay with the objects
    const scratch = this.scratch
    let count = 0
    while (this.nextChild()) {
      if (r.name !== 'T') this.fail(`unexpected <${r.name}> in TN`, r.name, r.attr('N'), r.offset)
      scratch[count++] = shared(decodeClixmlString(r.readOwnText()))
    }
    const names = scratch.slice(0, count)
    if (id !== undefined) this.typeNameLists.set(id, names)
    return names
  }

  /** The type names a `<TNRef>` refers to. */
  typeNameRef(id: string | undefined, n: string | undefined, offset: number): string[] {
    const names = id === undefined ? undefined : this.typeNameLists.get(id)
    if (names === undefined) return this.fail(`TNRef to unknown RefId ${String(id)}`, 'TNRef', n, offset)
    return names
  }

  /** The first pass of an `<Obj>` from the scan: its type names, and its collection kind if any. */
  knownFirstPass(children: FirstPassChild[]): { typeNames: string[]; kind: CollectionKind | undefined } {
    let typeNames: string[] = []
    let kind: CollectionKind | undefined
    for (const c of children) {
      if (c.name === 'TN') {
        if (c.notT !== undefined)
          this.fail(`unexpected <${c.notT.name}> in TN`, c.notT.name, c.notT.n, c.notT.offset)
        typeNames = c.names
        if (c.refId !== undefined) this.typeNameLists.set(c.refId, typeNames)
      } else if (c.name === 'TNRef') {
        typeNames = this.typeNameRef(c.refId, c.n, c.offset)
      } else {
        if (kind !== undefined) this.fail('Obj has more than one collection', c.name, c.n, c.offset)
        kind = collectionKind(c.name)
      }
    }
    return { typeNames, kind }
  }

  object(n: string | undefined, offset: number): unknown {
    const r = this.r
    const refId = r.attr('RefId')
    this.enter('Obj', n)
    let typeNames: string[] = []
    let toStringValue: string | undefined
    let kind: CollectionKind | undefined
    // In the stream, the children before the first other content are the first pass (type names;
    // ToString, which changes nothing else, may stand among them); a collection must come next.
    let token: XmlToken
    let collectionNext: boolean
    const known = this.firstPass?.objects.get(offset)
    if (known !== undefined) {
      ;({ typeNames, kind } = this.knownFirstPass(known))
      token = r.next()
      collectionNext = false
    } else {
      for (;;) {
        token = r.next()
        if (token === XmlToken.Text) continue
        if (token === XmlToken.EndElement) break
        const c = r.name
        if (c === 'TN') typeNames = this.typeNameList()
        else if (c === 'TNRef') {
          const id = r.attr('RefId')
          const cn = r.attr('N')
          const co = r.offset
          r.skipElement()
          typeNames = this.typeNameRef(id, cn, co)
        } else if (c === 'ToString') toStringValue = decodeClixmlString(r.readOwnText())
        else {
          kind = collectionKind(c)
          break
        }
      }
      collectionNext = kind !== undefined
    }

    let result: unknown
    let adapted: Map<string, unknown>
    let extended: Map<string, unknown>
    let psobj: PSObject | undefined
    let meta: CollectionMeta | undefined
    if (kind !== undefined) {
      result = kind === 'DCT' ? new Map() : []
      adapted = new Map()
      extended = new Map()
      meta = { typeNames, toStringValue: undefined, kind, adapted, extended }
      setMeta(result as object, meta)
    } else {
      const Ctor = lookupType(typeNames) ?? (isEnum(typeNames) ? PSEnum : PSObject)
      psobj = new Ctor({ typeNames })
      adapted = psobj.adapted
      extended = psobj.extended
      result = psobj
    }
    if (refId !== undefined) this.objects.set(refId, result)

    let base: unknown = undefined
    for (; token !== XmlToken.EndElement; token = r.next()) {
      if (token === XmlToken.Text) continue
      const c = r.name
      switch (c) {
        case 'TN':
        case 'TNRef':
          if (known === undefined) throw new NotInWritingOrder()
          r.skipElement()
          break
        case 'ToString':
          toStringValue = decodeClixmlString(r.readOwnText())
          break
        case 'Props':
          this.properties(adapted)
          break
        case 'MS':
          this.properties(extended)
          break
        case 'LST':
        case 'IE':
        case 'QUE':
        case 'STK':
          if (known === undefined && !collectionNext) throw new NotInWritingOrder()
          collectionNext = false
          this.enter(c, undefined)
          while (this.nextChild()) (result as unknown[]).push(this.value(r.attr('N')))
          this.leave()
          break
        case 'DCT':
          if (known === undefined && !collectionNext) throw new NotInWritingOrder()
          collectionNext = false
          this.enter('DCT', undefined)
          while (this.nextChild()) this.entry(result as Map<unknown, unknown>)
          this.leave()
          break
        default: {
          const cn = r.attr('N')
          if (base !== undefined) this.fail('Obj has more than one base value', c, cn, r.offset)
          base = this.value(cn)
        }
      }
    }
    if (psobj !== undefined) {
      psobj.toStringValue = toStringValue
      psobj.baseValue = base
    } else if (meta !== undefined) {
      if (base !== undefined) this.fail('Obj has both a collection and a base value', 'Obj', n, offset)
      meta.toStringValue = toStringValue
    }
    this.leave()
    return result
  }

  /** `<Props>` or `<MS>`: each child is a value named by its `N` attribute. */
  properties(into: Map<string, unknown>): void {
    const r = this.r
    const container = r.name
    this.enter(container, undefined)
    while (this.nextChild()) {
      const n = r.attr('N')
      if (n === undefined) this.fail(`property in ${container} without N attribute`, r.name, n, r.offset)
      into.set(shared(decodeClixmlString(n)), this.value(n))
    }
    this.leave()
  }

  /** One `<En>` of a `<DCT>`: a Key and a Value. */
  entry(into: Map<unknown, unknown>): void {
    const r = this.r
    const enN = r.attr('N')
    const enOffset = r.offset
    if (r.name !== 'En') this.fail(`unexpected <${r.name}> in DCT`, r.name, enN, enOffset)
    let key: unknown
    let value: unknown
    let hasKey = false
    let hasValue = false
    while (this.nextChild()) {
      const n = r.attr('N')
      if (n === 'Key') {
        key = this.value(n)
        hasKey = true
      } else if (n === 'Value') {
        value = this.value(n)
        hasValue = true
      } else this.fail('DCT entry child must be named Key or Value', r.name, n, r.offset)
    }
    if (!hasKey || !hasValue) this.fail('DCT entry needs a Key and a Value', 'En', enN, enOffset)
    into.set(key, value)
  }
}

/** The tokenizer limits of {@link deserialize} when its options set none. */
const DEFAULT_LIMITS: XmlParseOptions = { maxDepth: 256, maxLength: 64 * 1024 * 1024, error: xmlError }

/**
 * Deserializes one CLIXML element (the body of one PSRP message), like PowerShell's
 * `PSSerializer.Deserialize`. An `<Objs>` wrapper (as `Export-Clixml` writes) yields an array.
 */
export function deserialize(xml: string, options: DeserializeOptions = {}): unknown {
  const limits: XmlParseOptions =
    options.maxDepth === undefined && options.maxLength === undefined
      ? DEFAULT_LIMITS
      : {
          maxDepth: options.maxDepth ?? 256,
          maxLength: options.maxLength ?? 64 * 1024 * 1024,
          error: xmlError,
        }
  const reader = new Reader(new XmlReader(xml, limits), options, undefined)
  try {
    return reader.document()
  } catch {
    // out of writing order, or an error: read again, every first pass known (an error is then final)
  } finally {
    reader.release()
  }
  const firstPass = scanFirstPass(xml, limits)
  const again = new Reader(new XmlReader(xml, limits), options, firstPass)
  try {
    return again.document()
  } finally {
    again.release()
  }
}
