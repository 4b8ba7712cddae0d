/**
 * Channel bindings for NTLM (MS-NLMP 3.1.5.2.2, RFC 2744 section 3.11, RFC 5929): the client puts
 * `MD5(gss_channel_bindings_struct)` in MsvAvChannelBindings, and 16 zero bytes when it has none.
 * The struct is serialised as GSSAPI implementations (and pyspnego) hash it:
 *
 * ```
 * uint32le initiator_addrtype ‖ uint32le len ‖ initiator_address
 * uint32le acceptor_addrtype  ‖ uint32le len ‖ acceptor_address
 * uint32le len ‖ application_data
 * ```
 *
 * For WinRM over HTTPS the addresses are empty and `application_data` is
 * `"tls-server-end-point:" ‖ H(server certificate DER)` (RFC 5929 section 4.1).
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { ByteWriter } from '../../internal/bytes.ts'

/**
 * Channel bindings, in one of three forms:
 * - `{ tlsServerEndPoint }`: the raw certificate hash bytes `H(cert)` of RFC 5929 section 4.1 (SHA-256
 *   for MD5/SHA-1 signed certificates, else the signature's hash); the `tls-server-end-point:` prefix
 *   is added here. This is the form the HTTPS transport normally passes.
 * - `{ applicationData }`: the complete application data (prefix included), with empty addresses.
 * - `{ struct }`: an already serialised gss_channel_bindings_struct, hashed as is.
 */
export type ChannelBindings =
  | { readonly tlsServerEndPoint: Uint8Array }
  | { readonly applicationData: Uint8Array }
  | { readonly struct: Uint8Array }

/** Fields of a gss_channel_bindings_struct (addresses default to type 0, empty). */
export interface ChannelBindingsFields {
  readonly initiatorAddressType?: number
  readonly initiatorAddress?: Uint8Array
  readonly acceptorAddressType?: number
  readonly acceptorAddress?: Uint8Array
  readonly applicationData: Uint8Array
}

const TLS_SERVER_END_POINT = new TextEncoder().encode('tls-server-end-point:')

/** Serialises a gss_channel_bindings_struct as it is hashed. */
export function encodeChannelBindingsStruct(fields: ChannelBindingsFields): Uint8Array {
  const init = fields.initiatorAddress ?? new Uint8Array(0)
  const acc = fields.acceptorAddress ?? new Uint8Array(0)
  const app = fields.applicationData
  return new ByteWriter(20 + init.length + acc.length + app.length)
    .u32le(fields.initiatorAddressType ?? 0)
    .u32le(init.length)
    .bytes(init)
    .u32le(fields.acceptorAddressType ?? 0)
    .u32le(acc.length)
    .bytes(acc)
    .u32le(app.length)
    .bytes(app)
    .finish()
}

/** The serialised struct for any {@link ChannelBindings} form. */
export function channelBindingsStruct(bindings: ChannelBindings): Uint8Array {
  if ('struct' in bindings) return bindings.struct
  if ('applicationData' in bindings)
    return encodeChannelBindingsStruct({ applicationData: bindings.applicationData })
  const app = new Uint8Array(TLS_SERVER_END_POINT.length + bindings.tlsServerEndPoint.length)
  app.set(TLS_SERVER_END_POINT)
  app.set(bindings.tlsServerEndPoint, TLS_SERVER_END_POINT.length)
  return encodeChannelBindingsStruct({ applicationData: app })
}

/** The MsvAvChannelBindings value: MD5 of the struct, or 16 zero bytes without bindings. */
export function channelBindingsHash(bindings: ChannelBindings | undefined): Uint8Array {
  if (bindings === undefined) return new Uint8Array(16)
  return new Uint8Array(createHash('md5').update(channelBindingsStruct(bindings)).digest())
}
