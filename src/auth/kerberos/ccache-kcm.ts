/**
 * The KCM credential cache (`KCM:` names): the Kerberos Cache Manager protocol that sssd-kcm (the
 * default ccache on Fedora and RHEL) and Heimdal's kcm daemon speak, as MIT krb5 defines it in
 * `include/kcm.h` and uses it in `lib/krb5/ccache/cc_kcm.c` (protocol version 2.0):
 *
 * ```
 * request (over a Unix stream socket)   u32 length ‖ u8 major (2) ‖ u8 minor (0) ‖ u16 opcode ‖ parameters
 * reply                                 u32 length ‖ u32 transport status ‖ length bytes:
 *                                                    u32 KCM status ‖ results
 * ```
 *
 * All integers are big-endian. Names are NUL-terminated strings, UUIDs 16 bytes (a UUID list runs to
 * the end of the reply), principals and credentials are marshalled in the version 4 FILE ccache
 * layout (`ccache.ts`). A non-zero status is a krb5 error code (`KRB5_FCC_NOFILE` when the cache does
 * not exist). Replies are bounded as in MIT (10 MiB).
 *
 * Reading a cache, as `cc_kcm.c` does: `GET_DEFAULT_CACHE` when the name is bare `KCM:`, then
 * `GET_PRINCIPAL(name)`, `GET_KDC_OFFSET(name)` (optional), `GET_CRED_UUID_LIST(name)` and
 * `GET_CRED_BY_UUID(name, uuid)` per credential. Sans-IO: the socket is injected as a
 * {@link KcmConnection} (`src/transport/kcm.ts` has Node's).
 *
 * @module
 */
import { AuthenticationError, ProtocolError } from '../../errors.ts'
import { ByteReader, ByteWriter } from '../../internal/bytes.ts'
import type { KerberosCredential } from './kdc-exchange.ts'
import { readCredential, readPrincipal, type CCache } from './ccache.ts'

/** KCM protocol version this client speaks (`KCM_PROTOCOL_VERSION_MAJOR`/`MINOR`). */
export const KCM_PROTOCOL_VERSION = { major: 2, minor: 0 } as const

/** Where MIT krb5 and sssd-kcm put the socket unless krb5.conf's `kcm_socket` says otherwise. */
export const DEFAULT_KCM_SOCKET_PATH = '/var/run/.heim_org.h5l.kcm-socket'

/** Largest reply accepted (MIT's `MAX_REPLY_SIZE`). */
export const KCM_MAX_REPLY_SIZE = 10 * 1024 * 1024

/** KCM opcodes (the `kcm_opcode` enum of MIT's `include/kcm.h`; values are the enum positions). */
export const KcmOpcode = {
  NOOP: 0,
  GET_NAME: 1,
  RESOLVE: 2,
  GEN_NEW: 3,
  INITIALIZE: 4,
  DESTROY: 5,
  STORE: 6,
  RETRIEVE: 7,
  GET_PRINCIPAL: 8,
  GET_CRED_UUID_LIST: 9,
  GET_CRED_BY_UUID: 10,
  REMOVE_CRED: 11,
  SET_FLAGS: 12,
  CHOWN: 13,
  CHMOD: 14,
  GET_INITIAL_TICKET: 15,
  GET_TICKET: 16,
  MOVE_CACHE: 17,
  GET_CACHE_UUID_LIST: 18,
  GET_CACHE_BY_UUID: 19,
  GET_DEFAULT_CACHE: 20,
  SET_DEFAULT_CACHE: 21,
  GET_KDC_OFFSET: 22,
  SET_KDC_OFFSET: 23,
} as const

/** One of the {@link KcmOpcode} values. */
export type KcmOpcode = (typeof KcmOpcode)[keyof typeof KcmOpcode]

/** krb5 error codes a KCM server answers with, by name (MIT `krb5_err.et`, `k5e1_err.et`). */
export const KcmStatus = {
  /** KRB5_FCC_NOFILE: no credentials cache found. */
  KRB5_FCC_NOFILE: -1765328189,
  /** KRB5_CC_END: end of the credential list (a credential removed meanwhile). */
  KRB5_CC_END: -1765328242,
  /** KRB5_CC_NOTFOUND: matching credential not found. */
  KRB5_CC_NOTFOUND: -1765328243,
  /** KRB5_CC_FORMAT: bad format in the credentials cache. */
  KRB5_CC_FORMAT: -1765328185,
  /** KRB5_CC_IO: credentials cache I/O operation failed. */
  KRB5_CC_IO: -1765328195,
  /** KRB5_CC_NOSUPP: the operation is not supported by the server. */
  KRB5_CC_NOSUPP: -1765328137,
} as const

/** A connection to a KCM server: one request at a time, answered in order. */
export interface KcmConnection {
  /**
   * Sends a request (as made by {@link encodeKcmRequest}, without the length prefix) and resolves
   * with the reply bytes after the transport status (the KCM status word and the results).
   */
  call(request: Uint8Array): Promise<Uint8Array>
  /** Closes the connection. */
  close(): void
}

const enc = new TextEncoder()
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A request: version, opcode, then the parameters (names are written NUL-terminated). */
export function encodeKcmRequest(opcode: KcmOpcode, ...params: (string | Uint8Array)[]): Uint8Array {
  const parts = params.map((p) => (typeof p === 'string' ? nulTerminated(p) : p))
  const w = new ByteWriter(4 + parts.reduce((n, p) => n + p.length, 0))
  w.u8(KCM_PROTOCOL_VERSION.major).u8(KCM_PROTOCOL_VERSION.minor).u16be(opcode)
  for (const p of parts) w.bytes(p)
  return w.finish()
}

function nulTerminated(name: string): Uint8Array {
  if (name.includes('\0')) throw new ProtocolError('KCM: a cache name cannot contain NUL')
  const b = enc.encode(name)
  const out = new Uint8Array(b.length + 1)
  out.set(b)
  return out
}

/** The 4-byte big-endian length prefix followed by the request, as written to the Unix socket. */
export function frameKcmRequest(request: Uint8Array): Uint8Array {
  const w = new ByteWriter(4 + request.length)
  return w.u32be(request.length).bytes(request).finish()
}

/**
 * Reassembles replies read from the socket in any split: `push(chunk)` then `next()` gives each
 * complete reply (`undefined` while more bytes are needed). A transport status other than 0 or a
 * length over {@link KCM_MAX_REPLY_SIZE} is an error.
 *
 * Cost is linear in the bytes pushed however they are split: the 8-byte header is read once per
 * reply, and each byte is copied once, into its reply, when the reply is complete.
 */
export class KcmReplyReader {
  /** Chunks not consumed yet, from index `#first` on. */
  #chunks: Uint8Array[] = []
  #first = 0
  #size = 0
  /** Header and body length of the reply being received, once its header is read and accepted. */
  #needed: number | undefined

  /** Adds bytes read from the socket. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#size += chunk.length
  }

  /** The next complete reply (KCM status word and results), or undefined when incomplete. */
  next(): Uint8Array | undefined {
    if (this.#needed === undefined) {
      if (this.#size < 8) return undefined
      const head = this.#copy(8, false)
      const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
      const length = view.getUint32(0)
      if (length > KCM_MAX_REPLY_SIZE) {
        throw new ProtocolError(`KCM: reply of ${length} bytes is over the ${KCM_MAX_REPLY_SIZE}-byte limit`)
      }
      const transportStatus = view.getInt32(4)
      if (transportStatus !== 0) throw kcmStatusError(transportStatus, 'the KCM transport')
      this.#needed = 8 + length
    }
    if (this.#size < this.#needed) return undefined
    this.#copy(8, true)
    const reply = this.#copy(this.#needed - 8, true)
    this.#needed = undefined
    return reply
  }

  /**
   * A copy of the first `n` buffered bytes (n ≤ the buffered size), removed from the buffer when
   * `consume`.
   */
  #copy(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n)
    let i = this.#first
    for (let at = 0; at < n;) {
      const chunk = this.#chunks[i] as Uint8Array
      const take = Math.min(chunk.length, n - at)
      out.set(take === chunk.length ? chunk : chunk.subarray(0, take), at)
      at += take
      if (take < chunk.length) {
        // the copy ends inside this chunk; its rest stays buffered
        if (consume) this.#chunks[i] = chunk.subarray(take)
        break
      }
      i++
    }
    if (consume) {
      this.#size -= n
      this.#first = i
      if (this.#first === this.#chunks.length) {
        this.#chunks = []
        this.#first = 0
      } else if (this.#first > 32 && this.#first * 2 > this.#chunks.length) {
        this.#chunks = this.#chunks.slice(this.#first)
        this.#first = 0
      }
    }
    return out
  }
}

function statusName(code: number): string | undefined {
  for (const [name, value] of Object.entries(KcmStatus)) if (value === code) return name
  return undefined
}

/** The error for a non-zero KCM status. */
export function kcmStatusError(code: number, what: string): AuthenticationError {
  const name = statusName(code)
  const hint = code === KcmStatus.KRB5_FCC_NOFILE ? ' (no such cache: run kinit)' : ''
  return new AuthenticationError(
    `Kerberos: ${what} failed with krb5 error ${code}${name === undefined ? '' : ` ${name}`}${hint}`,
  )
}

/** Splits a reply into its status and results, throwing for a non-zero status. */
function results(reply: Uint8Array, what: string): ByteReader {
  const r = new ByteReader(reply, 0, `KCM reply to ${what}`)
  const status = r.u32be() | 0
  if (status !== 0) throw kcmStatusError(status, `KCM ${what}`)
  return r
}

/** A NUL-terminated name at the reader's position. */
function readName(r: ByteReader, what: string): string {
  const rest = r.bytes(r.remaining)
  const end = rest.indexOf(0)
  if (end < 0) throw new ProtocolError(`KCM: the reply to ${what} has no NUL-terminated name`)
  try {
    return utf8.decode(rest.subarray(0, end))
  } catch {
    throw new ProtocolError(`KCM: the cache name in the reply to ${what} is not UTF-8`)
  }
}

/** Options of {@link readKcmCCache}. */
export interface ReadKcmCCacheOptions {
  /** Most credentials read from one cache (default 4096); a server offering more is refused. */
  readonly maxCredentials?: number | undefined
}

/**
 * Reads a KCM cache into the same {@link CCache} a FILE: cache parses to (version 4). `residual` is
 * the part of the name after `KCM:` (e.g. `0` or `0:krb5cc_abc`); empty means the default cache of
 * the caller. The connection is not closed here.
 */
export async function readKcmCCache(
  connection: KcmConnection,
  residual: string,
  options: ReadKcmCCacheOptions = {},
): Promise<CCache> {
  const call = async (what: string, opcode: KcmOpcode, ...params: (string | Uint8Array)[]) =>
    results(await connection.call(encodeKcmRequest(opcode, ...params)), what)

  const name =
    residual === ''
      ? readName(await call('GET_DEFAULT_CACHE', KcmOpcode.GET_DEFAULT_CACHE), 'GET_DEFAULT_CACHE')
      : residual
  const p = await call('GET_PRINCIPAL', KcmOpcode.GET_PRINCIPAL, name)
  // Heimdal's kcm answers an empty cache with status 0 and no principal (cc_kcm.c kcm_get_princ).
  if (p.remaining === 0) throw kcmStatusError(KcmStatus.KRB5_FCC_NOFILE, `KCM GET_PRINCIPAL of ${name}`)
  const principal = readPrincipal(p)

  let kdcTimeOffset: CCache['kdcTimeOffset']
  try {
    const o = await call('GET_KDC_OFFSET', KcmOpcode.GET_KDC_OFFSET, name)
    if (o.remaining >= 4) kdcTimeOffset = { seconds: o.u32be() | 0, microseconds: 0 }
  } catch (err) {
    // optional, as in MIT: a server without the offset is fine
    if (!(err instanceof AuthenticationError)) throw err
  }

  const list = await call('GET_CRED_UUID_LIST', KcmOpcode.GET_CRED_UUID_LIST, name)
  if (list.remaining % 16 !== 0) {
    throw new ProtocolError(`KCM: a UUID list of ${list.remaining} bytes is not a multiple of 16`)
  }
  const count = list.remaining / 16
  const max = options.maxCredentials ?? 4096
  if (count > max) throw new ProtocolError(`KCM: the cache lists ${count} credentials (limit ${max})`)
  const uuids: Uint8Array[] = []
  for (let i = 0; i < count; i++) uuids.push(list.bytes(16))

  const credentials: KerberosCredential[] = []
  const config: { name: string; value: Uint8Array }[] = []
  for (const uuid of uuids) {
    const reply = await connection.call(encodeKcmRequest(KcmOpcode.GET_CRED_BY_UUID, name, uuid))
    const status = reply.length < 4 ? 0 : new DataView(reply.buffer, reply.byteOffset, 4).getInt32(0)
    // a credential removed between the list and this call is not an error (cc_kcm.c's cursor ends there)
    if (status === KcmStatus.KRB5_CC_END || status === KcmStatus.KRB5_FCC_NOFILE) continue
    const entry = readCredential(results(reply, 'GET_CRED_BY_UUID'), 4)
    if (entry.kind === 'config') config.push(entry.entry)
    else credentials.push(entry.credential)
  }
  return { version: 4, principal, kdcTimeOffset, credentials, config }
}
