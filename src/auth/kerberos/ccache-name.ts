/**
 * Credential cache names (`KRB5CCNAME`, krb5.conf `default_ccache_name`) and loading the cache they
 * name, for the three types MIT krb5 uses on Linux without a kernel keyring:
 *
 * - `FILE:path` (or a bare path): one ccache file (`ccache.ts`);
 * - `DIR:dir`: a cache collection (MIT `lib/krb5/ccache/cc_dir.c`): a directory of `tkt*` FILE caches
 *   and a `primary` file whose one line (`tkt…\n`, a plain file name) names the current cache; a
 *   missing `primary` means `tkt`. `DIR::dir/tktXYZ` names one cache of the collection directly;
 * - `KCM:` / `KCM:residual`: a cache held by a KCM daemon such as sssd-kcm, the Fedora and RHEL
 *   default (`ccache-kcm.ts`); bare `KCM:` is the daemon's default cache for the caller.
 *
 * Other types (`KEYRING:`, `MEMORY:`, `API:`) are refused with an {@link AuthenticationError} that
 * names them. Sans-IO: file reads and the KCM socket are injected ({@link CCacheIo}).
 *
 * @module
 */
import { AuthenticationError, InvalidArgumentError } from '../../errors.ts'
import { parseCCache, type CCache } from './ccache.ts'
import { DEFAULT_KCM_SOCKET_PATH, readKcmCCache, type KcmConnection } from './ccache-kcm.ts'

/** A parsed credential cache name. */
export type CCacheName =
  | { readonly type: 'FILE'; readonly path: string }
  /** `DIR:directory` (its primary cache) or `DIR::path` (`subsidiary`: one cache file of it). */
  | { readonly type: 'DIR'; readonly directory: string; readonly subsidiary?: string | undefined }
  /** `KCM:residual`; an empty residual is the daemon's default cache. */
  | { readonly type: 'KCM'; readonly residual: string }

/** Parses a ccache name. Unsupported types are an {@link AuthenticationError}. */
export function parseCCacheName(name: string): CCacheName {
  const colon = name.indexOf(':')
  // a bare path, or a Windows drive letter (C:\…), is a FILE cache, as in MIT
  if (colon < 0 || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('/')) return { type: 'FILE', path: name }
  const type = name.slice(0, colon).toUpperCase()
  const residual = name.slice(colon + 1)
  switch (type) {
    case 'FILE':
      if (residual === '') throw new InvalidArgumentError('credential cache name FILE: without a path')
      return { type: 'FILE', path: residual }
    case 'DIR': {
      if (!residual.startsWith(':')) {
        if (residual === '') throw new InvalidArgumentError('credential cache name DIR: without a directory')
        return { type: 'DIR', directory: residual }
      }
      const path = residual.slice(1)
      const slash = path.lastIndexOf('/')
      const file = path.slice(slash + 1)
      if (slash < 0) {
        throw new InvalidArgumentError(`credential cache ${name}: the path has no parent directory`)
      }
      if (!file.startsWith('tkt')) {
        throw new InvalidArgumentError(`credential cache ${name}: the file name does not begin with "tkt"`)
      }
      return { type: 'DIR', directory: path.slice(0, slash) || '/', subsidiary: path }
    }
    case 'KCM':
      return { type: 'KCM', residual }
    default:
      throw new AuthenticationError(
        `Kerberos: credential cache type ${type} is not supported (FILE:, DIR: and KCM: are)`,
      )
  }
}

/** Values for the `%{…}` tokens of a `default_ccache_name` (MIT krb5.conf(5) "PARAMETER EXPANSION"). */
export interface CCacheNameTokens {
  /** The user id (`%{uid}`, `%{euid}`, `%{USERID}`). */
  readonly uid?: number | undefined
  /** The temporary directory (`%{TEMP}`, default `/tmp`). */
  readonly tempDir?: string | undefined
}

/**
 * Expands `%{uid}`, `%{euid}`, `%{USERID}`, `%{TEMP}` and `%%` in a ccache name template, e.g.
 * `FILE:/tmp/krb5cc_%{uid}` or `KEYRING:persistent:%{uid}`. An unknown token is an
 * {@link InvalidArgumentError}.
 */
export function expandCCacheName(template: string, tokens: CCacheNameTokens): string {
  return template.replace(/%(%|\{([A-Za-z]+)\})/g, (whole: string, pct: string, token?: string) => {
    if (pct === '%') return '%'
    switch (token) {
      case 'uid':
      case 'euid':
      case 'USERID':
        if (tokens.uid === undefined)
          throw new InvalidArgumentError(`${whole} in ${template} needs the user id, unknown here`)
        return String(tokens.uid)
      case 'TEMP':
        return tokens.tempDir ?? '/tmp'
      default:
        throw new InvalidArgumentError(`unknown token ${whole} in credential cache name ${template}`)
    }
  })
}

/** The I/O {@link loadCCache} needs. */
export interface CCacheIo {
  /** Reads a file; a missing file rejects with an error whose `code` is `ENOENT`. */
  readonly readFile: (path: string) => Promise<Uint8Array>
  /** Connects to a KCM daemon's Unix socket (needed for `KCM:` names). */
  readonly connectKcm?: ((socketPath: string) => Promise<KcmConnection>) | undefined
  /** The KCM socket (krb5.conf `kcm_socket`; default {@link DEFAULT_KCM_SOCKET_PATH}). */
  readonly kcmSocketPath?: string | undefined
}

const latin1 = new TextDecoder('latin1')

/** The cache file a `DIR:` name stands for: `DIR::path` itself, else the collection's primary. */
export async function resolveDirCCache(
  name: Extract<CCacheName, { type: 'DIR' }>,
  readFile: CCacheIo['readFile'],
): Promise<string> {
  if (name.subsidiary !== undefined) return name.subsidiary
  const dir = name.directory.replace(/\/+$/, '') || '/'
  const join = (file: string): string => (dir === '/' ? `/${file}` : `${dir}/${file}`)
  let primary: Uint8Array
  try {
    primary = await readFile(join('primary'))
  } catch (err) {
    // MIT creates `primary` naming `tkt` on first use; until then the primary cache is `tkt`
    if ((err as { code?: unknown }).code === 'ENOENT') return join('tkt')
    throw new AuthenticationError(`Kerberos: cannot read ${join('primary')}`, { cause: err })
  }
  // cc_dir.c reads one line of at most 63 bytes ending in a newline: a plain `tkt…` file name
  const text = latin1.decode(primary.subarray(0, 64))
  const nl = text.indexOf('\n')
  const file = nl < 0 ? '' : text.slice(0, nl)
  if (!file.startsWith('tkt') || file.includes('/') || file.includes('\\') || file.includes('\0')) {
    throw new AuthenticationError(`Kerberos: ${join('primary')} does not name a cache file (tkt…)`)
  }
  return join(file)
}

/** Reads the cache a name stands for (see the module comment for the types). */
export async function loadCCache(name: string, io: CCacheIo): Promise<CCache> {
  const parsed = parseCCacheName(name)
  switch (parsed.type) {
    case 'FILE':
      return parseCCache(await readCacheFile(parsed.path, io.readFile))
    case 'DIR':
      return parseCCache(await readCacheFile(await resolveDirCCache(parsed, io.readFile), io.readFile))
    case 'KCM': {
      if (io.connectKcm === undefined) {
        throw new InvalidArgumentError('Kerberos: a KCM: credential cache needs a KCM connector')
      }
      const connection = await io.connectKcm(io.kcmSocketPath ?? DEFAULT_KCM_SOCKET_PATH)
      try {
        return await readKcmCCache(connection, parsed.residual)
      } finally {
        connection.close()
      }
    }
  }
}

async function readCacheFile(path: string, readFile: CCacheIo['readFile']): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (err) {
    const missing = (err as { code?: unknown }).code === 'ENOENT'
    throw new AuthenticationError(
      `Kerberos: cannot read the credential cache ${path}${missing ? ' (no such file: run kinit)' : ''}`,
      { cause: err },
    )
  }
}
