/**
 * RC4 stream cipher (the "ARCFOUR" algorithm; keystream vectors in RFC 6229). NTLM uses it for the
 * encrypted random session key (`RC4K`, MS-NLMP 3.4.5.1 … 6.) and for sealing, where one keystream
 * continues across messages (MS-NLMP 3.4.3: the handle is initialised once per direction), so
 * {@link Rc4} is a stateful object. Node's OpenSSL 3 build refuses `rc4` without the legacy provider.
 * RC4 is broken as a general-purpose cipher; use it only where a protocol mandates it.
 *
 * @module
 */

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** A stateful RC4 keystream: every {@link Rc4.update} continues where the previous one stopped. */
export class Rc4 {
  readonly #s = new Uint8Array(256)
  #i = 0
  #j = 0

  /** @param key 1 to 256 key bytes */
  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) throw new RangeError('RC4 key must be 1 to 256 bytes')
    const s = this.#s
    for (let i = 0; i < 256; i++) s[i] = i
    let j = 0
    for (let i = 0; i < 256; i++) {
      const si = s[i] as number
      j = (j + si + (key[i % key.length] as number)) & 0xff
      s[i] = s[j] as number
      s[j] = si
    }
  }

  /**
   * XORs `data` with the next `data.length` keystream bytes (encryption and decryption are the same).
   *
   * @returns a new array; `data` is not modified
   */
  update(data: Uint8Array): Uint8Array {
    const s = this.#s
    const out = new Uint8Array(data.length)
    let i = this.#i
    let j = this.#j
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff
      const si = s[i] as number
      j = (j + si) & 0xff
      const sj = s[j] as number
      s[i] = sj
      s[j] = si
      out[n] = (data[n] as number) ^ (s[(si + sj) & 0xff] as number)
    }
    this.#i = i
    this.#j = j
    return out
  }

  /** Never shows the key state. */
  [INSPECT](): string {
    return 'Rc4 { <keystream state hidden> }'
  }
}

/**
 * One-shot RC4 with a fresh key schedule (`RC4K(key, data)` in MS-NLMP).
 *
 * @returns a new array
 */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Rc4(key).update(data)
}
