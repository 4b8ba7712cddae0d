/**
 * NTLM negotiate flags (MS-NLMP 2.2.2.5 NEGOTIATE). One 32-bit little-endian field in each of the
 * three messages; the client proposes in NEGOTIATE_MESSAGE, the server chooses in CHALLENGE_MESSAGE
 * and the client confirms in AUTHENTICATE_MESSAGE.
 *
 * @module
 */

/** The flag bits by their MS-NLMP names (without the `NTLMSSP_` prefix). */
export const NegotiateFlags = {
  /** A: Unicode (UTF-16LE) strings. */
  NEGOTIATE_UNICODE: 0x00000001,
  /** B: OEM code page strings. */
  NEGOTIATE_OEM: 0x00000002,
  /** C: the server must return TargetName. */
  REQUEST_TARGET: 0x00000004,
  /** D: message integrity (signing). */
  NEGOTIATE_SIGN: 0x00000010,
  /** E: message confidentiality (sealing). */
  NEGOTIATE_SEAL: 0x00000020,
  /** F: connectionless authentication. */
  NEGOTIATE_DATAGRAM: 0x00000040,
  /** G: LAN Manager session key (mutually exclusive with extended session security). */
  NEGOTIATE_LM_KEY: 0x00000080,
  /** H: NTLM v1 session security (always set by clients). */
  NEGOTIATE_NTLM: 0x00000200,
  /** J: anonymous connection. */
  ANONYMOUS: 0x00000800,
  /** K: NEGOTIATE_MESSAGE carries a domain name. */
  NEGOTIATE_OEM_DOMAIN_SUPPLIED: 0x00001000,
  /** L: NEGOTIATE_MESSAGE carries a workstation name. */
  NEGOTIATE_OEM_WORKSTATION_SUPPLIED: 0x00002000,
  /** M: sign even dummy signatures. */
  NEGOTIATE_ALWAYS_SIGN: 0x00008000,
  /** N: TargetName is a domain name. */
  TARGET_TYPE_DOMAIN: 0x00010000,
  /** O: TargetName is a server name. */
  TARGET_TYPE_SERVER: 0x00020000,
  /** P: NTLM v2 session security (extended session security, ESS). */
  NEGOTIATE_EXTENDED_SESSIONSECURITY: 0x00080000,
  /** Q: identify-level token. */
  NEGOTIATE_IDENTIFY: 0x00100000,
  /** R: LMOWF-based session key. */
  REQUEST_NON_NT_SESSION_KEY: 0x00400000,
  /** S: CHALLENGE_MESSAGE carries TargetInfo. */
  NEGOTIATE_TARGET_INFO: 0x00800000,
  /** T: the Version field is present. */
  NEGOTIATE_VERSION: 0x02000000,
  /** U: 128-bit session key. */
  NEGOTIATE_128: 0x20000000,
  /** V: explicit key exchange (EncryptedRandomSessionKey). */
  NEGOTIATE_KEY_EXCH: 0x40000000,
  /** W: 56-bit encryption. */
  NEGOTIATE_56: 0x80000000,
} as const

/** The name of one flag bit. */
export type NegotiateFlagName = keyof typeof NegotiateFlags

/**
 * What this client proposes (MS-NLMP 3.1.5.1.1 with NTLMv2 only): Unicode and OEM, request target,
 * sign, seal, NTLM, always-sign, extended session security, version, 128-bit, 56-bit and key exchange
 * (`0xe2088237`). LM_KEY is left out because it excludes extended session security.
 */
export const DEFAULT_CLIENT_FLAGS: number =
  (NegotiateFlags.NEGOTIATE_UNICODE |
    NegotiateFlags.NEGOTIATE_OEM |
    NegotiateFlags.REQUEST_TARGET |
    NegotiateFlags.NEGOTIATE_SIGN |
    NegotiateFlags.NEGOTIATE_SEAL |
    NegotiateFlags.NEGOTIATE_NTLM |
    NegotiateFlags.NEGOTIATE_ALWAYS_SIGN |
    NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY |
    NegotiateFlags.NEGOTIATE_VERSION |
    NegotiateFlags.NEGOTIATE_128 |
    NegotiateFlags.NEGOTIATE_KEY_EXCH |
    NegotiateFlags.NEGOTIATE_56) >>>
  0

/** True when every bit of `flag` is set in `flags`. */
export function hasFlag(flags: number, flag: number): boolean {
  return (flags & flag) >>> 0 === flag >>> 0
}

/** The names of the known bits set in `flags`, in bit order (unknown bits as hex), for diagnostics. */
export function describeFlags(flags: number): string[] {
  const names: string[] = []
  let known = 0
  for (const [name, bit] of Object.entries(NegotiateFlags)) {
    known |= bit
    if (hasFlag(flags, bit)) names.push(name)
  }
  const unknown = (flags & ~known) >>> 0
  if (unknown !== 0) names.push(`0x${unknown.toString(16).padStart(8, '0')}`)
  return names
}
