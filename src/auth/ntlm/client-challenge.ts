/**
 * NTLMv2_CLIENT_CHALLENGE (MS-NLMP 2.2.2.7) and NTLMv2_RESPONSE (2.2.2.8):
 *
 * ```
 * NTLMv2_RESPONSE  = NTProofStr (16) ‖ NTLMv2_CLIENT_CHALLENGE
 * NTLMv2_CLIENT_CHALLENGE =
 *    0 RespType = 1   1 HiRespType = 1   2 Reserved1 (2)   4 Reserved2 (4)
 *    8 TimeStamp (FILETIME, 8)   16 ChallengeFromClient (8)   24 Reserved3 (4)
 *   28 AvPairs (… MsvAvEOL) followed by 4 zero bytes (the `Z(4)` of MS-NLMP 3.3.2)
 * ```
 *
 * The encoded client challenge is the `temp` of MS-NLMP 3.3.2 over which NTProofStr is computed.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ByteReader, ByteWriter } from '../../internal/bytes.ts'
import { type AvPair, decodeAvPairs, encodeAvPairs } from './av-pairs.ts'

/** An NTLMv2_CLIENT_CHALLENGE. */
export interface ClientChallenge {
  /** TimeStamp: FILETIME (100 ns since 1601-01-01 UTC). */
  readonly timestamp: bigint
  /** ChallengeFromClient: 8 random bytes. */
  readonly challengeFromClient: Uint8Array
  /** AvPairs (without MsvAvEOL). */
  readonly avPairs: readonly AvPair[]
}

/** A decoded NTLMv2_RESPONSE. */
export interface Ntlmv2Response {
  /** NTProofStr (16 bytes). */
  readonly ntProofStr: Uint8Array
  /** The decoded client challenge. */
  readonly clientChallenge: ClientChallenge
  /** The encoded client challenge exactly as received (`temp`, needed to recompute NTProofStr). */
  readonly clientChallengeBytes: Uint8Array
}

const RESP_TYPE = 1
const HEADER_SIZE = 28

/** Encodes an NTLMv2_CLIENT_CHALLENGE including the trailing 4 zero bytes (= `temp`). */
export function encodeClientChallenge(challenge: ClientChallenge): Uint8Array {
  if (challenge.challengeFromClient.length !== 8) {
    throw new ProtocolError('NTLMv2_CLIENT_CHALLENGE: ChallengeFromClient must be 8 bytes', { side: 'local' })
  }
  const pairs = encodeAvPairs(challenge.avPairs)
  return new ByteWriter(HEADER_SIZE + pairs.length + 4)
    .u8(RESP_TYPE)
    .u8(RESP_TYPE)
    .u16le(0)
    .u32le(0)
    .u64le(challenge.timestamp)
    .bytes(challenge.challengeFromClient)
    .u32le(0)
    .bytes(pairs)
    .u32le(0)
    .finish()
}

/** Decodes an NTLMv2_CLIENT_CHALLENGE; malformed input is a `ProtocolError`. */
export function decodeClientChallenge(bytes: Uint8Array): ClientChallenge {
  const reader = new ByteReader(bytes, 0, 'NTLMv2_CLIENT_CHALLENGE')
  const respType = reader.u8()
  const hiRespType = reader.u8()
  if (respType !== RESP_TYPE || hiRespType !== RESP_TYPE) {
    throw new ProtocolError(`NTLMv2_CLIENT_CHALLENGE: RespType ${respType}/${hiRespType}, expected 1/1`)
  }
  reader.bytes(6)
  const timestamp = reader.u64le()
  const challengeFromClient = reader.bytes(8).slice()
  reader.bytes(4)
  const avPairs = decodeAvPairs(reader.rest()).map((p) => ({ id: p.id, value: p.value.slice() }))
  return { timestamp, challengeFromClient, avPairs }
}

/**
 * Decodes an NtChallengeResponse as an NTLMv2_RESPONSE. A 24-byte response is NTLMv1 and is
 * rejected with a `ProtocolError`.
 */
export function decodeNtlmv2Response(bytes: Uint8Array): Ntlmv2Response {
  if (bytes.length <= 24) {
    throw new ProtocolError(`NtChallengeResponse of ${bytes.length} bytes is not an NTLMv2_RESPONSE`)
  }
  const ntProofStr = bytes.slice(0, 16)
  const clientChallengeBytes = bytes.slice(16)
  return { ntProofStr, clientChallenge: decodeClientChallenge(clientChallengeBytes), clientChallengeBytes }
}
