/**
 * AV_PAIR lists (MS-NLMP 2.2.2.1): the TargetInfo of CHALLENGE_MESSAGE, echoed (with additions) in
 * the client's NTLMv2_CLIENT_CHALLENGE. Each pair is `AvId` (u16 LE), `AvLen` (u16 LE), value; the
 * list ends with MsvAvEOL (id 0, length 0). Here a list is held without its terminator.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ByteReader, ByteWriter, viewOf } from '../../internal/bytes.ts'
import { fromUtf16le } from './wire.ts'

/** AvId values (MS-NLMP 2.2.2.1). */
export const AvId = {
  /** End of list. */
  MsvAvEOL: 0,
  /** Server NetBIOS computer name (UTF-16LE). */
  MsvAvNbComputerName: 1,
  /** Server NetBIOS domain name (UTF-16LE). */
  MsvAvNbDomainName: 2,
  /** Server DNS computer name (UTF-16LE). */
  MsvAvDnsComputerName: 3,
  /** DNS domain name (UTF-16LE). */
  MsvAvDnsDomainName: 4,
  /** DNS forest name (UTF-16LE). */
  MsvAvDnsTreeName: 5,
  /** 32-bit flags: 0x1 constrained, 0x2 MIC present, 0x4 SPN from untrusted source. */
  MsvAvFlags: 6,
  /** FILETIME of the server (64-bit little-endian). */
  MsvAvTimestamp: 7,
  /** Single_Host_Data structure. */
  MsvAvSingleHost: 8,
  /** The SPN of the target server (UTF-16LE), sent by the client. */
  MsvAvTargetName: 9,
  /** MD5 of gss_channel_bindings_struct (16 bytes), sent by the client. */
  MsvAvChannelBindings: 10,
} as const

/** MsvAvFlags bits. */
export const AvFlags = {
  /** The account authentication is constrained. */
  CONSTRAINED: 0x1,
  /** The client provides a MIC in AUTHENTICATE_MESSAGE. */
  MIC_PRESENT: 0x2,
  /** The SPN came from an untrusted source. */
  UNTRUSTED_SPN: 0x4,
} as const

/** One AV_PAIR: its id and raw value. */
export interface AvPair {
  readonly id: number
  readonly value: Uint8Array
}

/** An AV_PAIR list decoded into named values (unknown ids are ignored). */
export interface TargetInfo {
  nbComputerName?: string
  nbDomainName?: string
  dnsComputerName?: string
  dnsDomainName?: string
  dnsTreeName?: string
  flags?: number
  /** FILETIME (100 ns intervals since 1601-01-01 UTC). */
  timestamp?: bigint
  singleHost?: Uint8Array
  targetName?: string
  channelBindings?: Uint8Array
}

const FIXED_LENGTH: Readonly<Record<number, number>> = {
  [AvId.MsvAvFlags]: 4,
  [AvId.MsvAvTimestamp]: 8,
  [AvId.MsvAvChannelBindings]: 16,
}

/**
 * Decodes an AV_PAIR list. The list must end with MsvAvEOL; bytes after it are ignored. Truncation,
 * a missing terminator or a wrong length for a fixed-size pair is a {@link ProtocolError}.
 *
 * @returns the pairs in wire order, without the terminator
 */
export function decodeAvPairs(bytes: Uint8Array): AvPair[] {
  const reader = new ByteReader(bytes, 0, 'NTLM AV_PAIR list')
  const pairs: AvPair[] = []
  for (;;) {
    if (reader.remaining === 0) throw new ProtocolError('NTLM AV_PAIR list: missing MsvAvEOL terminator')
    const id = reader.u16le()
    const length = reader.u16le()
    const value = reader.bytes(length)
    if (id === AvId.MsvAvEOL) return pairs
    const fixed = FIXED_LENGTH[id]
    if (fixed !== undefined && length !== fixed) {
      throw new ProtocolError(`NTLM AV_PAIR ${id}: length ${length}, expected ${fixed}`)
    }
    pairs.push({ id, value })
  }
}

/** Encodes an AV_PAIR list and appends MsvAvEOL. Pairs with id MsvAvEOL in the input are skipped. */
export function encodeAvPairs(pairs: readonly AvPair[]): Uint8Array {
  const kept = pairs.filter((p) => p.id !== AvId.MsvAvEOL)
  let size = 4
  for (const p of kept) size += 4 + p.value.length
  const writer = new ByteWriter(size)
  for (const p of kept) {
    if (p.value.length > 0xffff)
      throw new ProtocolError(`NTLM AV_PAIR ${p.id} is too long`, { side: 'local' })
    writer.u16le(p.id).u16le(p.value.length).bytes(p.value)
  }
  writer.u16le(AvId.MsvAvEOL).u16le(0)
  return writer.finish()
}

/** The value of the first pair with `id`, or undefined. */
export function findAvPair(pairs: readonly AvPair[], id: number): Uint8Array | undefined {
  return pairs.find((p) => p.id === id)?.value
}

/** A copy of `pairs` where `id` has the single value `value`, kept in place or appended at the end. */
export function setAvPair(pairs: readonly AvPair[], id: number, value: Uint8Array): AvPair[] {
  const out: AvPair[] = []
  let placed = false
  for (const p of pairs) {
    if (p.id !== id) out.push(p)
    else if (!placed) {
      out.push({ id, value })
      placed = true
    }
  }
  if (!placed) out.push({ id, value })
  return out
}

/** A 32-bit little-endian AV value (MsvAvFlags). */
export function u32Value(value: number): Uint8Array {
  const out = new Uint8Array(4)
  viewOf(out).setUint32(0, value >>> 0, true)
  return out
}

/** A 64-bit little-endian AV value (MsvAvTimestamp). */
export function u64Value(value: bigint): Uint8Array {
  const out = new Uint8Array(8)
  viewOf(out).setBigUint64(0, value, true)
  return out
}

/** Decodes the known pairs of a list into a {@link TargetInfo} (first occurrence wins). */
export function describeTargetInfo(pairs: readonly AvPair[]): TargetInfo {
  const info: TargetInfo = {}
  const text = (v: Uint8Array, name: string): string => fromUtf16le(v, `NTLM AV_PAIR ${name}`)
  for (const { id, value } of pairs) {
    switch (id) {
      case AvId.MsvAvNbComputerName:
        info.nbComputerName ??= text(value, 'MsvAvNbComputerName')
        break
      case AvId.MsvAvNbDomainName:
        info.nbDomainName ??= text(value, 'MsvAvNbDomainName')
        break
      case AvId.MsvAvDnsComputerName:
        info.dnsComputerName ??= text(value, 'MsvAvDnsComputerName')
        break
      case AvId.MsvAvDnsDomainName:
        info.dnsDomainName ??= text(value, 'MsvAvDnsDomainName')
        break
      case AvId.MsvAvDnsTreeName:
        info.dnsTreeName ??= text(value, 'MsvAvDnsTreeName')
        break
      case AvId.MsvAvFlags:
        info.flags ??= viewOf(value).getUint32(0, true)
        break
      case AvId.MsvAvTimestamp:
        info.timestamp ??= viewOf(value).getBigUint64(0, true)
        break
      case AvId.MsvAvSingleHost:
        info.singleHost ??= value
        break
      case AvId.MsvAvTargetName:
        info.targetName ??= text(value, 'MsvAvTargetName')
        break
      case AvId.MsvAvChannelBindings:
        info.channelBindings ??= value
        break
    }
  }
  return info
}
