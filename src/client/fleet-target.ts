/**
 * One fleet target as text, the form an inventory file or `--host a,b,c` holds, parsed into what kind
 * of connection to open and where. Sans-IO: nothing here connects.
 *
 * | text | kind | notes |
 * |---|---|---|
 * | `win1`, `admin@win1`, `win1:5986`, `10.0.0.5`, `[fe80::1]:5985` | the default kind (WinRM) | `user@` and `:port` optional |
 * | `http://win1:5985/wsman`, `https://win1/wsman` | WinRM | scheme sets TLS, path kept (JEA proxies, custom listeners) |
 * | `ssh://admin@linux1:2222`, `ssh://linux1` | SSH | the `powershell` subsystem |
 * | `local` | a local `pwsh -s` | |
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'

/** The connection kinds a fleet target can name. */
export type FleetTargetKind = 'wsman' | 'ssh' | 'local'

/** A parsed fleet target. */
export interface FleetTargetSpec {
  /** What to open: WinRM, SSH, or a local `pwsh -s`. */
  readonly kind: FleetTargetKind
  /** Host name or address (IPv6 without brackets); `localhost` for `local`. */
  readonly host: string
  /** Port, when the text named one. */
  readonly port?: number | undefined
  /** User name, when the text named one (`user@host`). */
  readonly username?: string | undefined
  /** WinRM over HTTPS (`https://`); undefined when the text did not say. */
  readonly ssl?: boolean | undefined
  /** WinRM URL path (`/wsman` unless the text named another). */
  readonly path?: string | undefined
  /** The text as given (trimmed): the target's identity in results and logs. */
  readonly text: string
}

const SCHEMES: Readonly<Record<string, { kind: FleetTargetKind; ssl?: boolean }>> = {
  'ssh:': { kind: 'ssh' },
  'http:': { kind: 'wsman', ssl: false },
  'https:': { kind: 'wsman', ssl: true },
}

/**
 * Parses one target (see the module comment for the forms). Throws {@link InvalidArgumentError} on
 * an empty host, a bad port or an unknown scheme.
 *
 * ```ts
 * parseFleetTarget('ssh://ops@web1:2222') // { kind: 'ssh', host: 'web1', port: 2222, username: 'ops', … }
 * parseFleetTarget('win1', 'ssh')         // { kind: 'ssh', host: 'win1', … }
 * ```
 */
export function parseFleetTarget(
  text: string,
  defaultKind: Exclude<FleetTargetKind, 'local'> = 'wsman',
): FleetTargetSpec {
  const trimmed = text.trim()
  if (trimmed === '') throw new InvalidArgumentError('a fleet target is empty')
  if (trimmed === 'local' || trimmed === 'local:') return { kind: 'local', host: 'localhost', text: trimmed }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)
  if (scheme === null) return { ...authority(trimmed, trimmed), kind: defaultKind, text: trimmed }
  const known = SCHEMES[`${(scheme[1] as string).toLowerCase()}:`]
  if (known === undefined) {
    throw new InvalidArgumentError(
      `fleet target ${JSON.stringify(trimmed)}: unknown scheme ${scheme[1]}:// (ssh, http, https)`,
    )
  }
  const rest = trimmed.slice(scheme[0].length)
  const slash = rest.indexOf('/')
  const hostPart = slash < 0 ? rest : rest.slice(0, slash)
  const path = slash < 0 ? undefined : rest.slice(slash)
  if (known.kind === 'ssh' && path !== undefined && path !== '/') {
    throw new InvalidArgumentError(`fleet target ${JSON.stringify(trimmed)}: an ssh:// target has no path`)
  }
  return {
    ...authority(hostPart, trimmed),
    kind: known.kind,
    ...(known.ssl === undefined ? {} : { ssl: known.ssl }),
    ...(known.kind === 'wsman' && path !== undefined && path !== '/' ? { path } : {}),
    text: trimmed,
  }
}

/** `[user@]host[:port]` with `[v6]` brackets. */
function authority(text: string, whole: string): { host: string; port?: number; username?: string } {
  const bad = (why: string): InvalidArgumentError =>
    new InvalidArgumentError(`fleet target ${JSON.stringify(whole)}: ${why}`)
  const at = text.lastIndexOf('@')
  const username = at < 0 ? undefined : decodeURIComponent(text.slice(0, at))
  if (username === '') throw bad('empty user name before @')
  const hostPort = at < 0 ? text : text.slice(at + 1)
  let host: string
  let portText: string | undefined
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']')
    if (close < 0) throw bad('unclosed [ of an IPv6 address')
    host = hostPort.slice(1, close)
    const after = hostPort.slice(close + 1)
    if (after !== '' && !after.startsWith(':')) throw bad(`unexpected ${JSON.stringify(after)} after ]`)
    portText = after === '' ? undefined : after.slice(1)
  } else {
    const colon = hostPort.indexOf(':')
    if (colon >= 0 && hostPort.indexOf(':', colon + 1) >= 0) {
      host = hostPort // a bare IPv6 address: no port possible without brackets
    } else {
      host = colon < 0 ? hostPort : hostPort.slice(0, colon)
      portText = colon < 0 ? undefined : hostPort.slice(colon + 1)
    }
  }
  if (host === '' || /[\s/]/.test(host)) throw bad('no host name')
  const result: { host: string; port?: number; username?: string } = { host }
  if (portText !== undefined) {
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN
    if (!(port >= 1 && port <= 65535)) throw bad(`bad port ${JSON.stringify(portText)}`)
    result.port = port
  }
  if (username !== undefined) result.username = username
  return result
}

/**
 * The targets of an inventory text: one per line; blank lines and `#` comments (whole-line or after
 * whitespace) are skipped. A bad line throws {@link InvalidArgumentError} naming its line number.
 */
export function parseInventory(
  text: string,
  defaultKind?: Exclude<FleetTargetKind, 'local'>,
): FleetTargetSpec[] {
  const targets: FleetTargetSpec[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/(^|\s)#.*$/, '').trim()
    if (line === '') continue
    try {
      targets.push(parseFleetTarget(line, defaultKind))
    } catch (e) {
      throw new InvalidArgumentError(`inventory line ${i + 1}: ${(e as Error).message}`, { cause: e })
    }
  }
  return targets
}

/** A key equal for two targets that reach the same endpoint as the same user (for connection reuse). */
export function fleetTargetKey(spec: FleetTargetSpec): string {
  return [
    spec.kind,
    spec.username ?? '',
    spec.host.toLowerCase(),
    spec.port ?? '',
    spec.ssl ?? '',
    spec.path ?? '',
  ].join('\u0000')
}
