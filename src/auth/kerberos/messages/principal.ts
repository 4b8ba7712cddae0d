/**
 * PrincipalName and Realm (RFC 4120 §5.2.2, §6.2):
 *
 * ```
 * Realm         ::= KerberosString
 * PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString }
 * ```
 *
 * Plus the text form `comp1/comp2@REALM` (RFC 1964 §2.1.1 quoting of `/`, `@` and `\`).
 *
 * @module
 */
import { InvalidArgumentError } from '../../../errors.ts'
import {
  type DerNode,
  type DerReader,
  derField,
  derGeneralString,
  derInteger,
  derSequence,
} from '../../asn1/index.ts'

/** Name types (RFC 4120 §6.2). */
export const NameType = {
  /** Name type not known. */
  UNKNOWN: 0,
  /** Just the name of the principal (a user). */
  PRINCIPAL: 1,
  /** Service and other unique instance (krbtgt). */
  SRV_INST: 2,
  /** Service with host name as instance (`HTTP/host`). */
  SRV_HST: 3,
  /** Enterprise name (`user@domain` as one component, RFC 6806). */
  ENTERPRISE: 10,
} as const

/** A principal name without its realm. */
export interface PrincipalName {
  /** Name type (RFC 4120 §6.2). */
  readonly nameType: number
  /** The components, e.g. `['HTTP', 'host.example.com']`. */
  readonly components: readonly string[]
}

/** A principal name with its realm. */
export interface Principal extends PrincipalName {
  /** Realm, e.g. `EXAMPLE.COM`. */
  readonly realm: string
}

/** Encodes a PrincipalName. */
export function encodePrincipalName(name: PrincipalName): DerNode {
  return derSequence([
    derField(0, derInteger(name.nameType)),
    derField(1, derSequence(name.components.map((c) => derGeneralString(c)))),
  ])
}

/** Reads a PrincipalName. */
export function readPrincipalName(r: DerReader): PrincipalName {
  const s = r.sequence()
  const nameType = s.field(0, (x) => x.smallInteger())
  const components = s.field(1, (x) => x.sequenceOf((c) => c.generalString()))
  s.end()
  return { nameType, components }
}

/** Encodes a Realm. */
export function encodeRealm(realm: string): DerNode {
  return derGeneralString(realm)
}

/** Reads a Realm. */
export function readRealm(r: DerReader): string {
  return r.generalString()
}

const quote = (s: string): string => s.replace(/[\\/@]/g, (c) => `\\${c}`)

/** Text form: components joined by `/`, then `@REALM` when a realm is given (special characters quoted). */
export function principalToString(name: Pick<PrincipalName, 'components'>, realm?: string): string {
  const base = name.components.map(quote).join('/')
  return realm === undefined ? base : `${base}@${quote(realm)}`
}

/**
 * Parses `comp1/comp2@REALM` (backslash quotes the next character). Without `@`, `defaultRealm` is
 * used; `InvalidArgumentError` when neither gives a realm or a component is empty.
 */
export function parsePrincipal(
  text: string,
  defaultRealm?: string,
  nameType: number = NameType.PRINCIPAL,
): Principal {
  const components: string[] = []
  let cur = ''
  let realm: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c === '\\' && i + 1 < text.length) {
      cur += text[++i]
    } else if (c === '/' && realm === undefined) {
      components.push(cur)
      cur = ''
    } else if (c === '@' && realm === undefined) {
      components.push(cur)
      cur = ''
      realm = ''
    } else if (realm !== undefined) {
      realm += c
    } else cur += c
  }
  if (realm === undefined) components.push(cur)
  else realm = cur === '' ? realm : realm + cur
  const finalRealm = realm ?? defaultRealm
  if (components.some((c) => c === ''))
    throw new InvalidArgumentError(`invalid Kerberos principal name ${JSON.stringify(text)}`)
  if (finalRealm === undefined || finalRealm === '') {
    throw new InvalidArgumentError(
      `Kerberos principal ${JSON.stringify(text)} has no realm and no default realm is configured`,
    )
  }
  return { nameType, components, realm: finalRealm }
}

/** True when two principal names have the same components (name types are not compared, as RFC 4120 §6.2 allows). */
export function samePrincipalName(a: PrincipalName, b: PrincipalName): boolean {
  return a.components.length === b.components.length && a.components.every((c, i) => c === b.components[i])
}
