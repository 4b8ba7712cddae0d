/**
 * The GSS-API authenticator checksum of the Kerberos mechanism (RFC 4121 §4.1.1), checksum type
 * 0x8003, carried in the AP-REQ Authenticator's cksum field (little-endian integers):
 *
 * ```
 * 0..3   Lgth   = 16 (length of Bnd)
 * 4..19  Bnd    = MD5 of the gss_channel_bindings_struct, or zeros
 * 20..23 Flags  (DELEG 1, MUTUAL 2, REPLAY 4, SEQUENCE 8, CONF 16, INTEG 32)
 * 24..25 DlgOpt = 1      } only when DELEG is set
 * 26..27 Dlgth           }
 * 28..   Deleg  = KRB-CRED }
 * ```
 *
 * @module
 */
import { ProtocolError } from '../../../errors.ts'
import { ByteReader, ByteWriter } from '../../../internal/bytes.ts'

/** The checksum type of the GSS authenticator checksum. */
export const GSS_CHECKSUM_TYPE = 0x8003

/** Context flags of the checksum (RFC 4121 §4.1.1.1, RFC 2744 values). */
export const GssFlag = {
  DELEG: 1,
  MUTUAL: 2,
  REPLAY: 4,
  SEQUENCE: 8,
  CONF: 16,
  INTEG: 32,
} as const

/** The fields of the checksum. */
export interface GssChecksum {
  /** 16 bytes: MD5 of the channel bindings, or zeros. */
  readonly bnd: Uint8Array
  /** Flags word. */
  readonly flags: number
  /** KRB-CRED with the forwarded TGT (present exactly when DELEG is set). */
  readonly deleg?: Uint8Array | undefined
}

/** Encodes the 0x8003 checksum value. */
export function encodeGssChecksum(c: GssChecksum): Uint8Array {
  if (c.bnd.length !== 16) throw new ProtocolError('GSS checksum: Bnd must be 16 bytes', { side: 'local' })
  const deleg = c.deleg
  const size = 24 + (deleg === undefined ? 0 : 4 + deleg.length)
  const w = new ByteWriter(size)
    .u32le(16)
    .bytes(c.bnd)
    .u32le((c.flags | (deleg === undefined ? 0 : GssFlag.DELEG)) >>> 0)
  if (deleg !== undefined) {
    if (deleg.length > 0xffff) throw new ProtocolError('GSS checksum: KRB-CRED too long', { side: 'local' })
    w.u16le(1).u16le(deleg.length).bytes(deleg)
  }
  return w.finish()
}

/** Decodes the 0x8003 checksum value (extensions after Deleg are ignored). */
export function decodeGssChecksum(bytes: Uint8Array): GssChecksum {
  const r = new ByteReader(bytes, 0, 'GSS authenticator checksum')
  const lgth = r.u32le()
  if (lgth !== 16) throw new ProtocolError(`GSS authenticator checksum: Lgth ${lgth} is not 16`)
  const bnd = new Uint8Array(r.bytes(16))
  const flags = r.u32le()
  let deleg: Uint8Array | undefined
  if ((flags & GssFlag.DELEG) !== 0 && r.remaining > 0) {
    const opt = r.u16le()
    if (opt !== 1) throw new ProtocolError(`GSS authenticator checksum: DlgOpt ${opt} is not 1`)
    deleg = new Uint8Array(r.bytes(r.u16le()))
  }
  return { bnd, flags, deleg }
}
