/**
 * Namespace-aware view of a parsed XML tree. {@link parseXml} keeps prefixes as written; WS-Management
 * peers choose their own prefixes (`a:`, `w:`, `p:` from Windows, `wsa:`, `wsman:` from other clients)
 * and may declare namespaces on any element, so responses are read by (namespace URI, local name).
 *
 * @module
 */
import { ProtocolError } from '../errors.ts'
import { localName, type XmlElement } from '../internal/xml.ts'
import { Namespace } from './constants.ts'

/** An element with its namespace resolved. */
export interface NsElement {
  /** Namespace URI of the element (`''` when it has none). */
  readonly ns: string
  /** Local name. */
  readonly local: string
  /** Qualified name as written. */
  readonly name: string
  /** Attributes as written, by qualified name (namespace declarations included). */
  readonly attrs: Readonly<Record<string, string>>
  /** Child elements in document order. */
  readonly children: readonly NsElement[]
  /** The element's own character data. */
  readonly text: string
  /** Prefix → namespace URI in scope at this element (`''` is the default namespace). */
  readonly scope: ReadonlyMap<string, string>
}

/**
 * Resolves every element name against the namespace declarations in scope. An undeclared prefix is a
 * {@link ProtocolError} (side `remote`): the peer sent XML that is not namespace-well-formed.
 */
export function resolveNamespaces(root: XmlElement, parentScope?: ReadonlyMap<string, string>): NsElement {
  let scope: Map<string, string> | ReadonlyMap<string, string> =
    parentScope ?? new Map([['xml', Namespace.xml]])
  let copied = false
  for (const [name, value] of Object.entries(root.attrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (!copied) {
        scope = new Map(scope)
        copied = true
      }
      ;(scope as Map<string, string>).set(name === 'xmlns' ? '' : name.slice(6), value)
    }
  }
  const colon = root.name.indexOf(':')
  const prefix = colon < 0 ? '' : root.name.slice(0, colon)
  const ns = scope.get(prefix)
  if (ns === undefined && prefix !== '') {
    throw new ProtocolError(
      `undeclared namespace prefix "${prefix}" on <${root.name}> at offset ${root.offset}`,
    )
  }
  const children = root.children.map((c) => resolveNamespaces(c, scope))
  return {
    ns: ns ?? '',
    local: localName(root.name),
    name: root.name,
    attrs: root.attrs,
    children,
    text: root.text,
    scope,
  }
}

/** The first child with the given namespace and local name. */
export function nsChild(el: NsElement | undefined, ns: string, local: string): NsElement | undefined {
  return el?.children.find((c) => c.local === local && c.ns === ns)
}

/** Every child with the given namespace and local name. */
export function nsChildren(el: NsElement | undefined, ns: string, local: string): NsElement[] {
  return el === undefined ? [] : el.children.filter((c) => c.local === local && c.ns === ns)
}

/**
 * An attribute by local name. Unprefixed attributes have no namespace; pass `ns` for a prefixed one
 * (e.g. `xml:lang`).
 */
export function nsAttr(el: NsElement | undefined, local: string, ns = ''): string | undefined {
  if (el === undefined) return undefined
  if (ns === '') return Object.hasOwn(el.attrs, local) ? el.attrs[local] : undefined
  for (const [name, value] of Object.entries(el.attrs)) {
    const i = name.indexOf(':')
    if (i < 0 || name.slice(i + 1) !== local) continue
    const p = name.slice(0, i)
    if (p !== 'xmlns' && el.scope.get(p) === ns) return value
  }
  return undefined
}

/** The text of an element and all its descendants, in document order of elements. */
export function deepText(el: NsElement): string {
  return el.text + el.children.map(deepText).join('')
}

/** Resolves a QName-valued text such as `w:TimedOut` against the element's scope. */
export function resolveQName(el: NsElement, qname: string): { readonly ns: string; readonly local: string } {
  const q = qname.trim()
  const i = q.indexOf(':')
  const prefix = i < 0 ? '' : q.slice(0, i)
  return { ns: el.scope.get(prefix) ?? '', local: i < 0 ? q : q.slice(i + 1) }
}
