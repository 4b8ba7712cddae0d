/**
 * GSS-API per-message tokens of the Kerberos mechanism, RFC 4121 §4.2: Wrap tokens (TOK_ID 05 04,
 * §4.2.6.2) with or without confidentiality and MIC tokens (TOK_ID 04 04, §4.2.6.1), plus the layout
 * WinRM message encryption uses (MS-WSMV 2.2.9.1, MS-KILE 3.4.5.4.1; see notes/auth.md §1.4).
 *
 * Wrap token header (16 bytes, §4.2.6.2):
 *
 * ```
 * 0..1  TOK_ID 05 04    2  Flags (SentByAcceptor 01, Sealed 02, AcceptorSubkey 04)    3  Filler FF
 * 4..5  EC (big-endian)  6..7  RRC (big-endian)  8..15  SND_SEQ (64-bit big-endian)
 * ```
 *
 * Sealed (§4.2.4): the body is `encrypt(key, usage, plaintext ‖ filler(EC) ‖ header-with-RRC=0)`,
 * then rotated right by RRC (§4.2.5). Integrity only: the body is `plaintext ‖ checksum` where the
 * checksum covers `plaintext ‖ header-with-EC=0-and-RRC=0` and EC holds the checksum length. Key
 * usages (§2): Wrap tokens use KG-USAGE-{ACCEPTOR,INITIATOR}-SEAL (22/24), MIC tokens -SIGN (23/25).
 *
 * WinRM: the client sends the token split in two, `header` (the first `token.length − plaintext.length`
 * bytes: the 16-byte header, the rotated trailer and the encrypted confounder — 60 bytes for
 * AES-SHA1 with RRC 28, EC 0) and `data` (the rest, as long as the plaintext). Windows (MS-KILE
 * 3.4.5.4.1) rotates by RRC + EC rather than RRC, and sends EC = 16 for AES; for EC = 0 the two rules
 * agree. {@link unwrapWinRM} accepts any RRC and EC.
 *
 * Errors: a token that cannot be parsed (short, wrong TOK_ID or filler, inconsistent lengths) is a
 * `ProtocolError`; one that parses but does not verify (checksum/decryption failure, header copy
 * mismatch, wrong direction, unexpected sequence number, confidentiality required but absent) is a
 * `CryptoError`. Bad arguments from the caller are `InvalidArgumentError`.
 *
 * @module
 */
import { CryptoError, InvalidArgumentError, ProtocolError } from '../../errors.ts'
import type { SealedMessage } from '../security-context.ts'
import { getProfile } from './crypto/index.ts'
import { KeyUsage } from './crypto/key-usage.ts'
import type { EncryptionProfile, KerberosKey, RandomSource } from './crypto/types.ts'

/** TOK_ID of Wrap tokens (RFC 4121 §4.2.6.2). */
export const TOK_ID_WRAP = 0x0504
/** TOK_ID of MIC tokens (RFC 4121 §4.2.6.1). */
export const TOK_ID_MIC = 0x0404

/** Flag bits of the token header (RFC 4121 §4.2.2). */
export const TokenFlags = {
  /** The token was sent by the context acceptor. */
  SentByAcceptor: 0x01,
  /** Confidentiality is provided (Wrap tokens only). */
  Sealed: 0x02,
  /** The acceptor's subkey (from the AP-REP) protects the token. */
  AcceptorSubkey: 0x04,
} as const

/** The length of a Wrap or MIC token header. */
export const TOKEN_HEADER_SIZE = 16

/** A parsed Wrap token header. */
export interface WrapTokenHeader {
  /** The raw flags octet. */
  readonly flags: number
  /** Flag 0x01. */
  readonly sentByAcceptor: boolean
  /** Flag 0x02. */
  readonly sealed: boolean
  /** Flag 0x04. */
  readonly acceptorSubkey: boolean
  /** Extra count: filler length when sealed, checksum length when not. */
  readonly ec: number
  /** Right rotation count. */
  readonly rrc: number
  /** SND_SEQ. */
  readonly sequenceNumber: bigint
}

/** A parsed MIC token header. */
export interface MicTokenHeader {
  /** The raw flags octet. */
  readonly flags: number
  /** Flag 0x01. */
  readonly sentByAcceptor: boolean
  /** Flag 0x04. */
  readonly acceptorSubkey: boolean
  /** SND_SEQ. */
  readonly sequenceNumber: bigint
}

const MAX_SEQ = (1n << 64n) - 1n

function seqOf(value: bigint | number): bigint {
  const v = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n
  if (v < 0n || v > MAX_SEQ) throw new InvalidArgumentError(`bad sequence number ${String(value)}`)
  return v
}

function u16(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new InvalidArgumentError(`${name} must be 0..65535, got ${value}`)
  }
  return value
}

function flagsOf(o: { sentByAcceptor: boolean; sealed: boolean; acceptorSubkey: boolean }): number {
  return (
    (o.sentByAcceptor ? TokenFlags.SentByAcceptor : 0) |
    (o.sealed ? TokenFlags.Sealed : 0) |
    (o.acceptorSubkey ? TokenFlags.AcceptorSubkey : 0)
  )
}

/** Encodes a 16-byte Wrap token header. */
export function encodeWrapHeader(header: {
  readonly flags: number
  readonly ec: number
  readonly rrc: number
  readonly sequenceNumber: bigint | number
}): Uint8Array {
  const out = new Uint8Array(TOKEN_HEADER_SIZE)
  const view = new DataView(out.buffer)
  view.setUint16(0, TOK_ID_WRAP, false)
  out[2] = header.flags & 0xff
  out[3] = 0xff
  view.setUint16(4, u16('EC', header.ec), false)
  view.setUint16(6, u16('RRC', header.rrc), false)
  view.setBigUint64(8, seqOf(header.sequenceNumber), false)
  return out
}

/** Parses the 16-byte header at the start of a Wrap token; `ProtocolError` when it is not one. */
export function parseWrapHeader(token: Uint8Array): WrapTokenHeader {
  if (token.length < TOKEN_HEADER_SIZE) {
    throw new ProtocolError(`Kerberos Wrap token too short: ${token.length} byte(s)`)
  }
  const view = new DataView(token.buffer, token.byteOffset, TOKEN_HEADER_SIZE)
  const tokId = view.getUint16(0, false)
  if (tokId !== TOK_ID_WRAP) {
    throw new ProtocolError(`not a Kerberos Wrap token: TOK_ID ${tokId.toString(16).padStart(4, '0')}`)
  }
  if (token[3] !== 0xff) throw new ProtocolError('Kerberos Wrap token: filler octet is not FF')
  const flags = token[2] as number
  return {
    flags,
    sentByAcceptor: (flags & TokenFlags.SentByAcceptor) !== 0,
    sealed: (flags & TokenFlags.Sealed) !== 0,
    acceptorSubkey: (flags & TokenFlags.AcceptorSubkey) !== 0,
    ec: view.getUint16(4, false),
    rrc: view.getUint16(6, false),
    sequenceNumber: view.getBigUint64(8, false),
  }
}

function encodeMicHeader(flags: number, sequenceNumber: bigint | number): Uint8Array {
  const out = new Uint8Array(TOKEN_HEADER_SIZE)
  const view = new DataView(out.buffer)
  view.setUint16(0, TOK_ID_MIC, false)
  out[2] = flags & 0xff
  out.fill(0xff, 3, 8)
  view.setBigUint64(8, seqOf(sequenceNumber), false)
  return out
}

/** Parses the 16-byte header at the start of a MIC token; `ProtocolError` when it is not one. */
export function parseMicHeader(token: Uint8Array): MicTokenHeader {
  if (token.length < TOKEN_HEADER_SIZE)
    throw new ProtocolError(`Kerberos MIC token too short: ${token.length} byte(s)`)
  const view = new DataView(token.buffer, token.byteOffset, TOKEN_HEADER_SIZE)
  const tokId = view.getUint16(0, false)
  if (tokId !== TOK_ID_MIC) {
    throw new ProtocolError(`not a Kerberos MIC token: TOK_ID ${tokId.toString(16).padStart(4, '0')}`)
  }
  for (let i = 3; i < 8; i++) {
    if (token[i] !== 0xff) throw new ProtocolError('Kerberos MIC token: filler octets are not FF')
  }
  const flags = token[2] as number
  return {
    flags,
    sentByAcceptor: (flags & TokenFlags.SentByAcceptor) !== 0,
    acceptorSubkey: (flags & TokenFlags.AcceptorSubkey) !== 0,
    sequenceNumber: view.getBigUint64(8, false),
  }
}

/** Rotates right by `count` bytes (modulo the length), RFC 4121 §4.2.5. */
export function rotateRight(data: Uint8Array, count: number): Uint8Array {
  const n = data.length
  if (n === 0) return new Uint8Array(0)
  const r = count % n
  const out = new Uint8Array(n)
  out.set(data.subarray(n - r), 0)
  out.set(data.subarray(0, n - r), r)
  return out
}

/** Rotates left by `count` bytes (modulo the length): the inverse of {@link rotateRight}. */
export function rotateLeft(data: Uint8Array, count: number): Uint8Array {
  const n = data.length
  if (n === 0) return new Uint8Array(0)
  return rotateRight(data, n - (count % n))
}

/** Options of {@link wrap}. */
export interface WrapOptions {
  /** SND_SEQ of this token. */
  readonly sequenceNumber: bigint | number
  /** Whether we are the acceptor (sets the SentByAcceptor flag; default false: we are the client). */
  readonly sentByAcceptor?: boolean
  /** Whether the key is the acceptor's subkey (AcceptorSubkey flag; default true, as with WinRM). */
  readonly acceptorSubkey?: boolean
  /** Confidentiality (default true). */
  readonly confidential?: boolean
  /** Sealed tokens: number of filler bytes before the encrypted header copy (default 0). */
  readonly ec?: number
  /** Right rotation count written to the header (default 0). */
  readonly rrc?: number
  /**
   * How far the body is rotated: `'rrc'` (RFC 4121, default) or `'rrc+ec'` (Windows, MS-KILE
   * 3.4.5.4.1). They differ only for sealed tokens with EC > 0.
   */
  readonly rotation?: 'rrc' | 'rrc+ec'
  /** Key usage (default 22 when sent by the acceptor, 24 otherwise). */
  readonly usage?: number
  /** Fixed confounder (tests). */
  readonly confounder?: Uint8Array
  /** Randomness source for the confounder. */
  readonly random?: RandomSource
}

/** Builds a Wrap token (RFC 4121 §4.2.6.2) protecting `plaintext`. */
export function wrap(key: KerberosKey, plaintext: Uint8Array, options: WrapOptions): Uint8Array {
  const profile = getProfile(key.enctype)
  const sentByAcceptor = options.sentByAcceptor ?? false
  const sealed = options.confidential ?? true
  const usage = options.usage ?? (sentByAcceptor ? KeyUsage.GSS_ACCEPTOR_SEAL : KeyUsage.GSS_INITIATOR_SEAL)
  const rrc = u16('RRC', options.rrc ?? 0)
  const flags = flagsOf({ sentByAcceptor, sealed, acceptorSubkey: options.acceptorSubkey ?? true })
  if (sealed) {
    const ec = u16('EC', options.ec ?? 0)
    const header = encodeWrapHeader({ flags, ec, rrc, sequenceNumber: options.sequenceNumber })
    const inner = new Uint8Array(plaintext.length + ec + TOKEN_HEADER_SIZE)
    inner.set(plaintext, 0)
    inner.set(
      encodeWrapHeader({ flags, ec, rrc: 0, sequenceNumber: options.sequenceNumber }),
      plaintext.length + ec,
    )
    const encOpts = {
      ...(options.confounder === undefined ? {} : { confounder: options.confounder }),
      ...(options.random === undefined ? {} : { random: options.random }),
    }
    const body = profile.encrypt(key.value, usage, inner, encOpts)
    const rotation = rrc + (options.rotation === 'rrc+ec' ? ec : 0)
    const out = new Uint8Array(TOKEN_HEADER_SIZE + body.length)
    out.set(header, 0)
    out.set(rotateRight(body, rotation), TOKEN_HEADER_SIZE)
    return out
  }
  const ec = profile.macSize
  if (options.ec !== undefined && options.ec !== ec) {
    throw new InvalidArgumentError(`integrity-only Wrap tokens have EC = checksum length (${ec})`)
  }
  const header = encodeWrapHeader({ flags, ec, rrc, sequenceNumber: options.sequenceNumber })
  const signed = new Uint8Array(plaintext.length + TOKEN_HEADER_SIZE)
  signed.set(plaintext, 0)
  signed.set(
    encodeWrapHeader({ flags, ec: 0, rrc: 0, sequenceNumber: options.sequenceNumber }),
    plaintext.length,
  )
  const cksum = profile.checksum(key.value, usage, signed)
  const body = new Uint8Array(plaintext.length + cksum.length)
  body.set(plaintext, 0)
  body.set(cksum, plaintext.length)
  const out = new Uint8Array(TOKEN_HEADER_SIZE + body.length)
  out.set(header, 0)
  out.set(rotateRight(body, rrc), TOKEN_HEADER_SIZE)
  return out
}

/** Options of {@link unwrap}. */
export interface UnwrapOptions {
  /** Whether the token must have come from the acceptor (true when we are the initiator, the client). */
  readonly sentByAcceptor: boolean
  /** Key usage (default 22 when sent by the acceptor, 24 otherwise). */
  readonly usage?: number
  /** When set, SND_SEQ must equal it. */
  readonly expectedSequenceNumber?: bigint | number
  /** When set, the AcceptorSubkey flag must equal it. */
  readonly acceptorSubkey?: boolean
  /** Refuse integrity-only tokens (default false). */
  readonly requireConfidentiality?: boolean
  /**
   * Which rotation to undo for sealed tokens: `'rrc'` (RFC 4121, default), `'rrc+ec'` (Windows,
   * MS-KILE 3.4.5.4.1) or `'auto'` (try RRC + EC, then RRC when EC > 0 and that does not decrypt).
   */
  readonly rotation?: 'rrc' | 'rrc+ec' | 'auto'
}

/** What {@link unwrap} returns. */
export interface UnwrapResult {
  /** The verified plaintext. */
  readonly plaintext: Uint8Array
  /** The token header. */
  readonly header: WrapTokenHeader
}

function checkCommon(
  what: string,
  h: { sentByAcceptor: boolean; acceptorSubkey: boolean; sequenceNumber: bigint },
  o: {
    sentByAcceptor: boolean
    acceptorSubkey?: boolean | undefined
    expectedSequenceNumber?: bigint | number | undefined
  },
): void {
  if (h.sentByAcceptor !== o.sentByAcceptor) {
    throw new CryptoError(
      `${what} token has SentByAcceptor=${h.sentByAcceptor}, expected ${o.sentByAcceptor} (reflected token?)`,
    )
  }
  if (o.acceptorSubkey !== undefined && h.acceptorSubkey !== o.acceptorSubkey) {
    throw new CryptoError(
      `${what} token has AcceptorSubkey=${h.acceptorSubkey}, expected ${o.acceptorSubkey}`,
    )
  }
  if (o.expectedSequenceNumber !== undefined && h.sequenceNumber !== seqOf(o.expectedSequenceNumber)) {
    throw new CryptoError(
      `${what} token has sequence number ${h.sequenceNumber}, expected ${String(o.expectedSequenceNumber)}`,
    )
  }
}

function decryptRotated(
  profile: EncryptionProfile,
  key: Uint8Array,
  usage: number,
  body: Uint8Array,
  rotations: readonly number[],
): Uint8Array {
  let first: unknown
  for (const r of rotations) {
    try {
      return profile.decrypt(key, usage, rotateLeft(body, r))
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err
      first ??= err
    }
  }
  throw first
}

/**
 * Verifies and opens a Wrap token (RFC 4121 §4.2.6.2), sealed or integrity-only, with any RRC and EC.
 */
export function unwrap(key: KerberosKey, token: Uint8Array, options: UnwrapOptions): UnwrapResult {
  const profile = getProfile(key.enctype)
  const header = parseWrapHeader(token)
  const usage =
    options.usage ?? (options.sentByAcceptor ? KeyUsage.GSS_ACCEPTOR_SEAL : KeyUsage.GSS_INITIATOR_SEAL)
  const body = token.subarray(TOKEN_HEADER_SIZE)
  let plaintext: Uint8Array
  if (header.sealed) {
    const mode = options.rotation ?? 'rrc'
    const rotations =
      mode === 'rrc'
        ? [header.rrc]
        : mode === 'rrc+ec' || header.ec === 0
          ? [header.rrc + header.ec]
          : [header.rrc + header.ec, header.rrc]
    const decrypted = decryptRotated(profile, key.value, usage, body, rotations)
    if (decrypted.length < TOKEN_HEADER_SIZE) {
      throw new ProtocolError('Kerberos Wrap token: encrypted part lacks the header copy')
    }
    // The encrypted header copy must match the outer header (RRC excepted: it is 0 in the copy).
    const copy = decrypted.subarray(decrypted.length - TOKEN_HEADER_SIZE)
    for (let i = 0; i < TOKEN_HEADER_SIZE; i++) {
      if (i === 6 || i === 7) continue
      if (copy[i] !== token[i])
        throw new CryptoError('Kerberos Wrap token: header does not match its encrypted copy')
    }
    const end = decrypted.length - TOKEN_HEADER_SIZE - header.ec
    if (end < 0) throw new ProtocolError(`Kerberos Wrap token: EC ${header.ec} exceeds the encrypted data`)
    plaintext = decrypted.subarray(0, end)
  } else {
    if (options.requireConfidentiality === true) {
      throw new CryptoError('Kerberos Wrap token is not sealed but confidentiality is required')
    }
    if (header.ec !== profile.macSize) {
      throw new ProtocolError(
        `Kerberos Wrap token: EC ${header.ec} is not the checksum length ${profile.macSize}`,
      )
    }
    if (body.length < header.ec) throw new ProtocolError('Kerberos Wrap token: shorter than its checksum')
    const unrotated = rotateLeft(body, header.rrc)
    const data = unrotated.subarray(0, unrotated.length - header.ec)
    const cksum = unrotated.subarray(unrotated.length - header.ec)
    const signed = new Uint8Array(data.length + TOKEN_HEADER_SIZE)
    signed.set(data, 0)
    signed.set(token.subarray(0, TOKEN_HEADER_SIZE), data.length)
    signed.fill(0, data.length + 4, data.length + 8) // EC and RRC are zero in the checksummed header
    if (!profile.verifyChecksum(key.value, usage, signed, cksum)) {
      throw new CryptoError('Kerberos Wrap token: checksum verification failed')
    }
    plaintext = data
  }
  checkCommon('Wrap', header, options)
  return { plaintext: plaintext.slice(), header }
}

/** Options of {@link wrapWinRM}. */
export interface WinRMWrapOptions {
  /** Filler count; 0 (MIT/pyspnego behaviour, default) or 16 (what Windows sends). */
  readonly ec?: number
  /** AcceptorSubkey flag (default true: WinRM contexts use mutual auth with an acceptor subkey). */
  readonly acceptorSubkey?: boolean
  /** SentByAcceptor flag (default: true exactly when `usage` is 22, KG-USAGE-ACCEPTOR-SEAL). */
  readonly sentByAcceptor?: boolean
  /** Fixed confounder (tests). */
  readonly confounder?: Uint8Array
  /** Randomness source for the confounder. */
  readonly random?: RandomSource
}

/**
 * Seals a WinRM message body (MS-WSMV 2.2.9.1 with Kerberos): a sealed Wrap token with
 * RRC = 16 + checksum length (28 for AES-SHA1) rotated so the encrypted payload comes last, split into
 * `header` (everything before it: 60 bytes for AES-SHA1 with EC 0, 76 with EC 16) and `data` (as long
 * as the plaintext). Rotation is by RRC + EC as Windows expects.
 *
 * @param sequenceNumber SND_SEQ (the context's send counter)
 * @param usage key usage (default 24, KG-USAGE-INITIATOR-SEAL: the client)
 */
export function wrapWinRM(
  key: KerberosKey,
  sequenceNumber: bigint | number,
  plaintext: Uint8Array,
  usage: number = KeyUsage.GSS_INITIATOR_SEAL,
  options: WinRMWrapOptions = {},
): SealedMessage {
  const profile = getProfile(key.enctype)
  const token = wrap(key, plaintext, {
    sequenceNumber,
    usage,
    sentByAcceptor: options.sentByAcceptor ?? usage === KeyUsage.GSS_ACCEPTOR_SEAL,
    acceptorSubkey: options.acceptorSubkey ?? true,
    confidential: true,
    ec: options.ec ?? 0,
    rrc: TOKEN_HEADER_SIZE + profile.macSize,
    rotation: 'rrc+ec',
    ...(options.confounder === undefined ? {} : { confounder: options.confounder }),
    ...(options.random === undefined ? {} : { random: options.random }),
  })
  const split = token.length - plaintext.length
  return { header: token.subarray(0, split), data: token.subarray(split) }
}

/** Options of {@link unwrapWinRM}. */
export interface WinRMUnwrapOptions {
  /** Key usage (default 22, KG-USAGE-ACCEPTOR-SEAL: messages from the server). */
  readonly usage?: number
  /** Expected direction (default: true exactly when `usage` is 22). */
  readonly sentByAcceptor?: boolean
  /** When set, SND_SEQ must equal it. */
  readonly expectedSequenceNumber?: bigint | number
  /** When set, the AcceptorSubkey flag must equal it. */
  readonly acceptorSubkey?: boolean
}

/**
 * Verifies and unseals a WinRM message body: `header ‖ data` is a sealed Wrap token with any RRC and
 * EC. The Windows rotation (RRC + EC) is tried first; when EC > 0 and that does not verify, the
 * RFC 4121 rotation (RRC) is tried too, so tokens from either kind of peer are accepted. Integrity-only
 * tokens are refused (`CryptoError`).
 */
export function unwrapWinRM(
  key: KerberosKey,
  message: SealedMessage,
  options: WinRMUnwrapOptions = {},
): Uint8Array {
  const token = new Uint8Array(message.header.length + message.data.length)
  token.set(message.header, 0)
  token.set(message.data, message.header.length)
  const usage = options.usage ?? KeyUsage.GSS_ACCEPTOR_SEAL
  return unwrap(key, token, {
    usage,
    sentByAcceptor: options.sentByAcceptor ?? usage === KeyUsage.GSS_ACCEPTOR_SEAL,
    requireConfidentiality: true,
    ...(options.expectedSequenceNumber === undefined
      ? {}
      : { expectedSequenceNumber: options.expectedSequenceNumber }),
    ...(options.acceptorSubkey === undefined ? {} : { acceptorSubkey: options.acceptorSubkey }),
    rotation: 'auto',
  }).plaintext
}

/** Options of {@link getMic}. */
export interface MicOptions {
  /** SND_SEQ of this token. */
  readonly sequenceNumber: bigint | number
  /** Whether we are the acceptor (default false). */
  readonly sentByAcceptor?: boolean
  /** AcceptorSubkey flag (default true). */
  readonly acceptorSubkey?: boolean
  /** Key usage (default 23 when sent by the acceptor, 25 otherwise). */
  readonly usage?: number
}

/** GSS_GetMIC: a MIC token (RFC 4121 §4.2.6.1) over `message`: header ‖ checksum(message ‖ header). */
export function getMic(key: KerberosKey, message: Uint8Array, options: MicOptions): Uint8Array {
  const profile = getProfile(key.enctype)
  const sentByAcceptor = options.sentByAcceptor ?? false
  const usage = options.usage ?? (sentByAcceptor ? KeyUsage.GSS_ACCEPTOR_SIGN : KeyUsage.GSS_INITIATOR_SIGN)
  const flags = flagsOf({ sentByAcceptor, sealed: false, acceptorSubkey: options.acceptorSubkey ?? true })
  const header = encodeMicHeader(flags, options.sequenceNumber)
  const signed = new Uint8Array(message.length + TOKEN_HEADER_SIZE)
  signed.set(message, 0)
  signed.set(header, message.length)
  const cksum = profile.checksum(key.value, usage, signed)
  const out = new Uint8Array(TOKEN_HEADER_SIZE + cksum.length)
  out.set(header, 0)
  out.set(cksum, TOKEN_HEADER_SIZE)
  return out
}

/** Options of {@link verifyMic}. */
export interface VerifyMicOptions {
  /** The direction the token must have come from. */
  readonly sentByAcceptor: boolean
  /** Key usage (default 23 when sent by the acceptor, 25 otherwise). */
  readonly usage?: number
  /** When set, SND_SEQ must equal it. */
  readonly expectedSequenceNumber?: bigint | number
  /** When set, the AcceptorSubkey flag must equal it. */
  readonly acceptorSubkey?: boolean
}

/** GSS_VerifyMIC: checks a MIC token over `message`; returns its header or throws `CryptoError`. */
export function verifyMic(
  key: KerberosKey,
  message: Uint8Array,
  token: Uint8Array,
  options: VerifyMicOptions,
): MicTokenHeader {
  const profile = getProfile(key.enctype)
  const header = parseMicHeader(token)
  const cksum = token.subarray(TOKEN_HEADER_SIZE)
  if (cksum.length !== profile.macSize) {
    throw new ProtocolError(
      `Kerberos MIC token: checksum is ${cksum.length} bytes, expected ${profile.macSize}`,
    )
  }
  const usage =
    options.usage ?? (options.sentByAcceptor ? KeyUsage.GSS_ACCEPTOR_SIGN : KeyUsage.GSS_INITIATOR_SIGN)
  const signed = new Uint8Array(message.length + TOKEN_HEADER_SIZE)
  signed.set(message, 0)
  signed.set(token.subarray(0, TOKEN_HEADER_SIZE), message.length)
  if (!profile.verifyChecksum(key.value, usage, signed, cksum)) {
    throw new CryptoError('Kerberos MIC token: checksum verification failed')
  }
  checkCommon('MIC', header, options)
  return header
}
