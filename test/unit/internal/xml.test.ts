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
import { XmlReader, XmlToken } from '../../../src/internal/xml-reader.ts'

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

// Stricter XML 1.0 rules, applied as .NET's XmlReader applies them (checked with pwsh 7.6.9).
test('character references to characters XML forbids are refused', () => {
  rejects('<a>&#0;</a>', /invalid XML character/, 3)
  rejects('<a>&#xD800;</a>', /invalid XML character/)
  rejects('<a>&#xDFFF;</a>', /invalid XML character/)
  rejects('<a>&#xFFFE;</a>', /invalid XML character/)
  rejects('<a v="&#xFFFF;"/>', /invalid XML character/, 6)
  // C0 controls stay accepted: .NET's XmlWriter writes them as &#x1; when CheckCharacters is off, and
  // PowerShell's own CLIXML reader accepts them
  assert.equal(parse('<a>&#1;&#x1F;&#x10FFFF;</a>').text, '\u0001\u001f\u{10ffff}')
})

test("'<' inside an attribute value is refused", () => {
  rejects('<a v="<"/>', /'<' in the value of attribute v/, 6)
  rejects("<a x='1' v='a<b'/>", /'<' in the value of attribute v/, 13)
  // the '<' that ends the text after a start tag is still found
  assert.equal(parse('<a v="&lt;">x<b w="1"/>y</a>').text, 'xy')
})

test('CRLF and lone CR in text read as LF (XML 1.0 §2.11)', () => {
  assert.equal(parse('<a>x\r\ny\rz</a>').text, 'x\ny\nz')
  assert.equal(parse('<a>x\r\ny&amp;\r</a>').text, 'x\ny&\n')
  assert.equal(parse('<a><![CDATA[x\r\ny\rz]]></a>').text, 'x\ny\nz')
  // a CR written as a reference is kept
  assert.equal(parse('<a>x&#13;&#xD;\r\n</a>').text, 'x\r\r\n')
})

test('attribute values: raw TAB, LF, CR and CRLF each read as one space (XML 1.0 §3.3.3)', () => {
  const el = parse('<a v="1\t2\n3\r\n4\r5&#10;6&#13;7&#9;8" w=" x  y "/>')
  assert.equal(el.attrs['v'], '1 2 3 4 5\n6\r7\t8')
  assert.equal(el.attrs['w'], ' x  y ')
  assert.equal(parse('<a v="x\ty"/>').attrs['v'], 'x y')
})

test('escapers keep CR, LF and TAB through the normalization (as .NET XmlWriter does)', () => {
  assert.equal(escapeXmlAttr('a\tb\nc\rd\r\ne'), 'a&#x9;b&#xA;c&#xD;d&#xD;&#xA;e')
  assert.equal(escapeXmlText('p\rq\r\ns\nt\tu'), 'p&#xD;q&#xD;\ns\nt\tu')
  const s = '\t a\r\nb\rc\n '
  const el = parse(`<a v="${escapeXmlAttr(s)}">${escapeXmlText(s)}</a>`)
  assert.equal(el.attrs['v'], s)
  assert.equal(el.text, s)
})

test('the tree parser and the pull tokenizer (xml-reader.ts) decode values alike', () => {
  const docs = [
    '<a v="1\t2\n3\r\n4\r5&#10;6&#13;7">x\r\ny\rz&#13;<![CDATA[p\r\nq]]></a>',
    "<a v='&lt;&amp;&quot;' w=\"'\">&#x1F600;&#1;</a>",
    '<a v="">\r</a>',
  ]
  for (const xml of docs) {
    const el = parse(xml)
    const r = new XmlReader(xml, { error })
    assert.equal(r.next(), XmlToken.StartElement)
    assert.deepEqual(Object.fromEntries(r.attrNames.map((n, i) => [n, r.attrValues[i]])), el.attrs, xml)
    assert.equal(r.readText(), el.text, xml)
  }
  for (const bad of ['<a v="<"/>', '<a>&#0;</a>', '<a v="&#xD800;"/>']) {
    assert.throws(() => parse(bad), TestError)
    assert.throws(() => {
      const r = new XmlReader(bad, { error })
      while (r.next() !== XmlToken.EndOfDocument);
    }, TestError)
  }
})
