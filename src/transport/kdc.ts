/**
 * The KDC client: the only I/O of the Kerberos client. Sends a KDC request over TCP with the 4-byte
 * big-endian length prefix of RFC 4120 §7.2.2 and reads one reply, trying each KDC of the realm in
 * turn with a per-attempt timeout and an AbortSignal. UDP (§7.2.1) is not used: TCP works with every
 * KDC, avoids KRB_ERR_RESPONSE_TOO_BIG retries, and is what MIT does with `udp_preference_limit = 0`.
 *
 * KDCs come from the `kdc` option (overrides everything), else krb5.conf `[realms] R = { kdc = … }`,
 * else DNS SRV `_kerberos._tcp.<realm>` (unless `dns_lookup_kdc = false`).
 *
 * Errors: refused/reset connections are `TransportError`, a KDC that does not answer in time is
 * `TimeoutError`; both name the KDC as `host:port`. With several KDCs the last error is thrown with
 * every attempt listed. Aborting rejects with `AbortError`. A malformed frame is `ProtocolError`.
 *
 * Also here: {@link loadKrb5Config} (krb5.conf with includes from the file system) and
 * {@link createKerberosContext}, the `KerberosContext` with Node's I/O wired in.
 *
 * @module
 */
import { Resolver } from 'node:dns/promises'
import { readFileSync, readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { AbortError, InvalidArgumentError, ProtocolError, TimeoutError, TransportError } from '../errors.ts'
import { KerberosContext, type KerberosContextOptions } from '../auth/kerberos/context.ts'
import type { KdcSender } from '../auth/kerberos/kdc-exchange.ts'
import {
  type KdcAddress,
  type Krb5Config,
  kdcsOfRealm,
  parseKdcAddress,
  parseKrb5Conf,
} from '../auth/kerberos/krb5-conf.ts'
import { expandCCacheName } from '../auth/kerberos/ccache-name.ts'
import { connectKcm } from './kcm.ts'

/** Default per-attempt timeout in milliseconds. */
export const DEFAULT_KDC_TIMEOUT = 5000
/** Largest KDC reply accepted (1 MiB). */
export const MAX_KDC_REPLY = 1 << 20

/** Options of one exchange with one KDC. */
export interface KdcRequestOptions {
  /** Milliseconds for connect + request + reply (default {@link DEFAULT_KDC_TIMEOUT}). */
  readonly timeout?: number | undefined
  /** Cancels the exchange. */
  readonly signal?: AbortSignal | undefined
}

const where = (a: KdcAddress): string =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`

/**
 * Reassembles one KDC reply from TCP reads: a 4-byte big-endian length (RFC 4120 §7.2.2), then that
 * many bytes. The length is checked against {@link MAX_KDC_REPLY} as soon as it is known, and each
 * byte is copied once, so a reply arriving a byte at a time costs linear time.
 */
export class KdcReplyReader {
  readonly #where: string
  readonly #prefix = Buffer.alloc(4)
  #prefixLength = 0
  #reply: Buffer | undefined
  #length = 0
  #done = false

  /** @param where the KDC as `host:port`, for error messages */
  constructor(where: string) {
    this.#where = where
  }

  /**
   * Adds received bytes; returns the reply once complete (bytes after it are ignored). A length
   * beyond the limit is a `ProtocolError`.
   */
  push(chunk: Uint8Array): Uint8Array | undefined {
    if (this.#done) return undefined
    let at = 0
    if (this.#reply === undefined) {
      const n = Math.min(4 - this.#prefixLength, chunk.length)
      this.#prefix.set(chunk.subarray(0, n), this.#prefixLength)
      this.#prefixLength += n
      at = n
      if (this.#prefixLength < 4) return undefined
      const length = this.#prefix.readUInt32BE(0)
      if (length > MAX_KDC_REPLY) {
        throw new ProtocolError(
          `Kerberos: KDC ${this.#where} sent a ${length}-byte reply (limit ${MAX_KDC_REPLY})`,
        )
      }
      this.#reply = Buffer.alloc(length)
    }
    const reply = this.#reply
    const n = Math.min(reply.length - this.#length, chunk.length - at)
    reply.set(chunk.subarray(at, at + n), this.#length)
    this.#length += n
    if (this.#length < reply.length) return undefined
    this.#done = true
    return new Uint8Array(reply.buffer, reply.byteOffset, reply.length)
  }
}

/** Sends one request to one KDC over TCP and resolves to the reply (RFC 4120 §7.2.2 framing). */
export function sendToKdc(
  address: KdcAddress,
  request: Uint8Array,
  options: KdcRequestOptions = {},
): Promise<Uint8Array> {
  const timeout = options.timeout ?? DEFAULT_KDC_TIMEOUT
  const signal = options.signal
  return new Promise<Uint8Array>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new AbortError(`Kerberos: request to KDC ${where(address)} aborted`))
      return
    }
    const socket = connect({ host: address.host, port: address.port })
    let done = false
    const finish = (err: Error | undefined, value?: Uint8Array): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err !== undefined) reject(err)
      else resolve(value as Uint8Array)
    }
    const onAbort = (): void => finish(new AbortError(`Kerberos: request to KDC ${where(address)} aborted`))
    signal?.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(
      () =>
        finish(
          new TimeoutError(`Kerberos: KDC ${where(address)} did not answer within ${timeout} ms`, timeout),
        ),
      timeout,
    )
    socket.on('connect', () => {
      const frame = Buffer.alloc(4 + request.length)
      frame.writeUInt32BE(request.length, 0)
      frame.set(request, 4)
      socket.write(frame)
    })
    const reader = new KdcReplyReader(where(address))
    socket.on('data', (chunk: Buffer) => {
      let reply: Uint8Array | undefined
      try {
        reply = reader.push(chunk)
      } catch (err) {
        finish(err as Error)
        return
      }
      if (reply !== undefined) finish(undefined, reply)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish(
        new TransportError(`Kerberos: cannot reach KDC ${where(address)} (${err.code ?? err.message})`, {
          cause: err,
        }),
      )
    })
    socket.on('close', () => {
      finish(new TransportError(`Kerberos: KDC ${where(address)} closed the connection before replying`))
    })
  })
}

/** Reads krb5.conf (`path`, else the first of `KRB5_CONFIG`, else /etc/krb5.conf); a missing file is an empty config. */
export async function loadKrb5Config(path?: string): Promise<Krb5Config> {
  const file = path ?? process.env['KRB5_CONFIG']?.split(':')[0] ?? '/etc/krb5.conf'
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if (path !== undefined)
      throw new InvalidArgumentError(`Kerberos: cannot read krb5.conf ${file}`, { cause: err })
    return parseKrb5Conf('')
  }
  return parseKrb5Conf(text, {
    resolveInclude: (directive, p) => {
      if (directive === 'include') return [readFileSync(p, 'utf8')]
      return readdirSync(p)
        .filter((n) => /^[A-Za-z0-9_-]+$/.test(n) || n.endsWith('.conf'))
        .sort()
        .map((n) => readFileSync(join(p, n), 'utf8'))
    },
  })
}

/** Options of {@link kdcSender}. */
export interface KdcSenderOptions extends KdcRequestOptions {
  /** krb5.conf: a path or a parsed config (default {@link loadKrb5Config}()). */
  readonly krb5Config?: string | Krb5Config | undefined
  /**
   * KDCs (`host[:port]`) to use for every realm, overriding krb5.conf: an array, or one KDC as a
   * string (see {@link kdcOption}).
   */
  readonly kdc?: string | readonly string[] | undefined
}

/**
 * Checks and parses a `kdc` option: one KDC address `host[:port]` (`[v6]:port`, optional `tcp/`)
 * as a string, or an array of them. A string is always one KDC (not a list). Any other value, or an
 * invalid address, is an {@link InvalidArgumentError} naming `option`.
 *
 * @returns the addresses, or undefined when `value` is undefined
 */
export function kdcOption(value: unknown, option = 'kdc'): KdcAddress[] | undefined {
  if (value === undefined) return undefined
  const list: unknown = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || !list.every((k): k is string => typeof k === 'string')) {
    throw new InvalidArgumentError(
      `${option} must be a KDC address "host[:port]" or an array of them, not ${describe(value)}`,
    )
  }
  try {
    return list.map(parseKdcAddress)
  } catch (err) {
    if (err instanceof InvalidArgumentError) {
      throw new InvalidArgumentError(`${option}: ${err.message}`, { cause: err })
    }
    throw err
  }
}

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array with a non-string element' : typeof v

async function srvLookup(realm: string, timeout: number): Promise<KdcAddress[]> {
  const resolver = new Resolver({ timeout: Math.min(timeout, 3000), tries: 1 })
  try {
    const rr = await resolver.resolveSrv(`_kerberos._tcp.${realm.toLowerCase()}`)
    return rr
      .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
      .map((r) => ({ host: r.name, port: r.port }))
  } catch {
    return []
  }
}

/** A {@link KdcSender} over TCP: each KDC of the realm in turn until one answers. */
export function kdcSender(options: KdcSenderOptions = {}): KdcSender {
  const fixed = kdcOption(options.kdc)
  let config: Promise<Krb5Config> | undefined
  const getConfig = (): Promise<Krb5Config> =>
    (config ??=
      typeof options.krb5Config === 'object'
        ? Promise.resolve(options.krb5Config)
        : loadKrb5Config(options.krb5Config))
  return async (realm, request) => {
    let kdcs = fixed
    if (kdcs === undefined || kdcs.length === 0) {
      const c = await getConfig()
      kdcs = kdcsOfRealm(c, realm)
      const dnsOff = /^(n|no|false|f|0|off)$/i.test(
        String(c.sections.get('libdefaults')?.get('dns_lookup_kdc')?.[0] ?? 'true'),
      )
      if (kdcs.length === 0 && !dnsOff) kdcs = await srvLookup(realm, options.timeout ?? DEFAULT_KDC_TIMEOUT)
    }
    if (kdcs.length === 0) {
      throw new InvalidArgumentError(
        `Kerberos: no KDC known for realm ${realm} (add [realms] ${realm} = { kdc = host:port } to krb5.conf or pass kdc)`,
      )
    }
    const errors: Error[] = []
    for (const k of kdcs) {
      try {
        return await sendToKdc(k, request, options)
      } catch (err) {
        if (!(err instanceof TransportError || err instanceof TimeoutError)) throw err
        errors.push(err)
      }
    }
    const last = errors[errors.length - 1] as TransportError | TimeoutError
    if (errors.length === 1) throw last
    const message = `Kerberos: no KDC of realm ${realm} answered: ${errors.map((e) => e.message.replace(/^Kerberos: /, '')).join('; ')}`
    throw last instanceof TimeoutError
      ? new TimeoutError(message, last.timeoutMs, { cause: last })
      : new TransportError(message, { cause: last })
  }
}

/**
 * The cache MIT krb5 would use when KRB5CCNAME is unset: krb5.conf's `[libdefaults]
 * default_ccache_name` (includes followed, e.g. Fedora's `/etc/krb5.conf.d/kcm_default_ccache` with
 * `KCM:`), its `%{uid}` tokens expanded, else `FILE:/tmp/krb5cc_<uid>`.
 */
export async function systemDefaultCCacheName(
  krb5Config: string | Krb5Config | undefined,
  uid: number | undefined,
): Promise<string | undefined> {
  let config: Krb5Config
  try {
    config = typeof krb5Config === 'object' ? krb5Config : await loadKrb5Config(krb5Config)
  } catch {
    config = parseKrb5Conf('')
  }
  const configured = config.sections.get('libdefaults')?.get('default_ccache_name')?.[0]
  if (typeof configured === 'string' && configured !== '') {
    return expandCCacheName(configured, { uid, tempDir: process.env['TMPDIR'] })
  }
  return uid === undefined ? undefined : `FILE:/tmp/krb5cc_${uid}`
}

/** Options of {@link createKerberosContext}: the context's, with Node defaults for its I/O. */
export interface NodeKerberosContextOptions extends Omit<
  KerberosContextOptions,
  'sendKdc' | 'readFile' | 'env'
> {
  /** KDCs (`host[:port]`) overriding krb5.conf: an array, or one KDC as a string. */
  readonly kdc?: string | readonly string[] | undefined
  /** Per-KDC-attempt timeout in milliseconds. */
  readonly timeout?: number | undefined
  /** Cancels KDC requests. */
  readonly signal?: AbortSignal | undefined
  /** Replaces the KDC sender (tests). */
  readonly sendKdc?: KdcSender | undefined
}

/**
 * A `KerberosContext` using Node's I/O: KDC requests over TCP ({@link kdcSender}), files read from
 * disk, `KRB5CCNAME`/`KRB5_CONFIG` from `process.env` (and the ccache default
 * `/tmp/krb5cc_<uid>` when neither a password, keytab nor KRB5CCNAME is given).
 */
export function createKerberosContext(options: NodeKerberosContextOptions): KerberosContext {
  const { kdc, timeout, signal, sendKdc, ...rest } = options
  const krb5Config = options.krb5Config ?? process.env['KRB5_CONFIG']?.split(':')[0]
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  const env = { KRB5_CONFIG: process.env['KRB5_CONFIG'], KRB5CCNAME: process.env['KRB5CCNAME'] }
  const config =
    krb5Config === undefined ? undefined : typeof krb5Config === 'string' ? krb5Config : krb5Config
  return new KerberosContext({
    ...rest,
    ...(config === undefined ? {} : { krb5Config: config }),
    env,
    readFile: async (p) => new Uint8Array(await readFile(p)),
    connectKcm: (socketPath) => connectKcm(socketPath, signal === undefined ? {} : { signal }),
    defaultCCacheName: () => systemDefaultCCacheName(config, uid),
    sendKdc:
      sendKdc ??
      kdcSender({
        ...(config === undefined ? {} : { krb5Config: config }),
        ...(kdc === undefined ? {} : { kdc }),
        ...(timeout === undefined ? {} : { timeout }),
        ...(signal === undefined ? {} : { signal }),
      }),
  })
}
