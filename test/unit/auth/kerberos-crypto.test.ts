/**
 * Kerberos crypto against published vectors (data files under test/vectors/auth/kerberos/):
 * RFC 3961 A.1 n-fold, RFC 3962 Appendix B string-to-key and AES-CTS, RFC 8009 Appendix A
 * string-to-key, key derivation, sample encryptions and checksums; plus round trips, tamper detection
 * and argument checking for every enctype.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { pbkdf2Sync } from 'node:crypto'
import {
  aes128CtsHmacSha196,
  aes128CtsHmacSha256128,
  aes256CtsHmacSha196,
  aes256CtsHmacSha384192,
  aesCtsDecrypt,
  aesCtsEncrypt,
  decrypt,
  encrypt,
  EncType,
  getProfile,
  KeyUsage,
  makeChecksum,
  nfold,
  parseS2kParams,
  principalSalt,
  stringToKey,
  SUPPORTED_ENCTYPES,
  usageConstant,
  verifyChecksum,
  type EncryptionProfile,
  type KerberosKey,
} from '../../../src/auth/kerberos/index.ts'
import { CryptoError, InvalidArgumentError, NotSupportedError, ProtocolError } from '../../../src/errors.ts'
import { fromHex, toHex } from '../../../src/internal/bytes.ts'

const dir = new URL('../../vectors/auth/kerberos/', import.meta.url)
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T
const hex = (s: string): Uint8Array => {
  const b = fromHex(s)
  if (b === undefined) throw new Error(`bad hex in vector: ${s}`)
  return b
}
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const PROFILES: readonly EncryptionProfile[] = [
  aes128CtsHmacSha196,
  aes256CtsHmacSha196,
  aes128CtsHmacSha256128,
  aes256CtsHmacSha384192,
]
/** Deterministic "random" bytes for confounders. */
const counterRandom = (seed: number) => (n: number) =>
  Uint8Array.from({ length: n }, (_, i) => (seed + i * 7) & 0xff)

// ---------------------------------------------------------------------------------------------- n-fold

const nfoldVectors = load<{ vectors: { input: string; bits: number; output: string }[] }>(
  'rfc3961-nfold.json',
)

test('RFC 3961 A.1 n-fold vectors', async (t) => {
  assert.equal(nfoldVectors.vectors.length, 11)
  for (const v of nfoldVectors.vectors) {
    await t.test(`${v.bits}-fold(${JSON.stringify(v.input)})`, () => {
      assert.equal(toHex(nfold(utf8(v.input), v.bits / 8)), v.output)
    })
  }
})

test('n-fold refuses empty input and bad sizes', () => {
  assert.throws(() => nfold(new Uint8Array(0), 8), InvalidArgumentError)
  assert.throws(() => nfold(utf8('x'), 0), InvalidArgumentError)
  assert.throws(() => nfold(utf8('x'), 1.5), InvalidArgumentError)
})

// ---------------------------------------------------------------------------------------------- RFC 3962

interface S2kVector {
  name: string
  iterations: number
  passwordUtf8?: string
  passwordHex?: string
  saltUtf8?: string
  saltHex?: string
  pbkdf2?: string
  aes128: string
  aes256: string
}
const rfc3962 = load<{
  stringToKey: S2kVector[]
  cts: {
    keyHex: string
    ivHex: string
    plaintextUtf8: string
    vectors: { length: number; output: string; nextIv: string }[]
  }
}>('rfc3962.json')

test('RFC 3962 Appendix B string-to-key (aes128 and aes256)', async (t) => {
  assert.equal(rfc3962.stringToKey.length, 7)
  for (const v of rfc3962.stringToKey) {
    await t.test(v.name, () => {
      const password = v.passwordHex !== undefined ? hex(v.passwordHex) : (v.passwordUtf8 as string)
      const salt = v.saltHex !== undefined ? hex(v.saltHex) : (v.saltUtf8 as string)
      if (v.pbkdf2 !== undefined) {
        const p = typeof password === 'string' ? utf8(password) : password
        const s = typeof salt === 'string' ? utf8(salt) : salt
        assert.equal(
          toHex(pbkdf2Sync(p, s, v.iterations, 32, 'sha1')),
          v.pbkdf2,
          'intermediate PBKDF2 output',
        )
      }
      assert.equal(toHex(aes128CtsHmacSha196.stringToKey(password, salt, v.iterations)), v.aes128)
      assert.equal(toHex(aes256CtsHmacSha196.stringToKey(password, salt, v.iterations)), v.aes256)
      // Same through the enctype registry with s2kparams (4-byte big-endian count).
      const params = new Uint8Array(4)
      new DataView(params.buffer).setUint32(0, v.iterations)
      const key = stringToKey(EncType.AES256_CTS_HMAC_SHA1_96, password, salt, params)
      assert.deepEqual(key, { enctype: 18, value: hex(v.aes256) })
    })
  }
})

test('RFC 3962 Appendix B AES-CTS vectors (IV = 0, key = "chicken teriyaki")', async (t) => {
  const key = hex(rfc3962.cts.keyHex)
  assert.equal(new TextDecoder().decode(key), 'chicken teriyaki')
  const iv = hex(rfc3962.cts.ivHex)
  const all = utf8(rfc3962.cts.plaintextUtf8)
  assert.equal(rfc3962.cts.vectors.length, 6)
  for (const v of rfc3962.cts.vectors) {
    await t.test(`${v.length} bytes`, () => {
      const pt = all.subarray(0, v.length)
      const ct = aesCtsEncrypt(key, pt, iv)
      assert.equal(toHex(ct), v.output)
      // The next cipher state is the last whole CBC block, which CTS moves in front of the short one.
      const lastLen = v.length - Math.floor((v.length - 1) / 16) * 16
      assert.equal(toHex(ct.subarray(v.length - lastLen - 16, v.length - lastLen)), v.nextIv)
      assert.deepEqual(aesCtsDecrypt(key, ct, iv), pt)
    })
  }
})

test('AES-CTS: one block is plain CBC; every length from 16 to 80 round-trips for both key sizes', () => {
  const k16 = hex('000102030405060708090a0b0c0d0e0f')
  const k32 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')
  for (const key of [k16, k32]) {
    for (let n = 16; n <= 80; n++) {
      const pt = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff)
      const ct = aesCtsEncrypt(key, pt)
      assert.equal(ct.length, n)
      assert.deepEqual(aesCtsDecrypt(key, ct), pt, `length ${n}`)
    }
  }
  // Exactly one block: no stealing, CBC with IV 0 = raw AES (FIPS-197 Appendix C.1 example vector).
  const one = aesCtsEncrypt(k16, hex('00112233445566778899aabbccddeeff'))
  assert.equal(toHex(one), '69c4e0d86a7b0430d8cdb78070b4c55a')
  assert.equal(toHex(aesCtsDecrypt(k16, one)), '00112233445566778899aabbccddeeff')
})

test('AES-CTS refuses inputs shorter than a block and bad keys/IVs', () => {
  const k = new Uint8Array(16)
  assert.throws(() => aesCtsEncrypt(k, new Uint8Array(15)), InvalidArgumentError)
  assert.throws(() => aesCtsDecrypt(k, new Uint8Array(15)), ProtocolError)
  assert.throws(() => aesCtsEncrypt(new Uint8Array(24), new Uint8Array(16)), InvalidArgumentError)
  assert.throws(() => aesCtsEncrypt(k, new Uint8Array(16), new Uint8Array(8)), InvalidArgumentError)
})

// ---------------------------------------------------------------------------------------------- RFC 8009

const rfc8009 = load<{
  stringToKey: { enctype: number; iterations: number; passwordUtf8: string; saltHex: string; key: string }[]
  keyDerivation: { enctype: number; baseKey: string; usage: number; Kc: string; Ke: string; Ki: string }[]
  encryption: {
    name: string
    enctype: number
    plaintext: string
    confounder: string
    aesOutput: string
    hmac: string
  }[]
  checksums: { enctype: number; checksumType: number; usage: number; plaintext: string; checksum: string }[]
}>('rfc8009.json')
const baseKeyOf = (enctype: number): Uint8Array =>
  hex(rfc8009.keyDerivation.find((k) => k.enctype === enctype)?.baseKey ?? '')

test('RFC 8009 Appendix A string-to-key (PBKDF2-HMAC-SHA256/384, enctype-name salt prefix)', async (t) => {
  for (const v of rfc8009.stringToKey) {
    await t.test(`enctype ${v.enctype}`, () => {
      const p = getProfile(v.enctype)
      assert.equal(p.defaultIterations, 32768)
      assert.equal(toHex(p.stringToKey(v.passwordUtf8, hex(v.saltHex), v.iterations)), v.key)
      // 32768 is the default, so no s2kparams gives the same key.
      assert.equal(toHex(stringToKey(v.enctype, v.passwordUtf8, hex(v.saltHex)).value), v.key)
    })
  }
})

test('RFC 8009 Appendix A key derivation (Kc, Ke, Ki for usage 2)', () => {
  for (const v of rfc8009.keyDerivation) {
    const p = getProfile(v.enctype)
    const base = hex(v.baseKey)
    assert.equal(toHex(p.deriveKey(base, v.usage, 'Kc')), v.Kc)
    assert.equal(toHex(p.deriveKey(base, v.usage, 'Ke')), v.Ke)
    assert.equal(toHex(p.deriveKey(base, v.usage, 'Ki')), v.Ki)
  }
})

test('RFC 8009 Appendix A sample encryptions (given confounders)', async (t) => {
  assert.equal(rfc8009.encryption.length, 8)
  for (const v of rfc8009.encryption) {
    await t.test(v.name, () => {
      const key: KerberosKey = { enctype: v.enctype, value: baseKeyOf(v.enctype) }
      const ct = encrypt(key, 2, hex(v.plaintext), { confounder: hex(v.confounder) })
      assert.equal(toHex(ct), v.aesOutput + v.hmac)
      assert.deepEqual(decrypt(key, 2, ct), hex(v.plaintext))
      assert.equal(ct.length, getProfile(v.enctype).ciphertextLength(hex(v.plaintext).length))
    })
  }
})

test('RFC 8009 Appendix A sample checksums', () => {
  for (const v of rfc8009.checksums) {
    const key: KerberosKey = { enctype: v.enctype, value: baseKeyOf(v.enctype) }
    const c = makeChecksum(key, v.usage, hex(v.plaintext))
    assert.equal(c.checksumType, v.checksumType)
    assert.equal(toHex(c.checksum), v.checksum)
    verifyChecksum(key, v.usage, hex(v.plaintext), c)
  }
})

// ------------------------------------------------------------------------------------ all enctypes

test('encrypt/decrypt round trip, lengths and usage separation for every enctype', () => {
  for (const p of PROFILES) {
    const key: KerberosKey = {
      enctype: p.enctype,
      value: Uint8Array.from({ length: p.keySize }, (_, i) => i),
    }
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000]) {
      const pt = Uint8Array.from({ length: n }, (_, i) => (i * 13) & 0xff)
      const ct = encrypt(key, KeyUsage.AP_REQ_AUTH, pt, { random: counterRandom(n) })
      assert.equal(ct.length, p.confounderSize + n + p.macSize, `${p.name} length ${n}`)
      assert.deepEqual(decrypt(key, KeyUsage.AP_REQ_AUTH, ct), pt)
      // A different usage derives different keys: the integrity check fails.
      assert.throws(() => decrypt(key, KeyUsage.AP_REP_ENC_PART, ct), CryptoError)
    }
  }
})

test('confounders come from the injected random source; fixed confounders are deterministic', () => {
  for (const p of PROFILES) {
    const key = new Uint8Array(p.keySize).fill(7)
    const a = p.encrypt(key, 3, utf8('hello'), { random: counterRandom(1) })
    const b = p.encrypt(key, 3, utf8('hello'), { random: counterRandom(1) })
    const c = p.encrypt(key, 3, utf8('hello'), { random: counterRandom(2) })
    assert.deepEqual(a, b)
    assert.notDeepEqual(a, c)
    const d = p.encrypt(key, 3, utf8('hello'), { confounder: counterRandom(1)(16) })
    assert.deepEqual(a, d)
    // Default randomness: two encryptions differ but both decrypt.
    const e1 = p.encrypt(key, 3, utf8('hello'))
    const e2 = p.encrypt(key, 3, utf8('hello'))
    assert.notDeepEqual(e1, e2)
    assert.deepEqual(p.decrypt(key, 3, e2), utf8('hello'))
    assert.throws(() => p.encrypt(key, 3, utf8('x'), { confounder: new Uint8Array(8) }), InvalidArgumentError)
    assert.throws(
      () => p.encrypt(key, 3, utf8('x'), { random: () => new Uint8Array(3) }),
      InvalidArgumentError,
    )
  }
})

test('tampering with any byte of the ciphertext is detected (CryptoError)', () => {
  for (const p of PROFILES) {
    const key = Uint8Array.from({ length: p.keySize }, (_, i) => 255 - i)
    const ct = p.encrypt(key, 11, utf8('the authenticator'), { random: counterRandom(9) })
    for (let i = 0; i < ct.length; i++) {
      const bad = ct.slice()
      bad[i] = (bad[i] as number) ^ 0x01
      assert.throws(() => p.decrypt(key, 11, bad), CryptoError, `${p.name} byte ${i}`)
    }
    // Truncations: still long enough → CryptoError, too short → ProtocolError.
    assert.throws(() => p.decrypt(key, 11, ct.subarray(0, ct.length - 1)), CryptoError)
    assert.throws(() => p.decrypt(key, 11, ct.subarray(0, p.confounderSize + p.macSize - 1)), ProtocolError)
    // Wrong key.
    const other = key.slice()
    other[0] = (other[0] as number) ^ 0x80
    assert.throws(() => p.decrypt(other, 11, ct), CryptoError)
  }
})

test('checksums: lengths, verification, tampering and checksum-type mismatch', () => {
  for (const p of PROFILES) {
    const key: KerberosKey = { enctype: p.enctype, value: new Uint8Array(p.keySize).fill(3) }
    const data = utf8('KRB-SAFE body')
    const c = makeChecksum(key, KeyUsage.KRB_SAFE_CKSUM, data)
    assert.equal(c.checksum.length, p.macSize)
    verifyChecksum(key, KeyUsage.KRB_SAFE_CKSUM, data, c)
    assert.throws(() => verifyChecksum(key, KeyUsage.KRB_SAFE_CKSUM, utf8('KRB-SAFE bodY'), c), CryptoError)
    assert.throws(() => verifyChecksum(key, KeyUsage.AP_REQ_AUTH_CKSUM, data, c), CryptoError)
    assert.throws(
      () => verifyChecksum(key, KeyUsage.KRB_SAFE_CKSUM, data, { ...c, checksumType: 1 }),
      CryptoError,
    )
    assert.throws(
      () => verifyChecksum(key, KeyUsage.KRB_SAFE_CKSUM, data, { ...c, checksum: c.checksum.subarray(1) }),
      CryptoError,
    )
  }
})

test('RFC 3962 DK: the usage constant is n-folded; derived keys differ per kind and usage', () => {
  assert.equal(toHex(usageConstant(2, 'Kc')), '0000000299')
  assert.equal(toHex(usageConstant(24, 'Ke')), '00000018aa')
  assert.equal(toHex(usageConstant(0xffffffff, 'Ki')), 'ffffffff55')
  assert.throws(() => usageConstant(-1, 'Kc'), InvalidArgumentError)
  for (const p of [aes128CtsHmacSha196, aes256CtsHmacSha196]) {
    const base = new Uint8Array(p.keySize).fill(1)
    const keys = new Set<string>()
    for (const usage of [1, 2, 3, 22, 24]) {
      for (const kind of ['Kc', 'Ke', 'Ki'] as const) keys.add(toHex(p.deriveKey(base, usage, kind)))
    }
    assert.equal(keys.size, 15)
    assert.equal(p.deriveKey(base, 2, 'Ke').length, p.keySize)
  }
})

test('enctype registry, key-length checks, defaults and s2kparams', () => {
  assert.deepEqual([...SUPPORTED_ENCTYPES].sort(), [17, 18, 19, 20])
  assert.equal(getProfile(17).name, 'aes128-cts-hmac-sha1-96')
  assert.equal(getProfile(18).macSize, 12)
  assert.equal(getProfile(19).macSize, 16)
  assert.equal(getProfile(20).macSize, 24)
  assert.equal(getProfile(17).defaultIterations, 4096)
  assert.throws(() => getProfile(23), NotSupportedError)
  assert.throws(
    () => encrypt({ enctype: 18, value: new Uint8Array(16) }, 1, new Uint8Array(1)),
    InvalidArgumentError,
  )
  assert.equal(parseS2kParams(undefined), undefined)
  assert.equal(parseS2kParams(new Uint8Array(0)), undefined)
  assert.equal(parseS2kParams(hex('00001000')), 4096)
  assert.throws(() => parseS2kParams(hex('001000')), ProtocolError)
  // Count 0 means 2^32 in RFC 3962; counts above MIT's 2^24 limit are refused before any work.
  assert.throws(() => stringToKey(18, 'pw', 'salt', hex('00000000')), InvalidArgumentError)
  assert.throws(() => stringToKey(18, 'pw', 'salt', hex('01000001')), InvalidArgumentError)
  assert.equal(principalSalt('ATHENA.MIT.EDU', ['raeburn']), 'ATHENA.MIT.EDUraeburn')
  assert.equal(principalSalt('LAB.TEST', ['HTTP', 'localhost']), 'LAB.TESTHTTPlocalhost')
  // Default iteration count for AES-SHA1 is 4096: no params = explicit 00001000.
  assert.deepEqual(stringToKey(17, 'pw', 'salt'), stringToKey(17, 'pw', 'salt', hex('00001000')))
  // Strings are UTF-8: a string and its bytes give the same key.
  assert.deepEqual(
    aes128CtsHmacSha196.stringToKey('pässwörd', 'REALMuser', 2),
    aes128CtsHmacSha196.stringToKey(utf8('pässwörd'), utf8('REALMuser'), 2),
  )
})
