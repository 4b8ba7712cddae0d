/**
 * NTLMv2 key and response computation (MS-NLMP 3.3.2, 3.4.5) and the MIC (3.1.5.1.2):
 *
 * ```
 * NTOWFv2  = HMAC_MD5(MD4(UTF16LE(password)), UTF16LE(Uppercase(user) ‖ domain))   (= ResponseKeyNT = ResponseKeyLM)
 * NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge ‖ temp)      temp = NTLMv2_CLIENT_CHALLENGE ‖ Z(4)
 * NtChallengeResponse = NTProofStr ‖ temp
 * LmChallengeResponse = HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge) ‖ ClientChallenge
 * SessionBaseKey = KeyExchangeKey = HMAC_MD5(ResponseKeyNT, NTProofStr)
 * EncryptedRandomSessionKey = RC4K(KeyExchangeKey, ExportedSessionKey)       (with KEY_EXCH)
 * SIGNKEY = MD5(ExportedSessionKey ‖ "session key to <dir> signing key magic constant\0")
 * SEALKEY = MD5(key ‖ "session key to <dir> sealing key magic constant\0")   key truncated to 7/5 bytes for 56/40 bit
 * MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE(MIC = 0))
 * ```
 *
 * @module
 */
import { createHash, createHmac } from 'node:crypto'
import { md4 } from '../crypto/md4.ts'
import { NegotiateFlags, hasFlag } from './flags.ts'
import { utf16le } from './wire.ts'

/** Which side's keys: `client` = client-to-server, `server` = server-to-client. */
export type NtlmDirection = 'client' | 'server'

/** HMAC-MD5 over the concatenation of `data`. */
export function hmacMd5(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac('md5', key)
  for (const d of data) h.update(d)
  return new Uint8Array(h.digest())
}

/** MD5 over the concatenation of `data`. */
export function md5(...data: Uint8Array[]): Uint8Array {
  const h = createHash('md5')
  for (const d of data) h.update(d)
  return new Uint8Array(h.digest())
}

/** NTOWFv1 = MD4(UTF16LE(password)): the "NT hash" (MS-NLMP 3.3.1). */
export function ntowfv1(password: string): Uint8Array {
  return md4(utf16le(password))
}

/**
 * Upper-cases like Windows' `RtlUpcaseUnicodeString`: code unit by code unit, never changing the
 * length (so `ß` stays `ß`, where `String.prototype.toUpperCase` would give `SS`).
 */
export function upcase(text: string): string {
  let out = ''
  for (const ch of text) {
    const up = ch.toUpperCase()
    out += up.length === ch.length ? up : ch
  }
  return out
}

/** NTOWFv2 (= ResponseKeyNT) from the NT hash (MS-NLMP 3.3.2). */
export function ntowfv2(ntHash: Uint8Array, user: string, domain: string): Uint8Array {
  return hmacMd5(ntHash, utf16le(upcase(user) + domain))
}

/** The NTLMv2 response values computed from `temp` (MS-NLMP 3.3.2). */
export interface Ntlmv2Proof {
  /** NTProofStr (16 bytes). */
  readonly ntProofStr: Uint8Array
  /** NtChallengeResponse = NTProofStr ‖ temp. */
  readonly ntChallengeResponse: Uint8Array
  /** SessionBaseKey (= KeyExchangeKey for NTLMv2). */
  readonly sessionBaseKey: Uint8Array
}

/**
 * Computes NTProofStr, NtChallengeResponse and SessionBaseKey.
 *
 * @param responseKeyNT NTOWFv2
 * @param serverChallenge the CHALLENGE_MESSAGE ServerChallenge
 * @param temp the encoded NTLMv2_CLIENT_CHALLENGE (see `encodeClientChallenge`)
 */
export function computeNtlmv2Proof(
  responseKeyNT: Uint8Array,
  serverChallenge: Uint8Array,
  temp: Uint8Array,
): Ntlmv2Proof {
  const ntProofStr = hmacMd5(responseKeyNT, serverChallenge, temp)
  const ntChallengeResponse = new Uint8Array(16 + temp.length)
  ntChallengeResponse.set(ntProofStr)
  ntChallengeResponse.set(temp, 16)
  return { ntProofStr, ntChallengeResponse, sessionBaseKey: hmacMd5(responseKeyNT, ntProofStr) }
}

/** LMv2 response = HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge) ‖ ClientChallenge (24 bytes). */
export function lmv2Response(
  responseKeyLM: Uint8Array,
  serverChallenge: Uint8Array,
  clientChallenge: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(24)
  out.set(hmacMd5(responseKeyLM, serverChallenge, clientChallenge))
  out.set(clientChallenge, 16)
  return out
}

const MAGIC = {
  sign: {
    client: 'session key to client-to-server signing key magic constant\0',
    server: 'session key to server-to-client signing key magic constant\0',
  },
  seal: {
    client: 'session key to client-to-server sealing key magic constant\0',
    server: 'session key to server-to-client sealing key magic constant\0',
  },
} as const

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))

/** SIGNKEY with extended session security (MS-NLMP 3.4.5.2). */
export function signKey(exportedSessionKey: Uint8Array, direction: NtlmDirection): Uint8Array {
  return md5(exportedSessionKey, ascii(MAGIC.sign[direction]))
}

/**
 * SEALKEY with extended session security (MS-NLMP 3.4.5.3): the exported session key truncated to
 * 16, 7 or 5 bytes for NTLMSSP_NEGOTIATE_128, _56 or neither, then hashed with the magic constant.
 */
export function sealKey(exportedSessionKey: Uint8Array, flags: number, direction: NtlmDirection): Uint8Array {
  const size = hasFlag(flags, NegotiateFlags.NEGOTIATE_128)
    ? 16
    : hasFlag(flags, NegotiateFlags.NEGOTIATE_56)
      ? 7
      : 5
  return md5(exportedSessionKey.subarray(0, size), ascii(MAGIC.seal[direction]))
}

/** MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE with the MIC zeroed). */
export function computeMic(
  exportedSessionKey: Uint8Array,
  negotiate: Uint8Array,
  challenge: Uint8Array,
  authenticateWithZeroMic: Uint8Array,
): Uint8Array {
  return hmacMd5(exportedSessionKey, negotiate, challenge, authenticateWithZeroMic)
}

/** FILETIME (100 ns intervals since 1601-01-01 UTC) of a Unix time in milliseconds. */
export function filetimeFromUnixMs(unixMs: number): bigint {
  return (BigInt(Math.trunc(unixMs)) + 11644473600000n) * 10000n
}
