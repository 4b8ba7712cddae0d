/**
 * The byte form of a request envelope (`buildEnvelopeBytes`, `renderXmlBytes`): the UTF-8 of exactly
 * the text `buildEnvelope`/`renderXml` write, with a Send's payload encoded into the bytes piece by
 * piece (`writeBase64`) instead of as one large string.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { base64Length, toBase64, writeBase64 } from '../../../src/internal/base64.ts'
import { base64Text, el, renderXml, renderXmlBytes } from '../../../src/wsman/xml-node.ts'
import {
  buildEnvelope,
  buildEnvelopeBytes,
  psrpSend,
  winrsSend,
  type EnvelopeOptions,
} from '../../../src/wsman/index.ts'

const OPTS: EnvelopeOptions = {
  to: 'http://win1:5985/wsman',
  messageId: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
}
const SHELL = 'AABBCCDD-0000-1111-2222-333344445555'
const COMMAND = '11111111-2222-3333-4444-555555555555'

/** Lengths around the 48 KiB pieces writeBase64 encodes, and around a whole base64 quantum. */
const LENGTHS = [0, 1, 2, 3, 4, 49151, 49152, 49153, 98304, 98305, 380 * 1024 + 2]

describe('writeBase64', () => {
  test('writes the same text toBase64 returns, at the offset, and returns its length', () => {
    for (const n of LENGTHS) {
      const bytes = randomBytes(n)
      const out = Buffer.alloc(base64Length(n) + 7, 0x2a)
      const written = writeBase64(bytes, out, 3)
      assert.equal(written, base64Length(n), `length ${n}`)
      assert.equal(out.toString('latin1', 3, 3 + written), toBase64(bytes), `length ${n}`)
      // nothing outside its range is touched
      assert.equal(out.toString('latin1', 0, 3), '***')
      assert.equal(out.toString('latin1', 3 + written), '****')
    }
  })

  test('a view into a larger buffer encodes only its own bytes', () => {
    const whole = randomBytes(100_000)
    const view = whole.subarray(12_345, 12_345 + 60_001)
    const out = Buffer.alloc(base64Length(view.length))
    writeBase64(new Uint8Array(view.buffer, view.byteOffset, view.length), out, 0)
    assert.equal(out.toString('latin1'), Buffer.from(view).toString('base64'))
  })
})

describe('renderXmlBytes', () => {
  test('is the UTF-8 of renderXml, for any text and payload', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.uint8Array({ maxLength: 300 }),
        // attribute values of printable ASCII (control characters are refused by both renderers)
        fc.string({ maxLength: 10 }).map((s) => s.replace(/[^ -~]/g, 'x')),
        (text, payload, attr) => {
          const node = el(
            'a:Root',
            { 'xmlns:a': 'urn:x', Attr: attr },
            el('a:Text', undefined, text),
            el('a:Data', { Name: 'stdin' }, base64Text(payload)),
            'tail & <end>',
          )
          assert.deepEqual(renderXmlBytes(node), Buffer.from(renderXml(node), 'utf8'))
        },
      ),
      { numRuns: 300 },
    )
  })

  test('an empty payload leaves its element empty (self-closing), as an empty string does', () => {
    const node = el('a:Stream', { Name: 'stdin' }, base64Text(new Uint8Array(0)))
    assert.equal(renderXml(node), '<a:Stream Name="stdin" />')
    assert.equal(renderXmlBytes(node).toString('utf8'), '<a:Stream Name="stdin" />')
  })
})

describe('buildEnvelopeBytes', () => {
  test('a WinRS Send and a PSRP Send are the bytes of buildEnvelope, payload sizes across pieces', () => {
    for (const n of LENGTHS) {
      const data = randomBytes(n)
      for (const request of [
        winrsSend({ shellId: SHELL, commandId: COMMAND, data, end: true }),
        psrpSend({ shellId: SHELL, pipelineId: COMMAND, data }),
      ]) {
        const bytes = buildEnvelopeBytes(request, OPTS)
        assert.ok(Buffer.isBuffer(bytes))
        assert.ok(bytes.equals(Buffer.from(buildEnvelope(request, OPTS), 'utf8')), `payload of ${n} bytes`)
      }
    }
  })
})
