/**
 * A parser for MIT krb5.conf (the profile format of MIT's `krb5.conf(5)`), sans-IO: text in, typed
 * config out. Sections `[name]`, relations `tag = value`, subsections `tag = { … }` (realm blocks),
 * comments (`#` or `;` starting a line), the final marker `*`, and the `include` / `includedir`
 * directives through a caller-supplied resolver (the file system lives in `src/transport/`).
 *
 * Lookups: {@link kdcsOfRealm} (the `kdc` entries of a realm, default port 88; `tcp/`, `udp/` prefixes
 * are stripped, `https:` KKDCP URLs skipped) and {@link realmOfHost} (`[domain_realm]`, then
 * `default_realm`, then the host's domain in upper case).
 *
 * @module
 */
import { InvalidArgumentError } from '../../errors.ts'

/** A relation value: text, or a nested section. Tags may repeat (`kdc = a`, `kdc = b`). */
export type ProfileValue = string | ProfileSection
/** A section: each tag with its values in file order. */
export type ProfileSection = Map<string, ProfileValue[]>

/** Typed view of a krb5.conf. */
export interface Krb5Config {
  /** Every section by name (`libdefaults`, `realms`, `domain_realm`, …), merged across includes. */
  readonly sections: ReadonlyMap<string, ProfileSection>
  /** `[libdefaults] default_realm`. */
  readonly defaultRealm?: string | undefined
  /** `[libdefaults] dns_canonicalize_hostname` (MIT default true; `fallback` also accepted). */
  readonly dnsCanonicalizeHostname: boolean | 'fallback'
  /** `[libdefaults] rdns` (default true). */
  readonly rdns: boolean
  /** `[libdefaults] forwardable` (default false). */
  readonly forwardable: boolean
  /** `[libdefaults] udp_preference_limit` (default 1465). */
  readonly udpPreferenceLimit: number
  /** `[libdefaults] ccache_type` (default 4). */
  readonly ccacheType: number
}

/** Resolves `include FILE` (returns its text) and `includedir DIR` (returns the texts of its files). */
export type IncludeResolver = (directive: 'include' | 'includedir', path: string) => readonly string[]

/** Options of {@link parseKrb5Conf}. */
export interface ParseKrb5ConfOptions {
  /** How to read included files; without it include directives are ignored. */
  readonly resolveInclude?: IncludeResolver | undefined
}

const MAX_INCLUDE_DEPTH = 8

function add(section: ProfileSection, tag: string, value: ProfileValue): void {
  const list = section.get(tag)
  if (list === undefined) section.set(tag, [value])
  else list.push(value)
}

function parseInto(
  text: string,
  sections: Map<string, ProfileSection>,
  options: ParseKrb5ConfOptions,
  depth: number,
  name: string,
): void {
  if (depth > MAX_INCLUDE_DEPTH)
    throw new InvalidArgumentError(`krb5.conf: includes nested deeper than ${MAX_INCLUDE_DEPTH}`)
  const lines = text.split(/\r?\n/)
  let current: ProfileSection | undefined
  const stack: ProfileSection[] = []
  lines.forEach((raw, index) => {
    const line = raw.trim()
    const where = `${name}:${index + 1}`
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return
    const inc = /^(include|includedir)\s+(.+)$/.exec(line)
    if (inc !== null && stack.length === 0) {
      for (const t of options.resolveInclude?.(
        inc[1] as 'include' | 'includedir',
        (inc[2] as string).trim(),
      ) ?? []) {
        parseInto(t, sections, options, depth + 1, inc[2] as string)
      }
      return
    }
    if (line.startsWith('module ')) return
    const sec = /^\[([^\]]+)\]\s*\*?$/.exec(line)
    if (sec !== null) {
      if (stack.length > 0) throw new InvalidArgumentError(`krb5.conf ${where}: section header inside braces`)
      const secName = (sec[1] as string).trim()
      current = sections.get(secName) ?? new Map()
      sections.set(secName, current)
      return
    }
    if (line.startsWith('}')) {
      if (stack.length === 0) throw new InvalidArgumentError(`krb5.conf ${where}: unmatched }`)
      current = stack.pop()
      return
    }
    const rel = /^([^=]+?)\s*\*?\s*=\s*(.*)$/.exec(line)
    if (rel === null || current === undefined) {
      throw new InvalidArgumentError(`krb5.conf ${where}: expected a section or tag = value`)
    }
    const tag = rel[1] as string
    const value = rel[2] as string
    if (value === '{') {
      const child: ProfileSection = new Map()
      add(current, tag, child)
      stack.push(current)
      current = child
      return
    }
    add(current, tag, value.replace(/\s*\*$/, '').replace(/^"(.*)"$/, '$1'))
  })
  if (stack.length > 0) throw new InvalidArgumentError(`krb5.conf ${name}: missing }`)
}

function strings(section: ProfileSection | undefined, tag: string): string[] {
  return (section?.get(tag) ?? []).filter((v): v is string => typeof v === 'string')
}

function bool(value: string | undefined, dflt: boolean): boolean {
  if (value === undefined) return dflt
  return /^(y|yes|true|t|1|on)$/i.test(value)
}

/** Parses krb5.conf text (`InvalidArgumentError` on a syntax error, naming the line). */
export function parseKrb5Conf(text: string, options: ParseKrb5ConfOptions = {}): Krb5Config {
  const sections = new Map<string, ProfileSection>()
  parseInto(text, sections, options, 0, 'krb5.conf')
  const lib = sections.get('libdefaults')
  const first = (tag: string): string | undefined => strings(lib, tag)[0]
  const canon = first('dns_canonicalize_hostname')
  const num = (tag: string, dflt: number): number => {
    const v = Number(first(tag))
    return Number.isInteger(v) && v >= 0 ? v : dflt
  }
  return {
    sections,
    defaultRealm: first('default_realm'),
    dnsCanonicalizeHostname: canon?.toLowerCase() === 'fallback' ? 'fallback' : bool(canon, true),
    rdns: bool(first('rdns'), true),
    forwardable: bool(first('forwardable'), false),
    udpPreferenceLimit: num('udp_preference_limit', 1465),
    ccacheType: num('ccache_type', 4),
  }
}

/** A KDC address. */
export interface KdcAddress {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string
  /** Port (default 88). */
  readonly port: number
  /** Transport forced by a `tcp/` or `udp/` prefix. */
  readonly transport?: 'tcp' | 'udp' | undefined
}

/** Parses `host`, `host:port`, `[v6]:port`, `tcp/host:port` (`InvalidArgumentError` when malformed). */
export function parseKdcAddress(text: string): KdcAddress {
  let t = text.trim()
  let transport: 'tcp' | 'udp' | undefined
  const pre = /^(tcp|udp)\//i.exec(t)
  if (pre !== null) {
    transport = (pre[1] as string).toLowerCase() as 'tcp' | 'udp'
    t = t.slice(4)
  }
  let host: string
  let port = 88
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t)
  if (v6 !== null) {
    host = v6[1] as string
    if (v6[2] !== undefined) port = Number(v6[2])
  } else if ((t.match(/:/g) ?? []).length === 1) {
    const [h, p] = t.split(':') as [string, string]
    host = h
    port = /^\d+$/.test(p) ? Number(p) : NaN
  } else host = t
  if (host === '' || !Number.isInteger(port) || port < 1 || port > 65535 || /\s/.test(host)) {
    throw new InvalidArgumentError(`invalid KDC address ${JSON.stringify(text)}`)
  }
  return { host, port, ...(transport === undefined ? {} : { transport }) }
}

/** The `[realms] REALM = { kdc = … }` entries of a realm (KKDCP `https:` URLs are skipped). */
export function kdcsOfRealm(config: Krb5Config, realm: string): KdcAddress[] {
  const block = (config.sections.get('realms')?.get(realm) ?? []).find(
    (v): v is ProfileSection => typeof v !== 'string',
  )
  return strings(block, 'kdc')
    .filter((k) => !/^(https?|kkdcp):/i.test(k))
    .map(parseKdcAddress)
}

/**
 * The realm of a host (MIT krb5_get_host_realm without DNS): the exact `[domain_realm]` entry, then
 * `.domain` entries from the most specific, then `default_realm`, then the host's domain upper-cased
 * (undefined when even that is impossible, e.g. a single-label host without a default realm).
 */
export function realmOfHost(config: Krb5Config, host: string): string | undefined {
  const mapped = mappedRealmOfHost(config, host)
  if (mapped !== undefined) return mapped
  if (config.defaultRealm !== undefined) return config.defaultRealm
  const labels = host.toLowerCase().replace(/\.$/, '').split('.')
  return labels.length > 1 ? labels.slice(1).join('.').toUpperCase() : undefined
}

/** Only the `[domain_realm]` part of {@link realmOfHost}: the exact entry, then `.domain` suffixes. */
export function mappedRealmOfHost(config: Krb5Config, host: string): string | undefined {
  const h = host.toLowerCase().replace(/\.$/, '')
  const map = config.sections.get('domain_realm')
  const lookup = (k: string): string | undefined => strings(map, k)[0]
  const exact = lookup(h)
  if (exact !== undefined) return exact
  const labels = h.split('.')
  for (let i = 0; i < labels.length; i++) {
    const r = lookup(`.${labels.slice(i).join('.')}`)
    if (r !== undefined) return r
  }
  return undefined
}
