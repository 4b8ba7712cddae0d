/**
 * DER codecs of the Kerberos V5 messages a client needs (RFC 4120 §5), one structure per file, and
 * the RFC 4121 §4.1.1 GSS authenticator checksum. Decoders throw `ProtocolError` on malformed input.
 *
 * @module
 */
export * from './ap-rep.ts'
export * from './ap-req.ts'
export * from './checksum.ts'
export * from './encrypted-data.ts'
export * from './encryption-key.ts'
export * from './flags.ts'
export * from './gss-checksum.ts'
export * from './kdc-rep.ts'
export * from './kdc-req.ts'
export * from './kerberos-time.ts'
export * from './krb-cred.ts'
export * from './krb-error.ts'
export * from './message-type.ts'
export * from './pa-data.ts'
export * from './principal.ts'
export * from './ticket.ts'
