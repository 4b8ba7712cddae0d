import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, ProtocolError } from '../../../src/errors.ts'
import { DEFAULT_MAX_LINE_LENGTH, LineReader } from '../../../src/outofproc/index.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('LineReader', () => {
  test('splits on \\n, \\r\\n and lone \\r; keeps empty lines', () => {
    const r = new LineReader()
    assert.deepEqual(r.push('a\nb\r\nc\rd\n\n'), ['a', 'b', 'c', 'd', ''])
    assert.equal(r.end(), undefined)
  })

  test('lines split across chunks, including a \\r\\n split between chunks', () => {
    const r = new LineReader()
    assert.deepEqual(r.push('<Data'), [])
    assert.deepEqual(r.push(" PSGuid='x'>"), [])
    assert.deepEqual(r.push('AA==</Data>\r'), ["<Data PSGuid='x'>AA==</Data>"])
    assert.deepEqual(r.push('\nnext\r'), ['next'], 'the \\n completes the previous \\r\\n, no empty line')
    assert.deepEqual(r.push('\r\n'), [''], 'a \\r then \\r\\n is one empty line')
    assert.deepEqual(r.push('tail'), [])
    assert.equal(r.pendingLength, 4)
    assert.equal(r.end(), 'tail')
    assert.equal(r.end(), undefined)
  })

  test('every split point of a byte stream gives the same lines', () => {
    const text = "<DataAck PSGuid='0' />\r\n<Data>ü€😀</Data>\nlast\r\n"
    const bytes = enc(text)
    const want = ["<DataAck PSGuid='0' />", '<Data>ü€😀</Data>', 'last']
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j += 3) {
        const r = new LineReader()
        const got = [
          ...r.push(bytes.subarray(0, i)),
          ...r.push(bytes.subarray(i, j)),
          ...r.push(bytes.subarray(j)),
        ]
        assert.deepEqual(got, want, `split at ${i}/${j}`)
        assert.equal(r.end(), undefined)
      }
    }
  })

  test('one byte at a time', () => {
    const r = new LineReader()
    const got: string[] = []
    for (const b of enc('x€y\r\nz\n')) got.push(...r.push(Uint8Array.of(b)))
    assert.deepEqual(got, ['x€y', 'z'])
  })

  test('huge lines in many chunks (5 MiB) are fine under the default bound', () => {
    const r = new LineReader()
    const chunk = 'A'.repeat(64 * 1024)
    for (let i = 0; i < 80; i++) assert.deepEqual(r.push(chunk), [])
    const [line, ...rest] = r.push('B\nC')
    assert.equal(rest.length, 0)
    assert.equal(line?.length, 80 * 64 * 1024 + 1)
    assert.ok(line?.endsWith('AB'))
    assert.equal(r.end(), 'C')
    assert.ok(DEFAULT_MAX_LINE_LENGTH >= 16 * 1024 * 1024)
  })

  test('a line beyond the bound is a remote ProtocolError', () => {
    const r = new LineReader({ maxLineLength: 10 })
    assert.deepEqual(r.push('0123456789\n'), ['0123456789'])
    assert.deepEqual(r.push('01234'), [])
    assert.throws(
      () => r.push('567890'),
      (e: unknown) => e instanceof ProtocolError && e.side === 'remote' && /longer than 10/.test(e.message),
    )
    assert.throws(() => r.push('x'), ProtocolError, 'unusable afterwards')
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new LineReader({ maxLineLength: bad }),
        (e: unknown) => e instanceof InvalidArgumentError && /maxLineLength/.test(e.message),
        String(bad),
      )
    }
  })

  test('a sequence cut at a chunk end completes in the next chunk; ASCII chunks around it stay exact', () => {
    const r = new LineReader()
    const euro = enc('€') // three bytes
    const got = [
      ...r.push(enc('ab')),
      ...r.push(Uint8Array.of(...enc('c'), euro[0] as number)),
      ...r.push(euro.subarray(1)),
      ...r.push(enc('d\n')),
      ...r.push(Uint8Array.of(0xe2)), // a lone lead byte, then ASCII: replaced, the ASCII kept
      ...r.push(enc('xy\nz\n')),
    ]
    assert.deepEqual(got, ['abc€d', '\uFFFDxy', 'z'])
  })

  test('an incomplete UTF-8 sequence at the end is replaced, not lost silently', () => {
    const r = new LineReader()
    assert.deepEqual(r.push(Uint8Array.of(0x61, 0xe2, 0x82)), [])
    assert.equal(r.end(), 'a\uFFFD')
  })
})
