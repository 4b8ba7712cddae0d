/**
 * PUBLIC_KEY (MS-PSRP 2.2.2.3): Client's RSA public key (base64 CAPI PUBLICKEYBLOB) for the session key exchange.
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, requiredString } from './body.ts'

/** Fields of PUBLIC_KEY. */
export interface PublicKeyMessage {
  /** Base64 of the PUBLICKEYBLOB. */
  publicKey: string
}

/** Encodes the PUBLIC_KEY body. */
export function encodePublicKey(m: PublicKeyMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['PublicKey', m.publicKey])
  return msObject(props)
}

/** Decodes the PUBLIC_KEY body. */
export function decodePublicKey(value: unknown): PublicKeyMessage {
  const o = bodyObject('PUBLIC_KEY', value)
  return {
    publicKey: requiredString('PUBLIC_KEY', o, 'PublicKey'),
  }
}
