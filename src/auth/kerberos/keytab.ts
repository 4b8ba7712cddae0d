/**
 * MIT keytab files (format version 0x0502, big-endian; 0x0501 in native order is refused), as
 * documented in MIT krb5's `keytab_file_format`:
 *
 * ```
 * u16 version 0x0502, then entries:  s32 size (negative: a hole of -size bytes)
 *   u16 count  u16+bytes realm  count × (u16+bytes component)  u32 name_type
 *   u32 timestamp  u8 kvno  u16 enctype  u16+bytes key  [u32 kvno when ≥ 4 bytes remain]
 * ```
 *
 * The 32-bit kvno, when present and non-zero, supersedes the 8-bit one. Sans-IO: bytes in.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ByteReader } from '../../internal/bytes.ts'
import type { KerberosKey } from './crypto/index.ts'
import { type Principal, principalToString } from './messages/principal.ts'

/** One keytab entry. */
export interface KeytabEntry {
  /** The principal (name type as stored). */
  readonly principal: Principal
  /** When the key was written (seconds since 1970, as stored). */
  readonly timestamp: number
  /** Key version number. */
  readonly kvno: number
  /** The key. */
  readonly key: KerberosKey
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function text(r: ByteReader): string {
  const b = r.bytes(r.u16be())
  try {
    return utf8.decode(b)
  } catch {
    throw new ProtocolError('keytab: a name is not valid UTF-8')
  }
}

/** Parses a keytab file (`ProtocolError` when it is not one or is truncated). */
export function parseKeytab(bytes: Uint8Array): KeytabEntry[] {
  const r = new ByteReader(bytes, 0, 'keytab')
  const version = r.u16be()
  if (version !== 0x0502) {
    throw new ProtocolError(`keytab: unsupported format version 0x${version.toString(16).padStart(4, '0')}`)
  }
  const out: KeytabEntry[] = []
  while (r.remaining > 0) {
    if (r.remaining < 4) break
    const size = r.u32be() | 0
    if (size < 0) {
      r.bytes(-size)
      continue
    }
    if (size === 0) break
    const e = new ByteReader(r.bytes(size), 0, 'keytab entry')
    const count = e.u16be()
    const realm = text(e)
    const components: string[] = []
    for (let i = 0; i < count; i++) components.push(text(e))
    const nameType = e.u32be()
    const timestamp = e.u32be()
    let kvno = e.u8()
    const enctype = e.u16be()
    const value = new Uint8Array(e.bytes(e.u16be()))
    if (e.remaining >= 4) {
      const v32 = e.u32be()
      if (v32 !== 0) kvno = v32
    }
    out.push({ principal: { nameType, components, realm }, timestamp, kvno, key: { enctype, value } })
  }
  return out
}

/** What {@link findKeytabKey} looks for. */
export interface KeytabQuery {
  /** `name/instance@REALM` text or a principal. */
  readonly principal: string | { readonly components: readonly string[]; readonly realm: string }
  /** Enctype wanted (any when absent). */
  readonly enctype?: number | undefined
  /** Key version (the highest when absent). */
  readonly kvno?: number | undefined
}

/**
 * The entry matching a principal (and enctype, kvno); with several kvnos the highest wins, as MIT
 * does. Undefined when none matches.
 */
export function findKeytabKey(entries: readonly KeytabEntry[], query: KeytabQuery): KeytabEntry | undefined {
  const want =
    typeof query.principal === 'string'
      ? query.principal
      : principalToString(query.principal, query.principal.realm)
  let best: KeytabEntry | undefined
  for (const e of entries) {
    if (principalToString(e.principal, e.principal.realm) !== want) continue
    if (query.enctype !== undefined && e.key.enctype !== query.enctype) continue
    if (query.kvno !== undefined && e.kvno !== query.kvno && (e.kvno & 0xff) !== query.kvno) continue
    if (best === undefined || e.kvno > best.kvno) best = e
  }
  return best
}
