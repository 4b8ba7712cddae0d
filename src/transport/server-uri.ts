/**
 * The `server` option of a WinRM connection given as a full URI (`https://host:5986/wsman`,
 * `http://host/custom`), as pypsrp accepts it: split into host, `ssl`, `port` and `path` with the
 * WHATWG URL parser.
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'

/** The endpoint fields a URI fixes. */
export interface ServerEndpoint {
  /** Host name or address (an IPv6 address in brackets, as the URL writes it). */
  server: string
  port?: number | undefined
  ssl?: boolean | undefined
  path?: string | undefined
}

/**
 * Returns `options` with `server` split when it is a URI (it contains `://`); a plain host name is
 * returned unchanged. A URI's scheme sets `ssl` (`https` or `http`), its port (or the WinRM default
 * of the scheme: 5986, 5985) sets `port`, and its path sets `path` (none or `/` leaves the default
 * `/wsman`). An explicit `ssl`, `port` or `path` that agrees with the URI is accepted.
 *
 * @throws {InvalidArgumentError} for a URI that does not parse, has another scheme, user info, a
 *   query or a fragment, or disagrees with an explicit option (both are named).
 */
export function resolveServerUri<T extends ServerEndpoint>(options: T): T & ServerEndpoint {
  const given = options.server
  if (typeof given !== 'string' || !given.includes('://')) return options
  let url: URL
  try {
    url = new URL(given)
  } catch {
    throw new InvalidArgumentError(`server '${given}' is not a valid URI`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidArgumentError(`server URI scheme '${url.protocol}' is not http: or https:`)
  if (url.username !== '' || url.password !== '')
    throw new InvalidArgumentError(
      'server URI must not carry credentials: use the username and password options',
    )
  if (url.search !== '' || url.hash !== '')
    throw new InvalidArgumentError('server URI must not have a query or fragment')
  const ssl = url.protocol === 'https:'
  const port = url.port !== '' ? Number(url.port) : (writtenDefaultPort(given, url) ?? (ssl ? 5986 : 5985))
  const path = url.pathname === '/' || url.pathname === '' ? undefined : url.pathname
  const conflict = (name: string, explicit: unknown, fromUri: unknown): never => {
    throw new InvalidArgumentError(
      `${name} ${String(explicit)} conflicts with server '${given}' (${name} ${String(fromUri)}): give one of them`,
    )
  }
  if (options.ssl !== undefined && options.ssl !== ssl) conflict('ssl', options.ssl, ssl)
  if (options.port !== undefined && options.port !== port) conflict('port', options.port, port)
  if (options.path !== undefined && path !== undefined && options.path !== path)
    conflict('path', options.path, path)
  return { ...options, server: url.hostname, ssl, port, path: options.path ?? path }
}

/**
 * WHATWG URL drops a port equal to the scheme's default (443 for https, 80 for http), yet WinRM's
 * defaults differ: `https://host:443` must still mean port 443. Returns that port when the URI's
 * authority spells it, else undefined.
 */
function writtenDefaultPort(given: string, url: URL): number | undefined {
  const authority = given.slice(given.indexOf('://') + 3).split(/[/?#]/, 1)[0] ?? ''
  return /:\d+$/.test(authority) && !authority.endsWith(']')
    ? url.protocol === 'https:'
      ? 443
      : 80
    : undefined
}
