/**
 * AES in CBC mode with ciphertext stealing, the Kerberos way (RFC 3962 §5, after RFC 2040 and
 * Schneier's description; NIST SP 800-38A addendum "CBC-CS3"): CBC over the zero-padded input, then
 * the last two ciphertext blocks are swapped and the output truncated to the input length. The swap
 * also happens when the input is a whole number of blocks; a single block is plain CBC. RFC 8009 §5
 * reuses the same mode. Inputs shorter than one block are not defined for CTS and are refused.
 *
 * @module
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { InvalidArgumentError, ProtocolError } from '../../../errors.ts'

/** The AES block size in bytes. */
export const AES_BLOCK_SIZE = 16

const ZERO_IV = new Uint8Array(AES_BLOCK_SIZE)

function algorithm(key: Uint8Array, mode: 'cbc' | 'ecb'): string {
  if (key.length !== 16 && key.length !== 32) {
    throw new InvalidArgumentError(`AES key must be 16 or 32 bytes, got ${key.length}`)
  }
  return `aes-${key.length * 8}-${mode}`
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== AES_BLOCK_SIZE)
    throw new InvalidArgumentError(`AES IV must be 16 bytes, got ${iv.length}`)
}

function cbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = encrypt
    ? createCipheriv(algorithm(key, 'cbc'), key, iv)
    : createDecipheriv(algorithm(key, 'cbc'), key, iv)
  c.setAutoPadding(false)
  const a = c.update(data)
  const b = c.final()
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** Encrypts exactly one 16-byte block with raw AES (ECB on one block). */
export function aesEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  if (block.length !== AES_BLOCK_SIZE) throw new InvalidArgumentError('AES block must be 16 bytes')
  return cbc(true, key, ZERO_IV, block)
}

/**
 * AES-CTS encryption (RFC 3962 §5).
 *
 * @param key 16- or 32-byte AES key
 * @param plaintext at least 16 bytes
 * @param iv initial cipher state (default all-zero, which is what Kerberos uses)
 * @returns ciphertext of the same length as `plaintext`
 */
export function aesCtsEncrypt(key: Uint8Array, plaintext: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  checkIv(iv)
  const n = plaintext.length
  if (n < AES_BLOCK_SIZE) {
    throw new InvalidArgumentError(`AES-CTS input must be at least one block, got ${n} byte(s)`)
  }
  if (n === AES_BLOCK_SIZE) return cbc(true, key, iv, plaintext)
  const blocks = Math.ceil(n / AES_BLOCK_SIZE)
  const padded = new Uint8Array(blocks * AES_BLOCK_SIZE)
  padded.set(plaintext)
  const c = cbc(true, key, iv, padded)
  const lastLen = n - (blocks - 1) * AES_BLOCK_SIZE // 1..16
  const out = new Uint8Array(n)
  const head = (blocks - 2) * AES_BLOCK_SIZE
  out.set(c.subarray(0, head), 0)
  out.set(c.subarray(head + AES_BLOCK_SIZE, head + 2 * AES_BLOCK_SIZE), head) // C_n, whole
  out.set(c.subarray(head, head + lastLen), head + AES_BLOCK_SIZE) // C_{n-1}, truncated
  return out
}

/**
 * AES-CTS decryption (RFC 3962 §5).
 *
 * @param key 16- or 32-byte AES key
 * @param ciphertext at least 16 bytes (a shorter input is a malformed message: `ProtocolError`)
 * @param iv initial cipher state (default all-zero)
 * @returns plaintext of the same length as `ciphertext`
 */
export function aesCtsDecrypt(key: Uint8Array, ciphertext: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  checkIv(iv)
  const n = ciphertext.length
  if (n < AES_BLOCK_SIZE) {
    throw new ProtocolError(`AES-CTS ciphertext must be at least one block, got ${n} byte(s)`)
  }
  if (n === AES_BLOCK_SIZE) return cbc(false, key, iv, ciphertext)
  const blocks = Math.ceil(n / AES_BLOCK_SIZE)
  const lastLen = n - (blocks - 1) * AES_BLOCK_SIZE
  const head = (blocks - 2) * AES_BLOCK_SIZE
  const cn = ciphertext.subarray(head, head + AES_BLOCK_SIZE) // the whole last CBC block
  const cnm1Part = ciphertext.subarray(head + AES_BLOCK_SIZE) // C_{n-1} truncated to lastLen
  // D = AES-decrypt(C_n) = (P_n || 0) xor C_{n-1}; the tail of D past lastLen is the stolen tail of C_{n-1}.
  const d = cbc(false, key, ZERO_IV, cn)
  const full = new Uint8Array(blocks * AES_BLOCK_SIZE)
  full.set(ciphertext.subarray(0, head), 0)
  full.set(cnm1Part, head)
  full.set(d.subarray(lastLen), head + lastLen)
  full.set(cn, head + AES_BLOCK_SIZE)
  return cbc(false, key, iv, full).subarray(0, n)
}
