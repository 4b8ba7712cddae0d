/**
 * MD4 (RFC 1320): the appendix A.5 test suite and padding-boundary lengths (0–130, 1000, 4096,
 * 65537 bytes) whose digests were computed with OpenSSL's legacy provider.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { md4 } from '../../../src/auth/crypto/md4.ts'
import { toHex } from '../../../src/internal/bytes.ts'

interface Md4Vectors {
  rfc1320: [string, string][]
  pattern: { length: number; digest: string }[]
}
const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/auth/ntlm/md4.json', import.meta.url), 'utf8'),
) as Md4Vectors

test('MD4 RFC 1320 test suite', () => {
  assert.equal(vectors.rfc1320.length, 7)
  for (const [input, digest] of vectors.rfc1320) {
    assert.equal(toHex(md4(new TextEncoder().encode(input))), digest, `MD4(${JSON.stringify(input)})`)
  }
})

test('MD4 padding boundaries match OpenSSL', () => {
  for (const { length, digest } of vectors.pattern) {
    const data = Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff)
    assert.equal(toHex(md4(data)), digest, `length ${length}`)
  }
})

test('MD4 respects the byte offset of a subarray and does not modify its input', () => {
  const backing = new TextEncoder().encode('xxabcxx')
  const view = backing.subarray(2, 5)
  assert.equal(toHex(md4(view)), 'a448017aaf21d8525fc10ae87aa6729d')
  assert.equal(new TextDecoder().decode(backing), 'xxabcxx')
})
