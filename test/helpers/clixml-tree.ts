/**
 * Canonical form of a CLIXML document for "equivalent CLIXML" comparisons: the element tree with
 * RefIds renumbered in order of first appearance and `TNRef` expanded to the type-name list it
 * refers to, whitespace-only text between elements dropped.
 */
import { parseXml, type XmlElement } from '../../src/internal/xml.ts'

export function canonicalClixml(xml: string): string {
  const root = parseXml(xml, { error: (m, o) => new Error(`${m} at ${o}`) })
  const objIds = new Map<string, number>()
  const tnLists = new Map<string, string[]>()
  const walk = (el: XmlElement): unknown => {
    if (el.name === 'TN' || el.name === 'TNRef') {
      const id = el.attrs['RefId'] ?? ''
      if (el.name === 'TN')
        tnLists.set(
          id,
          el.children.map((c) => c.text),
        )
      return ['TN', tnLists.get(id) ?? `unknown TNRef ${id}`]
    }
    const attrs: Record<string, string> = {}
    for (const [k, v] of Object.entries(el.attrs).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (k === 'RefId' && (el.name === 'Obj' || el.name === 'Ref')) {
        if (!objIds.has(v)) objIds.set(v, objIds.size)
        attrs[k] = String(objIds.get(v))
      } else attrs[k] = v
    }
    const text = el.children.length > 0 ? el.text.trim() : el.text
    return [el.name, attrs, text, el.children.map(walk)]
  }
  return JSON.stringify(walk(root))
}
