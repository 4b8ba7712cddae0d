/**
 * SPNEGO token codecs (RFC 4178 §4.2, MS-SPNG 2.2.1): the pyspnego corpus tokens (NegTokenInit,
 * NegTokenInit2 with negHints, NegTokenResp) and an MIT krb5 SPNEGO(NTLM) exchange
 * (test/vectors/auth/spnego/mit-spnego-ntlm.json) decode field by field and re-encode byte for
 * byte; malformed tokens only ever raise PsrpError (fast-check).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { PsrpError, ProtocolError } from '../../../src/errors.ts'
import {
  KERBEROS_OID,
  KERBEROS_U2U_OID,
  MS_KERBEROS_OID,
  NEGOEX_OID,
  NTLM_OID,
  decodeNegTokenResp,
  decodeSpnegoToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
  encodeSpnegoToken,
  mechanismName,
  type NegotiationToken,
} from '../../../src/auth/spnego/index.ts'
import { decodeGssInitialContextToken } from '../../../src/auth/asn1/index.ts'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
const vectorsDir = join(import.meta.dirname, '../../vectors/auth/spnego')

const corpus = corpusDir()
const dataDir = corpus === undefined ? undefined : join(corpus, 'pyspnego/tests/data')
const skip = peerSkip(
  'pyspnego corpus',
  dataDir !== undefined && existsSync(join(dataDir, 'neg_token_resp')),
  'put the shared folder beside the checkout (../shared/corpus)',
)
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dataDir ?? '', name)))

function roundTrip(bytes: Uint8Array, name: string): NegotiationToken {
  const { token, framed } = decodeSpnegoToken(bytes)
  assert.equal(hex(encodeSpnegoToken(token, framed)), hex(bytes), name)
  return token
}

test('corpus: NegTokenInit (Kerberos AP-REQ as mechToken)', { skip }, () => {
  const t = roundTrip(read('initial_context_token_neg_token_init'), 'neg_token_init')
  assert.equal(t.kind, 'negTokenInit')
  if (t.kind !== 'negTokenInit') return
  assert.deepEqual(t.mechTypes, [KERBEROS_OID, NTLM_OID])
  assert.equal(t.reqFlags, undefined)
  assert.equal(t.negHints, undefined)
  assert.equal(t.mechListMIC, undefined)
  const inner = decodeGssInitialContextToken(t.mechToken ?? assert.fail())
  assert.equal(inner.mech, KERBEROS_OID)
  assert.equal(hex(inner.innerToken.subarray(0, 3)), '01006e') // TOK_ID AP-REQ, [APPLICATION 14]
})

test('corpus: NegTokenInit2 (MS-SPNG) with negHints', { skip }, () => {
  const t = roundTrip(read('initial_context_token_neg_token_init2'), 'neg_token_init2')
  assert.equal(t.kind, 'negTokenInit')
  if (t.kind !== 'negTokenInit') return
  assert.deepEqual(t.mechTypes, [NEGOEX_OID, MS_KERBEROS_OID, KERBEROS_OID, KERBEROS_U2U_OID, NTLM_OID])
  assert.deepEqual(t.negHints, { hintName: 'not_defined_in_RFC4178@please_ignore' })
  assert.equal(t.mechToken, undefined)
})

test('corpus: NegTokenResp (Kerberos AP-REP)', { skip }, () => {
  const bytes = read('neg_token_resp')
  const t = roundTrip(bytes, 'neg_token_resp')
  assert.equal(t.kind, 'negTokenResp')
  const resp = decodeNegTokenResp(bytes)
  assert.equal(resp.negState, 'accept-completed')
  assert.equal(resp.supportedMech, KERBEROS_OID)
  assert.equal(resp.mechListMIC, undefined)
  assert.equal(decodeGssInitialContextToken(resp.responseToken ?? assert.fail()).mech, KERBEROS_OID)
  assert.equal(hex(encodeNegTokenResp(resp)), hex(bytes))
})

test('MIT krb5 SPNEGO(NTLM) exchange tokens decode and re-encode byte for byte', () => {
  const v = JSON.parse(readFileSync(join(vectorsDir, 'mit-spnego-ntlm.json'), 'utf8')) as {
    tokens: { from: string; hex: string }[]
  }
  const [init, challenge, auth, done] = v.tokens.map((t) => roundTrip(unhex(t.hex), t.from))
  assert.ok(init?.kind === 'negTokenInit')
  assert.deepEqual(init.mechTypes, [NTLM_OID])
  assert.equal(
    Buffer.from(init.mechToken ?? [])
      .subarray(0, 8)
      .toString('latin1'),
    'NTLMSSP\0',
  )
  assert.ok(challenge?.kind === 'negTokenResp')
  assert.equal(challenge.negState, 'accept-incomplete')
  assert.equal(challenge.supportedMech, NTLM_OID)
  assert.ok(auth?.kind === 'negTokenResp')
  assert.equal(auth.mechListMIC?.length, 16, 'the initiator sends mechListMIC with AUTHENTICATE')
  assert.ok(done?.kind === 'negTokenResp')
  assert.equal(done.negState, 'accept-completed')
  assert.equal(hex(done.mechListMIC ?? new Uint8Array()).slice(0, 8), '01000000', 'NTLM signature v1')
  // What the MIC covers: DER(MechTypeList).
  assert.equal(hex(encodeMechTypeList([NTLM_OID])), '300c060a2b06010401823702020a')
})

test('encoders: our NegTokenInit / NegTokenResp layout', () => {
  const init = encodeNegTokenInit({ mechTypes: [KERBEROS_OID, NTLM_OID], mechToken: Uint8Array.of(1, 2) })
  assert.equal(
    hex(init),
    '602d06062b0601050502a0233021a0193017' +
      '06092a864886f712010202' +
      '060a2b06010401823702020a' +
      'a2040402' +
      '0102',
  )
  const resp = encodeNegTokenResp({ responseToken: Uint8Array.of(9), mechListMIC: Uint8Array.of(8) })
  assert.equal(hex(resp), 'a10c300aa2030401' + '09' + 'a3030401' + '08')
  const all = encodeNegTokenResp({ negState: 'request-mic', supportedMech: NTLM_OID })
  assert.deepEqual(decodeNegTokenResp(all), { negState: 'request-mic', supportedMech: NTLM_OID })
  const withMic = encodeNegTokenInit({ mechTypes: [NTLM_OID], mechListMIC: Uint8Array.of(7) })
  assert.deepEqual(decodeSpnegoToken(withMic).token, {
    kind: 'negTokenInit',
    mechTypes: [NTLM_OID],
    mechListMIC: Uint8Array.of(7),
  })
  const init2 = encodeNegTokenInit({
    mechTypes: [NTLM_OID],
    negHints: { hintName: 'x', hintAddress: Uint8Array.of(1) },
    mechListMIC: Uint8Array.of(7),
  })
  assert.deepEqual(decodeSpnegoToken(init2).token, {
    kind: 'negTokenInit',
    mechTypes: [NTLM_OID],
    negHints: { hintName: 'x', hintAddress: Uint8Array.of(1) },
    mechListMIC: Uint8Array.of(7),
  })
  assert.equal(mechanismName(MS_KERBEROS_OID), 'Kerberos')
  assert.equal(mechanismName(NTLM_OID), 'NTLM')
  assert.equal(mechanismName(NEGOEX_OID), undefined)
})

test('malformed SPNEGO tokens are ProtocolErrors', () => {
  const bad = [
    '', // empty
    '4e544c4d5353500001000000', // raw NTLMSSP
    '601106092a864886f7120102020100deadbeef', // framed, but Kerberos
    'a2023000', // [2] is not a NegotiationToken choice
    'a1053003a00100', // negState primitive inside
    'a1083006a0030a0104', // negState 4 unknown
    'a0023000', // NegTokenInit without mechTypes
    'a1073005a3030401', // truncated
    'a1083006a1030401ff', // supportedMech not an OID
    'a10a3008a2030401ffa0010a', // fields out of order
    'a1023000' + '00', // trailing data
  ]
  for (const h of bad) assert.throws(() => decodeSpnegoToken(unhex(h)), ProtocolError, h)
  assert.throws(() => decodeNegTokenResp(encodeNegTokenInit({ mechTypes: [NTLM_OID] })), ProtocolError)
  // Unknown extension fields after the known ones are skipped.
  assert.deepEqual(decodeNegTokenResp(unhex('a10b3009a0030a0100a5020500')), {
    negState: 'accept-completed',
  })
})

test('fuzz: random and mutated tokens only raise PsrpError', () => {
  const seeds = [
    encodeNegTokenInit({ mechTypes: [KERBEROS_OID, NTLM_OID], mechToken: new Uint8Array(40).fill(3) }),
    encodeNegTokenResp({
      negState: 'accept-incomplete',
      supportedMech: NTLM_OID,
      responseToken: new Uint8Array(30),
      mechListMIC: new Uint8Array(16),
    }),
    encodeNegTokenInit({
      mechTypes: [NTLM_OID],
      negHints: { hintName: 'h' },
      mechListMIC: new Uint8Array(4),
    }),
  ]
  const check = (b: Uint8Array): void => {
    try {
      decodeSpnegoToken(b)
    } catch (err) {
      assert.ok(err instanceof PsrpError, `${String(err)} for ${hex(b)}`)
    }
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), check), { numRuns: 2000 })
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      fc.nat(),
      (seed, flips, cut) => {
        const b = seed.slice()
        for (const [i, v] of flips) b[i % b.length] = v
        check(b)
        check(b.subarray(0, cut % b.length))
      },
    ),
    { numRuns: 2000 },
  )
  fc.assert(
    fc.property(
      fc.record(
        {
          negState: fc.constantFrom(
            'accept-completed',
            'accept-incomplete',
            'reject',
            'request-mic',
          ) as fc.Arbitrary<'accept-completed' | 'accept-incomplete' | 'reject' | 'request-mic'>,
          supportedMech: fc.constantFrom(NTLM_OID, KERBEROS_OID, MS_KERBEROS_OID),
          responseToken: fc.uint8Array({ maxLength: 300 }),
          mechListMIC: fc.uint8Array({ maxLength: 20 }),
        },
        { requiredKeys: [] },
      ),
      (resp) => assert.deepEqual(decodeNegTokenResp(encodeNegTokenResp(resp)), { ...resp }),
    ),
  )
})
