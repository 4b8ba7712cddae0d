/**
 * The n-fold function of RFC 3961 §5.1: stretches or shrinks a byte string to `n` bits by
 * concatenating copies of it, each rotated right by 13 bits more than the previous, until the length
 * is lcm(n, input bits), then adding the n-bit blocks with one's-complement (end-around carry)
 * addition. Used by the simplified profile's DK/DR to turn a key-usage constant into a cipher block.
 *
 * @module
 */
import { InvalidArgumentError } from '../../../errors.ts'

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/**
 * RFC 3961 §5.1 n-fold.
 *
 * @param input the string to fold (at least one byte)
 * @param outputBytes the output size in bytes (`n / 8`; Kerberos only folds to whole bytes)
 * @returns `outputBytes` bytes
 */
export function nfold(input: Uint8Array, outputBytes: number): Uint8Array {
  if (input.length === 0) throw new InvalidArgumentError('n-fold: input must not be empty')
  if (!Number.isInteger(outputBytes) || outputBytes <= 0) {
    throw new InvalidArgumentError(`n-fold: bad output size ${outputBytes}`)
  }
  const inBytes = input.length
  const inBits = inBytes * 8
  const total = (inBytes * outputBytes) / gcd(inBytes, outputBytes) // lcm, in bytes
  const sum = new Uint8Array(outputBytes)
  const block = new Uint8Array(outputBytes)
  // Walk the concatenated string of `total` bytes, one output-sized block at a time.
  for (let start = 0; start < total; start += outputBytes) {
    for (let k = 0; k < outputBytes; k++) {
      const pos = start + k // byte position in the concatenation
      const copy = Math.floor(pos / inBytes) // which rotated copy it falls in
      const rot = (13 * copy) % inBits // that copy is the input rotated right by `rot` bits
      const byteInCopy = pos % inBytes
      let value = 0
      for (let b = 0; b < 8; b++) {
        // Rotating right by `rot`: output bit p comes from input bit p - rot (mod inBits); bit 0 is the MSB.
        const src = (byteInCopy * 8 + b - rot + inBits) % inBits
        const bit = ((input[src >> 3] as number) >> (7 - (src & 7))) & 1
        value |= bit << (7 - b)
      }
      block[k] = value
    }
    // One's-complement addition: add big-endian, then wrap any carry back into the low end.
    let carry = 0
    for (let k = outputBytes - 1; k >= 0; k--) {
      const s = (sum[k] as number) + (block[k] as number) + carry
      sum[k] = s & 0xff
      carry = s >> 8
    }
    while (carry !== 0) {
      for (let k = outputBytes - 1; k >= 0 && carry !== 0; k--) {
        const s = (sum[k] as number) + carry
        sum[k] = s & 0xff
        carry = s >> 8
      }
    }
  }
  return sum
}
