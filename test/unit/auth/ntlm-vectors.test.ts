/**
 * MS-NLMP 4.2.4 (NTLMv2) reproduced byte for byte from `test/vectors/auth/ntlm/ms-nlmp-4.2.4.json`:
 * NTOWFv2, temp, NTProofStr, LMv2, session base key, key exchange key, encrypted random session key,
 * signing and sealing keys (128/56/40 bit), the sealed "Plaintext" and its signature (4.2.4.4), and
 * the CHALLENGE_MESSAGE of 4.2.4.3 decoded and re-encoded.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { rc4 } from '../../../src/auth/crypto/rc4.ts'
import {
  AvId,
  NegotiateFlags,
  NtlmSessionSecurity,
  computeNtlmv2Proof,
  decodeAvPairs,
  decodeChallenge,
  describeTargetInfo,
  encodeAvPairs,
  encodeChallenge,
  encodeClientChallenge,
  lmv2Response,
  ntowfv1,
  ntowfv2,
  sealKey,
  signKey,
} from '../../../src/auth/ntlm/index.ts'
import { utf16le } from '../../../src/auth/ntlm/wire.ts'
import { fromHex, toHex } from '../../../src/internal/bytes.ts'

const v = JSON.parse(
  readFileSync(new URL('../../vectors/auth/ntlm/ms-nlmp-4.2.4.json', import.meta.url), 'utf8'),
) as Record<string, string> & { inputs: Record<string, string> }
const hex = (s: string | undefined): Uint8Array => fromHex(s ?? '') ?? assert.fail(`bad hex ${s}`)
const inp = v.inputs
const flags = parseInt(inp['negotiateFlags'] ?? '', 16)
const serverChallenge = hex(inp['serverChallenge'])
const clientChallenge = hex(inp['clientChallenge'])
const randomSessionKey = hex(inp['randomSessionKey'])
const responseKeyNT = ntowfv2(ntowfv1(inp['password'] ?? ''), inp['user'] ?? '', inp['domain'] ?? '')

test('4.2.2.1.2 NTOWFv1 and 4.2.4.1.1 NTOWFv2 (ResponseKeyNT)', () => {
  assert.equal(toHex(ntowfv1(inp['password'] ?? '')), v['ntowfv1'])
  assert.equal(toHex(responseKeyNT), v['responseKeyNT'])
})

test('4.2.4 AV pairs and 4.2.4.1.3 temp (NTLMv2_CLIENT_CHALLENGE)', () => {
  const pairs = decodeAvPairs(hex(v['avPairs']))
  assert.deepEqual(
    pairs.map((p) => p.id),
    [AvId.MsvAvNbDomainName, AvId.MsvAvNbComputerName],
  )
  assert.equal(toHex(encodeAvPairs(pairs)), v['avPairs'])
  const temp = encodeClientChallenge({
    timestamp: 0n,
    challengeFromClient: clientChallenge,
    avPairs: pairs,
  })
  assert.equal(toHex(temp), v['temp'])
})

test('4.2.4.2.2 NTProofStr, 4.2.4.1.2 SessionBaseKey = KeyExchangeKey, 4.2.4.2.1 LMv2', () => {
  const proof = computeNtlmv2Proof(responseKeyNT, serverChallenge, hex(v['temp']))
  assert.equal(toHex(proof.ntProofStr), v['ntProofStr'])
  assert.equal(toHex(proof.ntChallengeResponse), (v['ntProofStr'] ?? '') + v['temp'])
  assert.equal(toHex(proof.sessionBaseKey), v['sessionBaseKey'])
  assert.equal(toHex(proof.sessionBaseKey), v['keyExchangeKey'])
  assert.equal(toHex(lmv2Response(responseKeyNT, serverChallenge, clientChallenge)), v['lmv2Response'])
})

test('4.2.4.2.3 EncryptedRandomSessionKey = RC4K(KeyExchangeKey, RandomSessionKey)', () => {
  const enc = rc4(hex(v['keyExchangeKey']), randomSessionKey)
  assert.equal(toHex(enc), v['encryptedRandomSessionKey'])
  assert.equal(toHex(rc4(hex(v['keyExchangeKey']), enc)), inp['randomSessionKey'])
})

test('3.4.5.2/3.4.5.3 signing and sealing keys (128, 56 and 40 bit)', () => {
  assert.equal(toHex(signKey(randomSessionKey, 'client')), v['clientSignKey'])
  assert.equal(toHex(sealKey(randomSessionKey, flags, 'client')), v['clientSealKey'])
  assert.equal(toHex(signKey(randomSessionKey, 'server')), v['serverSignKey'])
  assert.equal(toHex(sealKey(randomSessionKey, flags, 'server')), v['serverSealKey'])
  const f56 = (flags & ~NegotiateFlags.NEGOTIATE_128) >>> 0
  const f40 = (f56 & ~NegotiateFlags.NEGOTIATE_56) >>> 0
  assert.equal(toHex(sealKey(randomSessionKey, f56, 'client')), v['clientSealKey56'])
  assert.equal(toHex(sealKey(randomSessionKey, f40, 'client')), v['clientSealKey40'])
})

test('4.2.4.4 GSS_WrapEx of "Plaintext": sealed data and signature', () => {
  const client = new NtlmSessionSecurity(randomSessionKey, flags, 'client')
  const sealed = client.seal(utf16le(inp['plaintext'] ?? ''))
  assert.equal(toHex(sealed.data), v['sealedData'])
  assert.equal(toHex(sealed.header), v['signature'])
  assert.equal(client.outgoingSequence, 1)
  // The server side unseals it with the same keys.
  const server = new NtlmSessionSecurity(randomSessionKey, flags, 'server')
  assert.deepEqual(server.unseal(sealed), utf16le('Plaintext'))
})

test('signature without NTLMSSP_NEGOTIATE_KEY_EXCH: the checksum is not RC4-encrypted', () => {
  const noKx = (flags & ~NegotiateFlags.NEGOTIATE_KEY_EXCH) >>> 0
  const client = new NtlmSessionSecurity(randomSessionKey, noKx, 'client')
  const sealed = client.seal(utf16le('Plaintext'))
  assert.equal(toHex(sealed.data), v['sealedData'])
  assert.equal(toHex(sealed.header), v['signatureWithoutKeyExch'])
})

test('4.2.4.3 CHALLENGE_MESSAGE decodes and re-encodes byte for byte', () => {
  const bytes = hex(v['challengeMessage'])
  const msg = decodeChallenge(bytes)
  assert.equal(msg.flags >>> 0, flags)
  assert.equal(msg.targetName, inp['serverName'])
  assert.equal(toHex(msg.serverChallenge), inp['serverChallenge'])
  assert.deepEqual(msg.version, { major: 6, minor: 0, build: 6000, revision: 15 })
  const info = describeTargetInfo(msg.targetInfo)
  assert.equal(info.nbDomainName, inp['domain'])
  assert.equal(info.nbComputerName, inp['serverName'])
  assert.equal(info.timestamp, undefined)
  assert.equal(toHex(encodeChallenge(msg)), v['challengeMessage'])
})
