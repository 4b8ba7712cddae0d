/**
 * NTLM (MS-NLMP) in pure TypeScript, sans-IO: the client {@link NtlmContext}, the message codecs,
 * the NTLMv2 computations and session security (signing and sealing).
 *
 * ```ts
 * const ctx = new NtlmContext({ username: 'DOMAIN\\user', password, spn: 'HTTP/server' })
 * const negotiate = await ctx.step()            // send in `Authorization: Negotiate|NTLM <b64>`
 * const authenticate = await ctx.step(challenge) // the server's 401 token
 * const { header, data } = ctx.wrap(body)        // WinRM message encryption
 * ```
 *
 * @module
 */
export { NtlmContext, splitUsername, type NtlmContextOptions, type NtlmState } from './context.ts'
export {
  NegotiateFlags,
  DEFAULT_CLIENT_FLAGS,
  describeFlags,
  hasFlag,
  type NegotiateFlagName,
} from './flags.ts'
export {
  DEFAULT_VERSION,
  NTLMSSP_REVISION_W2K3,
  decodeVersion,
  encodeVersion,
  type NtlmVersion,
} from './version.ts'
export { MessageType, NTLMSSP_SIGNATURE } from './wire.ts'
export {
  AvFlags,
  AvId,
  decodeAvPairs,
  describeTargetInfo,
  encodeAvPairs,
  findAvPair,
  type AvPair,
  type TargetInfo,
} from './av-pairs.ts'
export { decodeNegotiate, encodeNegotiate, type NegotiateMessage } from './negotiate.ts'
export { decodeChallenge, encodeChallenge, type ChallengeMessage } from './challenge.ts'
export {
  MIC_OFFSET,
  MIC_SIZE,
  decodeAuthenticate,
  encodeAuthenticate,
  type AuthenticateMessage,
} from './authenticate.ts'
export {
  decodeClientChallenge,
  decodeNtlmv2Response,
  encodeClientChallenge,
  type ClientChallenge,
  type Ntlmv2Response,
} from './client-challenge.ts'
export {
  channelBindingsHash,
  channelBindingsStruct,
  encodeChannelBindingsStruct,
  type ChannelBindings,
  type ChannelBindingsFields,
} from './channel-bindings.ts'
export {
  computeMic,
  computeNtlmv2Proof,
  filetimeFromUnixMs,
  lmv2Response,
  ntowfv1,
  ntowfv2,
  sealKey,
  signKey,
  type NtlmDirection,
  type Ntlmv2Proof,
} from './crypto.ts'
export { NtlmSessionSecurity, SIGNATURE_SIZE, type NtlmSealed } from './session-security.ts'
