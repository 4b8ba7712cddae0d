/**
 * The response parser reads meaning, not one server's spelling: real responses (the pypsrp
 * recordings against Windows, the WinRb/WinRM stubs, the fault shapes of fault-shapes.ts) are
 * rewritten into forms Windows or other WS-Management servers produce, and `parseResponse` must give
 * exactly the result it gives for the original. The rewrites (all equivalent under XML 1.0 and
 * Namespaces in XML 1.0; QName-valued contents resolved as SOAP 1.2 part 1 section 5.4.6 and DSP0226
 * section 14 require) are:
 *
 * - namespace prefixes renamed (`s:`/`env:`/`soap:`/`SOAP-ENV:`, `a:`/`wsa:`, `rsp:`/`shell:`,
 *   `w:`/`wsman:`, `f:`/`wsmanfault:` …), including the prefixes inside QName texts (`w:TimedOut`);
 * - namespaces declared on the root, on the elements that use them, both, or redeclared on inner
 *   elements; one namespace used as the default namespace (with `xmlns=""` where needed);
 * - attribute order (and the place of the declarations among them) shuffled, single or double quotes;
 * - empty elements as `<x/>`, `<x />` or `<x></x>`;
 * - whitespace, LF or CRLF between elements in element-only content;
 * - CRLF (every 76 characters, as MIME writers do), spaces, or leading/trailing line breaks inside
 *   base64 texts (`rsp:Stream`, `creationXml`, `connectResponseXml`; MS-WSMV 2.2.4.27 is `xs:base64Binary`,
 *   whose lexical space allows whitespace);
 * - `xml:lang` added to any element (XML 1.0 section 2.12: metadata, not content);
 * - an XML declaration (with or without a BOM) before the root.
 *
 * The comparison is of the parsed results, with two allowances that are not spelling: the fault
 * `code`/`subcode` strings are "as sent" (their resolved `codeName`/`subcodeName` are compared), and
 * elements handed back raw (Get bodies, Enumerate items) are compared by namespace, local name,
 * attributes (QName values resolved; declarations and `xml:lang` left out) and text.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { ProtocolError } from '../../../src/errors.ts'
import { escapeXmlAttr, escapeXmlText, parseXml } from '../../../src/internal/xml.ts'
import { Namespace } from '../../../src/wsman/constants.ts'
import { parseResponse, type WSManResponse } from '../../../src/wsman/index.ts'
import { resolveNamespaces, resolveQName, type NsElement } from '../../../src/wsman/xml-ns.ts'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import { listRecordings, readRecording } from '../../helpers/recordings.ts'
import { FAULT_SHAPES } from './fault-shapes.ts'

const XML_NS = Namespace.xml
const XSI = 'http://www.w3.org/2001/XMLSchema-instance'

// ---------------------------------------------------------------------------------------------------
// A namespace-resolved model of a document, written back out under a variant's choices.

interface QName {
  readonly ns: string
  readonly local: string
}

interface MAttr {
  readonly ns: string
  readonly local: string
  readonly value: string | QName
}

interface MElement {
  /** The text's schema type collapses whitespace (see {@link Variant.padTokens}). */
  readonly token: boolean
  readonly ns: string
  readonly local: string
  readonly attrs: readonly MAttr[]
  /** Own character data; a QName for QName-valued elements (`s:Value`). */
  readonly text: string | QName
  readonly children: readonly MElement[]
  /** `xs:base64Binary` content. */
  readonly base64: boolean
}

function qnameOf(el: NsElement, text: string): QName {
  const t = text.trim()
  const i = t.indexOf(':')
  if (i > 0 && el.scope.get(t.slice(0, i)) === undefined) throw new Error(`undeclared prefix in QName ${t}`)
  return resolveQName(el, t)
}

/** QName-valued attributes: `xsi:type` (XML Schema 1 part 1 2.6.1), `s:NotUnderstood/@qname` (SOAP 1.2). */
function isQNameAttr(ns: string, local: string): boolean {
  return (ns === XSI && local === 'type') || (ns === '' && local === 'qname')
}

/** Elements whose text is of a whitespace-collapsing type (DSP0226, MS-WSMV 2.2.4.37 and 2.2.4.9 schemas). */
const TOKEN_ELEMENTS = new Set([
  `${Namespace.wsa} Action`,
  `${Namespace.wsa} MessageID`,
  `${Namespace.wsa} RelatesTo`,
  `${Namespace.wsa} To`,
  `${Namespace.wsa} Address`,
  `${Namespace.wsman} ResourceURI`,
  `${Namespace.wsman} FaultDetail`,
  `${Namespace.wsen} EnumerationContext`,
  `${Namespace.rsp} CommandId`,
  `${Namespace.rsp} ExitCode`,
  `${Namespace.rsp} ShellId`,
  `${Namespace.rsp} ResourceUri`,
  `${Namespace.rsp} ProcessId`,
  `${Namespace.rsp} ChildProcesses`,
  `${Namespace.rsp} IdleTimeOut`,
  `${Namespace.rsp} MaxIdleTimeOut`,
  `${Namespace.rsp} ShellRunTime`,
  `${Namespace.rsp} ShellInactivity`,
  `${Namespace.rsp} InputStreams`,
  `${Namespace.rsp} OutputStreams`,
])

function toModel(el: NsElement): MElement {
  const attrs: MAttr[] = []
  for (const [name, value] of Object.entries(el.attrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue
    const i = name.indexOf(':')
    const ns = i < 0 ? '' : name.startsWith('xml:') ? XML_NS : el.scope.get(name.slice(0, i))
    if (ns === undefined) throw new Error(`undeclared attribute prefix ${name}`)
    const local = i < 0 ? name : name.slice(i + 1)
    attrs.push({ ns, local, value: isQNameAttr(ns, local) ? qnameOf(el, value) : value })
  }
  const qnameText = el.ns === Namespace.s && el.local === 'Value' && el.children.length === 0
  const base64 =
    (el.ns === Namespace.rsp && el.local === 'Stream') ||
    (el.ns === Namespace.psrp && (el.local === 'creationXml' || el.local === 'connectResponseXml'))
  return {
    token: qnameText || (el.children.length === 0 && TOKEN_ELEMENTS.has(`${el.ns} ${el.local}`)),
    ns: el.ns,
    local: el.local,
    attrs,
    text: qnameText ? qnameOf(el, el.text) : el.children.length > 0 && el.text.trim() === '' ? '' : el.text,
    children: el.children.map(toModel),
    base64,
  }
}

/** Everything a variant chooses. */
interface Variant {
  /** Index into each namespace's prefix palette (modulo its length). */
  readonly prefixPick: number
  /**
   * Where namespaces are declared: all on the root, each where first needed, a random mix, also
   * redeclared on inner elements, or with a second prefix for the same namespace declared on inner
   * elements and used there.
   */
  readonly decl: 'root' | 'inner' | 'mixed' | 'redundant' | 'alias'
  /**
   * Bit mask over the document's element namespaces (sorted): the elements of each chosen namespace
   * are written unprefixed, `xmlns` being redeclared wherever the default in scope differs (so
   * subtrees switch default namespaces, and `xmlns=""` appears where needed). 0 for none.
   */
  readonly defaultNs: number
  readonly emptyStyle: 'self' | 'selfSpace' | 'pair' | 'random'
  readonly between: 'none' | 'lf' | 'crlf' | 'random'
  readonly base64Ws: 'none' | 'crlf76' | 'spaces' | 'edges'
  /** Character data written escaped, as CDATA sections, or with some characters as character references. */
  readonly textStyle: 'escaped' | 'cdata' | 'refs'
  /** Comments between elements in element-only content. */
  readonly comments: boolean
  /**
   * Line breaks and indentation around the text of elements whose schema type collapses whitespace
   * (xs:anyURI, xs:QName, xs:duration, xs:int, list types: XML Schema 2 section 4.3.6), as pretty-printing
   * servers write them.
   */
  readonly padTokens: boolean
  /** Header blocks in another order (SOAP 1.2 part 1 section 5.2 gives them none). */
  readonly shuffleHeader: boolean
  /** An extension header block the client does not know (Windows adds `p:ActivityId`). */
  readonly extraHeader: boolean
  readonly quotes: 'double' | 'single' | 'random'
  /** Per mille of elements that get an `xml:lang`. */
  readonly langRate: number
  readonly decl0: 'none' | 'decl' | 'declCrlf' | 'bomDecl'
  /** Seed of the per-element choices (attribute order, random styles). */
  readonly seed: number
}

const PALETTES: Readonly<Record<string, readonly string[]>> = {
  [Namespace.s]: ['s', 'env', 'soap', 'SOAP-ENV', 'S12'],
  [Namespace.wsa]: ['a', 'wsa', 'addr'],
  [Namespace.wsman]: ['w', 'wsman', 'dmtf'],
  [Namespace.wsmv]: ['p', 'wsmv', 'msw'],
  [Namespace.rsp]: ['rsp', 'shell', 'r'],
  [Namespace.wsmanfault]: ['f', 'wsmanfault', 'wf'],
  [Namespace.wst]: ['x', 'wxf', 't'],
  [Namespace.wsen]: ['n', 'wsen', 'en'],
  [Namespace.psrp]: ['ps', 'pwsh', 'psrp'],
  [XSI]: ['xsi', 'i'],
}

/** A small deterministic PRNG (mulberry32) for the per-element choices. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) % n) as number
  }
}

function namespacesOf(el: MElement, into: Set<string>): Set<string> {
  if (el.ns !== '') into.add(el.ns)
  for (const a of el.attrs) {
    if (a.ns !== '' && a.ns !== XML_NS) into.add(a.ns)
    if (typeof a.value !== 'string' && a.value.ns !== '') into.add(a.value.ns)
  }
  if (typeof el.text !== 'string' && el.text.ns !== '') into.add(el.text.ns)
  for (const c of el.children) namespacesOf(c, into)
  return into
}

/** Writes the model under the variant's choices. */
function render(root: MElement, v: Variant): string {
  const rand = prng(v.seed)
  const all = [...namespacesOf(root, new Set(v.extraHeader ? [Namespace.wsmv] : []))].sort()
  // an injective namespace → prefix map
  const prefixOf = new Map<string, string>()
  const taken = new Set<string>()
  for (const ns of all) {
    const palette = PALETTES[ns] ?? []
    let p = palette.length > 0 ? (palette[v.prefixPick % palette.length] as string) : `ns${taken.size}`
    for (let k = 0; taken.has(p); k++) p = `ns${taken.size + k}`
    prefixOf.set(ns, p)
    taken.add(p)
  }
  const elementNs = [...new Set(collectElementNs(root, []))].sort()
  const defaults = new Set(elementNs.filter((_, i) => ((v.defaultNs >>> i) & 1) === 1))
  const firstDefault = [...defaults][0]
  const onRoot = new Set(
    all.filter(() => v.decl === 'root' || v.decl === 'redundant' || (v.decl === 'mixed' && rand(2) === 0)),
  )
  const q = (): string =>
    v.quotes === 'double' ? '"' : v.quotes === 'single' ? "'" : rand(2) === 0 ? '"' : "'"
  const attr = (name: string, value: string): string => {
    const quote = q()
    const esc = (t: string): string =>
      quote === '"' ? escapeXmlAttr(t) : escapeXmlAttr(t).replace(/'/g, '&apos;')
    const escaped = v.textStyle === 'refs' && !name.startsWith('xmlns') ? refs(value, esc) : esc(value)
    return ` ${name}=${quote}${escaped}${quote}`
  }
  const ws = (depth: number): string => {
    switch (v.between) {
      case 'none':
        return ''
      case 'lf':
        return '\n' + '  '.repeat(depth)
      case 'crlf':
        return '\r\n' + '  '.repeat(depth)
      default:
        return ['', ' ', '\t', '\r\n', '\n    ', '\r\n\t'][rand(6)] as string
    }
  }
  const between = (depth: number): string =>
    v.comments && rand(2) === 0 ? `${ws(depth)}<!-- ${rand(1000)} -->${ws(depth)}` : ws(depth)
  const qname = (n: QName, p?: string): string =>
    n.ns === '' ? n.local : `${p ?? (prefixOf.get(n.ns) as string)}:${n.local}`
  // some ASCII letters, digits and ':' '/' '.' as character references (XML 1.0 section 4.1)
  const refs = (t: string, esc: (s: string) => string): string =>
    [...t]
      .map((c) =>
        /[A-Za-z0-9:/.]/.test(c) && rand(3) === 0
          ? rand(2) === 0
            ? `&#x${c.charCodeAt(0).toString(16)};`
            : `&#${c.charCodeAt(0)};`
          : esc(c),
      )
      .join('')
  const textOut = (t: string): string => {
    if (t === '') return ''
    if (v.textStyle === 'cdata' && !t.includes('\r'))
      return `<![CDATA[${t.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`
    return v.textStyle === 'refs' ? refs(t, escapeXmlText) : escapeXmlText(t)
  }
  // whitespace inside base64 is written raw (CRLF reaches the parser as CRLF, XML 1.0 section 2.11)
  const b64 = (text: string): string => {
    text = escapeXmlText(text)
    switch (v.base64Ws) {
      case 'none':
        return text
      case 'crlf76':
        return text.replace(/.{1,76}/g, (m) => m + '\r\n')
      case 'spaces':
        return text.replace(/.{1,8}/g, (m) => m + ' '.repeat(1 + rand(2)))
      default:
        return `\r\n    ${text}\r\n  `
    }
  }

  const out: string[] = []
  const write = (
    el: MElement,
    scope: ReadonlyMap<string, string>,
    defaultInScope: string,
    depth: number,
  ): void => {
    const decls: Array<[string, string]> = []
    const inner = new Map(scope)
    let name: string
    let aliased = false
    let newDefault = defaultInScope
    if (el.ns === '' || defaults.has(el.ns)) {
      name = el.local
      if (defaultInScope !== el.ns || (depth === 0 && el.ns !== '')) {
        decls.push(['xmlns', el.ns])
        newDefault = el.ns
      }
    } else if (v.decl === 'alias' && depth > 0 && rand(4) === 0) {
      // the same namespace under a second prefix, declared here and used for this element only
      const alias = `${prefixOf.get(el.ns) as string}${2 + rand(3)}`
      decls.push([`xmlns:${alias}`, el.ns])
      inner.set(alias, el.ns)
      name = `${alias}:${el.local}`
      aliased = true
    } else {
      name = `${prefixOf.get(el.ns) as string}:${el.local}`
    }
    if (depth === 0 && firstDefault !== undefined && !defaults.has(el.ns) && onRoot.has(firstDefault)) {
      decls.push(['xmlns', firstDefault])
      newDefault = firstDefault
      if (el.ns === '') throw new Error('root without a namespace cannot carry a default namespace')
    }
    const needed = new Set<string>()
    if (el.ns !== '' && !defaults.has(el.ns) && !aliased) needed.add(el.ns)
    for (const a of el.attrs) {
      if (a.ns !== '' && a.ns !== XML_NS) needed.add(a.ns)
      if (typeof a.value !== 'string' && a.value.ns !== '') needed.add(a.value.ns)
    }
    if (typeof el.text !== 'string' && el.text.ns !== '') needed.add(el.text.ns)
    const declare = (ns: string): void => {
      const p = prefixOf.get(ns) as string
      decls.push([`xmlns:${p}`, ns])
      inner.set(p, ns)
    }
    if (depth === 0) for (const ns of onRoot) declare(ns)
    for (const ns of needed) {
      const p = prefixOf.get(ns) as string
      if (inner.get(p) !== ns) declare(ns)
      else if (v.decl === 'redundant' && depth > 0 && rand(4) === 0) declare(ns)
    }
    const attrs: Array<[string, string]> = el.attrs.map((a) => [
      a.ns === ''
        ? a.local
        : a.ns === XML_NS
          ? `xml:${a.local}`
          : `${prefixOf.get(a.ns) as string}:${a.local}`,
      typeof a.value === 'string' ? a.value : qname(a.value),
    ])
    if (!el.attrs.some((a) => a.ns === XML_NS && a.local === 'lang') && rand(1000) < v.langRate) {
      attrs.push(['xml:lang', ['en-US', 'de-DE', ''][rand(3)] as string])
    }
    const every = [...decls, ...attrs]
    for (let i = every.length - 1; i > 0; i--) {
      const j = rand(i + 1)
      ;[every[i], every[j]] = [every[j] as [string, string], every[i] as [string, string]]
    }
    out.push('<', name)
    for (const [n, value] of every) out.push(attr(n, value))
    // a QName in the default namespace may go unprefixed (Namespaces in XML 1.0 section 6.2)
    let text =
      typeof el.text === 'string'
        ? el.text
        : el.text.ns !== '' && el.text.ns === newDefault && rand(2) === 0
          ? el.text.local
          : qname(el.text)
    if (v.padTokens && el.token && text !== '')
      text = `${['\n', '\r\n', ' '][rand(3)] as string}${text}${ws(depth)}`
    if (text === '' && el.children.length === 0) {
      const style =
        v.emptyStyle === 'random' ? (['self', 'selfSpace', 'pair'] as const)[rand(3)] : v.emptyStyle
      out.push(style === 'self' ? '/>' : style === 'selfSpace' ? ' />' : `></${name}>`)
      return
    }
    out.push('>', el.base64 ? b64(text) : textOut(text))
    const elementOnly = text === ''
    const children = [...el.children]
    if (el.ns === Namespace.s && el.local === 'Header' && depth === 1) {
      if (v.extraHeader) {
        children.splice(rand(children.length + 1), 0, {
          token: false,
          ns: Namespace.wsmv,
          local: 'ActivityId',
          attrs: [],
          text: '677EB664-036F-0001-FECA-7E676F03D401',
          children: [],
          base64: false,
        })
      }
      if (v.shuffleHeader) {
        for (let i = children.length - 1; i > 0; i--) {
          const j = rand(i + 1)
          ;[children[i], children[j]] = [children[j] as MElement, children[i] as MElement]
        }
      }
    }
    for (const c of children) {
      if (elementOnly) out.push(between(depth + 1))
      write(c, inner, newDefault, depth + 1)
    }
    if (elementOnly && el.children.length > 0) out.push(between(depth))
    out.push(`</${name}>`)
  }
  const prolog = {
    none: '',
    decl: '<?xml version="1.0" encoding="utf-8"?>',
    declCrlf: '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n',
    bomDecl: '\ufeff<?xml version="1.0"?>\n',
  }[v.decl0]
  write(root, new Map([['xml', XML_NS]]), '', 0)
  return prolog + out.join('')
}

function collectElementNs(el: MElement, into: string[]): string[] {
  if (el.ns !== '') into.push(el.ns)
  for (const c of el.children) collectElementNs(c, into)
  return into
}

function variantOf(xml: string, v: Variant): string {
  const tree = parseXml(xml, { error: (m, o) => new Error(`${m} at ${o}`) })
  return render(toModel(resolveNamespaces(tree)), v)
}

const variantArb: fc.Arbitrary<Variant> = fc.record({
  prefixPick: fc.nat({ max: 11 }),
  decl: fc.constantFrom('root', 'inner', 'mixed', 'redundant', 'alias'),
  defaultNs: fc.oneof(fc.constant(0), fc.nat({ max: 0xffff })),
  emptyStyle: fc.constantFrom('self', 'selfSpace', 'pair', 'random'),
  between: fc.constantFrom('none', 'lf', 'crlf', 'random'),
  base64Ws: fc.constantFrom('none', 'crlf76', 'spaces', 'edges'),
  textStyle: fc.constantFrom('escaped', 'cdata', 'refs'),
  comments: fc.boolean(),
  padTokens: fc.boolean(),
  shuffleHeader: fc.boolean(),
  extraHeader: fc.boolean(),
  quotes: fc.constantFrom('double', 'single', 'random'),
  langRate: fc.constantFrom(0, 100, 500, 1000),
  decl0: fc.constantFrom('none', 'decl', 'declCrlf', 'bomDecl'),
  seed: fc.nat(),
})

// ---------------------------------------------------------------------------------------------------
// Comparing parse results.

function isNsElement(v: unknown): v is NsElement {
  return typeof v === 'object' && v !== null && 'scope' in v && 'children' in v && 'local' in v
}

function canonElement(el: NsElement): unknown {
  const attrs = Object.entries(el.attrs)
    .filter(([n]) => n !== 'xmlns' && !n.startsWith('xmlns:') && n !== 'xml:lang')
    .map(([n, value]) => {
      const i = n.indexOf(':')
      const ns = i < 0 ? '' : n.startsWith('xml:') ? XML_NS : (el.scope.get(n.slice(0, i)) ?? '?')
      const local = i < 0 ? n : n.slice(i + 1)
      const v = isQNameAttr(ns, local) ? resolveQName(el, value) : value
      return `{${ns}}${local}=${JSON.stringify(v)}`
    })
    .sort()
  return {
    name: `{${el.ns}}${el.local}`,
    attrs,
    // raw elements go to callers that trim (parseShell, updateMaxEnvelopeSize); see padTokens
    text: el.text.trim(),
    children: el.children.map(canonElement),
  }
}

function canon(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`
  if (Array.isArray(v)) return v.map(canon)
  if (isNsElement(v)) return canonElement(v)
  if (typeof v === 'object' && v !== null) {
    const o: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) o[k] = canon((v as Record<string, unknown>)[k])
    return o
  }
  return v
}

/** The parse result with the as-sent QName strings replaced by their local part (see module doc). */
function meaning(r: WSManResponse): unknown {
  const c = canon(r) as Record<string, unknown>
  if (r.kind === 'fault' || r.kind === 'timedOut') {
    const f = { ...(c['fault'] as Record<string, unknown>) }
    const local = (s: unknown): unknown => (typeof s === 'string' ? s.slice(s.indexOf(':') + 1) : s)
    f['code'] = local(f['code'])
    f['subcode'] = local(f['subcode'])
    c['fault'] = f
  }
  return c
}

// ---------------------------------------------------------------------------------------------------
// Seeds.

interface Seed {
  readonly name: string
  readonly xml: string
}

function actionOf(xml: string): string {
  return /<(?:[\w-]+:)?Action\b[^>]*>\s*([^<\s]+)/.exec(xml)?.[1] ?? ''
}

const root = corpusDir()
const pypsrpDir = root === undefined ? undefined : join(root, 'pypsrp')
const havePypsrp = pypsrpDir !== undefined && existsSync(pypsrpDir)
const skipCorpus = peerSkip(
  'recorded corpus',
  havePypsrp,
  'expected ../shared/corpus/pypsrp (or PSRP_CORPUS_DIR)',
)

/** Up to `perAction` of the smallest distinct responses of each response action in the pypsrp recordings. */
function pypsrpSeeds(perAction: number): Seed[] {
  if (!havePypsrp || pypsrpDir === undefined) return []
  const byAction = new Map<string, Seed[]>()
  const seen = new Set<string>()
  for (const file of listRecordings(pypsrpDir)) {
    readRecording(file).forEach((ex, i) => {
      const xml = ex.response
      if (xml === undefined || xml.length > 48 * 1024 || seen.has(xml)) return
      seen.add(xml)
      const list = byAction.get(actionOf(xml)) ?? []
      list.push({ name: `${file.split('/').pop() ?? file} #${i}`, xml })
      byAction.set(actionOf(xml), list)
    })
  }
  const out: Seed[] = []
  for (const list of byAction.values()) {
    // the smallest and the largest few: short acks and stream-heavy receives alike
    const sorted = [...list].sort((a, b) => a.xml.length - b.xml.length)
    const pick = [...sorted.slice(0, perAction - 2), ...sorted.slice(-2)]
    out.push(...new Set(pick))
  }
  return out
}

function winrbSeeds(): Seed[] {
  if (root === undefined) return []
  const out: Seed[] = []
  for (const dir of ['WinRM/tests/spec/stubs/responses', 'WinRM-sneal-reference/spec/mock']) {
    const d = join(root, dir)
    if (!existsSync(d)) continue
    for (const f of readdirSync(d)
      .filter((n) => n.endsWith('.xml'))
      .sort()) {
      out.push({ name: `${dir}/${f}`, xml: readFileSync(join(d, f), 'utf8') })
    }
  }
  return out
}

/** Seeds the parser reads (a stub with an action we do not parse, e.g. a WMI method response, is left out). */
function parseable(
  seeds: readonly Seed[],
): Array<Seed & { readonly expected: unknown; readonly kind: string }> {
  const out: Array<Seed & { readonly expected: unknown; readonly kind: string }> = []
  for (const s of seeds) {
    try {
      const r = parseResponse(s.xml)
      out.push({ ...s, expected: meaning(r), kind: r.kind })
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e
    }
  }
  return out
}

function check(seed: Seed & { readonly expected: unknown }, v: Variant): void {
  const xml = variantOf(seed.xml, v)
  let got: WSManResponse
  try {
    got = parseResponse(xml)
  } catch (e) {
    throw new Error(`${seed.name}: the variant does not parse: ${(e as Error).message}\n${xml}`, { cause: e })
  }
  assert.deepEqual(meaning(got), seed.expected, `${seed.name}: variant parsed differently\n${xml}`)
}

/** Fixed variants every seed goes through: each rewrite at its strongest. */
const SWEEP: readonly Variant[] = [
  {
    prefixPick: 1,
    decl: 'inner',
    defaultNs: 0,
    emptyStyle: 'pair',
    between: 'crlf',
    base64Ws: 'crlf76',
    textStyle: 'refs',
    padTokens: true,
    shuffleHeader: true,
    extraHeader: false,
    comments: true,
    quotes: 'single',
    langRate: 1000,
    decl0: 'declCrlf',
    seed: 1,
  },
  {
    prefixPick: 2,
    decl: 'alias',
    defaultNs: 0b1,
    emptyStyle: 'selfSpace',
    between: 'random',
    base64Ws: 'spaces',
    textStyle: 'cdata',
    padTokens: false,
    shuffleHeader: false,
    extraHeader: true,
    comments: false,
    quotes: 'random',
    langRate: 500,
    decl0: 'bomDecl',
    seed: 2,
  },
  {
    prefixPick: 3,
    decl: 'mixed',
    defaultNs: 0xffff,
    emptyStyle: 'self',
    between: 'lf',
    base64Ws: 'edges',
    textStyle: 'escaped',
    padTokens: true,
    shuffleHeader: true,
    extraHeader: true,
    comments: true,
    quotes: 'double',
    langRate: 0,
    decl0: 'none',
    seed: 3,
  },
]

// ---------------------------------------------------------------------------------------------------

describe('envelope variants: the generator itself', () => {
  test('an identity-like variant gives back the same tree; a renaming one really renames', () => {
    const xml = FAULT_SHAPES[0]?.xml ?? ''
    const v = variantOf(xml, {
      ...(SWEEP[0] as Variant),
      prefixPick: 1,
      textStyle: 'escaped',
      padTokens: false,
    })
    assert.match(v, /<env:Envelope/)
    assert.match(v, />env:Receiver</)
    assert.match(v, />wsman:TimedOut</)
    assert.match(v, /\r\n/)
    assert.doesNotMatch(v, /<s:/)
    const d = variantOf(xml, { ...(SWEEP[1] as Variant), defaultNs: 1 })
    assert.match(d, /xmlns="[^"]+"|xmlns='[^']+'/)
  })
})

describe('envelope variants: the comparison itself', () => {
  test('a response that differs in meaning is told apart', () => {
    const shape = FAULT_SHAPES.find((s) => s.fault.providerFault !== undefined)
    assert.ok(shape)
    const [seed] = parseable([{ name: shape.name, xml: shape.xml }])
    assert.ok(seed)
    const changes = [
      shape.xml.replace('s:Sender', 's:Receiver'),
      shape.xml.replace('Machine="127.0.0.1"', 'Machine="127.0.0.2"'),
      shape.xml.replace('provider="', 'provider="x'),
      shape.xml.replace(/<a:RelatesTo>uuid:./, '<a:RelatesTo>uuid:0'),
    ]
    for (const xml of changes) {
      assert.notEqual(xml, shape.xml)
      assert.throws(() => check({ ...seed, xml }, SWEEP[0] as Variant), assert.AssertionError)
    }
  })
})

describe('envelope variants: fault shapes (fault-shapes.ts)', () => {
  const seeds = parseable(FAULT_SHAPES.map((s) => ({ name: s.name, xml: s.xml })))
  test('every fault shape parses', () => assert.equal(seeds.length, FAULT_SHAPES.length))
  test('each fault shape through every sweep variant', () => {
    for (const s of seeds) for (const v of SWEEP) check(s, v)
  })
  test('property: any variant of any fault shape parses to the same fault', () => {
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), variantArb, (i, v) =>
        check(seeds[i] as (typeof seeds)[0], v),
      ),
      { numRuns: 300 },
    )
  })
})

describe('envelope variants: recorded responses', { skip: skipCorpus }, () => {
  const seeds = parseable([...pypsrpSeeds(5), ...winrbSeeds()])

  test('the seeds cover every response kind the recordings hold', () => {
    const kinds = new Set(seeds.map((s) => s.kind))
    for (const k of [
      'created',
      'commandCreated',
      'receive',
      'sent',
      'signalled',
      'deleted',
      'enumerated',
      'pulled',
      'get',
      'connected',
      'disconnected',
      'reconnected',
      'fault',
      'timedOut',
    ]) {
      assert.ok(kinds.has(k), `no ${k} seed`)
    }
    // Receive responses with stream data and with a CommandState (Done with an ExitCode)
    assert.ok(seeds.some((s) => s.kind === 'receive' && /<(\w+:)?Stream [^>]*>[A-Za-z0-9+/]/.test(s.xml)))
    assert.ok(
      seeds.some((s) => s.kind === 'receive' && /CommandState\/Done/.test(s.xml) && /ExitCode/.test(s.xml)),
    )
  })

  test('each recorded response through every sweep variant', () => {
    for (const s of seeds) for (const v of SWEEP) check(s, v)
  })

  test('property: any variant of any recorded response parses to the same result', () => {
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), variantArb, (i, v) =>
        check(seeds[i] as (typeof seeds)[0], v),
      ),
      { numRuns: 400 },
    )
  })
})
