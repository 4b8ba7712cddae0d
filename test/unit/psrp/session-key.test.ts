/**
 * Session key exchange and SecureString ciphers: byte-exact PUBLICKEYBLOB, SIMPLEBLOB decryption,
 * AES-256-CBC, the protocol 2.4 plaintext form, and the recorded Windows vectors (pypsrp's fixed
 * RSA key decrypts the recorded ENCRYPTED_SESSION_KEY, whose AES key decrypts the recorded `<SS>`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto'
import {
  AesSessionCipher,
  Defragmenter,
  decodeMessage,
  decodeMessageBody,
  decryptSessionKey,
  encodePublicKeyBlob,
  plaintextSecureStringCipher,
} from '../../../src/psrp/index.ts'
import { deserialize, PSSecureString, serialize } from '../../../src/clixml/index.ts'
import { CryptoError, ProtocolError } from '../../../src/errors.ts'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import { readRecording, requestPayloads, responsePayloads } from '../../helpers/recordings.ts'
import { serverEncryptSessionKey } from '../../helpers/psrp-server.ts'

const corpus = corpusDir()
const keyPem = corpus === undefined ? undefined : join(corpus, 'pypsrp/derived/pypsrp_test_rsa_key.pem')
const responses = corpus === undefined ? undefined : join(corpus, 'pypsrp/tests/tests_pypsrp/responses')
const skip = peerSkip(
  'recorded corpus',
  keyPem !== undefined && existsSync(keyPem) && responses !== undefined && existsSync(responses),
  'put the shared folder beside the checkout (../shared/corpus)',
)

/** Every decoded PSRP message of a recording, client's and server's. */
function recordedMessages(
  file: string,
): { from: 'client' | 'server'; type: string; data: string; fields: unknown }[] {
  const c = new Defragmenter()
  const s = new Defragmenter()
  const out: { from: 'client' | 'server'; type: string; data: string; fields: unknown }[] = []
  for (const ex of readRecording(join(responses as string, file))) {
    for (const [from, d, payloads] of [
      ['client', c, requestPayloads(ex.request)],
      ['server', s, responsePayloads(ex.response ?? '')],
    ] as const) {
      for (const p of payloads) {
        for (const raw of d.push(Buffer.from(p, 'base64'))) {
          const m = decodeMessage(raw)
          const decoded = decodeMessageBody(m.type, m.data)
          out.push({ from, type: decoded.type, data: m.data, fields: decoded.fields })
        }
      }
    }
  }
  return out
}

function only<T>(xs: T[], what: string): T {
  assert.equal(xs.length, 1, `expected one ${what}, found ${xs.length}`)
  return xs[0] as T
}

const utf16 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'))
const fromUtf16 = (b: Uint8Array): string => Buffer.from(b).toString('utf16le')

test(
  'corpus: the PUBLICKEYBLOB of pypsrp’s fixed key equals the recorded PUBLIC_KEY byte for byte',
  { skip },
  () => {
    const priv = createPrivateKey(readFileSync(keyPem as string, 'utf8'))
    const msgs = recordedMessages('test_psrp_multiple_commands.yml')
    const pub = only(
      msgs.filter((m) => m.type === 'PUBLIC_KEY'),
      'PUBLIC_KEY',
    )
    assert.equal(pub.from, 'client')
    const blob = encodePublicKeyBlob(createPublicKey(priv))
    assert.equal(blob, (pub.fields as { publicKey: string }).publicKey)
    const bytes = Buffer.from(blob, 'base64')
    assert.equal(bytes.length, 20 + 256)
    assert.deepEqual(
      [...bytes.subarray(0, 20)],
      [6, 2, 0, 0, 0, 0xa4, 0, 0, 0x52, 0x53, 0x41, 0x31, 0, 8, 0, 0, 1, 0, 1, 0],
    )
  },
)

test(
  'corpus: the recorded ENCRYPTED_SESSION_KEY decrypts to the AES key that decrypts the recorded SecureStrings',
  { skip },
  () => {
    const priv = createPrivateKey(readFileSync(keyPem as string, 'utf8'))
    const cases = [
      {
        file: 'test_psrp_multiple_commands.yml',
        key: '6d4a21e2b04dcaf4454df18779e72b1ea0fa85fd3817d067e174e4edb3326acd',
        secrets: ['Hello World', 'abc'],
      },
      {
        file: 'test_psrp_pshost_ui_mocked_methods.yml',
        key: '4679c0b8af0da74384a756d80ad4116ac19159ac86e172aff08a3e6fa65ed9f2',
        secrets: ['ReadLineAsSecureString response', 'password'],
      },
    ]
    for (const c of cases) {
      const msgs = recordedMessages(c.file)
      const esk = only(
        msgs.filter((m) => m.type === 'ENCRYPTED_SESSION_KEY'),
        'ENCRYPTED_SESSION_KEY',
      )
      assert.equal(esk.from, 'server')
      const key = decryptSessionKey(priv, (esk.fields as { encryptedSessionKey: string }).encryptedSessionKey)
      assert.equal(Buffer.from(key).toString('hex'), c.key, c.file)
      // every <SS> in the recording (client and server side) decrypts through the CLIXML layer
      const cipher = new AesSessionCipher(key)
      const found = new Set<string>()
      for (const m of msgs) {
        if (!m.data.includes('<SS')) continue
        const walk = (v: unknown): void => {
          assert.ok(v instanceof PSSecureString)
          found.add(v.reveal())
        }
        for (const ss of m.data.matchAll(/<SS[^>]*>([^<]*)<\/SS>/g)) {
          const value = deserialize(`<SS>${ss[1]}</SS>`, { cipher })
          walk(value)
        }
      }
      assert.deepEqual([...found].sort(), [...c.secrets].sort(), c.file)
    }
  },
)

test(
  'corpus: the recorded CREATE_PIPELINE with a SecureString argument decodes with the session key',
  { skip },
  () => {
    const priv = createPrivateKey(readFileSync(keyPem as string, 'utf8'))
    const msgs = recordedMessages('test_psrp_multiple_commands.yml')
    const esk = only(
      msgs.filter((m) => m.type === 'ENCRYPTED_SESSION_KEY'),
      'ENCRYPTED_SESSION_KEY',
    )
    const cipher = new AesSessionCipher(
      decryptSessionKey(priv, (esk.fields as { encryptedSessionKey: string }).encryptedSessionKey),
    )
    const create = msgs.find((m) => m.type === 'CREATE_PIPELINE' && m.data.includes('<SS'))
    assert.ok(create !== undefined)
    const decoded = decodeMessageBody(0x00021006, create.data, { cipher })
    assert.equal(decoded.type, 'CREATE_PIPELINE')
    const values = decoded.fields.statements.flat().flatMap((c) => c.args.map((a) => a.value))
    const secure = values.filter((v): v is PSSecureString => v instanceof PSSecureString)
    assert.ok(secure.length >= 1)
    assert.equal(secure[0]?.reveal(), 'Hello World')
  },
)

test('SIMPLEBLOB decryption works on Node 20, which refuses RSA_PKCS1_PADDING for private decryption', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i)
  // an independent PKCS#1 v1.5 encryption (OpenSSL's random padding), wrapped in a SIMPLEBLOB by hand
  const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, key)
  const blob = Buffer.concat([
    Buffer.from([1, 2, 0, 0, 0x10, 0x66, 0, 0, 0, 0xa4, 0, 0]),
    Buffer.from(ct).reverse(),
  ])
  assert.deepEqual(decryptSessionKey(privateKey, blob.toString('base64')), key)
  if (process.versions.node.startsWith('20.')) {
    // CVE-2023-46809: documents why session-key.ts decrypts with RSA_NO_PADDING and unpads itself
    assert.throws(() => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, ct))
  }
})

test('PUBLICKEYBLOB: layout for a fresh 2048-bit key; modulus little-endian; exponent 65537', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const bytes = Buffer.from(encodePublicKeyBlob(publicKey), 'base64')
  assert.equal(bytes.length, 276)
  assert.equal(bytes[0], 0x06)
  assert.equal(bytes[1], 0x02)
  assert.equal(bytes.readUInt16LE(2), 0)
  assert.equal(bytes.readUInt32LE(4), 0xa400)
  assert.equal(bytes.readUInt32LE(8), 0x31415352)
  assert.equal(bytes.readUInt32LE(12), 2048)
  assert.equal(bytes.readUInt32LE(16), 65537)
  const jwk = publicKey.export({ format: 'jwk' })
  assert.deepEqual(Buffer.from(bytes.subarray(20)).reverse(), Buffer.from(jwk.n as string, 'base64url'))
})

test('key exchange round trip: server encrypts for our PUBLICKEYBLOB, we decrypt the same 32 bytes', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  for (const fill of [0x00, 0x5a, 0xff]) {
    const key = new Uint8Array(32).fill(fill)
    key[31] = 7
    const esk = serverEncryptSessionKey(encodePublicKeyBlob(publicKey), key)
    assert.deepEqual(decryptSessionKey(privateKey, esk), key)
  }
})

test('ENCRYPTED_SESSION_KEY: malformed blobs are ProtocolErrors, undecryptable ones CryptoErrors', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const good = serverEncryptSessionKey(encodePublicKeyBlob(publicKey), new Uint8Array(32).fill(9))
  const bytes = Buffer.from(good, 'base64')
  // not base64 / too short
  assert.throws(() => decryptSessionKey(privateKey, '!!!'), ProtocolError)
  assert.throws(
    () => decryptSessionKey(privateKey, Buffer.from([1, 2, 0, 0]).toString('base64')),
    ProtocolError,
  )
  // wrong blob type, version, ALG_IDs
  for (const [offset, value] of [
    [0, 0x06],
    [1, 0x03],
    [4, 0x0f],
    [9, 0x00],
  ] as const) {
    const b = Buffer.from(bytes)
    b[offset] = value
    assert.throws(() => decryptSessionKey(privateKey, b.toString('base64')), ProtocolError, `byte ${offset}`)
  }
  // wrong private key: the padding check fails
  assert.throws(() => decryptSessionKey(other.privateKey, good), CryptoError)
  // flipped ciphertext bit
  const flipped = Buffer.from(bytes)
  flipped[100] = (flipped[100] as number) ^ 0x01
  assert.throws(() => decryptSessionKey(privateKey, flipped.toString('base64')), CryptoError)
  // ciphertext of the wrong length
  assert.throws(() => decryptSessionKey(privateKey, bytes.subarray(0, 200).toString('base64')), CryptoError)
})

test('ENCRYPTED_SESSION_KEY: a key that is not 32 bytes is refused', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const blob = encodePublicKeyBlob(publicKey)
  for (const len of [16, 24, 31, 33]) {
    const esk = serverEncryptSessionKey(blob, new Uint8Array(len).fill(3))
    assert.throws(() => decryptSessionKey(privateKey, esk), CryptoError, `length ${len}`)
  }
})

test('AesSessionCipher: AES-256-CBC, zero IV, PKCS7 (checked against an independent computation)', async () => {
  const key = Uint8Array.from({ length: 32 }, (_, i) => i)
  const cipher = new AesSessionCipher(key)
  const { createCipheriv } = await import('node:crypto')
  for (const text of [
    '',
    'a',
    'abcdefgh',
    'exactly 16 bytes'.slice(0, 8),
    'päss wörd 🔑',
    'x'.repeat(1000),
  ]) {
    const plain = utf16(text)
    const ct = cipher.encrypt(plain)
    assert.equal(ct.length % 16, 0)
    assert.equal(ct.length, (Math.floor(plain.length / 16) + 1) * 16, 'PKCS7 always pads')
    const c = createCipheriv('aes-256-cbc', key, Buffer.alloc(16))
    assert.deepEqual(Buffer.from(ct), Buffer.concat([c.update(plain), c.final()]))
    assert.equal(fromUtf16(cipher.decrypt(ct)), text)
  }
  // recorded value: 'abc' under the key of test_psrp_multiple_commands
  const rec = new AesSessionCipher(
    Buffer.from('6d4a21e2b04dcaf4454df18779e72b1ea0fa85fd3817d067e174e4edb3326acd', 'hex'),
  )
  assert.equal(Buffer.from(rec.encrypt(utf16('abc'))).toString('base64'), 'rTm4n3bxaFOIgdjhDDV5OA==')
  assert.equal(fromUtf16(rec.decrypt(Buffer.from('rTm4n3bxaFOIgdjhDDV5OA==', 'base64'))), 'abc')
})

test('AesSessionCipher: bad key length, bad ciphertext length and bad padding are CryptoErrors', () => {
  assert.throws(() => new AesSessionCipher(new Uint8Array(16)), CryptoError)
  assert.throws(() => new AesSessionCipher(new Uint8Array(33)), CryptoError)
  const c = new AesSessionCipher(new Uint8Array(32).fill(1))
  assert.throws(() => c.decrypt(new Uint8Array(15)), CryptoError)
  const other = new AesSessionCipher(new Uint8Array(32).fill(2))
  // decrypting with the wrong key almost always breaks the padding; find a case where it does
  let failures = 0
  for (let i = 0; i < 8; i++) {
    try {
      c.decrypt(other.encrypt(utf16(`secret ${i}`)))
    } catch (e) {
      assert.ok(e instanceof CryptoError)
      failures++
    }
  }
  assert.ok(failures >= 6)
  // the key is copied: changing the caller's array does not change the cipher
  const key = new Uint8Array(32).fill(4)
  const k = new AesSessionCipher(key)
  const ct = k.encrypt(utf16('abc'))
  key.fill(5)
  assert.equal(fromUtf16(k.decrypt(ct)), 'abc')
})

test('protocol 2.4: <SS> is base64 of the UTF-16LE text (plaintext cipher is the identity)', () => {
  const plain = utf16('p@ss')
  assert.equal(plaintextSecureStringCipher.encrypt(plain), plain)
  assert.equal(plaintextSecureStringCipher.decrypt(plain), plain)
  const xml = serialize(new PSSecureString('p@ss'), { cipher: plaintextSecureStringCipher })
  assert.equal(xml, `<SS>${Buffer.from('p@ss', 'utf16le').toString('base64')}</SS>`)
  const back = deserialize(xml, { cipher: plaintextSecureStringCipher })
  assert.ok(back instanceof PSSecureString)
  assert.equal(back.reveal(), 'p@ss')
})

test('SecureString through the AES cipher: serialize, then deserialize with the same key only', () => {
  const cipher = new AesSessionCipher(new Uint8Array(32).fill(0x42))
  const xml = serialize(new PSSecureString('top secret'), { cipher })
  assert.ok(!xml.includes(Buffer.from('top secret', 'utf16le').toString('base64')))
  const back = deserialize(xml, { cipher })
  assert.ok(back instanceof PSSecureString)
  assert.equal(back.reveal(), 'top secret')
  const noKey = deserialize(xml)
  assert.ok(noKey instanceof PSSecureString)
  assert.equal(noKey.hasPlaintext, false)
})
