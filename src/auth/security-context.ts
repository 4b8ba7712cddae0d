/**
 * The seam between an authentication mechanism (NTLM, Kerberos, SPNEGO, CredSSP) and the HTTP layer:
 * a sans-IO security context that exchanges tokens and, once established, seals and unseals WinRM
 * message bodies (MS-WSMV 2.2.9.1). Mechanisms implement it; `src/transport/http` drives it.
 *
 * @module
 */

/** A sealed message as WinRM carries it: the signature/token header and the encrypted data, apart. */
export interface SealedMessage {
  /** NTLM: the 16-byte NTLMSSP_MESSAGE_SIGNATURE; Kerberos: the RFC 4121 wrap token header. */
  readonly header: Uint8Array
  /** The encrypted payload (same length as the plaintext for NTLM and RC4, padded for AES). */
  readonly data: Uint8Array
}

/** A client-side security context (one per HTTP connection). */
export interface SecurityContext {
  /** The mechanism actually in use (for SPNEGO: the one negotiated, once known). */
  readonly mechanism: 'NTLM' | 'Kerberos' | 'Negotiate' | 'CredSSP'
  /** True once the context is established (no more tokens to exchange). */
  readonly complete: boolean
  /**
   * The next token to send: call first with no input, then with each token the server returns.
   * Resolves to undefined when there is nothing (more) to send. Rejects with `AuthenticationError`
   * when the server's token is refused or credentials are wrong, with `ProtocolError` for malformed
   * tokens. May do I/O only through what the mechanism was given (e.g. a KDC client for Kerberos).
   */
  step(input?: Uint8Array): Promise<Uint8Array | undefined>
  /** Seals a message for WinRM message encryption (the context must be complete). */
  wrap(plaintext: Uint8Array): SealedMessage
  /** Verifies and unseals a message from the server; throws `CryptoError` when it does not verify. */
  unwrap(message: SealedMessage): Uint8Array
  /**
   * Why preferred mechanisms were not used (SPNEGO: e.g. why Kerberos could not start before NTLM
   * was chosen), for error messages. Never holds secrets.
   */
  readonly skippedMechanisms?: readonly string[]
}
