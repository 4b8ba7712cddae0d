/**
 * The XML pull tokenizer (src/internal/xml-reader.ts): token stream, readText/skipElement, XML 1.0
 * strictness, hardening, and agreement with parseXml on every recorded CLIXML vector.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { XmlReader, XmlToken } from '../../../src/internal/xml-reader.ts'
import { parseXml, type XmlElement } from '../../../src/internal/xml.ts'

class TestError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}
const error = (message: string, offset: number): Error => new TestError(message, offset)
const reader = (xml: string, limits: { maxDepth?: number; maxLength?: number } = {}): XmlReader =>
  new XmlReader(xml, { ...limits, error })

/** Every token as a compact string: `<name a=v>`, `</name>`, `"text"`. */
function tokens(xml: string): string[] {
  const r = reader(xml)
  const out: string[] = []
  for (let t = r.next(); t !== XmlToken.EndOfDocument; t = r.next()) {
    if (t === XmlToken.StartElement) {
      out.push(
        `<${r.name}${r.attrNames.map((n, i) => ` ${n}=${r.attrValues[i]}`).join('')}${r.selfClosing ? '/' : ''}>`,
      )
    } else if (t === XmlToken.EndElement) out.push(`</${r.name}>`)
    else out.push(JSON.stringify(r.text))
  }
  return out
}

function rejects(
  xml: string,
  message: RegExp,
  offset?: number,
  limits: { maxDepth?: number; maxLength?: number } = {},
): void {
  assert.throws(
    () => drain(reader(xml, limits)),
    (e: unknown) => {
      assert.ok(e instanceof TestError, `expected the factory's error, got ${String(e)}`)
      assert.match(e.message, message)
      if (offset !== undefined) assert.equal(e.offset, offset)
      return true
    },
  )
}
function drain(r: XmlReader): true {
  while (r.next() !== XmlToken.EndOfDocument);
  return true
}
function rejectsWith(
  limits: { maxDepth?: number; maxLength?: number },
  xml: string,
  message: RegExp,
  offset?: number,
): void {
  assert.throws(
    () => drain(reader(xml, limits)),
    (e: unknown) =>
      e instanceof TestError && message.test(e.message) && (offset === undefined || e.offset === offset),
  )
}

test('streams start tags with attributes, text, CDATA and end tags; self-closing gives start then end', () => {
  assert.deepEqual(
    tokens('<?xml version="1.0"?><!-- c --><a x="1" y=\'&lt;\'><b/>t&amp;1<![CDATA[<c>]]></a>'),
    ['<a x=1 y=<>', '<b/>', '</b>', '"t&1"', '"<c>"', '</a>'],
  )
})

test('attr() finds attributes by qualified name; depth and openElements track nesting', () => {
  const r = reader('<s:E xmlns:s="urn:s"><s:B N="x"><c/></s:B></s:E>')
  assert.equal(r.next(), XmlToken.StartElement)
  assert.equal(r.attr('xmlns:s'), 'urn:s')
  assert.equal(r.attr('N'), undefined)
  r.next()
  assert.equal(r.name, 's:B')
  assert.equal(r.attr('N'), 'x')
  r.next()
  assert.equal(r.depth, 3)
  assert.deepEqual(r.openElements, ['s:E', 's:B', 'c'])
})

test('element and attribute names read exactly as written, CLIXML names and names that nearly are', () => {
  const clixml = ['Obj', 'Objs', 'TN', 'TNRef', 'ToString', 'Props', 'MS', 'LST', 'DCT', 'En', 'I32', 'RefId']
  const near = clixml.flatMap((n) => [
    n.slice(0, -1) + String.fromCharCode(n.charCodeAt(n.length - 1) + 1),
    String.fromCharCode(n.charCodeAt(0) + 1) + n.slice(1),
    n.slice(0, n.length >> 1) + 'q' + n.slice((n.length >> 1) + 1),
    n + 'x',
    n.toLowerCase(),
  ])
  for (const name of [...clixml, ...near, 'S', 'Versions', 'ToStrings', 'a-b', 'p:Obj']) {
    assert.deepEqual(tokens(`<${name} ${name}="v"></${name}>`), [`<${name} ${name}=v>`, `</${name}>`], name)
  }
})

test('readText returns the decoded content and consumes the end tag, for every shape of content', () => {
  const r = reader('<r><S>a&amp;b</S><E/><F></F><M>x<![CDATA[<y>]]><!-- z -->w</M><N>1</N></r>')
  r.next()
  const texts: string[] = []
  while (r.next() === XmlToken.StartElement) texts.push(`${r.name}=${r.readText()}`)
  assert.deepEqual(texts, ['S=a&b', 'E=', 'F=', 'M=x<y>w', 'N=1'])
  assert.equal(r.name, 'r')
  assert.equal(r.next(), XmlToken.EndOfDocument)
})

test('readText refuses a child element; skipElement skips a whole subtree', () => {
  const r = reader('<r><S>a<b/></S></r>')
  r.next()
  r.next()
  assert.throws(
    () => r.readText(),
    (e: unknown) => e instanceof TestError && /unexpected element <b> inside <S>/.test(e.message),
  )
  const s = reader('<r><skip><x><y>t</y></x></skip><keep/></r>')
  s.next()
  s.next()
  s.skipElement()
  assert.equal(s.next(), XmlToken.StartElement)
  assert.equal(s.name, 'keep')
})

test('refuses DOCTYPE, ENTITY and any other markup declaration; only predefined entities decode', () => {
  rejects('<!DOCTYPE a [<!ENTITY e "boom">]><a>&e;</a>', /not allowed/, 0)
  rejects('<a><!ENTITY e "x"></a>', /not allowed/, 3)
  rejects('<a>&e;</a>', /unknown entity &e;/, 3)
  rejects('<a v="&e;"/>', /unknown entity/)
})

test('XML 1.0 strictness: forbidden character references, < in attributes, line-end normalization', () => {
  rejects('<a>&#0;</a>', /invalid XML character/, 3)
  rejects('<a>&#xD800;</a>', /invalid XML character/)
  rejects('<a>&#xFFFE;</a>', /invalid XML character/)
  rejects('<a>&#x110000;</a>', /invalid XML character/)
  rejects('<a>&#;</a>', /malformed character reference/)
  rejects('<a>&#x;</a>', /malformed character reference/)
  rejects('<a>&#12a;</a>', /malformed character reference/)
  rejects('<a v="<"/>', /'<' in the value/, 6)
  rejects('<a x="1"y="2"/>', /malformed start tag/)
  assert.deepEqual(tokens('<a v="1&#13;2">x\r\ny\rz&#13;</a>'), ['<a v=1\r2>', '"x\\ny\\nz\\r"', '</a>'])
})

test('malformed documents throw the factory error at the offset where they broke', () => {
  rejects('<a><b></a>', /does not match <b>/, 6)
  rejects('<a>', /unclosed element <a>/, 3)
  rejects('</a>', /unexpected end tag/, 0)
  rejects('<a></a><b/>', /more than one root/, 7)
  rejects('x<a/>', /text outside the root/, 0)
  rejects('<a/>x', /text outside the root/, 4)
  rejects('', /no root element/)
  rejects('<a x=1/>', /must be quoted/, 5)
  rejects('<a x="1" x="2"/>', /duplicate attribute x/)
  rejects('<a x/>', /has no value/)
  rejects('<a x="1/>', /unterminated attribute/)
  rejects('<a>&amp</a>', /malformed entity/, 3)
  rejects('<a><!-- never closed</a>', /unterminated comment/, 3)
  rejects('<a><![CDATA[x</a>', /unterminated CDATA/, 3)
  rejects('<![CDATA[x]]><a/>', /CDATA outside/, 0)
  rejects('<a><?pi</a>', /unterminated processing instruction/, 3)
  rejects('<a/ >', /malformed start tag/)
  rejects('< a/>', /element name expected/, 0)
  rejects('<1a/>', /element name expected/, 0)
  rejects('<a></a', /malformed end tag/)
  rejects('<a', /unterminated start tag/)
})

test('enforces the depth and length limits', () => {
  const deep = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n)
  assert.equal(drain(reader(deep(10), { maxDepth: 10 })), true)
  rejectsWith({ maxDepth: 10 }, deep(11), /deeper than 10/, 30)
  rejectsWith({}, deep(600), /deeper than 512/)
  rejectsWith({ maxLength: 16 }, '<a>0123456789</a>', /over the limit of 16/, 0)
})

/** Rebuilds parseXml's tree shape from the token stream. */
function treeFromReader(xml: string): XmlElement {
  const r = reader(xml)
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  for (let t = r.next(); t !== XmlToken.EndOfDocument; t = r.next()) {
    if (t === XmlToken.StartElement) {
      const attrs = Object.fromEntries(r.attrNames.map((n, i) => [n, r.attrValues[i] as string]))
      const el: XmlElement = { name: r.name, attrs, children: [], text: '', offset: r.offset }
      const parent = stack[stack.length - 1]
      if (parent === undefined) root = el
      else parent.children.push(el)
      stack.push(el)
    } else if (t === XmlToken.EndElement) stack.pop()
    else (stack[stack.length - 1] as XmlElement).text += r.text
  }
  return root as XmlElement
}

test('agrees with parseXml on every CLIXML vector (names, attributes, text, offsets)', () => {
  const dir = new URL('../../vectors/clixml/', import.meta.url)
  const { vectors } = JSON.parse(readFileSync(new URL('pwsh-vectors.json', dir), 'utf8')) as {
    vectors: { clixml: string }[]
  }
  const docs = vectors.map((v) => v.clixml)
  for (const f of [
    'seed-session-capability.xml',
    'seed-init-runspacepool.xml',
    'seed-psdriveinfo.xml',
    'spec-information-record.xml',
  ]) {
    docs.push(readFileSync(new URL(f, dir), 'utf8'))
  }
  for (const xml of docs) assert.deepEqual(treeFromReader(xml), parseXml(xml, { error }))
})
