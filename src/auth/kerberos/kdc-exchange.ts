/**
 * The client side of the Kerberos KDC exchanges (RFC 4120 §3.1 AS, §3.3 TGS), sans-IO: requests are
 * built as bytes and replies parsed from bytes; the only I/O is the injected {@link KdcSender}
 * (`src/transport/kdc.ts` provides one over TCP).
 *
 * AS exchange ({@link requestTgt}): an AS-REQ without pre-authentication (or straight with
 * PA-ENC-TIMESTAMP when the salt is already known); on KDC_ERR_PREAUTH_REQUIRED the ETYPE-INFO2 in
 * the e-data gives the enctype, salt and s2kparams, and the request is repeated with
 * PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2, key usage 1). The AS-REP enc-part is decrypted with the
 * password-derived key or a keytab key (usage 3) and its nonce checked.
 *
 * TGS exchange ({@link requestServiceTicket}): a TGS-REQ whose PA-TGS-REQ is an AP-REQ over the TGT
 * with an authenticator checksum over the DER of KDC-REQ-BODY (usages 6 and 7); the TGS-REP
 * enc-part is decrypted with the TGT session key (usage 8). No TGS subkey is sent. Cross-realm
 * referrals are not followed: the service must be in the TGT's realm.
 *
 * KRB-ERROR replies become {@link KerberosError} (an `AuthenticationError`) with a message a person
 * can act on; secrets never appear in messages.
 *
 * @module
 */
import { AuthenticationError, CryptoError, KerberosError, ProtocolError } from '../../errors.ts'
import {
  EncType,
  type KerberosKey,
  type RandomSource,
  decrypt,
  encrypt,
  getProfile,
  makeChecksum,
  principalSalt,
  stringToKey,
  SUPPORTED_ENCTYPES,
} from './crypto/index.ts'
import { KeyUsage } from './crypto/key-usage.ts'
import { encodeApReq, encodeAuthenticator } from './messages/ap-req.ts'
import { KdcOption, TicketFlag, flagsOf } from './messages/flags.ts'
import { type EncKdcRepPart, type KdcRep, decodeEncKdcRepPart, decodeKdcRep } from './messages/kdc-rep.ts'
import { type KdcReqBody, encodeKdcReq, encodeKdcReqBody } from './messages/kdc-req.ts'
import { timestampOf } from './messages/kerberos-time.ts'
import { encodeEncKrbCredPart, encodeKrbCred } from './messages/krb-cred.ts'
import {
  KrbErrorCode,
  type KrbError,
  decodeKrbError,
  isKrbError,
  krbErrorName,
} from './messages/krb-error.ts'
import { MessageType } from './messages/message-type.ts'
import {
  type EtypeInfo2Entry,
  type PaData,
  PaDataType,
  decodeEtypeInfo2,
  decodeMethodData,
  encodePaEncTsEnc,
  paPacRequest,
} from './messages/pa-data.ts'
import { NameType, type Principal, principalToString, samePrincipalName } from './messages/principal.ts'
import { encodeDer } from '../asn1/index.ts'
import { encodeEncryptedData } from './messages/encrypted-data.ts'

/** Sends one KDC request to a KDC of `realm` and resolves to the reply bytes (the only I/O). */
export type KdcSender = (realm: string, request: Uint8Array) => Promise<Uint8Array>

/** A ticket and what goes with it: the form both the exchanges and the ccache use. */
export interface KerberosCredential {
  /** The client principal. */
  readonly client: Principal
  /** The service principal the ticket is for (`krbtgt/REALM@REALM` for a TGT). */
  readonly server: Principal
  /** The session key shared with the service. */
  readonly sessionKey: KerberosKey
  /** The Ticket's DER. */
  readonly ticket: Uint8Array
  /** TicketFlags word (see `TicketFlag`, `hasFlag`). */
  readonly flags: number
  readonly authtime: Date
  readonly starttime?: Date | undefined
  readonly endtime: Date
  readonly renewTill?: Date | undefined
}

/** Clock and randomness of an exchange (injected: this layer has neither). */
export interface ExchangeEnvironment {
  /** The current time. */
  readonly now: () => Date
  /** Random bytes (nonces, confounders, subkeys). */
  readonly random: RandomSource
}

/** What the error message may name (principals only, never secrets). */
export interface ErrorContext {
  /** The client principal text. */
  readonly client?: string | undefined
  /** The service principal text. */
  readonly service?: string | undefined
  /** `password` or `key` (keytab): what was wrong when pre-authentication fails. */
  readonly secret?: 'password' | 'key' | 'ticket' | undefined
}

/** Turns a KRB-ERROR into a {@link KerberosError} with an actionable message. */
export function krbErrorToError(e: KrbError, ctx: ErrorContext = {}): KerberosError {
  const name = krbErrorName(e.errorCode)
  const text = e.eText === undefined || e.eText === '' ? '' : `: ${e.eText.replace(/\0+$/, '')}`
  const who = ctx.client ?? (e.cname === undefined ? 'the client' : principalToString(e.cname, e.crealm))
  let msg: string
  switch (e.errorCode) {
    case KrbErrorCode.KDC_ERR_PREAUTH_FAILED:
    case KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY:
      msg =
        ctx.secret === 'key'
          ? `Kerberos: the keytab key for ${who} was refused by the KDC (wrong key or kvno)`
          : ctx.secret === 'ticket'
            ? `Kerberos: the ticket or session key was refused (${name})`
            : `Kerberos: the password for ${who} was wrong (the KDC refused pre-authentication)`
      break
    case KrbErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
      msg = `Kerberos: the KDC does not know the user ${who}`
      break
    case KrbErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
      msg = `Kerberos: the KDC does not know the service ${ctx.service ?? principalToString(e.sname, e.realm)} (check the SPN and host name)`
      break
    case KrbErrorCode.KRB_AP_ERR_SKEW:
      msg = `Kerberos: the clock of this machine differs too much from the server's (KRB_AP_ERR_SKEW; server time ${e.stime.toISOString()}); synchronise the clocks`
      break
    case KrbErrorCode.KDC_ERR_ETYPE_NOSUPP:
      msg = `Kerberos: the KDC and this client share no encryption type (this client supports AES only: ${SUPPORTED_ENCTYPES.join(', ')})`
      break
    case KrbErrorCode.KDC_ERR_CLIENT_REVOKED:
      msg = `Kerberos: the account ${who} is disabled or locked out`
      break
    case KrbErrorCode.KDC_ERR_KEY_EXPIRED:
      msg = `Kerberos: the password of ${who} has expired`
      break
    default:
      msg = `Kerberos: request refused`
  }
  return new KerberosError(`${msg} (${name}, code ${e.errorCode}${text})`, e.errorCode, name)
}

/** The credentials the AS exchange can use: a password, or long-term keys (keytab). */
export type ClientSecret = { readonly password: string } | { readonly keys: readonly KerberosKey[] }

/** Options of {@link requestTgt}. */
export interface AsRequestOptions {
  /** The client principal. */
  readonly client: Principal
  /** Password or keys. */
  readonly secret: ClientSecret
  /** Enctypes to offer, preferred first (default 18, 17, 20, 19). */
  readonly etypes?: readonly number[] | undefined
  /** Ask for a forwardable TGT (needed for delegation). */
  readonly forwardable?: boolean | undefined
  /** Requested lifetime in seconds (default 10 hours). */
  readonly lifetime?: number | undefined
  /** Known ETYPE-INFO2 (skips the first round trip with a password). */
  readonly etypeInfo?: readonly EtypeInfo2Entry[] | undefined
  /** PA-PAC-REQUEST include-pac (MS-KILE; default true, ignored by MIT). */
  readonly includePac?: boolean | undefined
}

const DEFAULT_LIFETIME = 10 * 3600
const DEFAULT_ETYPES = [
  EncType.AES256_CTS_HMAC_SHA1_96,
  EncType.AES128_CTS_HMAC_SHA1_96,
  EncType.AES256_CTS_HMAC_SHA384_192,
  EncType.AES128_CTS_HMAC_SHA256_128,
]

/** A random 31-bit nonce (positive, as MIT and Windows expect). */
export function makeNonce(random: RandomSource): number {
  const b = random(4)
  return (
    (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) &
    0x7fffffff
  )
}

/** A reply from a KDC: AS-REP, TGS-REP or KRB-ERROR. */
export type KdcReply =
  { readonly kind: 'rep'; readonly rep: KdcRep } | { readonly kind: 'error'; readonly error: KrbError }

/** Parses a KDC reply (`ProtocolError` when it is neither a KDC-REP nor a KRB-ERROR). */
export function parseKdcReply(bytes: Uint8Array): KdcReply {
  if (isKrbError(bytes)) return { kind: 'error', error: decodeKrbError(bytes) }
  return { kind: 'rep', rep: decodeKdcRep(bytes) }
}

/** The krbtgt principal of a realm. */
export function krbtgtPrincipal(realm: string): Principal {
  return { nameType: NameType.SRV_INST, components: ['krbtgt', realm], realm }
}

function clientKeyFor(
  secret: ClientSecret,
  client: Principal,
  etype: number,
  info: EtypeInfo2Entry | undefined,
): KerberosKey | undefined {
  if ('keys' in secret) return secret.keys.find((k) => k.enctype === etype)
  if (!SUPPORTED_ENCTYPES.includes(etype)) return undefined
  const salt = info?.salt ?? principalSalt(client.realm, client.components)
  return stringToKey(etype, secret.password, salt, info?.s2kparams)
}

function etypeInfoOf(padata: readonly PaData[]): EtypeInfo2Entry[] {
  const out: EtypeInfo2Entry[] = []
  for (const p of padata) {
    // no spread: a hostile KDC can send more entries than a call accepts arguments
    if (p.type === PaDataType.ETYPE_INFO2) for (const e of decodeEtypeInfo2(p.value)) out.push(e)
  }
  return out
}

function encTimestamp(key: KerberosKey, env: ExchangeEnvironment): PaData {
  const { time, usec } = timestampOf(env.now())
  const cipher = encrypt(key, KeyUsage.AS_REQ_PA_ENC_TIMESTAMP, encodePaEncTsEnc(time, usec), {
    random: env.random,
  })
  return {
    type: PaDataType.ENC_TIMESTAMP,
    value: encodeDer(encodeEncryptedData({ etype: key.enctype, cipher })),
  }
}

function decryptRepPart(
  rep: KdcRep,
  key: KerberosKey,
  usage: number,
  onIntegrity: () => Error,
): EncKdcRepPart {
  if (rep.encPart.etype !== key.enctype) {
    throw new ProtocolError(`KDC reply encrypted with enctype ${rep.encPart.etype}, expected ${key.enctype}`)
  }
  let plain: Uint8Array
  try {
    plain = decrypt(key, usage, rep.encPart.cipher)
  } catch (err) {
    if (err instanceof CryptoError) throw onIntegrity()
    throw err
  }
  return decodeEncKdcRepPart(plain)
}

function credentialOf(rep: KdcRep, part: EncKdcRepPart): KerberosCredential {
  return {
    client: { ...rep.cname, realm: rep.crealm },
    server: { ...part.sname, realm: part.srealm },
    sessionKey: part.key,
    ticket: rep.ticket.encoded,
    flags: part.flags,
    authtime: part.authtime,
    starttime: part.starttime,
    endtime: part.endtime,
    renewTill: part.renewTill,
  }
}

/**
 * The AS exchange: obtains a TGT for `client` with a password or keytab keys. Throws
 * {@link KerberosError} for KDC errors (wrong password, unknown user, clock skew …),
 * `ProtocolError` for malformed replies, and whatever `send` throws for transport failures.
 */
export async function requestTgt(
  options: AsRequestOptions,
  send: KdcSender,
  env: ExchangeEnvironment,
): Promise<KerberosCredential> {
  const client = options.client
  const clientText = principalToString(client, client.realm)
  const secretKind = 'keys' in options.secret ? 'key' : 'password'
  const etypes = (options.etypes ?? DEFAULT_ETYPES).filter((e) => SUPPORTED_ENCTYPES.includes(e))
  if ('keys' in options.secret) {
    const have = new Set(options.secret.keys.map((k) => k.enctype))
    const usable = etypes.filter((e) => have.has(e))
    if (usable.length === 0)
      throw new AuthenticationError(`Kerberos: no usable key for ${clientText} in the keytab`)
    etypes.splice(0, etypes.length, ...usable)
  }
  const now = env.now()
  const till = new Date(now.getTime() + (options.lifetime ?? DEFAULT_LIFETIME) * 1000)
  const kdcOptions = flagsOf([
    ...(options.forwardable === true ? [KdcOption.FORWARDABLE] : []),
    KdcOption.RENEWABLE_OK,
  ])
  const pac = paPacRequest(options.includePac ?? true)
  let info: readonly EtypeInfo2Entry[] = options.etypeInfo ?? []
  let preauthKey: KerberosKey | undefined
  const pickPreauth = (): void => {
    for (const entry of info) {
      if (!etypes.includes(entry.etype)) continue
      const key = clientKeyFor(options.secret, client, entry.etype, entry)
      if (key !== undefined) {
        preauthKey = key
        return
      }
    }
  }
  pickPreauth()
  for (let attempt = 0; attempt < 3; attempt++) {
    const nonce = makeNonce(env.random)
    const body: KdcReqBody = {
      kdcOptions,
      cname: { nameType: client.nameType, components: client.components },
      realm: client.realm,
      sname: krbtgtPrincipal(client.realm),
      till,
      nonce,
      etypes,
    }
    const padata = preauthKey === undefined ? [pac] : [encTimestamp(preauthKey, env), pac]
    const reply = parseKdcReply(
      await send(client.realm, encodeKdcReq(MessageType.AS_REQ, padata, encodeKdcReqBody(body))),
    )
    if (reply.kind === 'error') {
      const e = reply.error
      if (e.errorCode === KrbErrorCode.KDC_ERR_PREAUTH_REQUIRED && preauthKey === undefined) {
        info = e.eData === undefined ? [] : etypeInfoOf(decodeMethodData(e.eData))
        if (info.length === 0) info = etypes.map((etype) => ({ etype }))
        pickPreauth()
        if (preauthKey === undefined) {
          throw new AuthenticationError(
            `Kerberos: the KDC offers no enctype for ${clientText} that this client can use`,
          )
        }
        continue
      }
      throw krbErrorToError(e, { client: clientText, secret: secretKind })
    }
    const rep = reply.rep
    if (rep.msgType !== MessageType.AS_REP)
      throw new ProtocolError('Kerberos: the KDC answered an AS-REQ with a TGS-REP')
    const etype = rep.encPart.etype
    const repInfo =
      etypeInfoOf(rep.padata).find((i) => i.etype === etype) ?? info.find((i) => i.etype === etype)
    const key =
      preauthKey?.enctype === etype && repInfo === undefined
        ? preauthKey
        : clientKeyFor(options.secret, client, etype, repInfo)
    if (key === undefined)
      throw new ProtocolError(`Kerberos: AS-REP encrypted with enctype ${etype}, which was not offered`)
    const part = decryptRepPart(rep, key, KeyUsage.AS_REP_ENC_PART, () =>
      secretKind === 'key'
        ? new KerberosError(
            `Kerberos: the keytab key for ${clientText} does not decrypt the AS-REP (wrong key)`,
            KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY,
            krbErrorName(KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY),
          )
        : new KerberosError(
            `Kerberos: the password for ${clientText} was wrong (the AS-REP does not decrypt)`,
            KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY,
            krbErrorName(KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY),
          ),
    )
    if (part.nonce !== nonce)
      throw new ProtocolError('Kerberos: AS-REP nonce does not match the request (replay?)')
    if (part.sname.components[0] !== 'krbtgt')
      throw new ProtocolError('Kerberos: AS-REP is not for a krbtgt service')
    return credentialOf(rep, part)
  }
  throw new AuthenticationError(`Kerberos: pre-authentication for ${clientText} did not converge`)
}

/** Options of {@link requestServiceTicket}. */
export interface TgsRequestOptions {
  /** Enctypes to offer for the session key. */
  readonly etypes?: readonly number[] | undefined
  /** Extra KDCOptions bits (e.g. `KdcOption.FORWARDED`). */
  readonly kdcOptions?: readonly number[] | undefined
  /** Ask for a forwardable ticket. */
  readonly forwardable?: boolean | undefined
}

/**
 * The TGS exchange: a ticket for `server` using `tgt`. Throws {@link KerberosError} for KDC errors
 * (e.g. unknown service principal), `ProtocolError` for malformed replies.
 */
export async function requestServiceTicket(
  tgt: KerberosCredential,
  server: Principal,
  send: KdcSender,
  env: ExchangeEnvironment,
  options: TgsRequestOptions = {},
): Promise<KerberosCredential> {
  const tgtRealm = tgt.server.components[1] ?? tgt.server.realm
  const serviceText = principalToString(server, server.realm)
  const nonce = makeNonce(env.random)
  const bits = [
    ...(options.kdcOptions ?? []),
    ...(options.forwardable === true ? [KdcOption.FORWARDABLE] : []),
  ]
  const body: KdcReqBody = {
    kdcOptions: flagsOf([...bits, KdcOption.CANONICALIZE]),
    realm: server.realm,
    sname: { nameType: server.nameType, components: server.components },
    till: tgt.endtime,
    nonce,
    etypes: (options.etypes ?? DEFAULT_ETYPES).filter((e) => SUPPORTED_ENCTYPES.includes(e)),
  }
  const bodyDer = encodeKdcReqBody(body)
  const { time, usec } = timestampOf(env.now())
  const authenticator = encodeAuthenticator({
    crealm: tgt.client.realm,
    cname: tgt.client,
    cksum: makeChecksum(tgt.sessionKey, KeyUsage.TGS_REQ_AUTH_CKSUM, bodyDer),
    cusec: usec,
    ctime: time,
  })
  const apReq = encodeApReq({
    apOptions: 0,
    ticket: tgt.ticket,
    authenticator: {
      etype: tgt.sessionKey.enctype,
      cipher: encrypt(tgt.sessionKey, KeyUsage.TGS_REQ_AUTH, authenticator, { random: env.random }),
    },
  })
  const request = encodeKdcReq(MessageType.TGS_REQ, [{ type: PaDataType.TGS_REQ, value: apReq }], bodyDer)
  const reply = parseKdcReply(await send(tgtRealm, request))
  if (reply.kind === 'error') {
    throw krbErrorToError(reply.error, {
      client: principalToString(tgt.client, tgt.client.realm),
      service: serviceText,
      secret: 'ticket',
    })
  }
  const rep = reply.rep
  if (rep.msgType !== MessageType.TGS_REP)
    throw new ProtocolError('Kerberos: the KDC answered a TGS-REQ with an AS-REP')
  const part = decryptRepPart(
    rep,
    tgt.sessionKey,
    KeyUsage.TGS_REP_ENC_PART_SESSION_KEY,
    () => new ProtocolError('Kerberos: the TGS-REP does not decrypt with the TGT session key'),
  )
  if (part.nonce !== nonce)
    throw new ProtocolError('Kerberos: TGS-REP nonce does not match the request (replay?)')
  if (!samePrincipalName(rep.cname, tgt.client))
    throw new ProtocolError('Kerberos: TGS-REP is for another client')
  return credentialOf(rep, part)
}

/** A forwarded TGT (KDC options forwarded + forwardable) for delegation (RFC 4120 §2.6). */
export async function requestForwardedTgt(
  tgt: KerberosCredential,
  send: KdcSender,
  env: ExchangeEnvironment,
): Promise<KerberosCredential> {
  const realm = tgt.client.realm
  return requestServiceTicket(tgt, krbtgtPrincipal(realm), send, env, {
    kdcOptions: [KdcOption.FORWARDED, KdcOption.FORWARDABLE],
  })
}

/** True when the credential's ticket is forwardable. */
export function isForwardable(cred: KerberosCredential): boolean {
  return ((cred.flags >>> (31 - TicketFlag.FORWARDABLE)) & 1) === 1
}

/**
 * A KRB-CRED carrying `cred` (RFC 4120 §5.8), its EncKrbCredPart encrypted under `key` (usage 14):
 * the Deleg field of the GSS checksum (RFC 4121 §4.1.1) with the service ticket's session key.
 */
export function buildKrbCred(
  cred: KerberosCredential,
  key: KerberosKey,
  env: ExchangeEnvironment,
): Uint8Array {
  const { time, usec } = timestampOf(env.now())
  const part = encodeEncKrbCredPart({
    ticketInfo: [
      {
        key: cred.sessionKey,
        prealm: cred.client.realm,
        pname: cred.client,
        flags: cred.flags,
        authtime: cred.authtime,
        starttime: cred.starttime,
        endtime: cred.endtime,
        renewTill: cred.renewTill,
        srealm: cred.server.realm,
        sname: cred.server,
      },
    ],
    timestamp: time,
    usec,
  })
  const cipher = encrypt(key, KeyUsage.KRB_CRED_ENC_PART, part, { random: env.random })
  return encodeKrbCred([cred.ticket], { etype: key.enctype, cipher })
}

/** A fresh random key of the same enctype (authenticator subkeys, RFC 4120 §5.5.1). */
export function randomKeyLike(enctype: number, random: RandomSource): KerberosKey {
  return { enctype, value: random(getProfile(enctype).keySize) }
}
