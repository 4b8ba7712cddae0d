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
import type { XmlParseOptions } from './xml.ts'

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

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** True for what ends a name: whitespace/controls, `/`, `>`, `=`, `<`, quotes, or the end of input (NaN). */
function endsName(c: number): boolean {
  return (
    c <= 0x20 || c === SLASH || c === GT || c === EQ || c === LT || c === DQUOTE || c === SQUOTE || c !== c
  )
}

/** XML NameStartChar, simplified: ASCII letters, `_`, `:` and anything non-ASCII. */
function startsName(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || c >= 0x80
}

/** Line-end normalization of raw character data (XML 1.0 §2.11). */
function raw(s: string): string {
  return s.indexOf('\r') < 0 ? s : s.replace(/\r\n?/g, '\n')
}

/** Attribute-value normalization of raw characters: TAB, LF, CR and CRLF each read as a space (§3.3.3). */
function rawAttr(s: string): string {
  return s.indexOf('\r') < 0 && s.indexOf('\n') < 0 && s.indexOf('\t') < 0
    ? s
    : s.replace(/\r\n?|[\n\t]/g, ' ')
}

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
  /** Attribute names of the current start element, in document order. */
  readonly attrNames: string[] = []
  /** Attribute values (entity-decoded and whitespace-normalized) matching {@link attrNames}. */
  readonly attrValues: string[] = []

  readonly #xml: string
  readonly #len: number
  readonly #maxDepth: number
  readonly #error: XmlErrorFactory
  readonly #stack: string[] = []
  #pos = 0
  /** The first `&` at or after the last position asked about (-1: none left); see {@link #ampAt}. */
  #nextAmp = -2
  /** The first `<` after the current start tag's `<` (-1: none left), found once per start tag. */
  #nextLt = -2
  #pendingEnd = false
  #rootSeen = false

  /** Starts reading `xml`; throws at once when it is longer than `options.maxLength` (default 256 MiB). */
  constructor(xml: string, options: XmlParseOptions) {
    this.#xml = xml
    this.#len = xml.length
    this.#maxDepth = options.maxDepth ?? 512
    this.#error = options.error
    const maxLength = options.maxLength ?? 256 * 1024 * 1024
    if (xml.length > maxLength)
      this.fail(`XML is ${xml.length} characters, over the limit of ${maxLength}`, 0)
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
    const names = this.attrNames
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.attrValues[i]
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
            if (!isSpace(c) && c !== 0xfeff) this.fail('text outside the root element', k)
          }
          continue
        }
        this.offset = i
        this.text = this.#decode(i, lt)
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
          this.text = raw(xml.slice(i + 9, end))
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
    if (this.#pendingEnd) {
      this.#pendingEnd = false
      this.#stack.pop()
      return ''
    }
    const xml = this.#xml
    const name = this.#stack[this.#stack.length - 1] as string
    // fast path: plain text directly followed by the matching end tag
    const start = this.#pos
    const lt = xml.indexOf('<', start)
    if (lt >= 0 && xml.charCodeAt(lt + 1) === SLASH) {
      const gt = lt + 2 + name.length
      if (xml.charCodeAt(gt) === GT && xml.startsWith(name, lt + 2)) {
        const text = this.#decode(start, lt)
        this.#pos = gt + 1
        this.#stack.pop()
        this.offset = lt
        this.name = name
        return text
      }
    }
    let out = ''
    for (;;) {
      const t = this.next()
      if (t === XmlToken.Text) out += this.text
      else if (t === XmlToken.EndElement) return out
      else this.fail(`unexpected element <${this.name}> inside <${name}>`)
    }
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
    const name = xml.slice(i + 2, n)
    while (isSpace(xml.charCodeAt(n))) n++
    if (xml.charCodeAt(n) !== GT) this.fail(`malformed end tag </${name}>`, i)
    const open = this.#stack.pop()
    if (open === undefined) this.fail(`unexpected end tag </${name}>`, i)
    if (open !== name) this.fail(`end tag </${name}> does not match <${open}>`, i)
    this.#pos = n + 1
    this.offset = i
    this.name = name
    return XmlToken.EndElement
  }

  #startTag(i: number): XmlToken {
    const xml = this.#xml
    const len = this.#len
    if (this.#stack.length === 0 && this.#rootSeen) this.fail('more than one root element', i)
    if (!startsName(xml.charCodeAt(i + 1))) this.fail('element name expected', i)
    let n = i + 2
    while (!endsName(xml.charCodeAt(n))) n++
    const name = xml.slice(i + 1, n)
    const names = this.attrNames
    const values = this.attrValues
    names.length = 0
    values.length = 0
    let selfClosing = false
    let seen: Set<string> | undefined
    for (;;) {
      let c = xml.charCodeAt(n)
      if (isSpace(c)) {
        do c = xml.charCodeAt(++n)
        while (isSpace(c))
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
      const attrName = xml.slice(a, n)
      while (isSpace(xml.charCodeAt(n))) n++
      if (xml.charCodeAt(n) !== EQ) this.fail(`attribute ${attrName} has no value`, n)
      n++
      while (isSpace(xml.charCodeAt(n))) n++
      const quote = xml.charCodeAt(n)
      if (quote !== DQUOTE && quote !== SQUOTE) this.fail(`attribute ${attrName} value must be quoted`, n)
      const close = xml.indexOf(quote === DQUOTE ? '"' : "'", n + 1)
      if (close < 0) this.fail(`unterminated attribute ${attrName}`, n)
      // one search for the next '<' per start tag (not per attribute, which made a tag with many
      // attributes quadratic): any '<' before a closing quote is inside that value
      if (this.#nextLt !== -1 && this.#nextLt <= i) this.#nextLt = xml.indexOf('<', i + 1)
      const lt = this.#nextLt
      if (lt >= 0 && lt < close) this.fail(`'<' in the value of attribute ${attrName}`, lt)
      if (names.length < 16) {
        for (let k = 0; k < names.length; k++)
          if (names[k] === attrName) this.fail(`duplicate attribute ${attrName}`, a)
      } else {
        if (names.length === 16) seen = new Set(names)
        if (seen?.has(attrName) === true) this.fail(`duplicate attribute ${attrName}`, a)
        seen?.add(attrName)
      }
      names.push(attrName)
      values.push(this.#decode(n + 1, close, rawAttr))
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

  /**
   * Decodes references in `xml[from, to)`. Raw characters go through `norm`: by default CRLF and lone
   * CR read as LF (XML 1.0 §2.11); a CR written as `&#13;` is kept.
   */
  #decode(from: number, to: number, norm: (s: string) => string = raw): string {
    const xml = this.#xml
    const amp = this.#ampAt(from)
    if (amp < 0 || amp >= to) return norm(xml.slice(from, to))
    let s = ''
    let i = from
    let a = amp
    while (a >= 0 && a < to) {
      s += norm(xml.slice(i, a))
      // the ';' is looked for only as far as a reference can reach
      let semi = -1
      const limit = Math.min(to, a + 11)
      for (let k = a + 1; k < limit; k++) {
        if (xml.charCodeAt(k) === 0x3b /* ; */) {
          semi = k
          break
        }
      }
      if (semi < 0) this.fail('malformed entity reference', a)
      s += this.#reference(a, semi)
      i = semi + 1
      a = this.#ampAt(i)
    }
    return s + norm(xml.slice(i, to))
  }

  /**
   * The first `&` at or after `from` (-1 if none). Decoding asks with increasing positions, so the
   * answer is remembered and each stretch of the document is searched once: decoding costs time in
   * proportion to the text decoded, not to the rest of the document.
   */
  #ampAt(from: number): number {
    if (this.#nextAmp !== -1 && this.#nextAmp < from) this.#nextAmp = this.#xml.indexOf('&', from)
    return this.#nextAmp
  }

  #reference(a: number, semi: number): string {
    const xml = this.#xml
    if (xml.charCodeAt(a + 1) === 0x23 /* # */) {
      const hex = xml.charCodeAt(a + 2) === 0x78 /* x */
      let k = hex ? a + 3 : a + 2
      if (k >= semi) this.fail('malformed character reference', a)
      let code = 0
      for (; k < semi; k++) {
        const d = xml.charCodeAt(k)
        const l = d | 0x20
        let v: number
        if (d >= 0x30 && d <= 0x39) v = d - 0x30
        else if (hex && l >= 0x61 && l <= 0x66) v = l - 0x57
        else return this.fail('malformed character reference', a)
        code = code * (hex ? 16 : 10) + v
      }
      // XML 1.0 Char production: no NUL, no surrogate code points, nothing past U+10FFFF
      if (
        code === 0 ||
        code > 0x10ffff ||
        (code >= 0xd800 && code <= 0xdfff) ||
        code === 0xfffe ||
        code === 0xffff
      ) {
        this.fail(`character reference to an invalid XML character (${code})`, a)
      }
      return String.fromCodePoint(code)
    }
    switch (xml.slice(a + 1, semi)) {
      case 'lt':
        return '<'
      case 'gt':
        return '>'
      case 'amp':
        return '&'
      case 'quot':
        return '"'
      case 'apos':
        return "'"
      default:
        return this.fail(
          `unknown entity &${xml.slice(a + 1, semi)}; (only the predefined entities are allowed)`,
          a,
        )
    }
  }
}
