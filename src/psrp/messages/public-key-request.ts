/**
 * PUBLIC_KEY_REQUEST (MS-PSRP 2.2.2.5): the server asks the client to start the session key
 * exchange. The body is an empty string (`<S />`).
 *
 * @module
 */

/** PUBLIC_KEY_REQUEST has no fields. */
export type PublicKeyRequestMessage = Record<string, never>

/** Encodes the PUBLIC_KEY_REQUEST body (an empty string). */
export function encodePublicKeyRequest(_m: PublicKeyRequestMessage = {}): string {
  return ''
}

/** Decodes the PUBLIC_KEY_REQUEST body (ignored content). */
export function decodePublicKeyRequest(_value: unknown): PublicKeyRequestMessage {
  return {}
}
