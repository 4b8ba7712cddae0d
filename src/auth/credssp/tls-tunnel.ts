/**
 * The TLS handshake of CredSSP (MS-CSSP 3.1.5 step 1), run by `node:tls` as a client over an
 * in-memory `Duplex`: the caller feeds the server's handshake bytes (from `WWW-Authenticate:
 * CredSSP <b64>`) and gets the client's flight back (for `Authorization: CredSSP <b64>`). Nothing
 * here opens a socket: the "socket" under the TLS engine is a buffer, so this is not network I/O in
 * the sense of DESIGN.md, which is why `src/auth/` may use `node:tls` for it.
 *
 * Once the handshake is complete the tunnel hands over a {@link TlsRecordLayer} built from the
 * session's traffic secrets (Node's `keylog` event): every record after that, including the
 * TSRequests, is protected synchronously by our own code (`tls-record.ts`), and the Node socket is
 * destroyed. That keeps `SecurityContext.wrap`/`unwrap` synchronous and deterministic.
 *
 * The server certificate is not validated (MS-CSSP: the client authenticates the server's key
 * through pubKeyAuth, which binds it to the inner NTLM/Kerberos authentication). TLS 1.2 and 1.3
 * are offered (`minVersion` defaults to TLS 1.2), with the AES-GCM suites Windows SChannel offers.
 *
 * Determinism: the TLS engine reacts to pushed bytes synchronously, and a Node TLS socket over a
 * JavaScript stream completes one write per `setImmediate` turn; after each input the tunnel waits
 * until a whole `setImmediate` turn passes without a new write, so the returned flight is complete
 * and no write is left in flight. No timers are used.
 *
 * @module
 */
// node:tls over an in-memory Duplex is not network I/O (see the module comment above).
// eslint-disable-next-line no-restricted-imports
import { connect, type TLSSocket } from 'node:tls'
import { Duplex } from 'node:stream'
import { AuthenticationError, InvalidArgumentError, InvalidStateError, ProtocolError } from '../../errors.ts'
import { aeadSuite, tls12TrafficKeys, tls13TrafficKeys, type TlsVersion } from './tls-keys.ts'
import { TlsRecordLayer, serverRandomFromFlight } from './tls-record.ts'

/** Options of {@link TlsTunnel}. */
export interface TlsTunnelOptions {
  /** Lowest TLS version accepted (default `TLSv1.2`). */
  readonly minVersion?: TlsVersion | undefined
  /** Highest TLS version offered (default `TLSv1.3`). */
  readonly maxVersion?: TlsVersion | undefined
}

/** The cipher suites offered: the AES-GCM suites the record layer implements (and SChannel offers). */
export const TUNNEL_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-GCM-SHA256',
].join(':')

/** The established session, as {@link TlsTunnel.feed} reports it. */
export interface TlsEstablished {
  /** `TLSv1.2` or `TLSv1.3`. */
  readonly protocol: TlsVersion
  /** The cipher suite (OpenSSL name). */
  readonly cipher: string
  /** The server's certificate (DER). */
  readonly peerCertificate: Uint8Array
  /** The record layer that protects everything after the handshake. */
  readonly records: TlsRecordLayer
}

/** Where a {@link TlsTunnel} is. */
export type TlsTunnelState = 'initial' | 'handshaking' | 'established' | 'failed'

/** An in-memory stream: collects what the TLS engine writes, lets us push what the server sent. */
class MemoryStream extends Duplex {
  readonly #out: Uint8Array[] = []
  /** Number of writes so far (the settle loop watches it). */
  writes = 0
  onWrite: (() => void) | undefined

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#out.push(new Uint8Array(chunk))
    this.writes++
    this.onWrite?.()
    callback()
  }

  override _read(): void {
    // data is pushed by feed()
  }

  takeOutput(): Uint8Array {
    const total = this.#out.reduce((n, c) => n + c.length, 0)
    const out = new Uint8Array(total)
    let at = 0
    for (const c of this.#out) {
      out.set(c, at)
      at += c.length
    }
    this.#out.length = 0
    return out
  }
}

const VERSIONS: readonly TlsVersion[] = ['TLSv1.2', 'TLSv1.3']

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * A TLS client handshake over buffers.
 *
 * ```ts
 * const tunnel = new TlsTunnel()
 * let out = await tunnel.start()                 // ClientHello
 * while (tunnel.state !== 'established') out = await tunnel.feed(serverBytes)
 * const { records, protocol, cipher } = tunnel.established!
 * ```
 */
export class TlsTunnel {
  readonly #min: TlsVersion
  readonly #max: TlsVersion
  #state: TlsTunnelState = 'initial'
  #mem: MemoryStream | undefined
  #socket: TLSSocket | undefined
  #error: Error | undefined
  #secure = false
  #firstServerFlight: Uint8Array | undefined
  #secrets = new Map<string, Uint8Array>()
  #clientRandom: Uint8Array | undefined
  #established: TlsEstablished | undefined
  #earlyData = false

  constructor(options: TlsTunnelOptions = {}) {
    const min = options.minVersion ?? 'TLSv1.2'
    const max = options.maxVersion ?? 'TLSv1.3'
    if (!VERSIONS.includes(min) || !VERSIONS.includes(max)) {
      throw new InvalidArgumentError(`TLS versions must be one of ${VERSIONS.join(', ')}`)
    }
    if (VERSIONS.indexOf(min) > VERSIONS.indexOf(max)) {
      throw new InvalidArgumentError('the TLS minimum version is above the maximum')
    }
    this.#min = min
    this.#max = max
  }

  /** Where the handshake is. */
  get state(): TlsTunnelState {
    return this.#state
  }

  /** The session once established. */
  get established(): TlsEstablished | undefined {
    return this.#established
  }

  /** Starts the handshake; resolves to the ClientHello. */
  async start(): Promise<Uint8Array> {
    if (this.#state !== 'initial') throw new InvalidStateError('start', this.#state)
    this.#state = 'handshaking'
    const mem = new MemoryStream()
    this.#mem = mem
    const firstWrite = new Promise<void>((resolve) => {
      mem.onWrite = resolve
    })
    const socket = connect({
      socket: mem,
      rejectUnauthorized: false, // MS-CSSP: the key is authenticated by pubKeyAuth instead
      minVersion: this.#min,
      maxVersion: this.#max,
      ciphers: TUNNEL_CIPHERS,
    })
    this.#socket = socket
    socket.on('keylog', (line: Buffer) => this.#keylog(line))
    socket.on('secureConnect', () => {
      this.#secure = true
    })
    socket.on('data', () => {
      this.#earlyData = true
    })
    socket.on('error', (err: Error) => {
      this.#error ??= err
    })
    let failed: () => void = () => undefined
    const failure = new Promise<void>((resolve) => {
      failed = resolve
    })
    socket.once('error', failed)
    socket.once('close', failed)
    await Promise.race([firstWrite, failure])
    mem.onWrite = undefined
    socket.off('error', failed)
    socket.off('close', failed)
    return this.#collect()
  }

  /**
   * Feeds the server's bytes and returns the client's next flight (possibly empty once the
   * handshake is complete: TLS 1.2 ends with the server's Finished; with TLS 1.3 the client's
   * Finished is returned and still has to be sent).
   */
  async feed(serverBytes: Uint8Array): Promise<Uint8Array> {
    if (this.#state !== 'handshaking') throw new InvalidStateError('feed', this.#state)
    const mem = this.#mem as MemoryStream
    this.#firstServerFlight ??= serverBytes.slice()
    mem.push(Buffer.from(serverBytes))
    return this.#collect()
  }

  /** Waits for the engine to finish reacting, then returns what it wrote; takes over when secure. */
  async #collect(): Promise<Uint8Array> {
    const mem = this.#mem as MemoryStream
    for (;;) {
      const writes = mem.writes
      await turn()
      if (mem.writes === writes) break
    }
    const out = mem.takeOutput()
    if (this.#error !== undefined) {
      const err = this.#error
      this.#fail()
      throw new AuthenticationError(`CredSSP: the TLS handshake with the server failed: ${err.message}`, {
        cause: err,
      })
    }
    if (this.#earlyData) {
      this.#fail()
      throw new ProtocolError('CredSSP: the server sent application data during the TLS handshake')
    }
    if (this.#secure) this.#takeOver()
    else if (out.length === 0) {
      this.#fail()
      throw new ProtocolError('CredSSP: the TLS handshake stalled (the server flight is incomplete)')
    }
    return out
  }

  #keylog(line: Buffer): void {
    const [label, random, secret] = line.toString('latin1').trim().split(' ')
    if (label === undefined || random === undefined || secret === undefined) return
    if (label === 'CLIENT_RANDOM') this.#clientRandom = new Uint8Array(Buffer.from(random, 'hex'))
    this.#secrets.set(label, new Uint8Array(Buffer.from(secret, 'hex')))
  }

  #takeOver(): void {
    const socket = this.#socket as TLSSocket
    try {
      const protocol = socket.getProtocol()
      const cipher = socket.getCipher().name
      if (protocol !== 'TLSv1.2' && protocol !== 'TLSv1.3') {
        throw new AuthenticationError(
          `CredSSP: the server negotiated ${String(protocol)}, not TLS 1.2 or 1.3`,
        )
      }
      const raw = socket.getPeerCertificate(true).raw as Buffer | undefined
      if (raw === undefined || raw.length === 0) {
        throw new AuthenticationError('CredSSP: the server sent no TLS certificate')
      }
      const suite = aeadSuite(cipher)
      let records: TlsRecordLayer
      if (protocol === 'TLSv1.3') {
        const c = this.#secrets.get('CLIENT_TRAFFIC_SECRET_0')
        const s = this.#secrets.get('SERVER_TRAFFIC_SECRET_0')
        if (c === undefined || s === undefined)
          throw new ProtocolError('CredSSP: TLS 1.3 traffic secrets unavailable', { side: 'local' })
        const keys = { client: tls13TrafficKeys(suite, c), server: tls13TrafficKeys(suite, s) }
        records = new TlsRecordLayer(protocol, cipher, suite, keys, 0n, 0n)
        wipeKeys(keys)
      } else {
        const master = this.#secrets.get('CLIENT_RANDOM')
        if (
          master === undefined ||
          this.#clientRandom === undefined ||
          this.#firstServerFlight === undefined
        ) {
          throw new ProtocolError('CredSSP: TLS 1.2 master secret unavailable', { side: 'local' })
        }
        const keys = tls12TrafficKeys(
          suite,
          master,
          this.#clientRandom,
          serverRandomFromFlight(this.#firstServerFlight),
        )
        records = new TlsRecordLayer(protocol, cipher, suite, keys, 1n, 1n)
        wipeKeys(keys)
      }
      this.#established = { protocol, cipher, peerCertificate: new Uint8Array(raw), records }
      this.#state = 'established'
    } catch (err) {
      this.#fail()
      throw err
    } finally {
      this.#release()
    }
  }

  #fail(): void {
    this.#state = 'failed'
    this.#release()
  }

  /** Destroys the Node socket and forgets the secrets (idempotent). */
  #release(): void {
    for (const s of this.#secrets.values()) s.fill(0)
    this.#secrets.clear()
    this.#firstServerFlight = undefined
    const socket = this.#socket
    this.#socket = undefined
    if (socket !== undefined) {
      socket.removeAllListeners('keylog')
      socket.removeAllListeners('data')
      socket.on('error', () => undefined)
      socket.destroy()
    }
    this.#mem?.destroy()
  }

  /** Abandons the handshake (or forgets the session) and releases everything. */
  close(): void {
    if (this.#state !== 'established') this.#state = 'failed'
    this.#established?.records.dispose()
    this.#release()
  }
}

function wipeKeys(keys: {
  client: { key: Uint8Array; iv: Uint8Array }
  server: { key: Uint8Array; iv: Uint8Array }
}): void {
  for (const k of [keys.client, keys.server]) {
    k.key.fill(0)
    k.iv.fill(0)
  }
}
