/**
 * NTLM message codecs (MS-NLMP 2.2.1.1–2.2.1.3, 2.2.2.1, 2.2.2.7, 2.2.2.10): round trips, the
 * optional Version/MIC layouts, and malformed CHALLENGE_MESSAGEs (truncated, bad offsets, wrong
 * signature or type, broken AV pairs, random corruption) which must give `ProtocolError`, never a
 * crash, both from the decoder and through `NtlmContext.step`.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  AvId,
  DEFAULT_VERSION,
  MessageType,
  NegotiateFlags,
  NtlmContext,
  decodeAuthenticate,
  decodeAvPairs,
  decodeChallenge,
  decodeClientChallenge,
  decodeNegotiate,
  decodeNtlmv2Response,
  decodeVersion,
  describeFlags,
  encodeAuthenticate,
  encodeAvPairs,
  encodeChallenge,
  encodeClientChallenge,
  encodeNegotiate,
  encodeVersion,
  type ChallengeMessage,
} from '../../../src/auth/ntlm/index.ts'
import { ProtocolError } from '../../../src/errors.ts'
import { fromHex, toHex } from '../../../src/internal/bytes.ts'

const u16 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'))
const hex = (s: string): Uint8Array => fromHex(s) ?? assert.fail(`bad hex ${s}`)

const ts = new Uint8Array(8).fill(0x11)
const CHALLENGE: ChallengeMessage = {
  flags: 0xe28a8235,
  targetName: 'DOMAIN',
  serverChallenge: hex('0123456789abcdef'),
  targetInfo: [
    { id: AvId.MsvAvNbDomainName, value: u16('DOMAIN') },
    { id: AvId.MsvAvNbComputerName, value: u16('SERVER') },
    { id: AvId.MsvAvTimestamp, value: ts },
  ],
  version: { major: 10, minor: 0, build: 20348, revision: 15 },
}
const CHALLENGE_BYTES = encodeChallenge(CHALLENGE)

function isRemoteProtocolError(e: unknown): boolean {
  return e instanceof ProtocolError && e.side === 'remote'
}

describe('codecs', () => {
  test('VERSION', () => {
    assert.equal(toHex(encodeVersion(DEFAULT_VERSION)), '0a0063450000000f')
    assert.deepEqual(decodeVersion(hex('0600701700000000f'.slice(0, 16))), {
      major: 6,
      minor: 0,
      build: 6000,
      revision: 0,
    })
  })

  test('flags', () => {
    assert.deepEqual(describeFlags(0x00000207), [
      'NEGOTIATE_UNICODE',
      'NEGOTIATE_OEM',
      'REQUEST_TARGET',
      'NEGOTIATE_NTLM',
    ])
    assert.deepEqual(describeFlags(0x00000108), ['0x00000108'])
    assert.equal(NegotiateFlags.NEGOTIATE_56, 0x80000000)
  })

  test('NEGOTIATE_MESSAGE round trip with and without OEM names', () => {
    const plain = encodeNegotiate({ flags: 0xe2088237, version: DEFAULT_VERSION })
    assert.equal(plain.length, 40)
    assert.deepEqual(decodeNegotiate(plain), { flags: 0xe2088237, version: DEFAULT_VERSION })
    const named = encodeNegotiate({ flags: 0x00000207, domain: 'DOM', workstation: 'WS' })
    const back = decodeNegotiate(named)
    assert.equal(back.domain, 'DOM')
    assert.equal(back.workstation, 'WS')
    assert.equal(back.version, undefined)
    assert.ok(back.flags & NegotiateFlags.NEGOTIATE_OEM_DOMAIN_SUPPLIED)
    assert.ok(back.flags & NegotiateFlags.NEGOTIATE_OEM_WORKSTATION_SUPPLIED)
  })

  test('CHALLENGE_MESSAGE round trip; without Version (payload at 48); OEM target name', () => {
    const back = decodeChallenge(CHALLENGE_BYTES)
    assert.deepEqual(back, {
      ...CHALLENGE,
      flags: (CHALLENGE.flags | NegotiateFlags.NEGOTIATE_TARGET_INFO) >>> 0,
    })
    // An old-style message: no Version field, payload right after the 48-byte header.
    const name = new TextEncoder().encode('OLD')
    const old = new Uint8Array(48 + name.length)
    old.set(hex('4e544c4d5353500002000000'))
    const dv = new DataView(old.buffer)
    dv.setUint16(12, name.length, true)
    dv.setUint16(14, name.length, true)
    dv.setUint32(16, 48, true)
    dv.setUint32(20, 0x02000002 | NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY, true) // OEM + VERSION flag
    old.set(name, 48)
    const parsed = decodeChallenge(old)
    assert.equal(parsed.targetName, 'OLD')
    assert.equal(parsed.version, undefined)
    assert.deepEqual(parsed.targetInfo, [])
  })

  test('AUTHENTICATE_MESSAGE round trip (always Version + MIC)', () => {
    const msg = {
      flags: 0xe2888235,
      lmChallengeResponse: new Uint8Array(24),
      ntChallengeResponse: new Uint8Array(48).fill(3),
      domain: 'DOMAIN',
      user: 'user',
      workstation: 'WS',
      encryptedRandomSessionKey: new Uint8Array(16).fill(9),
      version: DEFAULT_VERSION,
      mic: new Uint8Array(16).fill(7),
    }
    const bytes = encodeAuthenticate(msg)
    assert.equal(bytes.length, 88 + 24 + 48 + 12 + 8 + 4 + 16)
    assert.deepEqual(decodeAuthenticate(bytes), {
      ...msg,
      flags: (msg.flags | NegotiateFlags.NEGOTIATE_VERSION) >>> 0,
    })
    assert.throws(() => encodeAuthenticate({ ...msg, mic: new Uint8Array(3) }), ProtocolError)
  })

  test('AV pairs and NTLMv2_CLIENT_CHALLENGE round trip', () => {
    const pairs = [...CHALLENGE.targetInfo, { id: 0x7f, value: Uint8Array.of(1, 2, 3) }]
    assert.deepEqual(decodeAvPairs(encodeAvPairs(pairs)), pairs)
    const cc = {
      timestamp: 0x01d6_0000_1234_5678n,
      challengeFromClient: hex('aaaaaaaaaaaaaaaa'),
      avPairs: pairs,
    }
    const bytes = encodeClientChallenge(cc)
    assert.deepEqual(decodeClientChallenge(bytes), cc)
    const resp = new Uint8Array(16 + bytes.length)
    resp.set(bytes, 16)
    assert.deepEqual(decodeNtlmv2Response(resp).clientChallenge, cc)
    assert.throws(() => decodeNtlmv2Response(new Uint8Array(24)), ProtocolError)
    const bad = bytes.slice()
    bad[0] = 2
    assert.throws(() => decodeClientChallenge(bad), ProtocolError)
  })

  test('messages of the wrong type are refused by each decoder', () => {
    const neg = encodeNegotiate({ flags: 1 })
    assert.throws(() => decodeChallenge(neg), /message type 1, expected 2/)
    assert.throws(() => decodeAuthenticate(CHALLENGE_BYTES), /message type 2, expected 3/)
    assert.throws(() => decodeNegotiate(CHALLENGE_BYTES), /message type 2, expected 1/)
    assert.equal(MessageType.AUTHENTICATE, 3)
  })
})

describe('malformed CHALLENGE_MESSAGE', () => {
  test('every truncation is a ProtocolError', () => {
    for (let n = 0; n < CHALLENGE_BYTES.length; n++) {
      assert.throws(
        () => decodeChallenge(CHALLENGE_BYTES.subarray(0, n)),
        isRemoteProtocolError,
        `length ${n}`,
      )
    }
  })

  const patched = (at: number, bytes: number[]): Uint8Array => {
    const out = CHALLENGE_BYTES.slice()
    out.set(bytes, at)
    return out
  }
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad signature', patched(0, [0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x01]), /bad signature/],
    ['wrong type', patched(8, [3, 0, 0, 0]), /message type 3/],
    ['TargetName beyond the end', patched(16, [0xff, 0xff, 0, 0]), /TargetName .* outside/],
    ['TargetName inside the header', patched(16, [8, 0, 0, 0]), /TargetName .* outside/],
    ['TargetInfo length too long', patched(40, [0xff, 0x0f]), /TargetInfo .* outside/],
    ['TargetInfo offset beyond', patched(44, [0, 0, 1, 0]), /TargetInfo .* outside/],
    ['odd UTF-16 TargetName', patched(12, [11, 0]), /odd byte length/],
    ['AV pair longer than the list', patched(56 + 12 + 2, [0xff, 0x00]), /AV_PAIR list truncated/],
    ['timestamp with a wrong length', patched(56 + 12 + 16 + 16, [7, 0, 4, 0]), /AV_PAIR 7: length 4/],
  ]
  for (const [name, bytes, match] of cases) {
    test(name, () => {
      assert.throws(
        () => decodeChallenge(bytes),
        (e: unknown) => isRemoteProtocolError(e) && match.test((e as Error).message),
      )
    })
  }

  test('missing MsvAvEOL', () => {
    const info = encodeAvPairs(CHALLENGE.targetInfo).subarray(0, -4)
    const bytes = new Uint8Array(56 + info.length)
    bytes.set(CHALLENGE_BYTES.subarray(0, 56))
    const dv = new DataView(bytes.buffer)
    dv.setUint32(12, 0, true) // no target name
    dv.setUint16(40, info.length, true)
    dv.setUint16(42, info.length, true)
    dv.setUint32(44, 56, true)
    bytes.set(info, 56)
    assert.throws(() => decodeChallenge(bytes), /missing MsvAvEOL/)
  })

  test('random corruption: decodes or throws ProtocolError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(CHALLENGE_BYTES.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        fc.nat(CHALLENGE_BYTES.length),
        (edits, cut) => {
          const bytes = CHALLENGE_BYTES.slice(0, Math.max(cut, 12))
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value
          try {
            decodeChallenge(bytes)
          } catch (e) {
            if (!isRemoteProtocolError(e)) throw e
          }
        },
      ),
      { numRuns: 3000 },
    )
  })

  test('arbitrary bytes never crash the decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        for (const type of [1, 2, 3]) {
          const bytes = new Uint8Array(12 + tail.length)
          bytes.set(hex('4e544c4d53535000'))
          bytes[8] = type
          bytes.set(tail, 12)
          for (const decode of [decodeNegotiate, decodeChallenge, decodeAuthenticate]) {
            try {
              decode(bytes)
            } catch (e) {
              if (!isRemoteProtocolError(e)) throw e
            }
          }
        }
      }),
      { numRuns: 2000 },
    )
  })

  test('through NtlmContext.step: rejected with ProtocolError, context failed', async () => {
    for (const bad of [
      CHALLENGE_BYTES.subarray(0, 30),
      cases[0]?.[1] ?? assert.fail(),
      cases[4]?.[1] ?? assert.fail(),
    ]) {
      const ctx = new NtlmContext({ username: 'DOMAIN\\user', password: 'pw' })
      await ctx.step()
      await assert.rejects(ctx.step(bad), isRemoteProtocolError)
      assert.equal(ctx.state, 'failed')
      assert.equal(ctx.complete, false)
    }
  })
})
