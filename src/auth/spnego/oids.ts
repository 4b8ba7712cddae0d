/**
 * Mechanism OIDs used with SPNEGO (RFC 4178 §4.1 MechType; RFC 4121 §1 Kerberos; MS-NLMP and
 * MS-NEGOEX for NTLM and NEGOEX).
 *
 * @module
 */

/** SPNEGO itself (RFC 4178 §3): `1.3.6.1.5.5.2`. */
export const SPNEGO_OID = '1.3.6.1.5.5.2'
/** Kerberos V5 GSS-API mechanism (RFC 4121 §1): `1.2.840.113554.1.2.2`. */
export const KERBEROS_OID = '1.2.840.113554.1.2.2'
/** Microsoft's historical (mis-encoded) Kerberos OID, listed by Windows besides the RFC one: `1.2.840.48018.1.2.2`. */
export const MS_KERBEROS_OID = '1.2.840.48018.1.2.2'
/** Kerberos user-to-user (RFC 4121 §1): `1.2.840.113554.1.2.2.3`. */
export const KERBEROS_U2U_OID = '1.2.840.113554.1.2.2.3'
/** NTLM (MS-NLMP 1.9): `1.3.6.1.4.1.311.2.2.10`. */
export const NTLM_OID = '1.3.6.1.4.1.311.2.2.10'
/** NEGOEX (MS-NEGOEX 1.9): `1.3.6.1.4.1.311.2.2.30`. */
export const NEGOEX_OID = '1.3.6.1.4.1.311.2.2.30'

/** The security-context mechanism name for a mechanism OID, or undefined when unknown. */
export function mechanismName(oid: string): 'Kerberos' | 'NTLM' | undefined {
  if (oid === KERBEROS_OID || oid === MS_KERBEROS_OID) return 'Kerberos'
  if (oid === NTLM_OID) return 'NTLM'
  return undefined
}
