/**
 * A small, hardened XML parser for the XML that PSRP and WS-Management carry (CLIXML bodies, SOAP
 * envelopes). It builds a light element tree; it never resolves DTDs or external entities (any
 * `<!DOCTYPE` is refused), and it enforces depth and size limits. Namespace prefixes are kept as part
 * of the element name; callers that care use {@link localName}.
 *
 * XML 1.0 rules applied as a .NET `XmlReader` applies them: raw CRLF and lone CR read as LF in text and
 * CDATA (§2.11); in attribute values every raw TAB, LF, CR and CRLF reads as one space (§3.3.3), while
 * the same characters written as references (`&#xA;`) are kept; character references must name an XML
 * `Char` (no `&#0;`, no surrogates, no U+FFFE/U+FFFF); `<` inside an attribute value is an error.
 *
 * @module
 */

/** One parsed element. `text` is the concatenation of the element's own text and CDATA content. */
export interface XmlElement {
  /** Qualified name as written, e.g. `Obj` or `s:Envelope`. */
  readonly name: string
  /** Attributes by qualified name, entity-decoded and whitespace-normalized (XML 1.0 §3.3.3). */
  readonly attrs: Readonly<Record<string, string>>
  /** Child elements in document order. */
  readonly children: XmlElement[]
  /** Decoded character data directly inside this element, line ends normalized to LF. */
  text: string
  /** Character offset of the `<` that opened the element. */
  readonly offset: number
}

/** Limits and error construction for {@link parseXml}. */
export interface XmlParseOptions {
  /** Maximum element nesting depth (default 512). */
  maxDepth?: number
  /** Maximum input length in characters (default 256 MiB). */
  maxLength?: number
  /** Builds the error thrown for malformed input. */
  error: (message: string, offset: number) => Error
}

const NAME_END = /[\s/>=]/

/** The part of a qualified name after the colon. */
export function localName(name: string): string {
  const i = name.indexOf(':')
  return i < 0 ? name : name.slice(i + 1)
}

/**
 * Parses one XML document (or fragment with a single root element) into a tree.
 * Leading XML declaration, comments and processing instructions are skipped.
 */
export function parseXml(xml: string, options: XmlParseOptions): XmlElement {
  const maxDepth = options.maxDepth ?? 512
  const maxLength = options.maxLength ?? 256 * 1024 * 1024
  const fail = (message: string, offset: number): never => {
    throw options.error(message, offset)
  }
  if (xml.length > maxLength) fail(`XML is ${xml.length} characters, over the limit of ${maxLength}`, 0)

  const len = xml.length
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  let i = 0
  // Normalization is needed only where the input has a raw CR (text) or a raw TAB/LF/CR (attribute
  // values); most CLIXML has none, so three fast scans here keep the common path free of it.
  const textMode = xml.indexOf('\r') >= 0 ? TEXT_CR : PLAIN
  const attrMode = textMode !== PLAIN || xml.indexOf('\n') >= 0 || xml.indexOf('\t') >= 0 ? ATTRIBUTE : PLAIN
  // The first '<' after the last start tag's own '<', found while checking its attribute values.
  let nextLt = -1
  const amps = new AmpFinder(xml)

  while (i < len) {
    const lt = nextLt >= i ? nextLt : xml.indexOf('<', i)
    const textEnd = lt < 0 ? len : lt
    if (textEnd > i) {
      const parent = stack[stack.length - 1]
      if (parent === undefined) {
        for (let k = i; k < textEnd; k++) {
          const c = xml.charCodeAt(k)
          if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) {
            fail('text outside the root element', k)
          }
        }
      } else {
        parent.text += decodeXmlText(xml, i, textEnd, textMode, amps, options.error)
      }
    }
    if (lt < 0) break
    i = lt
    const next = xml.charCodeAt(i + 1)
    if (next === 0x2f /* / */) {
      const gt = xml.indexOf('>', i + 2)
      if (gt < 0) fail('unterminated end tag', i)
      const name = xml.slice(i + 2, gt).trimEnd()
      const open = stack.pop()
      if (open === undefined) fail(`unexpected end tag </${name}>`, i)
      else if (open.name !== name) fail(`end tag </${name}> does not match <${open.name}>`, i)
      i = gt + 1
      continue
    }
    if (next === 0x3f /* ? */) {
      const end = xml.indexOf('?>', i + 2)
      if (end < 0) fail('unterminated processing instruction', i)
      i = end + 2
      continue
    }
    if (next === 0x21 /* ! */) {
      if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i + 4)
        if (end < 0) fail('unterminated comment', i)
        i = end + 3
        continue
      }
      if (xml.startsWith('<![CDATA[', i)) {
        const end = xml.indexOf(']]>', i + 9)
        if (end < 0) fail('unterminated CDATA section', i)
        const parent = stack[stack.length - 1]
        if (parent === undefined) fail('CDATA outside the root element', i)
        else parent.text += textMode === PLAIN ? xml.slice(i + 9, end) : normalizeText(xml.slice(i + 9, end))
        i = end + 3
        continue
      }
      fail('DTDs and entity declarations are not allowed', i)
    }
    // start tag
    const start = i
    nextLt = xml.indexOf('<', start + 1)
    i++
    let n = i
    while (n < len && !NAME_END.test(xml[n] as string)) n++
    const name = xml.slice(i, n)
    if (name === '') fail('element name expected', start)
    i = n
    const attrs: Record<string, string> = {}
    let selfClosing = false
    for (;;) {
      while (i < len && isXmlSpace(xml.charCodeAt(i))) i++
      if (i >= len) fail(`unterminated start tag <${name}>`, start)
      const c = xml.charCodeAt(i)
      if (c === 0x3e /* > */) {
        i++
        break
      }
      if (c === 0x2f /* / */) {
        if (xml.charCodeAt(i + 1) !== 0x3e) fail(`malformed start tag <${name}>`, i)
        selfClosing = true
        i += 2
        break
      }
      let a = i
      while (a < len && !NAME_END.test(xml[a] as string)) a++
      const attrName = xml.slice(i, a)
      if (attrName === '') fail(`malformed attribute in <${name}>`, i)
      i = a
      while (i < len && isXmlSpace(xml.charCodeAt(i))) i++
      if (xml.charCodeAt(i) !== 0x3d /* = */) fail(`attribute ${attrName} has no value`, i)
      i++
      while (i < len && isXmlSpace(xml.charCodeAt(i))) i++
      const quote = xml.charCodeAt(i)
      if (quote !== 0x22 && quote !== 0x27) fail(`attribute ${attrName} value must be quoted`, i)
      const close = xml.indexOf(quote === 0x22 ? '"' : "'", i + 1)
      if (close < 0) fail(`unterminated attribute ${attrName}`, i)
      if (nextLt >= 0 && nextLt < close) {
        fail(
          nextLt > i ? `'<' in the value of attribute ${attrName}` : `'<' in the start tag <${name}>`,
          nextLt,
        )
      }
      if (Object.hasOwn(attrs, attrName)) fail(`duplicate attribute ${attrName}`, i)
      attrs[attrName] = decodeXmlText(xml, i + 1, close, attrMode, amps, options.error)
      i = close + 1
    }
    const el: XmlElement = { name, attrs, children: [], text: '', offset: start }
    const parent = stack[stack.length - 1]
    if (parent === undefined) {
      if (root !== undefined) fail('more than one root element', start)
      root = el
    } else {
      parent.children.push(el)
    }
    if (!selfClosing) {
      stack.push(el)
      if (stack.length > maxDepth) fail(`nesting deeper than ${maxDepth} elements`, start)
    }
  }
  if (stack.length > 0) fail(`unclosed element <${(stack[stack.length - 1] as XmlElement).name}>`, len)
  if (root === undefined) fail('no root element', 0)
  return root as XmlElement
}

/** XML whitespace (XML 1.0 production S): space, tab, CR, LF; `undefined` (past the end) is not. */
export function isXmlSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** How raw (not referenced) characters of a range are normalized. */
export const PLAIN = 0
/** Text and CDATA: CRLF and lone CR read as LF (XML 1.0 §2.11). */
export const TEXT_CR = 1
/** Attribute values: TAB, LF, CR and CRLF each read as one space (XML 1.0 §2.11 and §3.3.3). */
export const ATTRIBUTE = 2
/** One of {@link PLAIN}, {@link TEXT_CR}, {@link ATTRIBUTE}. */
export type Normalization = typeof PLAIN | typeof TEXT_CR | typeof ATTRIBUTE

const CR = /\r\n?/g
const ATTR_WS = /\r\n?|[\n\t]/g

/** Line-end normalization of raw character data (XML 1.0 §2.11): CRLF and lone CR read as LF. */
export function normalizeText(s: string): string {
  return s.indexOf('\r') < 0 ? s : s.replace(CR, '\n')
}

function normalize(s: string, mode: Normalization): string {
  if (mode === PLAIN) return s
  if (mode === TEXT_CR) return normalizeText(s)
  return s.indexOf('\r') < 0 && s.indexOf('\n') < 0 && s.indexOf('\t') < 0 ? s : s.replace(ATTR_WS, ' ')
}

/**
 * Finds `&` at or after a position, remembering the last answer: the parsers ask with increasing
 * positions, so each stretch of the document is scanned once and decoding costs time in proportion to
 * the text decoded, not to the rest of the document (a search per text node from its start to the end
 * of the document made a large `&`-free document quadratic).
 */
export class AmpFinder {
  #next = -2
  constructor(readonly xml: string) {}
  /** The index of the first `&` at or after `from`, or -1 when there is none. */
  at(from: number): number {
    if (this.#next !== -1 && this.#next < from) this.#next = this.xml.indexOf('&', from)
    return this.#next
  }
}

/** Longest reference body accepted between `&` and `;` (`#x10FFFF` and `#1114111` fit, with zeros). */
const MAX_REFERENCE = 11

/**
 * Decodes the character data `xml[from, to)` of a text node or attribute value: the five predefined
 * entities and numeric character references (of characters XML 1.0 allows) become their characters,
 * and raw characters are normalized as `mode` says. Any other reference throws the error `error` builds, at the
 * offset of its `&`. The one decoder of both {@link parseXml} and the pull tokenizer (`xml-reader.ts`).
 */
export function decodeXmlText(
  xml: string,
  from: number,
  to: number,
  mode: Normalization,
  amps: AmpFinder,
  error: (message: string, offset: number) => Error,
): string {
  const amp = amps.at(from)
  if (amp < 0 || amp >= to) return normalize(xml.slice(from, to), mode)
  let out = ''
  let i = from
  let a = amp
  while (a >= 0 && a < to) {
    out += normalize(xml.slice(i, a), mode)
    // the ';' is looked for in the few characters a reference can span, never further
    let semi = -1
    const limit = Math.min(to, a + 2 + MAX_REFERENCE)
    for (let k = a + 1; k < limit; k++) {
      if (xml.charCodeAt(k) === 0x3b /* ; */) {
        semi = k
        break
      }
    }
    if (semi < 0) throw error('malformed entity reference', a)
    out += reference(xml, a, semi, error)
    i = semi + 1
    a = amps.at(i)
  }
  return out + normalize(xml.slice(i, to), mode)
}

/** The text of the reference `xml[a, semi]` (`&` to `;`). */
function reference(
  xml: string,
  a: number,
  semi: number,
  error: (message: string, offset: number) => Error,
): string {
  if (xml.charCodeAt(a + 1) === 0x23 /* # */) {
    const hex = xml.charCodeAt(a + 2) === 0x78 /* x */
    let k = hex ? a + 3 : a + 2
    if (k >= semi)
      throw error(`unknown entity ${xml.slice(a, semi + 1)} (a malformed character reference)`, a)
    let code = 0
    for (; k < semi; k++) {
      const d = xml.charCodeAt(k)
      const l = d | 0x20
      let v: number
      if (d >= 0x30 && d <= 0x39) v = d - 0x30
      else if (hex && l >= 0x61 && l <= 0x66) v = l - 0x57
      else throw error(`unknown entity ${xml.slice(a, semi + 1)} (a malformed character reference)`, a)
      code = code * (hex ? 16 : 10) + v
    }
    // past U+10FFFF is no character at all
    if (code > 0x10ffff) {
      throw error(
        `unknown entity ${xml.slice(a, semi + 1)}: character reference to an invalid XML character (${code})`,
        a,
      )
    }
    // XML 1.0 Char production: no NUL, no surrogate code points, no U+FFFE/U+FFFF
    if (code === 0 || (code >= 0xd800 && code <= 0xdfff) || code === 0xfffe || code === 0xffff) {
      throw error(`character reference to an invalid XML character (${code})`, a)
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
      throw error(`unknown entity ${xml.slice(a, semi + 1)} (only the predefined entities are allowed)`, a)
  }
}

const TEXT_SPECIAL = /[&<>\r]/
const ATTR_SPECIAL = /[&<>"\t\n\r]/

/**
 * Escapes character data for element content: `&`, `<` and `>` (as .NET `XmlWriter` does), and CR as
 * `&#xD;` so that a reader's line-end normalization does not turn it into LF.
 */
export function escapeXmlText(s: string): string {
  if (!TEXT_SPECIAL.test(s)) return s
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;')
}

/**
 * Escapes an attribute value for use inside double quotes: `&`, `<`, `>` and `"`, and TAB, LF and CR
 * as `&#x9;`, `&#xA;` and `&#xD;` (as .NET `XmlWriter` does), which attribute-value normalization would
 * otherwise read as spaces.
 */
export function escapeXmlAttr(s: string): string {
  if (!ATTR_SPECIAL.test(s)) return s
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;')
}
