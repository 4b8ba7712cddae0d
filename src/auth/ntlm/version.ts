/**
 * The NTLM VERSION structure (MS-NLMP 2.2.2.10): 8 bytes carried by all three messages when
 * `NTLMSSP_NEGOTIATE_VERSION` is set. Debugging information only; it takes no part in the protocol.
 *
 * @module
 */
import { ByteReader, ByteWriter } from '../../internal/bytes.ts'

/** NTLMSSP_REVISION_W2K3, the only current revision. */
export const NTLMSSP_REVISION_W2K3 = 0x0f

/** A decoded VERSION structure. */
export interface NtlmVersion {
  /** ProductMajorVersion (e.g. 10). */
  readonly major: number
  /** ProductMinorVersion (e.g. 0). */
  readonly minor: number
  /** ProductBuild (e.g. 17763). */
  readonly build: number
  /** NTLMRevisionCurrent (0x0F). */
  readonly revision: number
}

/** What this client sends: Windows 10.0.17763 (Server 2019), revision 15. */
export const DEFAULT_VERSION: NtlmVersion = {
  major: 10,
  minor: 0,
  build: 17763,
  revision: NTLMSSP_REVISION_W2K3,
}

/** Size of the encoded structure. */
export const VERSION_SIZE = 8

/** Encodes a VERSION structure (8 bytes; the 3 reserved bytes are zero). */
export function encodeVersion(version: NtlmVersion): Uint8Array {
  return new ByteWriter(VERSION_SIZE)
    .u8(version.major)
    .u8(version.minor)
    .u16le(version.build)
    .bytes(new Uint8Array(3))
    .u8(version.revision)
    .finish()
}

/** Decodes a VERSION structure from the next 8 bytes of `reader`. */
export function readVersion(reader: ByteReader): NtlmVersion {
  const major = reader.u8()
  const minor = reader.u8()
  const build = reader.u16le()
  reader.bytes(3)
  const revision = reader.u8()
  return { major, minor, build, revision }
}

/** Decodes a VERSION structure (8 bytes). */
export function decodeVersion(bytes: Uint8Array): NtlmVersion {
  return readVersion(new ByteReader(bytes, 0, 'NTLM VERSION'))
}
