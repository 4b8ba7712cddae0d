/**
 * Kerberos key usage numbers: RFC 4120 §7.5.1 (the protocol messages) and RFC 4121 §2 (GSS-API
 * per-message tokens). The usage is mixed into every derived key (RFC 3961 §3, §5.3), so the same
 * session key encrypts an authenticator and an AP-REP part under unrelated keys.
 *
 * @module
 */

/** Named key usage numbers (RFC 4120 §7.5.1, RFC 4121 §2). */
export const KeyUsage = {
  /** AS-REQ PA-ENC-TIMESTAMP padata timestamp, encrypted with the client key. */
  AS_REQ_PA_ENC_TIMESTAMP: 1,
  /** AS-REP / TGS-REP Ticket (the ticket's encrypted part), encrypted with the service key. */
  KDC_REP_TICKET: 2,
  /** AS-REP encrypted part, encrypted with the client key. */
  AS_REP_ENC_PART: 3,
  /** TGS-REQ KDC-REQ-BODY AuthorizationData, encrypted with the TGS session key. */
  TGS_REQ_AD_SESSION_KEY: 4,
  /** TGS-REQ KDC-REQ-BODY AuthorizationData, encrypted with the TGS authenticator subkey. */
  TGS_REQ_AD_SUBKEY: 5,
  /** TGS-REQ PA-TGS-REQ authenticator checksum, keyed with the TGS session key. */
  TGS_REQ_AUTH_CKSUM: 6,
  /** TGS-REQ PA-TGS-REQ AP-REQ authenticator, encrypted with the TGS session key. */
  TGS_REQ_AUTH: 7,
  /** TGS-REP encrypted part, encrypted with the TGS session key. */
  TGS_REP_ENC_PART_SESSION_KEY: 8,
  /** TGS-REP encrypted part, encrypted with the TGS authenticator subkey. */
  TGS_REP_ENC_PART_SUBKEY: 9,
  /** AP-REQ authenticator checksum, keyed with the application session key. */
  AP_REQ_AUTH_CKSUM: 10,
  /** AP-REQ authenticator, encrypted with the application session key. */
  AP_REQ_AUTH: 11,
  /** AP-REP encrypted part (EncAPRepPart), encrypted with the application session key. */
  AP_REP_ENC_PART: 12,
  /** KRB-PRIV encrypted part. */
  KRB_PRIV_ENC_PART: 13,
  /** KRB-CRED encrypted part. */
  KRB_CRED_ENC_PART: 14,
  /** KRB-SAFE checksum. */
  KRB_SAFE_CKSUM: 15,
  /** AD-KDCIssued checksum. */
  AD_KDC_ISSUED_CKSUM: 19,
  /** RFC 4121 KG-USAGE-ACCEPTOR-SEAL: Wrap tokens sent by the acceptor (server). */
  GSS_ACCEPTOR_SEAL: 22,
  /** RFC 4121 KG-USAGE-ACCEPTOR-SIGN: MIC tokens sent by the acceptor (server). */
  GSS_ACCEPTOR_SIGN: 23,
  /** RFC 4121 KG-USAGE-INITIATOR-SEAL: Wrap tokens sent by the initiator (client). */
  GSS_INITIATOR_SEAL: 24,
  /** RFC 4121 KG-USAGE-INITIATOR-SIGN: MIC tokens sent by the initiator (client). */
  GSS_INITIATOR_SIGN: 25,
} as const

/** One of the {@link KeyUsage} numbers (any 32-bit unsigned usage is accepted by the crypto functions). */
export type KeyUsageNumber = (typeof KeyUsage)[keyof typeof KeyUsage]
