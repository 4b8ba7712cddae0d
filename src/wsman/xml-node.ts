/**
 * A tiny element tree for the XML this package writes, and its serializer. Every string that reaches
 * the output goes through {@link renderXml}, which escapes text and attribute values, so callers never
 * concatenate markup. Element and attribute names are written as given (qualified, with the prefixes
 * the envelope declares) and must be valid XML names.
 *
 * Characters XML 1.0 cannot carry at all (NUL and the other C0 controls except tab, LF and CR, lone
 * surrogates, U+FFFE/U+FFFF) are refused with an {@link InvalidArgumentError}; CR in text and tab/LF/CR
 * in attribute values are written as character references so that a parser's end-of-line and
 * attribute-value normalisation gives back exactly the string that was written.
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'
import { piecesToBytes, toBase64 } from '../internal/base64.ts'
import { escapeXmlAttr, escapeXmlText } from '../internal/xml.ts'

/** One child of an {@link XmlNode}: an element, character data, bytes as base64, or nothing (skipped). */
export type XmlChild = XmlNode | XmlBase64 | string | undefined | false

/**
 * Bytes written as their base64 text, which has nothing to escape (the payload of a WS-Man Send).
 * `buildEnvelopeBytes` encodes them straight into its output, so a large payload never becomes a
 * large string.
 */
export interface XmlBase64 {
  /** The bytes whose base64 text is the content. */
  readonly base64: Uint8Array
}

/** An {@link XmlBase64} child: `bytes` as base64 text. */
export function base64Text(bytes: Uint8Array): XmlBase64 {
  return { base64: bytes }
}

/** An element to be written. Attributes whose value is `undefined` are left out. */
export interface XmlNode {
  /** Qualified name, e.g. `rsp:Shell`. */
  readonly name: string
  /** Attributes by qualified name, in the order they are written. */
  readonly attrs?: Readonly<Record<string, string | undefined>>
  /** Child elements and text, in document order. */
  readonly children?: readonly XmlChild[]
}

/** Builds an {@link XmlNode}. */
export function el(
  name: string,
  attrs?: Readonly<Record<string, string | undefined>>,
  ...children: XmlChild[]
): XmlNode {
  return attrs === undefined ? { name, children } : { name, attrs, children }
}

const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?$/
// Characters that XML 1.0 cannot represent, even as character references.
const NOT_XML_CHAR =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

function checkChars(s: string, where: string): void {
  const m = NOT_XML_CHAR.exec(s)
  if (m !== null) {
    const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')
    throw new InvalidArgumentError(`${where} contains U+${code}, which XML 1.0 cannot represent`)
  }
}

/** Escapes element content; CR becomes `&#xD;` so it survives end-of-line normalisation. */
export function xmlText(s: string, where = 'text'): string {
  checkChars(s, where)
  const e = escapeXmlText(s)
  return e.includes('\r') ? e.replace(/\r/g, '&#xD;') : e
}

/** Escapes an attribute value for double quotes; tab, LF and CR become character references. */
export function xmlAttr(s: string, where = 'attribute'): string {
  checkChars(s, where)
  const e = escapeXmlAttr(s)
  return /[\t\n\r]/.test(e) ? e.replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;') : e
}

/** Serializes a node tree. Elements without content are written self-closing (`<a />`). */
export function renderXml(node: XmlNode): string {
  const parts: (string | Uint8Array)[] = []
  write(node, parts)
  return parts.map((p) => (typeof p === 'string' ? p : toBase64(p))).join('')
}

/**
 * Serializes a node tree as UTF-8 bytes, the same text as {@link renderXml}; {@link XmlBase64} content
 * is encoded into the output piece by piece.
 */
export function renderXmlBytes(node: XmlNode): Buffer {
  const parts: (string | Uint8Array)[] = []
  write(node, parts)
  return piecesToBytes(parts)
}

/** Appends the markup of `node` to `out`: strings as written, bytes standing for their base64 text. */
function write(node: XmlNode, out: (string | Uint8Array)[]): void {
  if (!XML_NAME.test(node.name))
    throw new InvalidArgumentError(`invalid XML element name ${JSON.stringify(node.name)}`)
  out.push('<', node.name)
  if (node.attrs !== undefined) {
    for (const [name, value] of Object.entries(node.attrs)) {
      if (value === undefined) continue
      if (!XML_NAME.test(name))
        throw new InvalidArgumentError(`invalid XML attribute name ${JSON.stringify(name)}`)
      out.push(' ', name, '="', xmlAttr(value, `attribute ${name} of <${node.name}>`), '"')
    }
  }
  const children = (node.children ?? []).filter(
    (c): c is XmlNode | XmlBase64 | string =>
      c !== undefined && c !== false && c !== '' && !(isBase64(c) && c.base64.length === 0),
  )
  if (children.length === 0) {
    out.push(' />')
    return
  }
  out.push('>')
  for (const c of children) {
    if (typeof c === 'string') out.push(xmlText(c, `text of <${node.name}>`))
    else if (isBase64(c)) out.push(c.base64)
    else write(c, out)
  }
  out.push('</', node.name, '>')
}

function isBase64(c: XmlNode | XmlBase64 | string): c is XmlBase64 {
  return typeof c === 'object' && 'base64' in c
}

/**
 * Every namespace prefix used by element or attribute names in a tree that the tree does not declare
 * itself (`xml` and `xmlns` excluded): the prefixes an enclosing element has to declare.
 */
export function usedPrefixes(node: XmlNode, declared: ReadonlySet<string> = new Set()): Set<string> {
  const into = new Set<string>()
  let inScope = declared
  for (const [name, value] of Object.entries(node.attrs ?? {})) {
    if (value !== undefined && name.startsWith('xmlns:')) inScope = new Set([...inScope, name.slice(6)])
  }
  const add = (qname: string): void => {
    const i = qname.indexOf(':')
    if (i > 0) {
      const p = qname.slice(0, i)
      if (p !== 'xml' && p !== 'xmlns' && !inScope.has(p)) into.add(p)
    }
  }
  add(node.name)
  for (const [name, value] of Object.entries(node.attrs ?? {})) if (value !== undefined) add(name)
  for (const c of node.children ?? []) {
    if (typeof c === 'object' && !isBase64(c)) for (const p of usedPrefixes(c, inScope)) into.add(p)
  }
  return into
}
