/**
 * The delegated credentials (MS-CSSP 2.2.1.2 TSCredentials, 2.2.1.2.1 TSPasswordCreds): what the
 * client finally hands to the server, GSS-wrapped in TSRequest.authInfo. Strings are UTF-16LE.
 *
 * ```text
 * TSCredentials   ::= SEQUENCE { credType [0] INTEGER, credentials [1] OCTET STRING }
 * TSPasswordCreds ::= SEQUENCE { domainName [0] OCTET STRING, userName [1] OCTET STRING,
 *                                password   [2] OCTET STRING }
 * ```
 *
 * Only password credentials (credType 1) are built; smart-card (2) and Remote Credential Guard (6)
 * credentials decode as opaque bytes.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { DerReader, derField, derInteger, derOctetString, derSequence, encodeDer } from '../asn1/index.ts'
import { utf16le } from '../ntlm/wire.ts'

/** credType values (MS-CSSP 2.2.1.2). */
export const CredType = {
  /** TSPasswordCreds. */
  password: 1,
  /** TSSmartCardCreds. */
  smartCard: 2,
  /** TSRemoteGuardCreds. */
  remoteGuard: 6,
} as const

/** TSCredentials (MS-CSSP 2.2.1.2). */
export interface TsCredentials {
  /** The kind of `credentials` ({@link CredType}). */
  readonly credType: number
  /** The DER of the credential structure (TSPasswordCreds for credType 1). */
  readonly credentials: Uint8Array
}

/** TSPasswordCreds (MS-CSSP 2.2.1.2.1), as text. */
export interface TsPasswordCreds {
  /** The domain (empty for a UPN user name). */
  readonly domain: string
  /** The user name. */
  readonly user: string
  /** The password. Never logged. */
  readonly password: string
}

const utf16 = new TextDecoder('utf-16le', { fatal: true })

function text(bytes: Uint8Array, what: string): string {
  if (bytes.length % 2 !== 0) throw new ProtocolError(`TSPasswordCreds: ${what} is not UTF-16LE (odd length)`)
  try {
    return utf16.decode(bytes)
  } catch {
    throw new ProtocolError(`TSPasswordCreds: ${what} is not valid UTF-16LE`)
  }
}

/** Encodes TSCredentials. */
export function encodeTsCredentials(creds: TsCredentials): Uint8Array {
  if (!Number.isInteger(creds.credType) || creds.credType < 0 || creds.credType > 0x7fffffff) {
    throw new ProtocolError('TSCredentials: invalid credType', { side: 'local' })
  }
  return encodeDer(
    derSequence([derField(0, derInteger(creds.credType)), derField(1, derOctetString(creds.credentials))]),
  )
}

/** Decodes TSCredentials (`ProtocolError` when malformed). */
export function decodeTsCredentials(bytes: Uint8Array): TsCredentials {
  const top = new DerReader(bytes, 'CredSSP TSCredentials')
  const seq = top.sequence()
  top.end()
  const credType = seq.field(0, (r) => r.smallInteger())
  if (credType < 0 || credType > 0x7fffffff) seq.fail('invalid credType')
  const credentials = seq.field(1, (r) => r.octetString())
  seq.end()
  return { credType, credentials }
}

/**
 * Encodes TSPasswordCreds. The result holds the password in clear: the caller wraps it and then
 * overwrites it with zeros.
 */
export function encodeTsPasswordCreds(creds: TsPasswordCreds): Uint8Array {
  const fields = [utf16le(creds.domain), utf16le(creds.user), utf16le(creds.password)]
  try {
    return encodeDer(derSequence(fields.map((f, i) => derField(i, derOctetString(f)))))
  } finally {
    for (const f of fields) f.fill(0)
  }
}

/** Decodes TSPasswordCreds (`ProtocolError` when malformed). */
export function decodeTsPasswordCreds(bytes: Uint8Array): TsPasswordCreds {
  const top = new DerReader(bytes, 'CredSSP TSPasswordCreds')
  const seq = top.sequence()
  top.end()
  const domain = text(
    seq.field(0, (r) => r.octetString()),
    'domainName',
  )
  const user = text(
    seq.field(1, (r) => r.octetString()),
    'userName',
  )
  const password = text(
    seq.field(2, (r) => r.octetString()),
    'password',
  )
  seq.end()
  return { domain, user, password }
}

/** TSCredentials(credType 1, TSPasswordCreds) in one call; zero the result after wrapping it. */
export function encodePasswordCredentials(creds: TsPasswordCreds): Uint8Array {
  const inner = encodeTsPasswordCreds(creds)
  try {
    return encodeTsCredentials({ credType: CredType.password, credentials: inner })
  } finally {
    inner.fill(0)
  }
}
