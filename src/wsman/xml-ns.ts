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
  readonly scope: NamespaceScope
}

/** The namespace declarations in scope at an element: prefix → URI (`''` is the default namespace). */
export interface NamespaceScope {
  /** The URI bound to `prefix` at this element (here or in an enclosing one), else undefined. */
  get(prefix: string): string | undefined
}

/**
 * One element's declarations over its parent's scope. Lookups walk up the frames (at most the
 * document's depth, which the XML parser bounds); an element adds a frame only when it declares
 * something, so the cost is linear in the declarations, however many there are or where they stand
 * (copying the parent's map per declaring element was quadratic: 8,000 declarations took seconds and
 * gigabytes).
 */
class ScopeFrame implements NamespaceScope {
  readonly #own: Map<string, string>
  readonly #parent: NamespaceScope | undefined
  constructor(own: Map<string, string>, parent: NamespaceScope | undefined) {
    this.#own = own
    this.#parent = parent
  }
  get(prefix: string): string | undefined {
    return this.#own.get(prefix) ?? this.#parent?.get(prefix)
  }
}

const ROOT_SCOPE: NamespaceScope = new ScopeFrame(new Map([['xml', Namespace.xml]]), undefined)

/**
 * Resolves every element name against the namespace declarations in scope. An undeclared prefix is a
 * {@link ProtocolError} (side `remote`): the peer sent XML that is not namespace-well-formed.
 */
export function resolveNamespaces(root: XmlElement, parentScope: NamespaceScope = ROOT_SCOPE): NsElement {
  let own: Map<string, string> | undefined
  for (const [name, value] of Object.entries(root.attrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      own ??= new Map()
      own.set(name === 'xmlns' ? '' : name.slice(6), value)
    }
  }
  const scope = own === undefined ? parentScope : new ScopeFrame(own, parentScope)
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
