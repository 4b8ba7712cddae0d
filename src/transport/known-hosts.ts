/**
 * OpenSSH `known_hosts` parsing and host-key lookup (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), used by
 * {@link SSHConnection} to verify the server's host key. Pure functions over text: reading the files
 * is the caller's job.
 *
 * Supported: plain host patterns with `*`/`?` wildcards and `!` negation, comma-separated lists,
 * `[host]:port` entries for non-default ports (all matched by `ssh-host-pattern.ts`), hashed entries (`|1|salt|hmac`, `HashKnownHosts yes`),
 * `@revoked` markers, comments and blank lines. `@cert-authority` lines are recognised and ignored
 * (host certificates are not supported), as is anything unparseable.
 *
 * ```ts
 * const entries = parseKnownHosts(readFileSync(`${homedir()}/.ssh/known_hosts`, 'utf8'))
 * const result = checkHostKey(entries, 'server.example', 22, keyBlob)
 * if (result.status !== 'match') throw new Error(result.status)   // 'unknown' | 'changed' | 'revoked'
 * ```
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { knownHostsName, patternListMatch } from './ssh-host-pattern.ts'

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  /** `revoked` for `@revoked`, `cert-authority` for `@cert-authority`, else undefined. */
  readonly marker: 'revoked' | 'cert-authority' | undefined
  /** The host pattern field as written (comma-separated patterns, or one `|1|…` hash). */
  readonly hosts: string
  /** Key type, e.g. `ssh-ed25519`. */
  readonly keyType: string
  /** The public key blob (base64-decoded key field). */
  readonly key: Uint8Array
  /** 1-based line number in its file. */
  readonly line: number
  /** The file it came from, when the caller said. */
  readonly file: string | undefined
}

/** Outcome of {@link checkHostKey}. */
export type HostKeyCheck =
  | {
      /** The key is listed for this host. */
      readonly status: 'match'
      readonly entry: KnownHostEntry
    }
  | {
      /** The key is listed under `@revoked` (for any host). */
      readonly status: 'revoked'
      readonly entry: KnownHostEntry
    }
  | {
      /** Another key of the same type is listed for this host: the host key changed (or an attack). */
      readonly status: 'changed'
      /** The entries listing other keys of that type for this host. */
      readonly entries: readonly KnownHostEntry[]
    }
  | {
      /** Nothing of this key type is listed for this host. `otherTypes` are the types that are. */
      readonly status: 'unknown'
      readonly otherTypes: readonly string[]
    }

/**
 * Parses known_hosts text. Malformed lines are skipped (as OpenSSH does).
 *
 * @param text the file contents.
 * @param file the file name recorded in each entry (for messages).
 * @example
 * ```ts
 * parseKnownHosts('[127.0.0.1]:2222 ssh-ed25519 AAAAC3Nza…\n')[0].hosts   // '[127.0.0.1]:2222'
 * ```
 */
export function parseKnownHosts(text: string, file?: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim()
    if (raw === '' || raw.startsWith('#')) continue
    const fields = raw.split(/\s+/)
    let marker: KnownHostEntry['marker']
    if (fields[0]?.startsWith('@') === true) {
      const m = fields.shift()
      if (m === '@revoked') marker = 'revoked'
      else if (m === '@cert-authority') marker = 'cert-authority'
      else continue
    }
    const [hosts, keyType, keyText] = fields
    if (hosts === undefined || keyType === undefined || keyText === undefined) continue
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) continue
    const key = new Uint8Array(Buffer.from(keyText, 'base64'))
    // the blob starts with its own type name; a mismatch means a corrupt line
    if (blobKeyType(key) !== keyType) continue
    out.push({ marker, hosts, keyType, key, line: i + 1, file })
  }
  return out
}

/**
 * The key type named inside an SSH public key blob (`string type` first), or undefined when the blob
 * is too short.
 */
export function blobKeyType(blob: Uint8Array): string | undefined {
  if (blob.length < 4) return undefined
  const len =
    ((blob[0] as number) << 24) |
    ((blob[1] as number) << 16) |
    ((blob[2] as number) << 8) |
    (blob[3] as number)
  if (len <= 0 || len > 64 || 4 + len > blob.length) return undefined
  return Buffer.from(blob.subarray(4, 4 + len)).toString('latin1')
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|')
  // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false
  const salt = Buffer.from(parts[2] as string, 'base64')
  const want = Buffer.from(parts[3] as string, 'base64')
  const got = createHmac('sha1', salt).update(name).digest()
  return want.length === got.length && timingSafeEqual(want, got)
}

/**
 * Whether an entry's host field names `host:port` (plain patterns or a `|1|` hash). Port 22 is
 * looked up as `host`, any other port as `[host]:port`.
 */
export function entryMatchesHost(entry: Pick<KnownHostEntry, 'hosts'>, host: string, port: number): boolean {
  const name = knownHostsName(host, port)
  if (entry.hosts.startsWith('|')) return hashedMatch(entry.hosts, name)
  return patternListMatch(entry.hosts, name)
}

/**
 * Looks up a server's host key.
 *
 * @param entries parsed lines of every known_hosts file consulted.
 * @param host the host name (or `HostKeyAlias`) connected to.
 * @param port its port.
 * @param key the key blob the server presented.
 * @example
 * ```ts
 * checkHostKey(entries, '127.0.0.1', 2222, blob).status   // 'match' | 'unknown' | 'changed' | 'revoked'
 * ```
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: Uint8Array,
): HostKeyCheck {
  const type = blobKeyType(key)
  const same = (a: Uint8Array): boolean => a.length === key.length && Buffer.from(a).equals(Buffer.from(key))
  for (const e of entries) if (e.marker === 'revoked' && same(e.key)) return { status: 'revoked', entry: e }
  const forHost = entries.filter((e) => e.marker === undefined && entryMatchesHost(e, host, port))
  const hit = forHost.find((e) => same(e.key))
  if (hit !== undefined) return { status: 'match', entry: hit }
  const sameType = forHost.filter((e) => e.keyType === type)
  if (sameType.length > 0) return { status: 'changed', entries: sameType }
  return { status: 'unknown', otherTypes: [...new Set(forHost.map((e) => e.keyType))] }
}

/** Key types listed for `host:port` (to prefer them when negotiating, as `ssh` does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  return [
    ...new Set(
      entries.filter((e) => e.marker === undefined && entryMatchesHost(e, host, port)).map((e) => e.keyType),
    ),
  ]
}

/**
 * The OpenSSH SHA-256 fingerprint of a key blob: `SHA256:` + unpadded base64, as `ssh-keygen -l`
 * prints it.
 *
 * @example
 * ```ts
 * sha256Fingerprint(blob)   // 'SHA256:QhLLWGE5qGXvt47/tIzR3E0bCFbScgXm6AYDNw4mfLU'
 * ```
 */
export function sha256Fingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** The legacy MD5 fingerprint: `MD5:` + colon-separated hex pairs. */
export function md5Fingerprint(blob: Uint8Array): string {
  const hex = createHash('md5').update(blob).digest('hex')
  return `MD5:${hex.match(/../g)?.join(':') ?? hex}`
}

/**
 * Whether `fingerprint` (as `ssh-keygen -l` prints it: `SHA256:…` or `MD5:aa:bb:…`, the `MD5:` prefix
 * optional) names `blob`.
 */
export function fingerprintMatches(fingerprint: string, blob: Uint8Array): boolean {
  const f = fingerprint.trim()
  if (/^SHA256:/i.test(f)) return f.slice(7).replace(/=+$/, '') === sha256Fingerprint(blob).slice(7)
  const hex = f.replace(/^MD5:/i, '').toLowerCase()
  if (/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/.test(hex)) return `MD5:${hex}` === md5Fingerprint(blob)
  return false
}

/**
 * Builds a hashed known_hosts host field (`|1|salt|hmac`) for `name` (see {@link knownHostsName}),
 * as `ssh-keygen -H` writes it.
 */
export function hashHostName(name: string, salt: Uint8Array): string {
  const mac = createHmac('sha1', salt).update(name).digest('base64')
  return `|1|${Buffer.from(salt).toString('base64')}|${mac}`
}
