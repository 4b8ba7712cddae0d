/**
 * The hardened XML parser shared by CLIXML and WS-Man (src/internal/xml.ts): tree shape, decoding,
 * refusal of DTDs and entities, limits, and the caller's error factory with offsets.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  escapeXmlAttr,
  escapeXmlText,
  localName,
  parseXml,
  type XmlElement,
} from '../../../src/internal/xml.ts'

class TestError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}
const error = (message: string, offset: number): Error => new TestError(message, offset)
const parse = (xml: string, limits: { maxDepth?: number; maxLength?: number } = {}): XmlElement =>
  parseXml(xml, { ...limits, error })

function rejects(
  xml: string,
  message: RegExp,
  offset?: number,
  limits: { maxDepth?: number; maxLength?: number } = {},
): void {
  assert.throws(
    () => parse(xml, limits),
    (e: unknown) => {
      assert.ok(e instanceof TestError, `expected the factory's error, got ${String(e)}`)
      assert.match(e.message, message)
      if (offset !== undefined) assert.equal(e.offset, offset)
      return true
    },
  )
}

test('builds the element tree with attributes, text, children and offsets', () => {
  const xml = '<?xml version="1.0"?>\n<!-- c --><a x="1" y=\'two\'><b/>t1<c>in</c>t2</a>\n'
  const root = parse(xml)
  assert.equal(root.name, 'a')
  assert.deepEqual(root.attrs, { x: '1', y: 'two' })
  assert.equal(root.offset, xml.indexOf('<a'))
  assert.deepEqual(
    root.children.map((c) => [c.name, c.text, c.offset]),
    [
      ['b', '', xml.indexOf('<b')],
      ['c', 'in', xml.indexOf('<c')],
    ],
  )
  assert.equal(root.text, 't1t2')
})

test('keeps namespace prefixes in names; localName strips them', () => {
  const root = parse('<s:Envelope xmlns:s="urn:s"><s:Body/></s:Envelope>')
  assert.equal(root.name, 's:Envelope')
  assert.equal(root.attrs['xmlns:s'], 'urn:s')
  assert.equal(localName(root.children[0]?.name ?? ''), 'Body')
  assert.equal(localName('Obj'), 'Obj')
})

test('decodes the five predefined entities and decimal/hex character references, in text and attributes', () => {
  const root = parse(
    '<a v="&lt;&gt;&amp;&quot;&apos;&#65;&#x1F4A9;">&lt;&gt;&amp;&quot;&apos;&#10;&#x41;</a>',
  )
  assert.equal(root.attrs['v'], '<>&"\'A💩')
  assert.equal(root.text, '<>&"\'\nA')
})

test('CDATA content is taken literally and joined with the surrounding text', () => {
  assert.equal(parse('<a>x<![CDATA[<b>&amp;]]>y</a>').text, 'x<b>&amp;y')
})

test('refuses DOCTYPE, ENTITY and any other markup declaration (no DTD, no entity expansion)', () => {
  rejects('<!DOCTYPE a [<!ENTITY e "boom">]><a>&e;</a>', /not allowed/, 0)
  rejects('<a><!ENTITY e "x"></a>', /not allowed/, 3)
  rejects('<a>&e;</a>', /unknown entity &e;/, 3)
  rejects('<a>&xxe;</a>', /unknown entity/)
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
  rejects('<a>&#xZZ;</a>', /unknown entity/, 3)
  rejects('<a>&#x110000;</a>', /unknown entity/, 3)
  rejects('<a><!-- never closed</a>', /unterminated comment/, 3)
  rejects('<a><![CDATA[x</a>', /unterminated CDATA/, 3)
  rejects('<a><?pi</a>', /unterminated processing instruction/, 3)
  rejects('<a/ >', /malformed start tag/)
  rejects('< a/>', /element name expected/)
})

test('enforces the depth and length limits', () => {
  const deep = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n)
  assert.equal(parse(deep(10), { maxDepth: 10 }).name, 'a')
  rejects(deep(11), /deeper than 10/, 30, { maxDepth: 10 })
  rejects(deep(600), /deeper than 512/)
  rejects('<a>0123456789</a>', /over the limit of 16/, 0, { maxLength: 16 })
  assert.equal(parse('<a>012345678</a>', { maxLength: 16 }).text, '012345678')
})

test('a leading byte order mark and surrounding whitespace are accepted', () => {
  assert.equal(parse('\ufeff \r\n<a>x</a>\n').text, 'x')
})

test('escapers: text escapes & < > (as .NET XmlWriter does), attributes also "', () => {
  assert.equal(escapeXmlText('a<b>&c"\''), 'a&lt;b&gt;&amp;c"\'')
  assert.equal(escapeXmlAttr('a<b>&c"\''), "a&lt;b&gt;&amp;c&quot;'")
  const plain = 'nothing to escape 💩'
  assert.equal(escapeXmlText(plain), plain)
  assert.equal(escapeXmlAttr(plain), plain)
  const tricky = '&amp;<&lt;>"]]>'
  assert.equal(parse(`<a v="${escapeXmlAttr(tricky)}">${escapeXmlText(tricky)}</a>`).text, tricky)
  assert.equal(parse(`<a v="${escapeXmlAttr(tricky)}"/>`).attrs['v'], tricky)
})

// Stricter XML 1.0 rules the frozen parser does not apply yet (src/internal/xml.ts is read-only in
// this session); src/internal/xml-reader.ts applies them.
test(
  'character references to characters XML forbids are refused',
  { todo: 'xml.ts accepts &#0; and surrogate references' },
  () => {
    rejects('<a>&#0;</a>', /invalid/)
    rejects('<a>&#xD800;</a>', /invalid/)
  },
)

test("'<' inside an attribute value is refused", { todo: 'xml.ts accepts it' }, () => {
  rejects('<a v="<"/>', /</)
})

test('CRLF and lone CR in text read as LF (XML 1.0 §2.11)', { todo: 'xml.ts keeps CR' }, () => {
  assert.equal(parse('<a>x\r\ny\rz</a>').text, 'x\ny\nz')
})
