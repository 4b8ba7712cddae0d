/**
 * MD4 message digest (RFC 1320), needed for the NTLM one-way function `NTOWF` (MS-NLMP 3.3.1/3.3.2).
 * Node's OpenSSL 3 build refuses `createHash('md4')` without the legacy provider, so it lives here.
 * MD4 is broken as a general-purpose hash; use it only where a protocol mandates it.
 *
 * @module
 */

const INIT = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476] as const

/** Round 2 and 3 additive constants (RFC 1320 section 3.4). */
const K2 = 0x5a827999
const K3 = 0x6ed9eba1

/** Word order of round 3. */
const ORDER3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15] as const

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n))
}

/**
 * The 16-byte MD4 digest of `data` (RFC 1320).
 *
 * @param data the message
 * @returns a new 16-byte array
 */
export function md4(data: Uint8Array): Uint8Array {
  // Padding: 0x80, zeros to 56 mod 64, then the bit length as a 64-bit little-endian integer.
  const blocks = Math.floor((data.length + 8) / 64) + 1
  const padded = new Uint8Array(blocks * 64)
  padded.set(data)
  padded[data.length] = 0x80
  const view = new DataView(padded.buffer)
  view.setUint32(padded.length - 8, (data.length * 8) >>> 0, true)
  view.setUint32(padded.length - 4, Math.floor(data.length / 0x20000000), true)

  let [a, b, c, d] = INIT as readonly number[] as [number, number, number, number]
  const x = new Uint32Array(16)
  for (let block = 0; block < blocks; block++) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(block * 64 + i * 4, true)
    const aa = a
    const bb = b
    const cc = c
    const dd = d
    // Round 1: F(x,y,z) = xy | ~x z; shifts 3 7 11 19.
    for (let i = 0; i < 16; i++) {
      const f = (b & c) | (~b & d)
      const t = rotl((a + f + (x[i] as number)) | 0, [3, 7, 11, 19][i % 4] as number)
      a = d
      d = c
      c = b
      b = t
    }
    // Round 2: G(x,y,z) = xy | xz | yz; words by column; shifts 3 5 9 13.
    for (let i = 0; i < 16; i++) {
      const g = (b & c) | (b & d) | (c & d)
      const k = (i % 4) * 4 + Math.floor(i / 4)
      const t = rotl((a + g + (x[k] as number) + K2) | 0, [3, 5, 9, 13][i % 4] as number)
      a = d
      d = c
      c = b
      b = t
    }
    // Round 3: H(x,y,z) = x ^ y ^ z; bit-reversed word order; shifts 3 9 11 15.
    for (let i = 0; i < 16; i++) {
      const h = b ^ c ^ d
      const t = rotl((a + h + (x[ORDER3[i] as number] as number) + K3) | 0, [3, 9, 11, 15][i % 4] as number)
      a = d
      d = c
      c = b
      b = t
    }
    a = (a + aa) | 0
    b = (b + bb) | 0
    c = (c + cc) | 0
    d = (d + dd) | 0
  }
  const out = new Uint8Array(16)
  const outView = new DataView(out.buffer)
  outView.setInt32(0, a, true)
  outView.setInt32(4, b, true)
  outView.setInt32(8, c, true)
  outView.setInt32(12, d, true)
  return out
}
