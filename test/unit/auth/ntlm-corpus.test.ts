/**
 * Recorded NTLM tokens from pyspnego's test data (shared/corpus/pyspnego, see corpus/MANIFEST.md):
 * every NTLMSSP message found in the corpus (raw, or base64 in text files) is decoded by the matching
 * decoder; the four known tokens are checked field by field, and re-encoded byte for byte where our
 * encoder writes the same layout (NEGOTIATE, CHALLENGE). Skipped with a reason when the corpus is absent.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import {
  AvId,
  decodeAuthenticate,
  decodeChallenge,
  decodeNegotiate,
  decodeNtlmv2Response,
  describeTargetInfo,
  encodeAuthenticate,
  encodeChallenge,
  encodeNegotiate,
  findAvPair,
  MessageType,
  NegotiateFlags,
  NTLMSSP_SIGNATURE,
} from '../../../src/auth/ntlm/index.ts'
import { createHmac } from 'node:crypto'
import { md4 } from '../../../src/auth/crypto/md4.ts'
import { rc4 } from '../../../src/auth/crypto/rc4.ts'
import { NtlmContext } from '../../../src/auth/ntlm/index.ts'
import { toHex } from '../../../src/internal/bytes.ts'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'

const corpus = corpusDir()
const dataDir = corpus === undefined ? undefined : join(corpus, 'pyspnego/tests/data')
const skip = peerSkip(
  'pyspnego corpus',
  dataDir !== undefined && existsSync(join(dataDir, 'ntlm_challenge')),
  'put the shared folder beside the checkout (../shared/corpus)',
)
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dataDir ?? '', name)))

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* walk(p)
    else yield p
  }
}

/** Every NTLMSSP message in `bytes` (the decoders ignore trailing data after the message). */
function findTokens(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  outer: for (let i = 0; i + 12 <= bytes.length; i++) {
    for (let k = 0; k < 8; k++) if (bytes[i + k] !== NTLMSSP_SIGNATURE[k]) continue outer
    out.push(bytes.subarray(i))
  }
  const text = Buffer.from(bytes).toString('latin1')
  for (const m of text.matchAll(/TlRMTVNTUA[A-Za-z0-9+/=]+/g))
    out.push(new Uint8Array(Buffer.from(m[0], 'base64')))
  return out
}

test('every NTLMSSP message in the corpus decodes', { skip }, () => {
  const seen: Record<number, string[]> = { 1: [], 2: [], 3: [] }
  for (const file of walk(corpus ?? '')) {
    if (statSync(file).size > 8_000_000) continue
    for (const token of findTokens(new Uint8Array(readFileSync(file)))) {
      const type = new DataView(token.buffer, token.byteOffset + 8, 4).getUint32(0, true)
      const where = relative(corpus ?? '', file)
      if (type === MessageType.NEGOTIATE) decodeNegotiate(token)
      else if (type === MessageType.CHALLENGE) decodeChallenge(token)
      else if (type === MessageType.AUTHENTICATE) {
        const auth = decodeAuthenticate(token)
        if (auth.ntChallengeResponse.length > 24) decodeNtlmv2Response(auth.ntChallengeResponse)
      } else assert.fail(`${where}: unknown NTLM message type ${type}`)
      seen[type]?.push(where)
    }
  }
  assert.ok((seen[1]?.length ?? 0) >= 1, 'a NEGOTIATE_MESSAGE')
  assert.ok((seen[2]?.length ?? 0) >= 1, 'a CHALLENGE_MESSAGE')
  assert.ok((seen[3]?.length ?? 0) >= 2, 'AUTHENTICATE_MESSAGEs')
})

test('pyspnego ntlm_negotiate: fields and byte-exact re-encoding', { skip }, () => {
  const bytes = read('ntlm_negotiate')
  const msg = decodeNegotiate(bytes)
  assert.equal(msg.flags >>> 0, 0xe20882b7)
  assert.deepEqual(msg.version, { major: 10, minor: 0, build: 17763, revision: 15 })
  assert.equal(msg.domain, undefined)
  assert.equal(toHex(encodeNegotiate(msg)), toHex(bytes))
})

test('pyspnego ntlm_challenge (a real DC): fields, AV pairs, byte-exact re-encoding', { skip }, () => {
  const bytes = read('ntlm_challenge')
  const msg = decodeChallenge(bytes)
  assert.equal(msg.flags >>> 0, 0xe2898235)
  assert.equal(msg.targetName, 'DOMAIN')
  assert.equal(toHex(msg.serverChallenge), 'e41010 14cf8a90be'.replace(' ', ''))
  assert.deepEqual(msg.version, { major: 10, minor: 0, build: 14393, revision: 15 })
  assert.deepEqual(
    msg.targetInfo.map((p) => p.id),
    [
      AvId.MsvAvNbDomainName,
      AvId.MsvAvNbComputerName,
      AvId.MsvAvDnsDomainName,
      AvId.MsvAvDnsComputerName,
      AvId.MsvAvDnsTreeName,
      AvId.MsvAvTimestamp,
    ],
  )
  assert.deepEqual(describeTargetInfo(msg.targetInfo), {
    nbDomainName: 'DOMAIN',
    nbComputerName: 'DC01',
    dnsDomainName: 'domain.local',
    dnsComputerName: 'DC01.domain.local',
    dnsTreeName: 'domain.local',
    timestamp: 0x01d61e99889281f8n,
  })
  assert.equal(toHex(encodeChallenge(msg)), toHex(bytes))
})

test(
  'pyspnego ntlm_authenticate: UPN user, NTLMv2 response answering ntlm_challenge, no MIC',
  { skip },
  () => {
    const bytes = read('ntlm_authenticate')
    const msg = decodeAuthenticate(bytes)
    assert.equal(msg.flags >>> 0, 0xe2898235)
    assert.equal(msg.user, 'vagrant-domain@DOMAIN.LOCAL')
    assert.equal(msg.domain, '')
    assert.equal(msg.workstation, 'JBOREAN-LINUX')
    assert.equal(msg.lmChallengeResponse.length, 0)
    assert.equal(msg.mic, undefined, 'payload starts at 72: Version but no MIC')
    assert.deepEqual(msg.version, { major: 6, minor: 2, build: 0, revision: 15 })
    assert.equal(toHex(msg.encryptedRandomSessionKey), '3765d5afd13ec3a6c97c0726ce9f30c9')
    const nt = decodeNtlmv2Response(msg.ntChallengeResponse)
    assert.equal(toHex(nt.ntProofStr), 'c543cc0d1a0fbd9ec05e1aab0771b124')
    assert.equal(nt.clientChallenge.timestamp, 0x01d61e99889281f8n, 'the timestamp of ntlm_challenge')
    assert.equal(toHex(nt.clientChallenge.challengeFromClient), 'dc5a7473ac5672fc')
    const info = describeTargetInfo(nt.clientChallenge.avPairs)
    assert.equal(info.flags, 0)
    assert.deepEqual(info.channelBindings, new Uint8Array(16))
    assert.equal(info.nbComputerName, 'DC01')
    // Our encoder always writes Version + MIC, so compare decoded values rather than bytes.
    const again = decodeAuthenticate(encodeAuthenticate(msg))
    assert.deepEqual({ ...again, mic: undefined }, { ...msg, mic: undefined })
  },
)

test('pyspnego ntlm_authenticate_no_sign_seal: MIC at 72, SPN target name, MIC flag', { skip }, () => {
  const msg = decodeAuthenticate(read('ntlm_authenticate_no_sign_seal'))
  assert.equal(msg.flags >>> 0, 0xe28a8205)
  assert.equal(msg.flags & NegotiateFlags.NEGOTIATE_SIGN, 0)
  assert.equal(msg.flags & NegotiateFlags.NEGOTIATE_SEAL, 0)
  assert.equal(msg.user, 'vagrant')
  assert.equal(msg.domain, '')
  assert.equal(msg.workstation, 'JBOREAN-LINUX')
  assert.deepEqual(msg.lmChallengeResponse, new Uint8Array(24))
  assert.equal(toHex(msg.mic ?? new Uint8Array(0)), 'fe935dc88b782a1c01ae3965cf77627d')
  const nt = decodeNtlmv2Response(msg.ntChallengeResponse)
  const info = describeTargetInfo(nt.clientChallenge.avPairs)
  assert.equal(info.targetName, 'HOST/192.168.121.229')
  assert.equal(info.flags, 2, 'MsvAvFlags MIC present')
  assert.deepEqual(findAvPair(nt.clientChallenge.avPairs, AvId.MsvAvChannelBindings), new Uint8Array(16))
  assert.equal(info.timestamp, nt.clientChallenge.timestamp)
  assert.deepEqual(decodeAuthenticate(encodeAuthenticate(msg)), msg)
})

test('NtlmContext answers the recorded DC challenge; NTProofStr and MIC verify', { skip }, async () => {
  const challenge = read('ntlm_challenge')
  const ctx = new NtlmContext({
    username: 'DOMAIN\\vagrant',
    password: 'VagrantPass1',
    spn: 'HTTP/dc01.domain.local',
  })
  const negotiate = (await ctx.step()) ?? assert.fail()
  const bytes = (await ctx.step(challenge)) ?? assert.fail()
  const auth = decodeAuthenticate(bytes)
  const hmac = (k: Uint8Array, ...d: Uint8Array[]): Uint8Array => {
    const h = createHmac('md5', k)
    for (const x of d) h.update(x)
    return new Uint8Array(h.digest())
  }
  const u16 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'))
  const key = hmac(md4(u16('VagrantPass1')), u16('VAGRANTDOMAIN'))
  const proof = auth.ntChallengeResponse.subarray(0, 16)
  assert.deepEqual(
    hmac(key, decodeChallenge(challenge).serverChallenge, auth.ntChallengeResponse.subarray(16)),
    proof,
  )
  const exported = rc4(hmac(key, proof), auth.encryptedRandomSessionKey)
  const zeroed = bytes.slice()
  zeroed.fill(0, 72, 88)
  assert.deepEqual(hmac(exported, negotiate, challenge, zeroed), auth.mic)
  const info = describeTargetInfo(decodeNtlmv2Response(auth.ntChallengeResponse).clientChallenge.avPairs)
  assert.equal(info.timestamp, 0x01d61e99889281f8n)
  assert.equal(info.flags, 2)
  assert.equal(info.targetName, 'HTTP/dc01.domain.local')
})
