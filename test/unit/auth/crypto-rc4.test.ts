/**
 * RC4: RFC 6229 keystream vectors (40- and 128-bit keys, offsets up to 4096), classic plaintext
 * vectors, statefulness across `update` calls, and that state never shows in `util.inspect`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { Rc4, rc4 } from '../../../src/auth/crypto/rc4.ts'
import { fromHex, toHex } from '../../../src/internal/bytes.ts'

interface Rc4Vectors {
  keystreams: { key: string; offsets: Record<string, string> }[]
  plaintexts: { key: string; plaintext: string; ciphertext: string }[]
}
const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/auth/ntlm/rc4.json', import.meta.url), 'utf8'),
) as Rc4Vectors
const hex = (s: string): Uint8Array => fromHex(s) ?? assert.fail(`bad hex ${s}`)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

test('RC4 RFC 6229 keystreams', () => {
  for (const { key, offsets } of vectors.keystreams) {
    const stream = rc4(hex(key), new Uint8Array(4112))
    for (const [offset, expected] of Object.entries(offsets)) {
      const at = Number(offset)
      assert.equal(toHex(stream.subarray(at, at + 16)), expected, `key ${key} offset ${offset}`)
    }
  }
})

test('RC4 classic plaintext vectors, and decryption is the same operation', () => {
  for (const { key, plaintext, ciphertext } of vectors.plaintexts) {
    assert.equal(toHex(rc4(text(key), text(plaintext))), ciphertext)
    assert.deepEqual(rc4(text(key), hex(ciphertext)), text(plaintext))
  }
})

test('Rc4 keeps its keystream across update calls', () => {
  const key = hex('0102030405')
  const whole = rc4(key, new Uint8Array(300))
  const handle = new Rc4(key)
  const parts = [
    handle.update(new Uint8Array(1)),
    handle.update(new Uint8Array(0)),
    handle.update(new Uint8Array(299)),
  ]
  assert.equal(toHex(Uint8Array.from(parts.flatMap((p) => [...p]))), toHex(whole))
})

test('Rc4 rejects empty and oversized keys, and hides its state', () => {
  assert.throws(() => new Rc4(new Uint8Array(0)), RangeError)
  assert.throws(() => new Rc4(new Uint8Array(257)), RangeError)
  const handle = new Rc4(text('secret key'))
  assert.doesNotMatch(inspect(handle, { showHidden: true, depth: 10 }), /secret|\d{2,}/)
})
