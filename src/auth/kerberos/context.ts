/**
 * The Kerberos V5 GSS-API initiator (RFC 4121) as a sans-IO {@link NegotiateMechanismContext}: usable
 * directly (HTTP `Kerberos`) or under SPNEGO (`NegotiateContext`, mechanism OID `KERBEROS_OID`).
 *
 * `step()` (first call) gets the credentials — a TGT from the password (AS exchange), from keytab
 * keys, or from an MIT credential cache (where a service ticket for the SPN is used directly) — then
 * a service ticket (TGS exchange) and returns the RFC 2743 initial-context token wrapping
 * `TOK_ID 01 00 ‖ AP-REQ` (RFC 4121 §4.1) with mutual-required, a random subkey of the ticket's
 * enctype, a random initial sequence number and the 0x8003 checksum (flags MUTUAL, REPLAY,
 * SEQUENCE, CONF, INTEG, plus DELEG with a forwarded TGT in KRB-CRED when `delegate` is set; Bnd =
 * MD5 of the channel bindings, zeros without). `step(token)` verifies the AP-REP (`02 00`,
 * EncAPRepPart usage 12, ctime/cusec echoed) and takes the acceptor's subkey and sequence number;
 * a KRB-ERROR (`03 00`) is an `AuthenticationError`.
 *
 * Once complete:
 * - {@link KerberosContext.wrap}/{@link KerberosContext.unwrap}: WinRM message encryption (MS-WSMV
 *   2.2.9.1, `wrapWinRM`/`unwrapWinRM`: EC 0, RRC 28 on send; any RRC/EC, Windows' EC 16 included, on
 *   receive);
 * - {@link KerberosContext.wrapGss}/{@link KerberosContext.unwrapGss}: plain RFC 4121 Wrap tokens with
 *   RRC 0 (what CredSSP puts in its TSRequest fields);
 * - {@link KerberosContext.sign}/{@link KerberosContext.verify}: MIC tokens (SPNEGO mechListMIC).
 * Tokens use the acceptor subkey (flag AcceptorSubkey) when the AP-REP carried one, else our subkey.
 * Sequence numbers count per direction from the values in the authenticator and the AP-REP, shared
 * by wrap and MIC tokens as in MIT krb5; incoming tokens must arrive in order.
 *
 * I/O is injected: `sendKdc` (see `kdcSender` in `src/transport/kdc.ts`), `readFile` for the
 * krb5.conf, ccache and keytab paths, `connectKcm` for `KCM:` caches, `defaultCCacheName`, and `env`
 * for `KRB5CCNAME`/`KRB5_CONFIG`.
 * `createKerberosContext` in `src/transport/kdc.ts` wires in Node's.
 *
 * @module
 */
import {
  AuthenticationError,
  CryptoError,
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  PsrpError,
} from '../../errors.ts'
import {
  decodeGssInitialContextToken,
  encodeGssInitialContextToken,
  isGssInitialContextToken,
} from '../asn1/index.ts'
import { type ChannelBindings, channelBindingsHash } from '../ntlm/channel-bindings.ts'
import type { SealedMessage } from '../security-context.ts'
import type { NegotiateMechanismContext } from '../spnego/context.ts'
import { KERBEROS_OID } from '../spnego/oids.ts'
import { type CCache, findCredential, parseCCache } from './ccache.ts'
import type { KcmConnection } from './ccache-kcm.ts'
import { loadCCache } from './ccache-name.ts'
import type { KerberosTicketCache } from './ticket-cache.ts'
import { type KerberosKey, type RandomSource, decrypt, defaultRandom, encrypt } from './crypto/index.ts'
import { KeyUsage } from './crypto/key-usage.ts'
import {
  type ExchangeEnvironment,
  type KdcSender,
  type KerberosCredential,
  buildKrbCred,
  isForwardable,
  krbErrorToError,
  krbtgtPrincipal,
  makeNonce,
  randomKeyLike,
  requestForwardedTgt,
  requestServiceTicket,
  requestTgt,
} from './kdc-exchange.ts'
import { type KeytabEntry, parseKeytab } from './keytab.ts'
import { type Krb5Config, mappedRealmOfHost, parseKrb5Conf } from './krb5-conf.ts'
import { decodeApRep, decodeEncApRepPart } from './messages/ap-rep.ts'
import { encodeApReq, encodeAuthenticator } from './messages/ap-req.ts'
import { ApOption, flagsOf } from './messages/flags.ts'
import { GSS_CHECKSUM_TYPE, GssFlag, encodeGssChecksum } from './messages/gss-checksum.ts'
import { timestampOf } from './messages/kerberos-time.ts'
import { decodeKrbError, isKrbError } from './messages/krb-error.ts'
import { NameType, type Principal, parsePrincipal, principalToString } from './messages/principal.ts'
import { getMic, unwrap, unwrapWinRM, verifyMic, wrap, wrapWinRM } from './wrap-token.ts'

/** Options of {@link KerberosContext}. Give at most one of `password`, `keytab` and `ccache`. */
export interface KerberosContextOptions {
  /**
   * The user: `user`, `user@REALM` or `DOMAIN\user` (realm = `realm`, else krb5.conf's default_realm,
   * else DOMAIN upper-cased). Optional with a ccache (its default principal is used).
   */
  readonly username?: string | undefined
  /** The password (AS exchange). */
  readonly password?: string | undefined
  /** A keytab: a path (read with `readFile`), its bytes, or parsed entries. */
  readonly keytab?: string | Uint8Array | readonly KeytabEntry[] | undefined
  /**
   * An MIT credential cache: a name (`FILE:path` or a bare path, `DIR:dir` or `DIR::dir/tkt…`,
   * `KCM:` or `KCM:name`; see `ccache-name.ts`), its bytes or a parsed cache. Default when no password
   * or keytab is given: `env.KRB5CCNAME`, else {@link defaultCCacheName}.
   */
  readonly ccache?: string | Uint8Array | CCache | undefined
  /**
   * The system's default cache name when neither `ccache` nor `env.KRB5CCNAME` names one (krb5.conf
   * `default_ccache_name`, else `FILE:/tmp/krb5cc_<uid>`; `createKerberosContext` supplies it).
   */
  readonly defaultCCacheName?: (() => Promise<string | undefined>) | undefined
  /** Connects to a KCM daemon's Unix socket, for `KCM:` caches (`createKerberosContext` supplies it). */
  readonly connectKcm?: ((socketPath: string) => Promise<KcmConnection>) | undefined
  /** The service class of the SPN (default `HTTP`), or a whole SPN `service/host`. */
  readonly spn?: string | undefined
  /** The server's host name (the SPN's instance). */
  readonly hostname: string
  /** The user's realm when `username` does not name one. */
  readonly realm?: string | undefined
  /** krb5.conf: a path (read with `readFile`), its text via `parseKrb5Conf`, or default `env.KRB5_CONFIG`. */
  readonly krb5Config?: string | Krb5Config | undefined
  /** Delegate a forwarded TGT to the service (RFC 4121 §4.1.1 Deleg). */
  readonly delegate?: boolean | undefined
  /** TLS channel bindings (HTTPS); the same forms as NTLM's. */
  readonly channelBindings?: ChannelBindings | undefined
  /** Sends a request to a KDC of a realm (required unless the ccache holds a ticket for the SPN). */
  readonly sendKdc?: KdcSender | undefined
  /** Reads a file (krb5.conf, keytab, ccache paths). */
  readonly readFile?: ((path: string) => Promise<Uint8Array>) | undefined
  /** Environment variables consulted: `KRB5CCNAME`, `KRB5_CONFIG`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** The clock (default `new Date()`). */
  readonly now?: (() => Date) | undefined
  /** Randomness for subkeys, nonces, sequence numbers and confounders (default Node's CSPRNG). */
  readonly random?: RandomSource | undefined
  /**
   * Tickets obtained with a password or keytab (and service tickets obtained with a ccache's TGT)
   * are kept here and reused by later contexts given the same cache, without a KDC round trip.
   */
  readonly ticketCache?: KerberosTicketCache | undefined
}

/** Where a {@link KerberosContext} is. */
export type KerberosState = 'initial' | 'ap-req-sent' | 'complete' | 'failed'

const INSPECT = Symbol.for('nodejs.util.inspect.custom')
const TOK_AP_REQ = Uint8Array.of(0x01, 0x00)
const TOK_AP_REP = 0x0200
const TOK_ERROR = 0x0300
const utf8 = new TextDecoder()

/** The first string value of `[section] tag` in a krb5.conf, if any. */
function profileString(config: Krb5Config, section: string, tag: string): string | undefined {
  const v = config.sections.get(section)?.get(tag)?.[0]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/** A Kerberos (RFC 4121) client security context. */
export class KerberosContext implements NegotiateMechanismContext {
  /** Always `Kerberos`. */
  readonly mechanism = 'Kerberos' as const
  readonly #options: KerberosContextOptions
  readonly #env: ExchangeEnvironment
  #state: KerberosState = 'initial'
  #client: Principal | undefined
  #service: Principal | undefined
  #sessionKey: KerberosKey | undefined
  #subkey: KerberosKey | undefined
  #acceptorSubkey: KerberosKey | undefined
  #ctime: { time: Date; usec: number } | undefined
  #sendSeq = 0n
  #recvSeq = 0n
  #delegated = false

  constructor(options: KerberosContextOptions) {
    if (typeof options.hostname !== 'string' || options.hostname === '') {
      throw new InvalidArgumentError('Kerberos needs the server hostname')
    }
    if (options.username !== undefined && (typeof options.username !== 'string' || options.username === '')) {
      throw new InvalidArgumentError('Kerberos username must be a non-empty string')
    }
    const given = [options.password, options.keytab, options.ccache].filter((x) => x !== undefined).length
    if (given > 1) throw new InvalidArgumentError('Kerberos takes at most one of password, keytab and ccache')
    if ((options.password !== undefined || options.keytab !== undefined) && options.username === undefined) {
      throw new InvalidArgumentError('Kerberos needs a username with a password or keytab')
    }
    this.#options = options
    this.#env = { now: options.now ?? (() => new Date()), random: options.random ?? defaultRandom }
  }

  /** True once the AP-REP was verified. */
  get complete(): boolean {
    return this.#state === 'complete'
  }

  /** Where the exchange is. */
  get state(): KerberosState {
    return this.#state
  }

  /** The client principal (`user@REALM`), once known. */
  get clientPrincipal(): string | undefined {
    return this.#client === undefined ? undefined : principalToString(this.#client, this.#client.realm)
  }

  /** The service principal (`HTTP/host@REALM`), once known. */
  get servicePrincipal(): string | undefined {
    return this.#service === undefined ? undefined : principalToString(this.#service, this.#service.realm)
  }

  /** True when a forwarded TGT was sent to the service. */
  get delegated(): boolean {
    return this.#delegated
  }

  /** @inheritDoc */
  async step(input?: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      switch (this.#state) {
        case 'initial':
          if (input !== undefined && input.length > 0) {
            throw new ProtocolError('Kerberos: the server sent a token before the AP-REQ')
          }
          return await this.#start()
        case 'ap-req-sent':
          if (input === undefined || input.length === 0) {
            throw new AuthenticationError(
              'Kerberos: the server did not return an AP-REP (mutual authentication)',
            )
          }
          this.#finish(input)
          return undefined
        case 'complete':
          if (input !== undefined && input.length > 0)
            throw new ProtocolError('Kerberos: unexpected token after completion')
          return undefined
        case 'failed':
          throw new InvalidStateError('step', 'failed', 'Kerberos: the context failed earlier')
      }
    } catch (err) {
      this.#state = 'failed'
      throw err
    }
  }

  async #read(path: string, what: string): Promise<Uint8Array> {
    const read = this.#options.readFile
    if (read === undefined)
      throw new InvalidArgumentError(`Kerberos: a ${what} path was given but no readFile`)
    try {
      return await read(path)
    } catch (err) {
      if (err instanceof PsrpError) throw err
      throw new AuthenticationError(`Kerberos: cannot read the ${what} ${path}`, { cause: err })
    }
  }

  /** Reads a file, keeping the reader's own error (a missing DIR: `primary` file is not a failure). */
  async #readRaw(path: string): Promise<Uint8Array> {
    const read = this.#options.readFile
    if (read === undefined)
      throw new InvalidArgumentError('Kerberos: a credential cache path was given but no readFile')
    return read(path)
  }

  async #config(): Promise<Krb5Config> {
    const c = this.#options.krb5Config
    if (c !== undefined && typeof c !== 'string') return c
    const path = c ?? this.#options.env?.['KRB5_CONFIG']?.split(':')[0]
    if (path === undefined || path === '' || this.#options.readFile === undefined) return parseKrb5Conf('')
    return parseKrb5Conf(utf8.decode(await this.#read(path, 'krb5.conf')))
  }

  #clientPrincipal(config: Krb5Config): Principal {
    const name = this.#options.username as string
    const slash = name.indexOf('\\')
    if (slash >= 0) {
      const realm = this.#options.realm ?? config.defaultRealm ?? name.slice(0, slash).toUpperCase()
      return parsePrincipal(name.slice(slash + 1).replace(/@/g, '\\@'), realm)
    }
    return parsePrincipal(name, this.#options.realm ?? config.defaultRealm)
  }

  #servicePrincipal(config: Krb5Config, clientRealm: string): Principal {
    const spn = this.#options.spn ?? 'HTTP'
    const [service, host] = spn.includes('/')
      ? (spn.split('/', 2) as [string, string])
      : [spn, this.#options.hostname]
    const realm = mappedRealmOfHost(config, host) ?? clientRealm
    return { nameType: NameType.SRV_HST, components: [service, host], realm }
  }

  #send(): KdcSender {
    const s = this.#options.sendKdc
    if (s === undefined) throw new InvalidArgumentError('Kerberos needs sendKdc to reach the KDC')
    return s
  }

  async #credentials(
    config: Krb5Config,
  ): Promise<{ ticket: KerberosCredential; tgt: KerberosCredential | undefined }> {
    const o = this.#options
    const forwardable = o.delegate === true || config.forwardable
    if (o.password !== undefined || o.keytab !== undefined) {
      const client = this.#clientPrincipal(config)
      this.#client = client
      const service = this.#servicePrincipal(config, client.realm)
      this.#service = service
      const tgt = await this.#tgt(client, forwardable)
      return { ticket: await this.#serviceTicket(tgt, service, forwardable), tgt }
    }
    const envName = o.env?.['KRB5CCNAME']
    const name = o.ccache ?? (envName === '' ? undefined : envName) ?? (await o.defaultCCacheName?.())
    if (name === undefined || name === '') {
      throw new AuthenticationError(
        'Kerberos: no password, keytab or credential cache (set KRB5CCNAME or run kinit)',
      )
    }
    const cache =
      typeof name === 'string'
        ? await loadCCache(name, {
            readFile: (path) => this.#readRaw(path),
            connectKcm: o.connectKcm,
            kcmSocketPath: profileString(config, 'libdefaults', 'kcm_socket'),
          })
        : name instanceof Uint8Array
          ? parseCCache(name)
          : name
    const client = cache.principal
    if (o.username !== undefined) {
      const wanted = this.#clientPrincipal({ ...config, defaultRealm: config.defaultRealm ?? client.realm })
      if (principalToString(wanted, wanted.realm) !== principalToString(client, client.realm)) {
        throw new AuthenticationError(
          `Kerberos: the credential cache holds tickets for ${principalToString(client, client.realm)}, not ${principalToString(wanted, wanted.realm)}`,
        )
      }
    }
    this.#client = client
    const service = this.#servicePrincipal(config, client.realm)
    this.#service = service
    const now = this.#env.now()
    const tgt = findCredential(cache, krbtgtPrincipal(client.realm), { now })
    const direct = findCredential(cache, service, { now })
    if (direct !== undefined && o.delegate !== true) return { ticket: direct, tgt }
    if (tgt === undefined) {
      throw new AuthenticationError(
        `Kerberos: the credential cache has no valid ticket-granting ticket for ${principalToString(client, client.realm)} (expired? run kinit)`,
      )
    }
    // a service ticket bought with the ccache's TGT is kept in memory only (the file is not written)
    return { ticket: direct ?? (await this.#serviceTicket(tgt, service, forwardable)), tgt }
  }

  /** The ticket cache's key of `client`'s TGT, or of its ticket for `service`, with these flags. */
  #cacheKey(client: Principal, forwardable: boolean, service?: Principal): string {
    return [
      service === undefined ? 'tgt' : 'service',
      principalToString(client, client.realm),
      forwardable ? 'forwardable' : '',
      service === undefined ? '' : principalToString(service, service.realm),
    ].join(' ')
  }

  /** A TGT from the AS exchange with the password or keytab, or the ticket cache's while valid. */
  async #tgt(client: Principal, forwardable: boolean): Promise<KerberosCredential> {
    const o = this.#options
    const key = this.#cacheKey(client, forwardable)
    const cached = o.ticketCache?.get(key, this.#env.now())
    if (cached !== undefined) return cached
    let secret: { password: string } | { keys: KerberosKey[] }
    if (o.password !== undefined) secret = { password: o.password }
    else {
      const kt = o.keytab as string | Uint8Array | readonly KeytabEntry[]
      const entries = Array.isArray(kt)
        ? (kt as readonly KeytabEntry[])
        : parseKeytab(typeof kt === 'string' ? await this.#read(kt, 'keytab') : (kt as Uint8Array))
      const want = principalToString(client, client.realm)
      const mine = entries.filter((e) => principalToString(e.principal, e.principal.realm) === want)
      const newest = new Map<number, KeytabEntry>()
      for (const e of mine) if ((newest.get(e.key.enctype)?.kvno ?? -1) < e.kvno) newest.set(e.key.enctype, e)
      if (newest.size === 0) throw new AuthenticationError(`Kerberos: the keytab has no key for ${want}`)
      secret = { keys: [...newest.values()].map((e) => e.key) }
    }
    const tgt = await requestTgt({ client, secret, forwardable }, this.#send(), this.#env)
    o.ticketCache?.set(key, tgt)
    return tgt
  }

  /** The ticket for `service` from the TGS exchange with `tgt`, or the ticket cache's while valid. */
  async #serviceTicket(
    tgt: KerberosCredential,
    service: Principal,
    forwardable: boolean,
  ): Promise<KerberosCredential> {
    const key = this.#cacheKey(tgt.client, forwardable, service)
    const cached = this.#options.ticketCache?.get(key, this.#env.now())
    if (cached !== undefined) return cached
    const ticket = await requestServiceTicket(tgt, service, this.#send(), this.#env, { forwardable })
    this.#options.ticketCache?.set(key, ticket)
    return ticket
  }

  async #start(): Promise<Uint8Array> {
    const config = await this.#config()
    const { ticket, tgt } = await this.#credentials(config)
    const sessionKey = ticket.sessionKey
    this.#sessionKey = sessionKey
    let deleg: Uint8Array | undefined
    if (this.#options.delegate === true && tgt !== undefined && isForwardable(tgt)) {
      const fwd = await requestForwardedTgt(tgt, this.#send(), this.#env)
      deleg = buildKrbCred(fwd, sessionKey, this.#env)
      this.#delegated = true
    }
    const subkey = randomKeyLike(sessionKey.enctype, this.#env.random)
    this.#subkey = subkey
    const seq = makeNonce(this.#env.random) & 0x3fffffff
    this.#sendSeq = BigInt(seq)
    const ts = timestampOf(this.#env.now())
    this.#ctime = ts
    const cb = this.#options.channelBindings
    const checksum = encodeGssChecksum({
      bnd: channelBindingsHash(cb),
      flags: GssFlag.MUTUAL | GssFlag.REPLAY | GssFlag.SEQUENCE | GssFlag.CONF | GssFlag.INTEG,
      deleg,
    })
    const client = ticket.client
    const authenticator = encodeAuthenticator({
      crealm: client.realm,
      cname: client,
      cksum: { checksumType: GSS_CHECKSUM_TYPE, checksum },
      cusec: ts.usec,
      ctime: ts.time,
      subkey,
      seqNumber: seq,
    })
    const apReq = encodeApReq({
      apOptions: flagsOf([ApOption.MUTUAL_REQUIRED]),
      ticket: ticket.ticket,
      authenticator: {
        etype: sessionKey.enctype,
        cipher: encrypt(sessionKey, KeyUsage.AP_REQ_AUTH, authenticator, { random: this.#env.random }),
      },
    })
    const inner = new Uint8Array(2 + apReq.length)
    inner.set(TOK_AP_REQ)
    inner.set(apReq, 2)
    this.#state = 'ap-req-sent'
    return encodeGssInitialContextToken(KERBEROS_OID, inner)
  }

  #finish(input: Uint8Array): void {
    let body = input
    let tokId: number | undefined
    if (isGssInitialContextToken(input)) {
      const t = decodeGssInitialContextToken(input)
      if (t.mech !== KERBEROS_OID) throw new ProtocolError(`Kerberos: reply token for mechanism ${t.mech}`)
      if (t.innerToken.length < 2) throw new ProtocolError('Kerberos: reply token without TOK_ID')
      tokId = ((t.innerToken[0] as number) << 8) | (t.innerToken[1] as number)
      body = t.innerToken.subarray(2)
    }
    if (tokId === TOK_ERROR || (tokId === undefined && isKrbError(body))) {
      // the acceptor refused the ticket: the next context gets new ones from the KDC
      this.#options.ticketCache?.clear()
      throw krbErrorToError(decodeKrbError(body), { service: this.servicePrincipal, secret: 'ticket' })
    }
    if (tokId !== undefined && tokId !== TOK_AP_REP) {
      throw new ProtocolError(`Kerberos: unexpected reply TOK_ID ${tokId.toString(16).padStart(4, '0')}`)
    }
    const encPart = decodeApRep(body)
    let plain: Uint8Array
    try {
      plain = decrypt(this.#sessionKey as KerberosKey, KeyUsage.AP_REP_ENC_PART, encPart.cipher)
    } catch (err) {
      if (err instanceof CryptoError) {
        throw new AuthenticationError(
          'Kerberos: mutual authentication failed (the AP-REP does not decrypt)',
          { cause: err },
        )
      }
      throw err
    }
    const part = decodeEncApRepPart(plain)
    const ts = this.#ctime as { time: Date; usec: number }
    if (part.ctime.getTime() !== ts.time.getTime() || part.cusec !== ts.usec) {
      throw new AuthenticationError(
        'Kerberos: mutual authentication failed (the AP-REP does not echo our authenticator time)',
      )
    }
    this.#acceptorSubkey = part.subkey
    this.#recvSeq = BigInt(part.seqNumber ?? 0)
    this.#state = 'complete'
  }

  #keys(action: string): { key: KerberosKey; acceptorSubkey: boolean } {
    if (this.#state !== 'complete')
      throw new InvalidStateError(
        action,
        this.#state,
        `Kerberos: cannot ${action} before authentication completed`,
      )
    if (this.#acceptorSubkey !== undefined) return { key: this.#acceptorSubkey, acceptorSubkey: true }
    return { key: this.#subkey as KerberosKey, acceptorSubkey: false }
  }

  #nextSend(): bigint {
    const s = this.#sendSeq
    this.#sendSeq = (s + 1n) & 0xffffffffffffffffn
    return s
  }

  #received(): void {
    this.#recvSeq = (this.#recvSeq + 1n) & 0xffffffffffffffffn
  }

  /** Seals a WinRM message (RFC 4121 Wrap token split into header and encrypted data; EC 0, RRC 28). */
  wrap(plaintext: Uint8Array): SealedMessage {
    const { key, acceptorSubkey } = this.#keys('wrap')
    return wrapWinRM(key, this.#nextSend(), plaintext, KeyUsage.GSS_INITIATOR_SEAL, {
      acceptorSubkey,
      ec: 0,
      random: this.#env.random,
    })
  }

  /** Unseals a WinRM message from the server (any RRC and EC; sequence numbers must be in order). */
  unwrap(message: SealedMessage): Uint8Array {
    const { key, acceptorSubkey } = this.#keys('unwrap')
    const out = unwrapWinRM(key, message, { acceptorSubkey, expectedSequenceNumber: this.#recvSeq })
    this.#received()
    return out
  }

  /**
   * GSS_Wrap: a complete RFC 4121 Wrap token with RRC 0 (the form CredSSP carries), sealed unless
   * `confidential` is false.
   */
  wrapGss(plaintext: Uint8Array, confidential = true): Uint8Array {
    const { key, acceptorSubkey } = this.#keys('wrap')
    return wrap(key, plaintext, {
      sequenceNumber: this.#nextSend(),
      acceptorSubkey,
      confidential,
      random: this.#env.random,
    })
  }

  /** GSS_Unwrap: opens a Wrap token from the acceptor (sealed or not, any RRC/EC). */
  unwrapGss(token: Uint8Array): Uint8Array {
    const { key, acceptorSubkey } = this.#keys('unwrap')
    const out = unwrap(key, token, {
      sentByAcceptor: true,
      acceptorSubkey,
      expectedSequenceNumber: this.#recvSeq,
      rotation: 'auto',
    }).plaintext
    this.#received()
    return out
  }

  /** GSS_GetMIC: a MIC token over `message` (advances the send sequence). */
  sign(message: Uint8Array): Uint8Array {
    const { key, acceptorSubkey } = this.#keys('sign')
    return getMic(key, message, { sequenceNumber: this.#nextSend(), acceptorSubkey })
  }

  /** GSS_VerifyMIC: checks the acceptor's MIC token over `message` (`CryptoError` when it does not verify). */
  verify(message: Uint8Array, signature: Uint8Array): void {
    const { key, acceptorSubkey } = this.#keys('verify')
    verifyMic(key, message, signature, {
      sentByAcceptor: true,
      acceptorSubkey,
      expectedSequenceNumber: this.#recvSeq,
    })
    this.#received()
  }

  /** Never shows secrets. */
  [INSPECT](): string {
    return `KerberosContext { state: '${this.#state}', client: ${JSON.stringify(this.clientPrincipal ?? null)}, service: ${JSON.stringify(this.servicePrincipal ?? null)} }`
  }

  /** Never serialises secrets. */
  toJSON(): {
    mechanism: 'Kerberos'
    state: KerberosState
    client: string | undefined
    service: string | undefined
    delegated: boolean
  } {
    return {
      mechanism: 'Kerberos',
      state: this.#state,
      client: this.clientPrincipal,
      service: this.servicePrincipal,
      delegated: this.#delegated,
    }
  }
}
