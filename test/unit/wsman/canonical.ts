/**
 * Canonical form of a SOAP envelope for comparing a rebuilt request with a recorded one: names are
 * resolved to `{namespace}local` (prefix choice and where namespaces are declared do not matter),
 * attributes are sorted and namespace declarations dropped, text is trimmed, and `wsa:MessageID` is
 * left out. Optional relaxations:
 *
 * - `headerOrder`: header blocks are sorted (SOAP 1.2 gives their order no meaning);
 * - `shellOrder`: the children of `rsp:Shell` are sorted (Windows accepts them in any order: pypsrp
 *   writes IdleTimeOut/Lifetime/Name/WorkingDirectory after the streams, the schema before them);
 * - `durations`: `xs:duration` texts of OperationTimeout, IdleTimeOut and Lifetime compare by value
 *   (`PT20S` equals `PT20.000S`).
 */
import { ProtocolError } from '../../../src/errors.ts'
import { parseXml } from '../../../src/internal/xml.ts'
import { Namespace } from '../../../src/wsman/constants.ts'
import { parseDuration } from '../../../src/wsman/duration.ts'
import { resolveNamespaces, type NsElement } from '../../../src/wsman/xml-ns.ts'

export interface CanonOptions {
  headerOrder?: boolean
  shellOrder?: boolean
  durations?: boolean
}

const DURATION_ELEMENTS = new Set(['OperationTimeout', 'IdleTimeOut', 'Lifetime'])

function attrKey(el: NsElement, name: string): string | undefined {
  if (name === 'xmlns' || name.startsWith('xmlns:')) return undefined
  const i = name.indexOf(':')
  if (i < 0) return name
  return `{${el.scope.get(name.slice(0, i)) ?? '?'}}${name.slice(i + 1)}`
}

function canon(el: NsElement, o: CanonOptions, parent: string): string {
  const name = `{${el.ns}}${el.local}`
  if (parent === `{${Namespace.s}}Header` && el.ns === Namespace.wsa && el.local === 'MessageID') return ''
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => [attrKey(el, k), v] as const)
    .filter((kv): kv is readonly [string, string] => kv[0] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
  let text = el.text.trim()
  if (o.durations === true && DURATION_ELEMENTS.has(el.local)) {
    const d = parseDuration(text)
    if (d !== undefined) text = `duration:${d}`
  }
  let children = el.children.map((c) => canon(c, o, name)).filter((c) => c !== '')
  const sortKids =
    (o.headerOrder === true && name === `{${Namespace.s}}Header`) ||
    (o.shellOrder === true && el.ns === Namespace.rsp && el.local === 'Shell')
  if (sortKids) children = [...children].sort()
  return `<${name}${attrs.length > 0 ? ' ' + attrs.join(' ') : ''}>${JSON.stringify(text)}${children.join('')}</>`
}

/** Canonical string of an XML document (see module doc). */
export function canonicalXml(xml: string, o: CanonOptions = {}): string {
  const tree = parseXml(xml, { error: (m, off) => new ProtocolError(`${m} at ${off}`) })
  return canon(resolveNamespaces(tree), o, '')
}

/** Pretty, line-per-element form of a canonical string for diff output. */
export function canonLines(c: string): string[] {
  return c
    .replace(/<\/>/g, '</>\n')
    .replace(/(<\{)/g, '\n$1')
    .split('\n')
    .filter((l) => l !== '' && l !== '</>')
}
