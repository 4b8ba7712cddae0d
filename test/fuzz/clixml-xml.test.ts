/**
 * Property tests for the XML layer under CLIXML: mutated PowerShell-written CLIXML only ever raises
 * ClixmlError from deserialize, the pull tokenizer only ever raises its factory's error, and escaped
 * text and attributes read back unchanged.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { params } from './harness.ts'
import { deserialize } from '../../src/clixml/index.ts'
import { ClixmlError } from '../../src/errors.ts'
import { escapeXmlAttr, escapeXmlText } from '../../src/internal/xml.ts'
import { XmlReader, XmlToken } from '../../src/internal/xml-reader.ts'

const { vectors } = JSON.parse(
  readFileSync(new URL('../vectors/clixml/pwsh-vectors.json', import.meta.url), 'utf8'),
) as { vectors: { name: string; clixml: string }[] }
const docs = vectors.filter((v) => v.name !== 'ProgressRecord').map((v) => v.clixml)

const mutation = fc.tuple(fc.nat(), fc.nat(8), fc.string({ unit: 'binary', maxLength: 6 }))
const mutate = (xml: string, edits: [number, number, string][]): string =>
  edits.reduce((s, [at, del, ins]) => {
    const i = at % (s.length + 1)
    return s.slice(0, i) + ins + s.slice(i + del)
  }, xml)

test('mutations of PowerShell-written CLIXML only ever throw ClixmlError', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...docs),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      (xml, edits) => {
        const bad = mutate(xml, edits)
        try {
          deserialize(bad)
        } catch (e) {
          assert.ok(e instanceof ClixmlError, `unexpected ${String(e)} for ${JSON.stringify(bad)}`)
        }
      },
    ),
    params(3000),
  )
})

class FactoryError extends Error {}
const error = (message: string): Error => new FactoryError(message)

test('the pull tokenizer only ever throws the factory error on mutated input', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...docs),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      (xml, edits) => {
        const r = new XmlReader(mutate(xml, edits), { error })
        try {
          while (r.next() !== XmlToken.EndOfDocument);
        } catch (e) {
          assert.ok(e instanceof FactoryError, `unexpected ${String(e)}`)
        }
      },
    ),
    params(3000),
  )
})

// XML 1.0 Char: what escaped text can carry at all (CLIXML's _xHHHH_ escaping covers the rest)
const xmlChar = fc
  .string({ unit: 'binary', maxLength: 40 })
  .map((s) => s.replace(/[^\t\n\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '?').replace(/\r/g, ''))

test('escaped text and attribute values read back unchanged through the tokenizer', () => {
  fc.assert(
    fc.property(xmlChar, xmlChar, (text, attr) => {
      const r = new XmlReader(`<a v="${escapeXmlAttr(attr)}">${escapeXmlText(text)}</a>`, { error })
      assert.equal(r.next(), XmlToken.StartElement)
      assert.equal(r.attr('v'), attr)
      assert.equal(r.readText(), text)
    }),
    params(2000),
  )
})
