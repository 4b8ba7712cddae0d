/**
 * HTTP proxy selection: explicit proxy URL or the conventional environment variables
 * (`https_proxy`/`HTTPS_PROXY` for https targets, `http_proxy`/`HTTP_PROXY` for http targets,
 * `all_proxy`/`ALL_PROXY` as fallback) and `no_proxy`/`NO_PROXY` exclusions, as curl and most HTTP
 * clients honour them. Pure functions; the environment is passed in.
 *
 * @module
 */
import { isIP } from 'node:net'
import { InvalidArgumentError } from '../../errors.ts'

/** A parsed HTTP(S) proxy. Credentials stay out of {@link ProxyConfig.display}. */
export interface ProxyConfig {
  /** `http:` or `https:` (TLS to the proxy itself). */
  readonly protocol: 'http:' | 'https:'
  /** Proxy host name or IP (IPv6 without brackets). */
  readonly host: string
  /** Proxy port. */
  readonly port: number
  /** `Proxy-Authorization` value built from the URL's user info, if any. */
  readonly authorization: string | undefined
  /** The proxy URL without credentials, for messages. */
  readonly display: string
}

/** Environment variables consulted by {@link proxyFromEnv}. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>

/** Parses a proxy URL (`http://[user:pass@]host[:port]`); a bare `host:port` means `http://`. */
export function parseProxyUrl(value: string): ProxyConfig {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new InvalidArgumentError('invalid proxy URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`unsupported proxy protocol ${url.protocol} (use http: or https:)`)
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  if (host === '') throw new InvalidArgumentError('invalid proxy URL: no host')
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
  let authorization: string | undefined
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username)
    const pass = decodeURIComponent(url.password)
    authorization = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`
  }
  const display = `${url.protocol}//${url.host}`
  return { protocol: url.protocol, host, port, authorization, display }
}

function env(vars: ProxyEnv, name: string): string | undefined {
  // lower-case first (curl only reads lower-case http_proxy, because HTTP_PROXY can be set by CGI)
  const v = vars[name.toLowerCase()] ?? vars[name.toUpperCase()]
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

/**
 * The proxy for a target from the environment, or undefined (no proxy variable, or the host matches
 * `NO_PROXY`).
 */
export function proxyFromEnv(
  vars: ProxyEnv,
  target: { readonly secure: boolean; readonly host: string; readonly port: number },
): ProxyConfig | undefined {
  const value = (target.secure ? env(vars, 'https_proxy') : env(vars, 'http_proxy')) ?? env(vars, 'all_proxy')
  if (value === undefined) return undefined
  if (matchesNoProxy(env(vars, 'no_proxy') ?? '', target.host, target.port)) return undefined
  return parseProxyUrl(value)
}

/**
 * True when `host:port` is excluded from proxying by a `NO_PROXY` list. Entries are separated by
 * commas or whitespace; each is `*` (everything), a host name matching itself and its subdomains
 * (`example.com`, `.example.com`, `*.example.com`), an IP address, an IP range in CIDR notation
 * (`10.0.0.0/8`), optionally followed by `:port` (IPv6 in brackets: `[::1]:5986`). Case-insensitive.
 */
export function matchesNoProxy(noProxy: string, host: string, port: number): boolean {
  const h = normaliseHost(host)
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    let entryPort: number | undefined
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
    if (bracket !== null) {
      entry = bracket[1] ?? ''
      entryPort = bracket[2] === undefined ? undefined : Number(bracket[2])
    } else {
      const m = /^([^:]+):(\d+)$/.exec(entry)
      if (m !== null) {
        entry = m[1] ?? ''
        entryPort = Number(m[2])
      }
    }
    if (entryPort !== undefined && entryPort !== port) continue
    if (entry.includes('/')) {
      if (cidrContains(entry, h)) return true
      continue
    }
    if (entry.startsWith('*.')) entry = entry.slice(1)
    if (entry.startsWith('.')) {
      if (h.endsWith(entry) || h === entry.slice(1)) return true
      continue
    }
    if (isIP(entry) !== 0 || isIP(h) !== 0) {
      if (normaliseHost(entry) === h) return true
      continue
    }
    if (h === entry || h.endsWith(`.${entry}`)) return true
  }
  return false
}

function normaliseHost(host: string): string {
  let h = host.toLowerCase()
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  if (h.endsWith('.')) h = h.slice(0, -1)
  return h
}

function cidrContains(cidr: string, host: string): boolean {
  const [net, bitsText] = cidr.split('/')
  const family = isIP(net ?? '')
  if (family === 0 || isIP(host) !== family || bitsText === undefined || !/^\d+$/.test(bitsText)) return false
  const a = ipBytes(net ?? '', family)
  const b = ipBytes(host, family)
  const bits = Number(bitsText)
  if (bits > a.length * 8) return false
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3
    const mask = 0x80 >> (i & 7)
    if (((a[byte] ?? 0) & mask) !== ((b[byte] ?? 0) & mask)) return false
  }
  return true
}

function ipBytes(ip: string, family: number): number[] {
  if (family === 4) return ip.split('.').map(Number)
  // expand IPv6 (with optional embedded IPv4 tail)
  let text = ip
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  let tail: number[] = []
  if (v4 !== null) {
    tail = (v4[1] ?? '').split('.').map(Number)
    text = text.slice(0, -(v4[1] ?? '').length) + '0:0'
  }
  const [left, right] = text.includes('::') ? text.split('::') : [text, undefined]
  const l = (left ?? '') === '' ? [] : (left ?? '').split(':')
  const r = right === undefined || right === '' ? [] : right.split(':')
  const groups = [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r]
  const bytes = groups.flatMap((g) => {
    const n = Number.parseInt(g, 16)
    return [n >> 8, n & 0xff]
  })
  if (tail.length === 4) bytes.splice(12, 4, ...tail)
  return bytes
}
