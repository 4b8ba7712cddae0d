/**
 * MIT credential cache files (FILE: type), format versions 3 and 4 (big-endian), as documented in
 * MIT krb5's `ccache_file_format`:
 *
 * ```
 * u16 version (0x0503 | 0x0504)
 * v4 only: u16 header length, then tags (u16 tag, u16 length, data; tag 1 = KDC time offset)
 * principal  default principal
 * credential*  until the end of the file
 * principal  = u32 name_type, u32 count, data realm, count × data component   (data = u32 length + bytes)
 * credential = principal client, principal server,
 *              keyblock (u16 enctype [twice in v3], data key),
 *              u32 authtime, starttime, endtime, renew_till, u8 is_skey, u32 ticket_flags,
 *              u32 count + (u16 type, data) addresses, u32 count + (u16 type, data) authdata,
 *              data ticket, data second_ticket
 * ```
 *
 * Configuration entries (server realm `X-CACHECONF:`) are kept apart from credentials. Ticket flags
 * are stored as the 32-bit TicketFlags word. Sans-IO: bytes in, bytes out.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ByteReader, ByteWriter } from '../../internal/bytes.ts'
import type { KerberosCredential } from './kdc-exchange.ts'
import type { Principal } from './messages/principal.ts'

/** A parsed credential cache. */
export interface CCache {
  /** 3 or 4. */
  readonly version: 3 | 4
  /** The default (primary) principal. */
  readonly principal: Principal
  /** KDC time offset from the header (v4 tag 1), seconds and microseconds. */
  readonly kdcTimeOffset?: { readonly seconds: number; readonly microseconds: number } | undefined
  /** The credentials (configuration entries excluded). */
  readonly credentials: readonly KerberosCredential[]
  /** Configuration entries: their name (`fast_avail`, `pa_type`, …) and value. */
  readonly config: readonly { readonly name: string; readonly value: Uint8Array }[]
}

const CONF_REALM = 'X-CACHECONF:'
const utf8 = new TextDecoder('utf-8', { fatal: true })
const enc = new TextEncoder()

function data(r: ByteReader): Uint8Array {
  return r.bytes(r.u32be())
}

function text(r: ByteReader): string {
  try {
    return utf8.decode(data(r))
  } catch {
    throw new ProtocolError('ccache: a name is not valid UTF-8')
  }
}

/** Reads a principal in the ccache (and KCM) format. */
export function readPrincipal(r: ByteReader): Principal {
  const nameType = r.u32be()
  const count = r.u32be()
  if (count > 64) throw new ProtocolError(`ccache: principal with ${count} components`)
  const realm = text(r)
  const components: string[] = []
  for (let i = 0; i < count; i++) components.push(text(r))
  return { nameType, components, realm }
}

/** Skips a counted list of (u16 type, data) items (addresses, authdata). */
function skipTyped(r: ByteReader): void {
  const n = r.u32be()
  for (let i = 0; i < n; i++) {
    r.u16be()
    data(r)
  }
}

const time = (s: number): Date => new Date(s * 1000)

/** One credential record: a credential, or a configuration entry (server realm `X-CACHECONF:`). */
export type CCacheEntry =
  | { readonly kind: 'credential'; readonly credential: KerberosCredential }
  | { readonly kind: 'config'; readonly entry: { readonly name: string; readonly value: Uint8Array } }

/**
 * Reads one credential record of the ccache format (version 3 writes the enctype twice). KCM
 * (MIT `include/kcm.h`) marshals credentials in the version 4 layout.
 */
export function readCredential(r: ByteReader, version: 3 | 4): CCacheEntry {
  const client = readPrincipal(r)
  const server = readPrincipal(r)
  const enctype = r.u16be()
  if (version === 3) r.u16be()
  const key = new Uint8Array(data(r))
  const authtime = r.u32be()
  const starttime = r.u32be()
  const endtime = r.u32be()
  const renewTill = r.u32be()
  r.u8()
  const flags = r.u32be()
  skipTyped(r) // addresses
  skipTyped(r) // authdata
  const ticket = new Uint8Array(data(r))
  data(r)
  if (server.realm === CONF_REALM) {
    return { kind: 'config', entry: { name: server.components[1] ?? '', value: ticket } }
  }
  return {
    kind: 'credential',
    credential: {
      client,
      server,
      sessionKey: { enctype, value: key },
      ticket,
      flags,
      authtime: time(authtime),
      starttime: starttime === 0 ? undefined : time(starttime),
      endtime: time(endtime),
      renewTill: renewTill === 0 ? undefined : time(renewTill),
    },
  }
}

/** Parses a credential cache (`ProtocolError` when malformed or of another version). */
export function parseCCache(bytes: Uint8Array): CCache {
  const r = new ByteReader(bytes, 0, 'ccache')
  const v = r.u16be()
  if (v !== 0x0503 && v !== 0x0504) {
    throw new ProtocolError(`ccache: unsupported format version 0x${v.toString(16).padStart(4, '0')}`)
  }
  const version = v === 0x0504 ? 4 : 3
  let kdcTimeOffset: CCache['kdcTimeOffset']
  if (version === 4) {
    const h = new ByteReader(r.bytes(r.u16be()), 0, 'ccache header')
    while (h.remaining > 0) {
      const tag = h.u16be()
      const body = new ByteReader(h.bytes(h.u16be()), 0, 'ccache header tag')
      if (tag === 1 && body.remaining === 8) {
        kdcTimeOffset = { seconds: body.u32be() | 0, microseconds: body.u32be() | 0 }
      }
    }
  }
  const def = readPrincipal(r)
  const credentials: KerberosCredential[] = []
  const config: { name: string; value: Uint8Array }[] = []
  while (r.remaining > 0) {
    const entry = readCredential(r, version)
    if (entry.kind === 'config') config.push(entry.entry)
    else credentials.push(entry.credential)
  }
  return { version, principal: def, kdcTimeOffset, credentials, config }
}

function sizeOfPrincipal(p: Principal): number {
  return 12 + enc.encode(p.realm).length + p.components.reduce((n, c) => n + 4 + enc.encode(c).length, 0)
}

function writePrincipal(w: ByteWriter, p: Principal): void {
  const realm = enc.encode(p.realm)
  w.u32be(p.nameType).u32be(p.components.length).u32be(realm.length).bytes(realm)
  for (const c of p.components) {
    const b = enc.encode(c)
    w.u32be(b.length).bytes(b)
  }
}

const secs = (d: Date | undefined): number =>
  d === undefined ? 0 : Math.max(0, Math.floor(d.getTime() / 1000)) >>> 0

/** Serialises a version-4 credential cache holding `credentials` for `principal`. */
export function encodeCCache(
  principalName: Principal,
  credentials: readonly KerberosCredential[],
): Uint8Array {
  let size = 2 + 2 + sizeOfPrincipal(principalName)
  for (const c of credentials) {
    size += sizeOfPrincipal(c.client) + sizeOfPrincipal(c.server) + 2 + 4 + c.sessionKey.value.length
    size += 16 + 1 + 4 + 4 + 4 + 4 + c.ticket.length + 4
  }
  const w = new ByteWriter(size).u16be(0x0504).u16be(0)
  writePrincipal(w, principalName)
  for (const c of credentials) {
    writePrincipal(w, c.client)
    writePrincipal(w, c.server)
    w.u16be(c.sessionKey.enctype).u32be(c.sessionKey.value.length).bytes(c.sessionKey.value)
    w.u32be(secs(c.authtime)).u32be(secs(c.starttime)).u32be(secs(c.endtime)).u32be(secs(c.renewTill))
    w.u8(0)
      .u32be(c.flags >>> 0)
      .u32be(0)
      .u32be(0)
    w.u32be(c.ticket.length).bytes(c.ticket).u32be(0)
  }
  return w.finish()
}

/** Options of {@link findCredential}. */
export interface FindCredentialOptions {
  /** Credentials ending before this time (minus `minLifetime`) are skipped. */
  readonly now: Date
  /** Seconds a credential must still be valid (default 60). */
  readonly minLifetime?: number | undefined
}

/**
 * A valid credential of the cache for the service `components@realm` (e.g. `['krbtgt', 'R']` for the
 * TGT, `['HTTP', 'host']`), or undefined. Service names are compared case-sensitively, realms too.
 */
export function findCredential(
  cache: CCache,
  service: { readonly components: readonly string[]; readonly realm: string },
  options: FindCredentialOptions,
): KerberosCredential | undefined {
  const limit = options.now.getTime() + (options.minLifetime ?? 60) * 1000
  return cache.credentials.find(
    (c) =>
      c.server.realm === service.realm &&
      c.server.components.length === service.components.length &&
      c.server.components.every((x, i) => x === service.components[i]) &&
      c.endtime.getTime() > limit,
  )
}
