/**
 * SPNEGO (RFC 4178, MS-SPNG), sans-IO: token codecs, mechanism OIDs and the initiator
 * {@link NegotiateContext} for HTTP `Authorization: Negotiate`.
 *
 * ```ts
 * const ctx = new NegotiateContext({
 *   mechanisms: [{ oid: NTLM_OID, create: () => new NtlmContext({ username, password, spn }) }],
 * })
 * let token = await ctx.step()                    // Authorization: Negotiate <b64>
 * token = await ctx.step(serverToken)             // from WWW-Authenticate, until ctx.complete
 * const { header, data } = ctx.wrap(body)         // HTTP-SPNEGO-session-encrypted
 * ```
 *
 * @module
 */
export {
  NegotiateContext,
  type NegotiateContextOptions,
  type NegotiateMechanism,
  type NegotiateMechanismContext,
  type NegotiateState,
} from './context.ts'
export {
  KERBEROS_OID,
  KERBEROS_U2U_OID,
  MS_KERBEROS_OID,
  NEGOEX_OID,
  NTLM_OID,
  SPNEGO_OID,
  mechanismName,
} from './oids.ts'
export {
  ContextFlag,
  decodeNegTokenResp,
  decodeSpnegoToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
  encodeSpnegoToken,
  type DecodedSpnegoToken,
  type NegHints,
  type NegState,
  type NegTokenInit,
  type NegTokenResp,
  type NegotiationToken,
} from './tokens.ts'
