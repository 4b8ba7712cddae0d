/**
 * Indented, human-readable rendering of CLIXML (for `psrp decode` and debugging). Text is shown
 * decoded (`_x000A_` as a newline escape `\n`) so escapes are readable.
 *
 * @module
 */
import { ClixmlError } from '../errors.ts'
import { escapeXmlAttr, escapeXmlText, parseXml, type XmlElement } from '../internal/xml.ts'

/** Pretty-prints one CLIXML element with two-space indentation. */
export function prettyClixml(xml: string): string {
  const root = parseXml(xml, { error: (message, offset) => new ClixmlError(message, { offset }) })
  const lines: string[] = []
  const walk = (el: XmlElement, depth: number): void => {
    const pad = '  '.repeat(depth)
    const attrs = Object.entries(el.attrs)
      .map(([k, v]) => ` ${k}="${escapeXmlAttr(v)}"`)
      .join('')
    if (el.children.length === 0) {
      lines.push(
        el.text === ''
          ? `${pad}<${el.name}${attrs} />`
          : `${pad}<${el.name}${attrs}>${escapeXmlText(el.text)}</${el.name}>`,
      )
      return
    }
    lines.push(`${pad}<${el.name}${attrs}>`)
    for (const c of el.children) walk(c, depth + 1)
    lines.push(`${pad}</${el.name}>`)
  }
  walk(root, 0)
  return lines.join('\n')
}
