/**
 * Verification of the SSH server's host key (RFC 4253 §8: the server signs the exchange hash with it;
 * the client must check the key really is the server's): under a {@link HostKeyPolicy}, against
 * known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", parsed by `known-hosts.ts`), pinned
 * fingerprints or a callback. A refused key is a {@link HostKeyVerificationError} saying why and
 * naming the fingerprint. Also picks the host key algorithms to prefer in the key exchange (RFC 4253
 * §7.1), as `ssh` does, so a host listed with an ed25519 key is not asked for its RSA key.
 *
 * @module
 */
import { join } from 'node:path'
import { homedir } from 'node:os'
import type { ServerHostKeyAlgorithm } from 'ssh2'
import { HostKeyVerificationError, type SSHHostKey } from '../errors.ts'
import {
  blobKeyType,
  checkHostKey,
  fingerprintMatches,
  knownKeyTypes,
  md5Fingerprint,
  parseKnownHosts,
  sha256Fingerprint,
  type KnownHostEntry,
} from './known-hosts.ts'
import type { ResolvedSshConfig } from './ssh-config.ts'
import { expandHome, readOptional } from './ssh-config-file.ts'
import { hostLabel, type HostKeyPolicy } from './ssh-options.ts'

/** Host key algorithms to prefer for a known key type, in ssh2's names. */
const HOSTKEY_ALGOS: Readonly<Record<string, readonly ServerHostKeyAlgorithm[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}

/**
 * Checks the key a server presents, once per connection: the policy, and the known_hosts entries read
 * up front. {@link verifier} is ssh2's `hostVerifier`; a refusal is kept in {@link error} (ssh2 only
 * learns yes or no).
 */
export class HostKeyVerifier {
  /** The policy applied (the option, else the config's or the default known_hosts files). */
  readonly policy: HostKeyPolicy
  /** The known_hosts files consulted (`~` expanded; empty for fingerprint and callback policies). */
  readonly files: readonly string[]
  /** Host key algorithms to offer first: those of the key types listed for the host. */
  readonly preferredAlgorithms: readonly ServerHostKeyAlgorithm[]
  /** Why the key was refused, once it was. */
  error: HostKeyVerificationError | undefined
  readonly #entries: readonly KnownHostEntry[]
  readonly #host: string
  readonly #port: number

  private constructor(
    policy: HostKeyPolicy,
    files: readonly string[],
    entries: readonly KnownHostEntry[],
    host: string,
    port: number,
  ) {
    this.policy = policy
    this.files = files
    this.#entries = entries
    this.#host = host
    this.#port = port
    this.preferredAlgorithms = knownKeyTypes(entries, host, port).flatMap((t) => HOSTKEY_ALGOS[t] ?? [])
  }

  /**
   * Reads the known_hosts files the policy names (unreadable ones count as empty).
   *
   * @param option the `hostKey` option; default the config's `UserKnownHostsFile`s, else
   *   `~/.ssh/known_hosts`, `~/.ssh/known_hosts2` and `/etc/ssh/ssh_known_hosts`.
   * @param host the name the key is listed under (`HostKeyAlias`, else the host name).
   */
  static async load(
    option: HostKeyPolicy | undefined,
    cfg: ResolvedSshConfig | undefined,
    host: string,
    port: number,
  ): Promise<HostKeyVerifier> {
    const policy: HostKeyPolicy = option ?? {
      knownHosts:
        cfg !== undefined && cfg.userKnownHostsFiles.length > 0
          ? cfg.userKnownHostsFiles
          : [
              join(homedir(), '.ssh', 'known_hosts'),
              join(homedir(), '.ssh', 'known_hosts2'),
              '/etc/ssh/ssh_known_hosts',
            ],
    }
    const files =
      typeof policy === 'object' && 'knownHosts' in policy
        ? (typeof policy.knownHosts === 'string' ? [policy.knownHosts] : [...policy.knownHosts]).map(
            expandHome,
          )
        : []
    const entries: KnownHostEntry[] = []
    for (const f of files) {
      const text = await readOptional(f)
      if (text !== undefined) entries.push(...parseKnownHosts(text, f))
    }
    return new HostKeyVerifier(policy, files, entries, host, port)
  }

  /** ssh2's `hostVerifier`: answers through `verify` once the policy has decided. */
  readonly verifier = (raw: Buffer, verify: (ok: boolean) => void): void => {
    const blob = new Uint8Array(raw)
    const key: SSHHostKey = {
      host: this.#host,
      port: this.#port,
      keyType: blobKeyType(blob) ?? 'unknown',
      key: blob,
      fingerprint: sha256Fingerprint(blob),
      md5Fingerprint: md5Fingerprint(blob),
    }
    verifyHostKey(this.policy, key, this.files, this.#entries).then(
      (err) => {
        this.error = err
        verify(err === undefined)
      },
      () => verify(false),
    )
  }
}

function describeKey(k: SSHHostKey): string {
  return `${k.keyType} ${k.fingerprint}`
}

/** Verifies a host key under a policy; resolves undefined when accepted. */
async function verifyHostKey(
  policy: HostKeyPolicy,
  key: SSHHostKey,
  files: readonly string[],
  entries: readonly KnownHostEntry[],
): Promise<HostKeyVerificationError | undefined> {
  const label = hostLabel(key.host, key.port)
  if (policy === 'insecure-accept-any') return undefined
  if ('fingerprint' in policy) {
    const list = typeof policy.fingerprint === 'string' ? [policy.fingerprint] : policy.fingerprint
    if (list.some((f) => fingerprintMatches(f, key.key))) return undefined
    return new HostKeyVerificationError(
      `the host key of ${label} (${describeKey(key)}) is not the expected ${list.join(' or ')}`,
      'rejected',
      key,
      [],
    )
  }
  if ('verify' in policy) {
    let ok: boolean
    try {
      ok = await policy.verify(key)
    } catch (e) {
      return new HostKeyVerificationError(
        `the host key callback failed for ${label} (${describeKey(key)}): ${(e as Error).message}`,
        'rejected',
        key,
        [],
        { cause: e },
      )
    }
    return ok
      ? undefined
      : new HostKeyVerificationError(
          `the host key of ${label} (${describeKey(key)}) was rejected by the verify callback`,
          'rejected',
          key,
          [],
        )
  }
  const result = checkHostKey(entries, key.host, key.port, key.key)
  const where = files.length === 0 ? '(no known_hosts files)' : files.join(', ')
  switch (result.status) {
    case 'match':
      return undefined
    case 'revoked':
      return new HostKeyVerificationError(
        `the host key of ${label} (${describeKey(key)}) is marked @revoked in ${result.entry.file ?? 'known_hosts'}:${result.entry.line}`,
        'revoked',
        key,
        files,
      )
    case 'changed': {
      const e = result.entries[0] as KnownHostEntry
      return new HostKeyVerificationError(
        `HOST KEY CHANGED for ${label}: the server presented ${describeKey(key)} but ` +
          `${e.file ?? 'known_hosts'}:${e.line} lists ${e.keyType} ${sha256Fingerprint(e.key)}. ` +
          'Someone may be intercepting the connection, or the server was reinstalled; verify the new ' +
          'fingerprint out of band before replacing the entry.',
        'changed',
        key,
        files,
      )
    }
    case 'unknown': {
      const others =
        result.otherTypes.length > 0 ? `; only ${result.otherTypes.join(', ')} keys are listed for it` : ''
      return new HostKeyVerificationError(
        `the host key of ${label} is unknown: ${describeKey(key)} is not in ${where}${others}. ` +
          `Verify the fingerprint out of band, then add the key (ssh-keyscan${key.port === 22 ? '' : ` -p ${key.port}`} ${key.host} >> ~/.ssh/known_hosts) ` +
          `or pass hostKey: { fingerprint: '${key.fingerprint}' }`,
        'unknown',
        key,
        files,
      )
    }
  }
}
