/**
 * A fast, hardened XML pull tokenizer for the XML that PSRP and WS-Management carry (CLIXML bodies of
 * MS-PSRP 2.2.5, SOAP envelopes of MS-WSMV). Unlike {@link parseXml} in `xml.ts` it builds no tree:
 * callers pull start tags, text and end tags and build what they need while streaming.
 *
 * Hardening: any markup declaration (`<!DOCTYPE`, `<!ENTITY`, …) is refused, so there is no DTD and no
 * entity expansion; only the five predefined entities and numeric character references (of valid XML
 * characters) are decoded. Line ends and attribute values are normalized as in `parseXml` (XML 1.0
 * §2.11 and §3.3.3), and `<` inside an attribute value is an error. Depth and input size are bounded.
 * Every malformed input throws the error the caller's factory builds, with the character offset where
 * parsing broke. Namespaces are not resolved: names keep their prefix (`s:Envelope`).
 *
 * @module
 */
import {
  AmpFinder,
  ATTRIBUTE,
  decodeXmlText,
  isXmlSpace,
  normalizeText,
  PLAIN,
  TEXT_CR,
  type Normalization,
  type XmlParseOptions,
} from './xml.ts'

/** Builds the error thrown for malformed input (e.g. a `ClixmlError`, or a WS-Man protocol error). */
export type XmlErrorFactory = (message: string, offset: number) => Error

/** Token kinds returned by {@link XmlReader.next}. */
export const XmlToken = {
  /** End of the document (after the root element closed). */
  EndOfDocument: 0,
  /** A start tag; {@link XmlReader.name} and the attributes are set. */
  StartElement: 1,
  /** An end tag (also reported right after a self-closing start tag). */
  EndElement: 2,
  /** Character data or a CDATA section inside an element, decoded, in {@link XmlReader.text}. */
  Text: 3,
} as const
/** One of the {@link XmlToken} values. */
export type XmlToken = (typeof XmlToken)[keyof typeof XmlToken]

const LT = 0x3c
const GT = 0x3e
const SLASH = 0x2f
const BANG = 0x21
const QUESTION = 0x3f
const EQ = 0x3d
const DQUOTE = 0x22
const SQUOTE = 0x27
const AMP = 0x26

/** 1 for the ASCII characters that end a name (see {@link endsName}). */
const NAME_END = new Uint8Array(128)
for (let c = 0; c <= 0x20; c++) NAME_END[c] = 1
for (const c of [SLASH, GT, EQ, LT, DQUOTE, SQUOTE]) NAME_END[c] = 1

/** True for what ends a name: whitespace/controls, `/`, `>`, `=`, `<`, quotes, or the end of input (NaN). */
function endsName(c: number): boolean {
  return c < 0x80 ? NAME_END[c] === 1 : c !== c
}

/** XML NameStartChar, simplified: ASCII letters, `_`, `:` and anything non-ASCII. */
function startsName(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || c >= 0x80
}

/**
 * Names of CLIXML (MS-PSRP 2.2.5) elements and attributes of two to eight characters, each in the slot
 * {@link knownSlot} gives it (one-character names need no table: V8 keeps those strings already).
 * Never written after this module loads.
 */
const KNOWN_NAMES: (string | undefined)[] = new Array<string | undefined>(256).fill(undefined)

/** The slot of a name of `len` characters starting `first`, ending `last`, with `middle` in between. */
function knownSlot(len: number, first: number, middle: number, last: number): number {
  return (len + first * 5 + middle * 5 + last) & 255
}

for (const name of [
  'Objs',
  'Obj',
  'TN',
  'TNRef',
  'ToString',
  'Props',
  'MS',
  'LST',
  'IE',
  'QUE',
  'STK',
  'DCT',
  'En',
  'I32',
  'Ref',
  'Nil',
  'I64',
  'DT',
  'Version',
  'TS',
  'Db',
  'U64',
  'U32',
  'I16',
  'U16',
  'By',
  'SB',
  'Sg',
  'URI',
  'XD',
  'SBK',
  'BA',
  'SS',
  'PR',
  'AV',
  'AI',
  'PI',
  'PC',
  'SR',
  'SD',
  'RefId',
]) {
  const len = name.length
  const slot = knownSlot(len, name.charCodeAt(0), name.charCodeAt(len >> 1), name.charCodeAt(len - 1))
  KNOWN_NAMES[slot] ??= name
}

/**
 * The name `xml[from, to)`: the string of {@link KNOWN_NAMES} when it is one of those (reading it then
 * allocates nothing), else a slice.
 */
function readName(xml: string, from: number, to: number): string {
  const len = to - from
  if (len >= 2 && len <= 8) {
    const known =
      KNOWN_NAMES[
        knownSlot(len, xml.charCodeAt(from), xml.charCodeAt(from + (len >> 1)), xml.charCodeAt(to - 1))
      ]
    if (known !== undefined && known.length === len) {
      let k = 0
      while (k < len && known.charCodeAt(k) === xml.charCodeAt(from + k)) k++
      if (k === len) return known
    }
  }
  return xml.slice(from, to)
}

/** Arrays of a released {@link XmlReader}: attribute names, attribute values, open elements. */
let spareArrays: [string[], string[], string[]] | undefined
/** Arrays longer than this are not kept by {@link XmlReader.release} (emptying them costs their length). */
const SPARE_LIMIT = 64

/**
 * Pull tokenizer over one XML document. Call {@link next} until it returns
 * {@link XmlToken.EndOfDocument}. The XML declaration, comments and processing instructions are
 * skipped, whitespace (and a BOM) outside the root element is ignored, end tags are checked against
 * start tags, and a self-closing element yields a start token followed by an end token.
 *
 * ```ts
 * const r = new XmlReader('<a x="1">t</a>', { error: (m, o) => new ClixmlError(m, { offset: o }) })
 * r.next() // XmlToken.StartElement; r.name === 'a', r.attr('x') === '1'
 * r.readText() // 't' (and consumes </a>)
 * ```
 */
export class XmlReader {
  /** Name of the current start or end element, as written (prefix included). */
  name = ''
  /** Decoded character data of the current text token. */
  text = ''
  /** Character offset where the current token starts. */
  offset = 0
  /** True when the current start element was written `<x/>`. */
  selfClosing = false
  /** Attribute names of the current start element, in document order (a new array on each call). */
  get attrNames(): string[] {
    return this.#attrNames.slice(0, this.#attrCount)
  }
  /** Attribute values (entity-decoded and whitespace-normalized) matching {@link attrNames}. */
  get attrValues(): string[] {
    return this.#attrValues.slice(0, this.#attrCount)
  }

  // the attributes of the current start tag are the first #attrCount entries: the arrays are reused,
  // never truncated (truncating frees their storage, and the next tag would allocate it again)
  readonly #attrNames: string[]
  readonly #attrValues: string[]
  #attrCount = 0

  readonly #xml: string
  readonly #len: number
  readonly #maxDepth: number
  readonly #error: XmlErrorFactory
  readonly #stack: string[]
  #pos = 0
  /** Finds the `&` that start references, each stretch of the document searched once. */
  readonly #amps: AmpFinder
  /** How raw characters of text read: as they are, or with CRLF and CR as LF when the document has a CR. */
  readonly #textMode: Normalization
  /** How raw characters of attribute values read: as they are, or TAB, LF, CR as a space when present. */
  readonly #attrMode: Normalization
  #pendingEnd = false
  #rootSeen = false

  /** Starts reading `xml`; throws at once when it is longer than `options.maxLength` (default 256 MiB). */
  constructor(xml: string, options: XmlParseOptions) {
    // the arrays of a reader that has been released, if any (their storage is then not allocated again)
    const arrays = spareArrays ?? [[], [], []]
    spareArrays = undefined
    this.#attrNames = arrays[0]
    this.#attrValues = arrays[1]
    this.#stack = arrays[2]
    this.#xml = xml
    this.#len = xml.length
    this.#maxDepth = options.maxDepth ?? 512
    this.#error = options.error
    const maxLength = options.maxLength ?? 256 * 1024 * 1024
    if (xml.length > maxLength)
      this.fail(`XML is ${xml.length} characters, over the limit of ${maxLength}`, 0)
    this.#amps = new AmpFinder(xml)
    // normalization is needed only where the input has a raw CR (text) or a raw TAB/LF/CR (attribute
    // values); most CLIXML has none, so three fast scans here keep the common path free of it
    this.#textMode = xml.indexOf('\r') >= 0 ? TEXT_CR : PLAIN
    this.#attrMode =
      this.#textMode !== PLAIN || xml.indexOf('\n') >= 0 || xml.indexOf('\t') >= 0 ? ATTRIBUTE : PLAIN
  }

  /**
   * Ends the use of this reader: its arrays, emptied, serve the next reader made (most documents are
   * small, and these arrays were most of what reading one allocated). The reader must not be used
   * afterwards.
   */
  release(): void {
    const names = this.#attrNames
    const values = this.#attrValues
    const stack = this.#stack
    if (spareArrays !== undefined || names.length > SPARE_LIMIT || stack.length > SPARE_LIMIT) return
    // emptied so they hold no string (a view into) the document; the stack by pop, which keeps its storage
    names.fill('')
    values.fill('')
    while (stack.length > 0) stack.pop()
    spareArrays = [names, values, stack]
  }

  /** Current element depth (1 inside the root element). */
  get depth(): number {
    return this.#stack.length
  }

  /** The names of the open elements, outermost first (for error paths). */
  get openElements(): readonly string[] {
    return this.#stack
  }

  /** Throws the caller's error for `message` at `offset` (default: the current token). */
  fail(message: string, offset: number = this.offset): never {
    throw this.#error(message, offset)
  }

  /** Value of an attribute of the current start element, or undefined. */
  attr(name: string): string | undefined {
    const names = this.#attrNames
    for (let i = 0; i < this.#attrCount; i++) if (names[i] === name) return this.#attrValues[i]
    return undefined
  }

  /** Advances to the next token. */
  next(): XmlToken {
    if (this.#pendingEnd) {
      this.#pendingEnd = false
      this.#stack.pop()
      return XmlToken.EndElement
    }
    const xml = this.#xml
    const len = this.#len
    for (;;) {
      const i = this.#pos
      if (i >= len) {
        if (this.#stack.length > 0)
          this.fail(`unclosed element <${this.#stack[this.#stack.length - 1]}>`, len)
        if (!this.#rootSeen) this.fail('no root element', len)
        return XmlToken.EndOfDocument
      }
      if (xml.charCodeAt(i) !== LT) {
        let lt = xml.indexOf('<', i)
        if (lt < 0) lt = len
        this.#pos = lt
        if (this.#stack.length === 0) {
          for (let k = i; k < lt; k++) {
            const c = xml.charCodeAt(k)
            if (!isXmlSpace(c) && c !== 0xfeff) this.fail('text outside the root element', k)
          }
          continue
        }
        this.offset = i
        this.text = decodeXmlText(xml, i, lt, this.#textMode, this.#amps, this.#error)
        return XmlToken.Text
      }
      const c1 = xml.charCodeAt(i + 1)
      if (c1 === SLASH) return this.#endTag(i)
      if (c1 === QUESTION) {
        const end = xml.indexOf('?>', i + 2)
        if (end < 0) this.fail('unterminated processing instruction', i)
        this.#pos = end + 2
        continue
      }
      if (c1 === BANG) {
        if (xml.startsWith('<!--', i)) {
          const end = xml.indexOf('-->', i + 4)
          if (end < 0) this.fail('unterminated comment', i)
          this.#pos = end + 3
          continue
        }
        if (xml.startsWith('<![CDATA[', i)) {
          if (this.#stack.length === 0) this.fail('CDATA outside the root element', i)
          const end = xml.indexOf(']]>', i + 9)
          if (end < 0) this.fail('unterminated CDATA section', i)
          this.#pos = end + 3
          this.offset = i
          const cdata = xml.slice(i + 9, end)
          this.text = this.#textMode === PLAIN ? cdata : normalizeText(cdata)
          return XmlToken.Text
        }
        this.fail('DTDs, entity declarations and other markup declarations are not allowed', i)
      }
      return this.#startTag(i)
    }
  }

  /**
   * Reads the character content (text and CDATA) of the element whose start tag was just returned,
   * up to and including its end tag. A child element is an error.
   */
  readText(): string {
    const simple = this.#simpleContent()
    if (simple !== undefined) return simple
    const name = this.#stack[this.#stack.length - 1] as string
    let out = ''
    for (;;) {
      const t = this.next()
      if (t === XmlToken.Text) out += this.text
      else if (t === XmlToken.EndElement) return out
      else this.fail(`unexpected element <${this.name}> inside <${name}>`)
    }
  }

  /**
   * Reads the element whose start tag was just returned, up to and including its end tag, and gives
   * its own character content (text and CDATA directly inside it, as `XmlElement.text` of
   * {@link parseXml} holds it): child elements are read (so they must be well-formed) but neither they
   * nor their text count.
   */
  readOwnText(): string {
    const simple = this.#simpleContent()
    if (simple !== undefined) return simple
    let out = ''
    for (;;) {
      const t = this.next()
      if (t === XmlToken.Text) out += this.text
      else if (t === XmlToken.EndElement) return out
      else this.skipElement()
    }
  }

  /**
   * The common case of {@link readText} and {@link readOwnText}: the element is self-closing, or its
   * content is plain text (no markup) directly followed by its end tag; then the element is consumed
   * and its decoded text returned. Undefined (nothing consumed) otherwise.
   */
  #simpleContent(): string | undefined {
    if (this.#pendingEnd) {
      this.#pendingEnd = false
      this.#stack.pop()
      return ''
    }
    const xml = this.#xml
    const name = this.#stack[this.#stack.length - 1] as string
    const start = this.#pos
    const lt = xml.indexOf('<', start)
    if (lt < 0 || xml.charCodeAt(lt + 1) !== SLASH) return undefined
    const gt = lt + 2 + name.length
    if (xml.charCodeAt(gt) !== GT || !xml.startsWith(name, lt + 2)) return undefined
    const text = start === lt ? '' : decodeXmlText(xml, start, lt, this.#textMode, this.#amps, this.#error)
    this.#pos = gt + 1
    this.#stack.pop()
    this.offset = lt
    this.name = name
    return text
  }

  /** Skips the rest of the element whose start tag was just returned, children included. */
  skipElement(): void {
    const target = this.#stack.length - 1
    while (this.#stack.length > target) this.next()
  }

  #endTag(i: number): XmlToken {
    const xml = this.#xml
    let n = i + 2
    while (!endsName(xml.charCodeAt(n))) n++
    const end = n
    while (isXmlSpace(xml.charCodeAt(n))) n++
    if (xml.charCodeAt(n) !== GT) this.fail(`malformed end tag </${xml.slice(i + 2, end)}>`, i)
    const open = this.#stack.pop()
    if (open === undefined) this.fail(`unexpected end tag </${xml.slice(i + 2, end)}>`, i)
    // compared in place: no string is made for a matching end tag
    if (open.length !== end - i - 2 || !xml.startsWith(open, i + 2))
      this.fail(`end tag </${xml.slice(i + 2, end)}> does not match <${open}>`, i)
    this.#pos = n + 1
    this.offset = i
    this.name = open
    return XmlToken.EndElement
  }

  #startTag(i: number): XmlToken {
    const xml = this.#xml
    const len = this.#len
    if (this.#stack.length === 0 && this.#rootSeen) this.fail('more than one root element', i)
    if (!startsName(xml.charCodeAt(i + 1))) this.fail('element name expected', i)
    let n = i + 2
    while (!endsName(xml.charCodeAt(n))) n++
    const name = readName(xml, i + 1, n)
    const names = this.#attrNames
    const values = this.#attrValues
    let count = 0
    this.#attrCount = 0
    let selfClosing = false
    let seen: Set<string> | undefined
    for (;;) {
      let c = xml.charCodeAt(n)
      if (isXmlSpace(c)) {
        do c = xml.charCodeAt(++n)
        while (isXmlSpace(c))
      } else if (c !== GT && c !== SLASH && n < len) {
        // an attribute must be separated from the name or the previous attribute by whitespace
        this.fail(`malformed start tag <${name}>`, n)
      }
      if (c === GT) {
        n++
        break
      }
      if (c === SLASH) {
        if (xml.charCodeAt(n + 1) !== GT) this.fail(`malformed start tag <${name}>`, n)
        selfClosing = true
        n += 2
        break
      }
      if (n >= len) this.fail(`unterminated start tag <${name}>`, i)
      if (!startsName(c)) this.fail(`malformed attribute in <${name}>`, n)
      const a = n
      while (!endsName(xml.charCodeAt(n))) n++
      const attrName = readName(xml, a, n)
      while (isXmlSpace(xml.charCodeAt(n))) n++
      if (xml.charCodeAt(n) !== EQ) this.fail(`attribute ${attrName} has no value`, n)
      n++
      while (isXmlSpace(xml.charCodeAt(n))) n++
      const quote = xml.charCodeAt(n)
      if (quote !== DQUOTE && quote !== SQUOTE) this.fail(`attribute ${attrName} value must be quoted`, n)
      // one scan of the value finds its closing quote, the first '<' (an error) and whether it has a
      // reference ('&') to decode
      let close = n + 1
      let lt = -1
      let plain = this.#attrMode === PLAIN
      for (; close < len; close++) {
        const v = xml.charCodeAt(close)
        if (v === quote) break
        if (v === LT) {
          if (lt < 0) lt = close
        } else if (v === AMP) plain = false
      }
      if (close >= len) this.fail(`unterminated attribute ${attrName}`, n)
      if (lt >= 0) this.fail(`'<' in the value of attribute ${attrName}`, lt)
      if (count < 16) {
        for (let k = 0; k < count; k++)
          if (names[k] === attrName) this.fail(`duplicate attribute ${attrName}`, a)
      } else {
        if (count === 16) seen = new Set(names.slice(0, 16))
        if (seen?.has(attrName) === true) this.fail(`duplicate attribute ${attrName}`, a)
        seen?.add(attrName)
      }
      names[count] = attrName
      values[count] = plain
        ? xml.slice(n + 1, close)
        : decodeXmlText(xml, n + 1, close, this.#attrMode, this.#amps, this.#error)
      this.#attrCount = ++count
      n = close + 1
    }
    this.#pos = n
    this.offset = i
    this.name = name
    this.selfClosing = selfClosing
    this.#rootSeen = true
    this.#stack.push(name)
    if (this.#stack.length > this.#maxDepth) this.fail(`nesting deeper than ${this.#maxDepth} elements`, i)
    this.#pendingEnd = selfClosing
    return XmlToken.StartElement
  }
}
