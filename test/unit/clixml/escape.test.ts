import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { decodeClixmlString, encodeClixmlString, serialize, deserialize } from '../../../src/clixml/index.ts'
import { encodeClixmlAttr, encodeClixmlText } from '../../../src/clixml/escape.ts'
import { escapeXmlAttr, escapeXmlText } from '../../../src/internal/xml.ts'

const seed = JSON.parse(
  readFileSync(new URL('../../vectors/clixml/seed-escaping.json', import.meta.url), 'utf8'),
) as {
  value: string
  clixml: string
}

test("the seed's escaping example serializes to exactly the seed's text and back", () => {
  assert.equal(serialize(seed.value), seed.clixml)
  assert.equal(deserialize(seed.clixml), seed.value)
})

test('control characters, C1 controls and every surrogate are escaped as _xHHHH_', () => {
  assert.equal(encodeClixmlString('\u0000\t\r\u001f'), '_x0000__x0009__x000D__x001F_')
  assert.equal(encodeClixmlString('\u007f\u0085\u009f\u00a0'), '_x007F__x0085__x009F_\u00a0')
  assert.equal(encodeClixmlString('a\ud800b'), 'a_xD800_b')
  assert.equal(encodeClixmlString('\udc00'), '_xDC00_')
  assert.equal(encodeClixmlString('😀'), '_xD83D__xDE00_')
})

test('an underscore before x or X is escaped, other underscores are not', () => {
  assert.equal(encodeClixmlString('_x'), '_x005F_x')
  assert.equal(encodeClixmlString('_X1'), '_x005F_X1')
  assert.equal(encodeClixmlString('a_b_'), 'a_b_')
  assert.equal(encodeClixmlString('plain text'), 'plain text')
})

test('decoding accepts upper and lower case hex, 8-digit forms, and leaves non-escapes alone', () => {
  assert.equal(decodeClixmlString('_x000a_'), '\n')
  assert.equal(decodeClixmlString('_x0001F4A9_'), '💩')
  assert.equal(decodeClixmlString('_x12_ _xZZZZ_ _x'), '_x12_ _xZZZZ_ _x')
  assert.equal(decodeClixmlString('a_x005F_x000A_b'), 'a_x000A_b')
})

test('lone surrogates survive a serialize/deserialize round trip', () => {
  for (const s of ['\ud800', '\udfff', 'x\ud83dy', '\ude00\ud83d']) assert.equal(deserialize(serialize(s)), s)
})

test('the one-scan text and attribute encoders give what CLIXML escaping then XML escaping give', () => {
  const special = fc.constantFrom(
    ...'_xX&<>"\'\t\n\r\u0000\u001f\u007f\u0080\u009f\u00a0\ud800\udfff\ufffe\uffffa'.split(''),
  )
  const text = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.array(special, { maxLength: 12 }).map((cs) => cs.join('')),
  )
  fc.assert(
    fc.property(text, (s) => {
      assert.equal(encodeClixmlText(s), escapeXmlText(encodeClixmlString(s)))
      assert.equal(encodeClixmlAttr(s), escapeXmlAttr(encodeClixmlString(s)))
    }),
    { numRuns: 5000 },
  )
  assert.equal(encodeClixmlText('a_x & "b"'), 'a_x005F_x &amp; "b"')
  assert.equal(encodeClixmlAttr('a_x & "b"'), 'a_x005F_x &amp; &quot;b&quot;')
  assert.equal(encodeClixmlText('_'), '_')
  assert.equal(encodeClixmlText('plain'), 'plain')
})
