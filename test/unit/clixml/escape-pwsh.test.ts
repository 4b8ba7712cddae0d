/**
 * MS-PSRP 2.2.5.3.2 string escaping facts checked against PowerShell 7.6.9 (see the `S …` entries of
 * test/vectors/clixml/pwsh-vectors.json for what PowerShell writes).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeClixmlString, deserialize, serialize } from '../../../src/clixml/index.ts'
import { parseXml } from '../../../src/internal/xml.ts'

test('PowerShell decodes _X0041_ (upper-case X) like _x0041_', () => {
  // pwsh: PSSerializer.Deserialize('<S>_X0041_</S>') is "A" (XmlConvert.DecodeName matches
  // `_[Xx]([0-9a-fA-F]{4}|[0-9a-fA-F]{8})_`)
  assert.equal(decodeClixmlString('_X0041_'), 'A')
  assert.equal(decodeClixmlString('_X0001F600_'), '😀')
  assert.equal(deserialize('<S>_X0041_</S>'), 'A')
})

test('eight-digit escapes decode exactly as XmlConvert.DecodeName does', () => {
  // each pair checked with [System.Xml.XmlConvert]::DecodeName in pwsh 7.6.9
  const cases: [string, string][] = [
    ['_x00000041_', 'A'],
    ['_x0000D800_', '\ud800'],
    // read as Int32: a value that overflows to negative keeps its low 16 bits
    ['_x80000041_', 'A'],
    ['_xFFFFFFFF_', '\uffff'],
    // over U+10FFFF: left as written, and still consumed (matches never overlap)
    ['_x00110000_', '_x00110000_'],
    ['_x00110000_x0041_', '_x00110000_x0041_'],
    ['_xFFFFFFFF_x0041_', '\uffffx0041_'],
    ['_x_x0041_', '_xA'],
    ['_x0041__x0042_', 'AB'],
  ]
  for (const [input, expected] of cases) assert.equal(decodeClixmlString(input), expected, input)
})

test('U+FFFE and U+FFFF are escaped so the output stays well-formed XML', () => {
  // pwsh throws "hexadecimal value 0xFFFE, is an invalid character"; writing _xFFFE_ keeps the XML valid
  // and PowerShell's deserializer decodes it
  const xml = serialize('a\ufffeb\uffff')
  assert.equal(xml, '<S>a_xFFFE_b_xFFFF_</S>')
  assert.equal(deserialize(xml), 'a\ufffeb\uffff')
})

test('every string PowerShell could hold serializes to text free of XML-forbidden characters', () => {
  const all = Array.from({ length: 0xd800 }, (_, i) => String.fromCharCode(i)).join('') + '\ud800\udfff😀'
  const xml = serialize(all)
  // eslint-disable-next-line no-control-regex -- checking that no forbidden character is left
  assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff]/.test(xml))
  parseXml(xml, { error: (m) => new Error(m) })
  assert.equal(deserialize(xml), all)
})
