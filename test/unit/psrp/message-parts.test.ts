/**
 * Messages whose body holds large byte arrays are encoded from pieces (`serializeParts`,
 * `encodeMessage` with `data` as pieces) so that a `<BA>` never becomes one large string. The bytes
 * must be exactly those of the text form.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import fc from 'fast-check'
import { PSObject, serialize } from '../../../src/clixml/index.ts'
import { serializeParts } from '../../../src/clixml/serialize.ts'
import { toBase64 } from '../../../src/internal/base64.ts'
import { encodeMessageBody, encodeMessageBodyParts } from '../../../src/psrp/messages/index.ts'
import { decodeMessage, encodeMessage, MessageType } from '../../../src/psrp/wire/index.ts'

const RPID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'
const PID = '11111111-2222-3333-4444-555555555555'

/** The text the pieces stand for. */
const joined = (parts: readonly (string | Uint8Array)[]): string =>
  parts.map((p) => (typeof p === 'string' ? p : toBase64(p))).join('')

test('serializeParts is serialize, cut around large byte arrays only', () => {
  const big = randomBytes(64 * 1024)
  const bigger = randomBytes(300 * 1024 + 1)
  const small = randomBytes(64 * 1024 - 1)
  const value = new PSObject({
    typeNames: ['Chunk'],
    extended: [
      ['First', big],
      ['Small', small],
      ['List', [bigger, 'text <&>', big]],
      ['Name', 'ümlaut ☃'],
    ],
  })
  const parts = serializeParts(value)
  assert.equal(joined(parts), serialize(value))
  const bytes = parts.filter((p) => typeof p !== 'string')
  // the three large arrays (the same one twice) are bytes, the one under 64 KiB is text
  assert.deepEqual(bytes, [big, bigger, big])
  // a value without large arrays is one string
  assert.deepEqual(serializeParts(small), [serialize(small)])
  assert.deepEqual(serializeParts(bigger), ['<BA>', bigger, '</BA>'])
})

test('a message encoded from pieces has the bytes of the one encoded from text', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 20 }),
          fc.integer({ min: 0, max: 150_000 }).map((n) => randomBytes(n)),
        ),
        { maxLength: 4 },
      ),
      fc.boolean(),
      (items, bom) => {
        const fields = { value: items }
        const text = encodeMessageBody('PIPELINE_INPUT', fields)
        const parts = encodeMessageBodyParts('PIPELINE_INPUT', fields)
        assert.equal(joined(parts), text)
        const init = {
          destination: 'server' as const,
          type: MessageType.PIPELINE_INPUT,
          rpid: RPID,
          pid: PID,
          bom,
        }
        const fromText = encodeMessage({ ...init, data: text })
        const fromParts = encodeMessage({ ...init, data: parts })
        assert.deepEqual(Buffer.from(fromParts), Buffer.from(fromText))
        assert.equal(decodeMessage(fromParts).data, text)
      },
    ),
    { numRuns: 40 },
  )
})
