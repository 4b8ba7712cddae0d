/**
 * TLS record protection for the application data of an established CredSSP tunnel, sans-IO and
 * synchronous: RFC 8446 §5.2 (TLS 1.3 TLSCiphertext) and RFC 5246 §6.2.3.3 with RFC 5288 (TLS 1.2
 * AES-GCM GenericAEADCipher), plus the record framing of RFC 5246 §6.2.1 and the WinRM split of a
 * record into "header" and "data" (MS-WSMV 2.2.9.1 for CredSSP; notes/auth.md §1.5).
 *
 * Why not write through `node:tls`: WinRM seals each message synchronously
 * (`SecurityContext.wrap`), while a Node TLS socket over a JavaScript stream completes only one
 * write per event-loop turn. So Node runs the handshake (`tls-tunnel.ts`) and this layer protects
 * the records after it, with keys from `tls-keys.ts`.
 *
 * ```text
 * TLS 1.3: 17 03 03 len ‖ AEAD(key, iv ⊕ seq, data ‖ 0x17, aad = the 5 header bytes)
 * TLS 1.2: 17 03 03 len ‖ explicit_nonce(8) ‖ AEAD(key, salt ‖ explicit_nonce, data,
 *                                                  aad = seq ‖ 17 03 03 ‖ len(data))
 * ```
 *
 * @module
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { CryptoError, InvalidArgumentError, ProtocolError } from '../../errors.ts'
import type { TlsAeadSuite, TlsDirectionKeys, TlsVersion } from './tls-keys.ts'

/** Largest plaintext in one record (RFC 8446 §5.1, RFC 5246 §6.2.1): 16 KiB. */
export const MAX_RECORD_PLAINTEXT = 16384

/** TLS ContentType values (RFC 8446 §5.1). */
export const ContentType = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
} as const

/** One framed record. `fragment` and `encoded` are views into the input. */
export interface TlsRecord {
  /** The outer ContentType. */
  readonly type: number
  /** The legacy record version (0x0303 for TLS 1.2 and 1.3). */
  readonly version: number
  /** The record payload. */
  readonly fragment: Uint8Array
  /** Header and payload. */
  readonly encoded: Uint8Array
}

const TAG = 16
const MAX_FRAGMENT = MAX_RECORD_PLAINTEXT + 2048

/**
 * Splits bytes into whole TLS records (RFC 5246 §6.2.1); `ProtocolError` when they end inside a
 * record or a header is impossible.
 */
export function splitTlsRecords(bytes: Uint8Array): TlsRecord[] {
  return [...tlsRecords(bytes)]
}

/**
 * The records of `bytes` one at a time (see {@link splitTlsRecords}): a consumer that fails on a
 * record stops there, before the rest is framed, and nothing is held per record it has passed.
 */
export function* tlsRecords(bytes: Uint8Array): Generator<TlsRecord, void, undefined> {
  for (let at = 0; at < bytes.length;) {
    if (bytes.length - at < 5) throw new ProtocolError('TLS: truncated record header')
    const type = bytes[at] as number
    const version = ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number)
    const length = ((bytes[at + 3] as number) << 8) | (bytes[at + 4] as number)
    if (type < 20 || type > 24 || version >> 8 !== 3) {
      throw new ProtocolError(`TLS: not a TLS record (type ${type}, version 0x${version.toString(16)})`)
    }
    if (length > MAX_FRAGMENT) throw new ProtocolError(`TLS: record of ${length} bytes is too long`)
    if (bytes.length - at - 5 < length) throw new ProtocolError('TLS: truncated record')
    yield {
      type,
      version,
      fragment: bytes.subarray(at + 5, at + 5 + length),
      encoded: bytes.subarray(at, at + 5 + length),
    }
    at += 5 + length
  }
}

/**
 * The server_random of a TLS 1.2 ServerHello (RFC 5246 §7.4.1.3) found in the server's first
 * flight (the plaintext handshake records); `ProtocolError` when there is none.
 */
export function serverRandomFromFlight(flight: Uint8Array): Uint8Array {
  const handshake: number[] = []
  for (const r of tlsRecords(flight)) {
    if (r.type === ContentType.changeCipherSpec) break
    if (r.type !== ContentType.handshake) continue
    for (const b of r.fragment) {
      if (handshake.length >= 4 + 2 + 32) break
      handshake.push(b)
    }
    if (handshake.length >= 4 + 2 + 32) break
  }
  if (handshake.length < 4 + 2 + 32 || handshake[0] !== 2) {
    throw new ProtocolError('TLS: the server flight does not start with a ServerHello')
  }
  return Uint8Array.from(handshake.slice(6, 38))
}

/**
 * How many bytes of a sealed record WinRM sends as the "header" of an encrypted part, for
 * `dataLength` bytes of plaintext (pyspnego `_tls_trailer_length`; notes/auth.md §1.5): 17 for
 * TLS 1.3, 16 for GCM suites, else MAC length plus block padding (CBC), none for RC4.
 */
export function tlsTrailerLength(dataLength: number, protocol: string, cipherName: string): number {
  if (protocol === 'TLSv1.3') return 17
  if (/[-_]GCM[-_]/i.test(cipherName)) return 16
  const suffix = cipherName.split(/[-_]/).pop()?.toUpperCase() ?? ''
  const hashLength = ({ MD5: 16, SHA: 20, SHA256: 32, SHA384: 48 } as Record<string, number>)[suffix] ?? 0
  const prePad = dataLength + hashLength
  const upper = cipherName.toUpperCase()
  const padding = upper.includes('RC4') ? 0 : upper.includes('DES') ? 8 - (prePad % 8) : 16 - (prePad % 16)
  return prePad + padding - dataLength
}

/** Keys and sequence number of one direction. */
class Direction {
  readonly key: Uint8Array
  readonly iv: Uint8Array
  seq: bigint

  constructor(keys: TlsDirectionKeys, seq: bigint) {
    this.key = keys.key.slice()
    this.iv = keys.iv.slice()
    this.seq = seq
  }

  /** TLS 1.3 per-record nonce: iv ⊕ seq (RFC 8446 §5.3). */
  nonce13(): Uint8Array {
    const n = this.iv.slice()
    let s = this.seq
    for (let i = 11; i >= 4; i--) {
      n[i] = (n[i] as number) ^ Number(s & 0xffn)
      s >>= 8n
    }
    return n
  }

  next(): void {
    if (this.seq >= 0xffffffffffffffffn) throw new ProtocolError('TLS: sequence number exhausted')
    this.seq++
  }

  wipe(): void {
    this.key.fill(0)
    this.iv.fill(0)
  }
}

function seq8(seq: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, seq)
  return b
}

const ALERTS: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  40: 'handshake_failure',
  42: 'bad_certificate',
  47: 'illegal_parameter',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  80: 'internal_error',
  90: 'user_canceled',
}

function alertError(fragment: Uint8Array): ProtocolError {
  const level = fragment[0] ?? 0
  const desc = fragment[1] ?? 0
  const name = ALERTS[desc] ?? `alert ${desc}`
  return new ProtocolError(
    desc === 0
      ? 'TLS: the server closed the CredSSP session (close_notify)'
      : `TLS: the server sent ${level === 2 ? 'fatal ' : ''}alert ${name}`,
  )
}

/**
 * Both directions of an established TLS session (client side): seals application data into
 * records and opens the server's records. Sequence numbers advance per record.
 */
export class TlsRecordLayer {
  /** The negotiated protocol version. */
  readonly protocol: TlsVersion
  /** The negotiated cipher suite name (OpenSSL naming for TLS 1.2). */
  readonly cipher: string
  readonly #suite: TlsAeadSuite
  readonly #out: Direction
  readonly #in: Direction
  #failed = false

  /**
   * @param clientSeq / serverSeq the next sequence numbers: 0 for TLS 1.3 application traffic,
   * 1 for TLS 1.2 (each side's Finished used 0).
   */
  constructor(
    protocol: TlsVersion,
    cipher: string,
    suite: TlsAeadSuite,
    keys: { readonly client: TlsDirectionKeys; readonly server: TlsDirectionKeys },
    clientSeq: bigint,
    serverSeq: bigint,
  ) {
    const ivLength = protocol === 'TLSv1.3' ? 12 : 4
    for (const k of [keys.client, keys.server]) {
      if (k.key.length !== suite.keyLength || k.iv.length !== ivLength) {
        throw new ProtocolError('TLS: traffic keys of the wrong size', { side: 'local' })
      }
    }
    this.protocol = protocol
    this.cipher = cipher
    this.#suite = suite
    this.#out = new Direction(keys.client, clientSeq)
    this.#in = new Direction(keys.server, serverSeq)
  }

  /** The next outgoing and incoming sequence numbers (for tests and diagnostics). */
  get sequence(): { readonly client: bigint; readonly server: bigint } {
    return { client: this.#out.seq, server: this.#in.seq }
  }

  /** The WinRM header length for a record carrying `dataLength` bytes ({@link tlsTrailerLength}). */
  trailerLength(dataLength: number): number {
    return tlsTrailerLength(dataLength, this.protocol, this.cipher)
  }

  /** Seals `data` (at most 16 KiB) as one application-data record. */
  seal(data: Uint8Array): Uint8Array {
    this.#usable()
    if (data.length > MAX_RECORD_PLAINTEXT) {
      throw new InvalidArgumentError(
        `a TLS record holds at most ${MAX_RECORD_PLAINTEXT} bytes, got ${data.length}`,
      )
    }
    const d = this.#out
    if (this.protocol === 'TLSv1.3') {
      const length = data.length + 1 + TAG
      const header = Uint8Array.of(23, 3, 3, length >> 8, length & 0xff)
      const c = createCipheriv(this.#suite.algorithm, d.key, d.nonce13())
      c.setAAD(header)
      const parts = [
        header,
        c.update(data),
        c.update(Uint8Array.of(ContentType.applicationData)),
        c.final(),
        c.getAuthTag(),
      ]
      d.next()
      return concat(parts, 5 + length)
    }
    const explicit = seq8(d.seq)
    const length = 8 + data.length + TAG
    const header = Uint8Array.of(23, 3, 3, length >> 8, length & 0xff)
    const c = createCipheriv(this.#suite.algorithm, d.key, concat([d.iv, explicit], 12))
    c.setAAD(concat([explicit, Uint8Array.of(23, 3, 3, data.length >> 8, data.length & 0xff)], 13))
    const parts = [header, explicit, c.update(data), c.final(), c.getAuthTag()]
    d.next()
    return concat(parts, 5 + length)
  }

  /** Seals any amount of data as consecutive records of at most 16 KiB each. */
  sealAll(data: Uint8Array): Uint8Array {
    const records: Uint8Array[] = []
    for (let at = 0; at < data.length || records.length === 0; at += MAX_RECORD_PLAINTEXT) {
      records.push(this.seal(data.subarray(at, at + MAX_RECORD_PLAINTEXT)))
    }
    return concat(records)
  }

  /**
   * Opens every record in `bytes` and returns the concatenated application data. TLS 1.3
   * NewSessionTicket messages are skipped; alerts, renegotiation, KeyUpdate and partial records are
   * a `ProtocolError`, a record that does not authenticate a `CryptoError`. Any error leaves the
   * layer unusable.
   */
  open(bytes: Uint8Array): Uint8Array {
    this.#usable()
    try {
      const data: Uint8Array[] = []
      for (const r of tlsRecords(bytes)) {
        const opened = this.#openRecord(r)
        if (opened !== undefined && opened.length > 0) data.push(opened)
      }
      return concat(data)
    } catch (err) {
      this.#failed = true
      throw err
    }
  }

  #openRecord(r: TlsRecord): Uint8Array | undefined {
    if (r.version !== 0x0303)
      throw new ProtocolError(`TLS: record version 0x${r.version.toString(16)} after the handshake`)
    if (r.type === ContentType.alert && r.fragment.length === 2) throw alertError(r.fragment) // unprotected alert
    if (r.type !== ContentType.applicationData && this.protocol === 'TLSv1.3') {
      throw new ProtocolError(`TLS: unexpected record type ${r.type} after the handshake`)
    }
    const d = this.#in
    let plain: Uint8Array
    let type: number
    if (this.protocol === 'TLSv1.3') {
      if (r.fragment.length < TAG + 1 || r.fragment.length > MAX_RECORD_PLAINTEXT + 256) {
        throw new ProtocolError(`TLS: bad record length ${r.fragment.length}`)
      }
      const body = r.fragment.subarray(0, r.fragment.length - TAG)
      const inner = this.#decrypt(
        d.nonce13(),
        r.encoded.subarray(0, 5),
        body,
        r.fragment.subarray(body.length),
      )
      d.next()
      let end = inner.length
      while (end > 0 && inner[end - 1] === 0) end--
      if (end === 0) throw new ProtocolError('TLS: record without a content type')
      type = inner[end - 1] as number
      plain = inner.subarray(0, end - 1)
    } else {
      if (r.fragment.length < 8 + TAG) throw new ProtocolError(`TLS: bad record length ${r.fragment.length}`)
      const explicit = r.fragment.subarray(0, 8)
      const body = r.fragment.subarray(8, r.fragment.length - TAG)
      const aad = concat([seq8(d.seq), Uint8Array.of(r.type, 3, 3, body.length >> 8, body.length & 0xff)], 13)
      plain = this.#decrypt(concat([d.iv, explicit], 12), aad, body, r.fragment.subarray(8 + body.length))
      d.next()
      type = r.type
    }
    if (plain.length > MAX_RECORD_PLAINTEXT) throw new ProtocolError('TLS: record plaintext too long')
    switch (type) {
      case ContentType.applicationData:
        return plain
      case ContentType.alert:
        throw alertError(plain)
      case ContentType.handshake:
        if (this.protocol === 'TLSv1.3' && onlySessionTickets(plain)) return undefined
        throw new ProtocolError(
          `TLS: the server started a post-handshake exchange (message type ${plain[0] ?? '?'}), which CredSSP does not support`,
        )
      default:
        throw new ProtocolError(`TLS: unexpected content type ${type} after the handshake`)
    }
  }

  #decrypt(nonce: Uint8Array, aad: Uint8Array, body: Uint8Array, tag: Uint8Array): Uint8Array {
    try {
      const dc = createDecipheriv(this.#suite.algorithm, this.#in.key, nonce)
      dc.setAAD(aad)
      dc.setAuthTag(tag)
      return concat([dc.update(body), dc.final()])
    } catch (err) {
      throw new CryptoError('TLS: a record from the server does not authenticate', { cause: err })
    }
  }

  #usable(): void {
    if (this.#failed) throw new ProtocolError('TLS: the session failed earlier', { side: 'local' })
  }

  /** Overwrites the keys; the layer is unusable afterwards. */
  dispose(): void {
    this.#failed = true
    this.#out.wipe()
    this.#in.wipe()
  }
}

/** True when `messages` is one or more complete NewSessionTicket (type 4) handshake messages. */
function onlySessionTickets(messages: Uint8Array): boolean {
  let at = 0
  while (at < messages.length) {
    if (messages.length - at < 4 || messages[at] !== 4) return false
    const len =
      ((messages[at + 1] as number) << 16) |
      ((messages[at + 2] as number) << 8) |
      (messages[at + 3] as number)
    at += 4 + len
  }
  return at === messages.length && messages.length > 0
}

function concat(parts: readonly Uint8Array[], total?: number): Uint8Array {
  const size = total ?? parts.reduce((n, p) => n + p.length, 0)
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
