/**
 * RFC 4121 Wrap and MIC tokens and the WinRM layout (notes/auth.md §1.4): header codec, round trips
 * for every enctype with EC 0 / 16 / odd and RRC 0 / 28 / other (including rotations longer than the
 * token), both rotation rules (RFC 4121 RRC and Windows RRC + EC), byte-exact layout checks against an
 * independent construction, tamper detection on every byte, direction / sequence / flag checks, and
 * malformed tokens.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  encodeWrapHeader,
  getMic,
  getProfile,
  KeyUsage,
  parseMicHeader,
  parseWrapHeader,
  rotateLeft,
  rotateRight,
  SUPPORTED_ENCTYPES,
  TokenFlags,
  unwrap,
  unwrapWinRM,
  verifyMic,
  wrap,
  wrapWinRM,
  type KerberosKey,
} from '../../../src/auth/kerberos/index.ts'
import {
  CryptoError,
  InvalidArgumentError,
  NotSupportedError,
  ProtocolError,
  PsrpError,
} from '../../../src/errors.ts'
import { concatBytes, fromHex, toHex } from '../../../src/internal/bytes.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const hex = (s: string): Uint8Array => fromHex(s) as Uint8Array
const keyFor = (enctype: number): KerberosKey => {
  const size = getProfile(enctype).keySize
  return { enctype, value: Uint8Array.from({ length: size }, (_, i) => (i * 17 + enctype) & 0xff) }
}
const KEYS = SUPPORTED_ENCTYPES.map(keyFor)
const AES256_SHA1 = keyFor(18)
const CONF = hex('0f0e0d0c0b0a09080706050403020100')
const BODY = utf8('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">…</s:Envelope>')

test('Wrap header codec: the MIT lab sample header parses; encode is its inverse', () => {
  // notes/auth.md §1.4: header of an MIT initiator gss_wrap_iov token (Sealed|AcceptorSubkey, RRC 28).
  const sample = hex('050406ff0000001c0000000006e9d0a8')
  const h = parseWrapHeader(sample)
  assert.deepEqual(h, {
    flags: 0x06,
    sentByAcceptor: false,
    sealed: true,
    acceptorSubkey: true,
    ec: 0,
    rrc: 28,
    sequenceNumber: 0x06e9d0a8n,
  })
  assert.deepEqual(encodeWrapHeader(h), sample)
  const server = parseWrapHeader(hex('050407ff0000001c0000000000000001'))
  assert.equal(server.sentByAcceptor, true)
  // 64-bit sequence numbers beyond 2^53 survive.
  const big = encodeWrapHeader({ flags: 2, ec: 16, rrc: 28, sequenceNumber: 0xfedcba9876543210n })
  assert.equal(toHex(big), '050402ff0010001cfedcba9876543210')
  assert.equal(parseWrapHeader(big).sequenceNumber, 0xfedcba9876543210n)
  assert.throws(() => encodeWrapHeader({ flags: 2, ec: 0, rrc: 0, sequenceNumber: -1 }), InvalidArgumentError)
  assert.throws(
    () => encodeWrapHeader({ flags: 2, ec: 0, rrc: 0, sequenceNumber: 1n << 64n }),
    InvalidArgumentError,
  )
  assert.throws(
    () => encodeWrapHeader({ flags: 2, ec: 65536, rrc: 0, sequenceNumber: 0 }),
    InvalidArgumentError,
  )
  assert.throws(
    () => encodeWrapHeader({ flags: 2, ec: 0, rrc: 0, sequenceNumber: 2 ** 60 }),
    InvalidArgumentError,
  )
})

test('malformed Wrap and MIC tokens are ProtocolErrors', () => {
  assert.throws(() => parseWrapHeader(hex('050406ff0000001c00000000')), ProtocolError)
  assert.throws(() => parseWrapHeader(hex('040406ff0000001c0000000000000000')), ProtocolError)
  assert.throws(() => parseWrapHeader(hex('050406fe0000001c0000000000000000')), ProtocolError)
  assert.throws(() => parseMicHeader(hex('040404ffffffff000000000000000000')), ProtocolError)
  assert.throws(() => parseMicHeader(hex('050404ffffffffff0000000000000000')), ProtocolError)
  assert.throws(() => parseMicHeader(hex('0404')), ProtocolError)
  const k = AES256_SHA1
  const opts = { sentByAcceptor: false } as const
  // Sealed token whose body is too short to hold confounder + MAC.
  assert.throws(() => unwrap(k, hex('050406ff0000000000000000000000010102030405'), opts), ProtocolError)
  // Integrity-only token whose EC is not the checksum length.
  assert.throws(
    () => unwrap(k, concatBytes([hex('050404ff0005000000000000000000'), new Uint8Array(30)]), opts),
    ProtocolError,
  )
  assert.throws(() => unwrap(k, hex('050404ff000c00000000000000000000'), opts), ProtocolError) // no room for the checksum
  assert.throws(
    () => unwrap(k, concatBytes([hex('050404ff000c00000000000000000000'), new Uint8Array(12)]), opts),
    CryptoError,
  )
  assert.throws(() => unwrap(k, hex('050404ff000c000000000000000000000102'), opts), ProtocolError)
  // Unknown enctype.
  assert.throws(
    () => wrap({ enctype: 23, value: new Uint8Array(16) }, BODY, { sequenceNumber: 0 }),
    NotSupportedError,
  )
})

test('rotation helpers', () => {
  const d = hex('0001020304')
  assert.equal(toHex(rotateRight(d, 2)), '0304000102')
  assert.equal(toHex(rotateLeft(d, 2)), '0203040001')
  assert.equal(toHex(rotateRight(d, 7)), '0304000102') // modulo the length
  assert.deepEqual(rotateLeft(rotateRight(d, 1234), 1234), d)
  assert.equal(rotateRight(new Uint8Array(0), 28).length, 0)
})

test('sealed Wrap round trips: every enctype × EC {0, 16, 5} × RRC {0, 28, 7, 1000} × both rotation rules', () => {
  let count = 0
  for (const key of KEYS) {
    for (const ec of [0, 16, 5]) {
      for (const rrc of [0, 28, 7, 1000]) {
        for (const rotation of ['rrc', 'rrc+ec'] as const) {
          for (const sentByAcceptor of [false, true]) {
            for (const pt of [new Uint8Array(0), utf8('x'), BODY]) {
              const token = wrap(key, pt, {
                sequenceNumber: 41 + count,
                sentByAcceptor,
                ec,
                rrc,
                rotation,
                confounder: CONF,
              })
              const p = getProfile(key.enctype)
              assert.equal(token.length, 16 + p.confounderSize + pt.length + ec + 16 + p.macSize)
              const h = parseWrapHeader(token)
              assert.deepEqual(
                [h.sealed, h.ec, h.rrc, h.sentByAcceptor, h.acceptorSubkey],
                [true, ec, rrc, sentByAcceptor, true],
              )
              const res = unwrap(key, token, {
                sentByAcceptor,
                rotation,
                expectedSequenceNumber: 41 + count,
                requireConfidentiality: true,
                acceptorSubkey: true,
              })
              assert.deepEqual(res.plaintext, pt)
              assert.equal(res.header.sequenceNumber, BigInt(41 + count))
              // 'auto' accepts both rotation rules.
              assert.deepEqual(unwrap(key, token, { sentByAcceptor, rotation: 'auto' }).plaintext, pt)
              count++
            }
          }
        }
      }
    }
  }
  assert.equal(count, 4 * 3 * 4 * 2 * 2 * 3)
})

test('the rotation rules differ only when EC > 0: a Windows-rotated EC=16 token does not open as RFC 4121', () => {
  const t16 = wrap(AES256_SHA1, BODY, { sequenceNumber: 1, ec: 16, rrc: 28, rotation: 'rrc+ec' })
  assert.throws(() => unwrap(AES256_SHA1, t16, { sentByAcceptor: false, rotation: 'rrc' }), CryptoError)
  const r16 = wrap(AES256_SHA1, BODY, { sequenceNumber: 1, ec: 16, rrc: 28, rotation: 'rrc' })
  assert.throws(() => unwrap(AES256_SHA1, r16, { sentByAcceptor: false, rotation: 'rrc+ec' }), CryptoError)
  const t0 = wrap(AES256_SHA1, BODY, {
    sequenceNumber: 1,
    ec: 0,
    rrc: 28,
    rotation: 'rrc+ec',
    confounder: CONF,
  })
  const r0 = wrap(AES256_SHA1, BODY, { sequenceNumber: 1, ec: 0, rrc: 28, rotation: 'rrc', confounder: CONF })
  assert.deepEqual(t0, r0)
})

test('sealed Wrap layout matches an independent construction (RFC 4121 §4.2.4, §4.2.5)', () => {
  for (const key of KEYS) {
    const p = getProfile(key.enctype)
    for (const [ec, rrc, rotation] of [
      [0, 0, 'rrc'],
      [0, 28, 'rrc'],
      [16, 28, 'rrc'],
      [16, 28, 'rrc+ec'],
      [3, 1, 'rrc'],
    ] as const) {
      const token = wrap(key, BODY, {
        sequenceNumber: 0x0102030405060708n,
        ec,
        rrc,
        rotation,
        confounder: CONF,
      })
      const header = hex(
        `050406ff${ec.toString(16).padStart(4, '0')}${rrc.toString(16).padStart(4, '0')}0102030405060708`,
      )
      const copy = hex(`050406ff${ec.toString(16).padStart(4, '0')}00000102030405060708`) // RRC = 0 in the copy
      const inner = concatBytes([BODY, new Uint8Array(ec), copy])
      const enc = p.encrypt(key.value, KeyUsage.GSS_INITIATOR_SEAL, inner, { confounder: CONF })
      const expected = concatBytes([header, rotateRight(enc, rrc + (rotation === 'rrc+ec' ? ec : 0))])
      assert.equal(toHex(token), toHex(expected), `${p.name} ec=${ec} rrc=${rrc} ${rotation}`)
    }
  }
})

test('integrity-only Wrap: EC = checksum length, checksum over data ‖ header with EC = RRC = 0', () => {
  for (const key of KEYS) {
    const p = getProfile(key.enctype)
    for (const rrc of [0, 12, 28, 500]) {
      const token = wrap(key, BODY, { sequenceNumber: 9, confidential: false, rrc })
      const h = parseWrapHeader(token)
      assert.deepEqual([h.sealed, h.ec, h.rrc], [false, p.macSize, rrc])
      const body = rotateLeft(token.subarray(16), rrc)
      assert.deepEqual(body.subarray(0, BODY.length), BODY) // plaintext travels in the clear
      const signed = concatBytes([BODY, hex('050404ff000000000000000000000009')])
      assert.deepEqual(body.subarray(BODY.length), p.checksum(key.value, KeyUsage.GSS_INITIATOR_SEAL, signed))
      assert.deepEqual(unwrap(key, token, { sentByAcceptor: false }).plaintext, BODY)
      assert.throws(
        () => unwrap(key, token, { sentByAcceptor: false, requireConfidentiality: true }),
        CryptoError,
      )
      const bad = token.slice()
      const at = 16 + ((BODY.length + rrc) % (BODY.length + p.macSize)) // first checksum byte
      bad[at] = (bad[at] as number) ^ 1
      assert.throws(() => unwrap(key, bad, { sentByAcceptor: false }), CryptoError)
    }
    assert.throws(
      () => wrap(key, BODY, { sequenceNumber: 0, confidential: false, ec: 1 }),
      InvalidArgumentError,
    )
  }
})

test('WinRM layout: RRC 28 / EC 0 gives a 60-byte header for AES-SHA1, EC 16 gives 76; data is as long as the plaintext', () => {
  for (const enctype of [17, 18]) {
    const key = keyFor(enctype)
    const m = wrapWinRM(key, 5, BODY, KeyUsage.GSS_INITIATOR_SEAL, { confounder: CONF })
    assert.equal(m.header.length, 60)
    assert.equal(m.data.length, BODY.length)
    assert.equal(toHex(m.header.subarray(0, 16)), '050406ff0000001c0000000000000005')
    const w = wrapWinRM(key, 5, BODY, KeyUsage.GSS_INITIATOR_SEAL, { ec: 16, confounder: CONF })
    assert.equal(w.header.length, 76)
    assert.equal(w.data.length, BODY.length)
    assert.equal(toHex(w.header.subarray(0, 16)), '050406ff0010001c0000000000000005')
    // The data part is the CTS ciphertext of the payload region: the header carries trailer + confounder.
    const enc = getProfile(enctype).encrypt(
      key.value,
      KeyUsage.GSS_INITIATOR_SEAL,
      concatBytes([BODY, hex('050406ff000000000000000000000005')]),
      { confounder: CONF },
    )
    assert.deepEqual(concatBytes([m.header.subarray(16), m.data]), rotateRight(enc, 28))
  }
  // The SHA-2 enctypes use RRC = 16 + their MAC length.
  assert.equal(wrapWinRM(keyFor(19), 0, BODY).header.length, 16 + 32 + 16)
  assert.equal(wrapWinRM(keyFor(20), 0, BODY).header.length, 16 + 40 + 16)
  assert.equal(parseWrapHeader(wrapWinRM(keyFor(20), 0, BODY).header).rrc, 40)
  // Server side: usage 22 sets SentByAcceptor.
  const s = wrapWinRM(AES256_SHA1, 7, BODY, KeyUsage.GSS_ACCEPTOR_SEAL)
  assert.equal(s.header[2], TokenFlags.SentByAcceptor | TokenFlags.Sealed | TokenFlags.AcceptorSubkey)
  const noSub = wrapWinRM(AES256_SHA1, 7, BODY, KeyUsage.GSS_INITIATOR_SEAL, { acceptorSubkey: false })
  assert.equal(noSub.header[2], TokenFlags.Sealed)
})

test('unwrapWinRM accepts any RRC and EC, either rotation rule, and any header/data split', () => {
  for (const key of KEYS) {
    const tokens: Uint8Array[] = []
    for (const ec of [0, 16]) {
      const m = wrapWinRM(key, 3, BODY, KeyUsage.GSS_ACCEPTOR_SEAL, { ec })
      tokens.push(concatBytes([m.header, m.data]))
      assert.deepEqual(unwrapWinRM(key, m, { expectedSequenceNumber: 3 }), BODY)
    }
    for (const [ec, rrc, rotation] of [
      [0, 0, 'rrc'],
      [16, 28, 'rrc'], // RFC 4121 peer that pads
      [16, 28, 'rrc+ec'], // Windows
      [16, 0, 'rrc+ec'],
      [1, 77, 'rrc'],
      [0, 2000, 'rrc'],
    ] as const) {
      tokens.push(wrap(key, BODY, { sequenceNumber: 3, sentByAcceptor: true, ec, rrc, rotation }))
    }
    for (const token of tokens) {
      for (const split of [16, 60, 76, token.length - BODY.length, token.length]) {
        const at = Math.min(split, token.length)
        const msg = { header: token.subarray(0, at), data: token.subarray(at) }
        assert.deepEqual(unwrapWinRM(key, msg, { expectedSequenceNumber: 3, acceptorSubkey: true }), BODY)
      }
    }
    // Client ↔ server with explicit usages.
    const c = wrapWinRM(key, 0, BODY)
    assert.deepEqual(unwrapWinRM(key, c, { usage: KeyUsage.GSS_INITIATOR_SEAL }), BODY)
  }
})

test('unwrapWinRM: tampering with any byte is detected; header damage is a ProtocolError', () => {
  for (const ec of [0, 16]) {
    const m = wrapWinRM(AES256_SHA1, 0x10, BODY, KeyUsage.GSS_ACCEPTOR_SEAL, { ec, random: () => CONF })
    const token = concatBytes([m.header, m.data])
    for (let i = 0; i < token.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = token.slice()
        bad[i] = (bad[i] as number) ^ bit
        const split = { header: bad.subarray(0, m.header.length), data: bad.subarray(m.header.length) }
        const expected = i <= 1 || i === 3 ? ProtocolError : CryptoError // TOK_ID and filler are structure
        assert.throws(() => unwrapWinRM(AES256_SHA1, split), expected, `ec=${ec} byte ${i} bit ${bit}`)
      }
    }
    // Truncated / extended.
    assert.throws(() => unwrapWinRM(AES256_SHA1, { header: m.header, data: m.data.subarray(1) }), CryptoError)
    assert.throws(
      () => unwrapWinRM(AES256_SHA1, { header: m.header, data: concatBytes([m.data, hex('00')]) }),
      CryptoError,
    )
    assert.throws(
      () => unwrapWinRM(AES256_SHA1, { header: m.header.subarray(0, 20), data: new Uint8Array(0) }),
      ProtocolError,
    )
    // Wrong key.
    assert.throws(() => unwrapWinRM({ ...AES256_SHA1, value: new Uint8Array(32) }, m), CryptoError)
  }
})

test('unwrap checks direction (reflection), sequence number, AcceptorSubkey and confidentiality', () => {
  const key = AES256_SHA1
  const fromClient = wrapWinRM(key, 12, BODY) // usage 24, SentByAcceptor clear
  // A client must not accept its own token reflected back: right usage, wrong direction flag.
  assert.throws(
    () => unwrapWinRM(key, fromClient, { usage: KeyUsage.GSS_INITIATOR_SEAL, sentByAcceptor: true }),
    CryptoError,
  )
  // Default (from the server, usage 22): the key usage differs, so it does not even decrypt.
  assert.throws(() => unwrapWinRM(key, fromClient), CryptoError)
  const fromServer = wrapWinRM(key, 12, BODY, KeyUsage.GSS_ACCEPTOR_SEAL)
  assert.deepEqual(unwrapWinRM(key, fromServer, { expectedSequenceNumber: 12n }), BODY)
  assert.throws(() => unwrapWinRM(key, fromServer, { expectedSequenceNumber: 13 }), CryptoError)
  assert.throws(() => unwrapWinRM(key, fromServer, { acceptorSubkey: false }), CryptoError)
  const integrityOnly = wrap(key, BODY, {
    sequenceNumber: 12,
    sentByAcceptor: true,
    confidential: false,
    rrc: 28,
  })
  assert.throws(
    () => unwrapWinRM(key, { header: integrityOnly.subarray(0, 16), data: integrityOnly.subarray(16) }),
    CryptoError,
  )
  assert.deepEqual(unwrap(key, integrityOnly, { sentByAcceptor: true }).plaintext, BODY)
})

test('MIC tokens: layout, round trip for every enctype, tamper and direction checks', () => {
  for (const key of KEYS) {
    const p = getProfile(key.enctype)
    const msg = utf8('mechListMIC input')
    const token = getMic(key, msg, { sequenceNumber: 0x2a })
    assert.equal(token.length, 16 + p.macSize)
    assert.equal(toHex(token.subarray(0, 16)), '040404ffffffffff000000000000002a')
    // Checksum over message ‖ header with the SIGN usage.
    assert.deepEqual(
      token.subarray(16),
      p.checksum(key.value, KeyUsage.GSS_INITIATOR_SIGN, concatBytes([msg, token.subarray(0, 16)])),
    )
    const h = verifyMic(key, msg, token, {
      sentByAcceptor: false,
      expectedSequenceNumber: 0x2a,
      acceptorSubkey: true,
    })
    assert.deepEqual(h, { flags: 4, sentByAcceptor: false, acceptorSubkey: true, sequenceNumber: 0x2an })
    assert.throws(
      () => verifyMic(key, utf8('mechListMIC inpuT'), token, { sentByAcceptor: false }),
      CryptoError,
    )
    assert.throws(() => verifyMic(key, msg, token, { sentByAcceptor: true }), CryptoError)
    assert.throws(
      () => verifyMic(key, msg, token, { sentByAcceptor: false, expectedSequenceNumber: 0 }),
      CryptoError,
    )
    for (let i = 0; i < token.length; i++) {
      const bad = token.slice()
      bad[i] = (bad[i] as number) ^ 0x40
      const expected = i <= 1 || (i >= 3 && i <= 7) ? ProtocolError : CryptoError
      assert.throws(
        () => verifyMic(key, msg, bad, { sentByAcceptor: false }),
        expected,
        `${p.name} byte ${i}`,
      )
    }
    assert.throws(
      () => verifyMic(key, msg, token.subarray(0, token.length - 1), { sentByAcceptor: false }),
      ProtocolError,
    )
    const server = getMic(key, msg, { sequenceNumber: 1, sentByAcceptor: true, acceptorSubkey: false })
    assert.equal(server[2], TokenFlags.SentByAcceptor)
    assert.equal(verifyMic(key, msg, server, { sentByAcceptor: true }).acceptorSubkey, false)
  }
})

test('fuzz: arbitrary and mutated tokens give PsrpErrors, never crashes or wrong plaintext', () => {
  const key = keyFor(17)
  const valid = wrapWinRM(key, 1, BODY, KeyUsage.GSS_ACCEPTOR_SEAL, { ec: 16 })
  const validToken = concatBytes([valid.header, valid.data])
  const mic = getMic(key, BODY, { sequenceNumber: 1, sentByAcceptor: true })
  const expectError = (f: () => unknown): void => {
    try {
      f()
    } catch (err) {
      assert.ok(err instanceof PsrpError, String(err))
      return
    }
  }
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
      fc.nat(),
      (random, flips, cut) => {
        // Random bytes, also behind a valid-looking header.
        expectError(() => unwrap(key, random, { sentByAcceptor: true, rotation: 'auto' }))
        expectError(() =>
          unwrap(key, concatBytes([validToken.subarray(0, 16), random]), { sentByAcceptor: true }),
        )
        expectError(() => verifyMic(key, BODY, random, { sentByAcceptor: true }))
        expectError(() => getProfile(17).decrypt(key.value, 22, random))
        // Mutations of a valid token either fail with a PsrpError or (no flips) open to the original.
        const bad = validToken.slice(0, validToken.length - (flips.length === 0 ? 0 : cut % 3))
        for (const [at, x] of flips) bad[at % bad.length] = (bad[at % bad.length] as number) ^ x
        let out: Uint8Array | undefined
        expectError(() => (out = unwrapWinRM(key, { header: bad.subarray(0, 76), data: bad.subarray(76) })))
        if (out !== undefined) assert.deepEqual(out, BODY)
        const badMic = mic.slice()
        for (const [at, x] of flips) badMic[at % badMic.length] = (badMic[at % badMic.length] as number) ^ x
        expectError(() => verifyMic(key, BODY, badMic, { sentByAcceptor: true }))
      },
    ),
    { numRuns: 300 },
  )
})
