/**
 * ENCRYPTED_SESSION_KEY (MS-PSRP 2.2.2.4): Server sends the AES session key encrypted with the client public key.
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, requiredString } from './body.ts'

/** Fields of ENCRYPTED_SESSION_KEY. */
export interface EncryptedSessionKeyMessage {
  /** Base64 of the SIMPLEBLOB. */
  encryptedSessionKey: string
}

/** Encodes the ENCRYPTED_SESSION_KEY body. */
export function encodeEncryptedSessionKey(m: EncryptedSessionKeyMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['EncryptedSessionKey', m.encryptedSessionKey])
  return msObject(props)
}

/** Decodes the ENCRYPTED_SESSION_KEY body. */
export function decodeEncryptedSessionKey(value: unknown): EncryptedSessionKeyMessage {
  const o = bodyObject('ENCRYPTED_SESSION_KEY', value)
  return {
    encryptedSessionKey: requiredString('ENCRYPTED_SESSION_KEY', o, 'EncryptedSessionKey'),
  }
}
