/**
 * PSRP over SSH, in-process: the OutOfProc protocol over the `powershell` subsystem (or an explicit
 * command such as `pwsh -sshs -NoLogo`) of an SSH channel opened with the `ssh2` package, as
 * PowerShell 7's `Enter-PSSession -HostName` does with the `ssh` binary (`notes/transports.md` §3).
 * Built on {@link OutOfProcStreamTransport}.
 *
 * - Authentication: password, private key (contents or path, with passphrase), ssh-agent and
 *   keyboard-interactive; with no credential given, the agent (`SSH_AUTH_SOCK`) and the identity files
 *   (`IdentityFile` from `~/.ssh/config`, else `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`) are tried, as
 *   `ssh` does. A refused login is an {@link AuthenticationError}.
 * - Host keys are verified by default against `~/.ssh/known_hosts` (+ `known_hosts2` and
 *   `/etc/ssh/ssh_known_hosts`, or the config's `UserKnownHostsFile`), including hashed and
 *   `[host]:port` entries; an unknown, changed or revoked key is a {@link HostKeyVerificationError}
 *   naming the fingerprint. Nothing is ever written to known_hosts.
 * - `~/.ssh/config`: `Host` blocks with `HostName`, `User`, `Port`, `IdentityFile`, `IdentitiesOnly`,
 *   `UserKnownHostsFile`, `HostKeyAlias`, `ConnectTimeout`, `ServerAliveInterval`/`CountMax`,
 *   `Include` (see {@link resolveSshConfig}).
 * - A dropped connection (TCP reset, keepalive timeout, channel closed) fails every pending call with a
 *   {@link TransportError}. SSH lacks WinRM's disconnect/reconnect and shell enumeration: those
 *   {@link RunspacePool} methods reject with {@link NotSupportedError}.
 *
 * @module
 */
import { lookup } from 'node:dns/promises'
import { readFile, readdir } from 'node:fs/promises'
import { homedir, userInfo } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { inspect } from 'node:util'
import ssh2 from 'ssh2'
import type {
  AuthHandlerMiddleware,
  AuthenticationType,
  ClientChannel,
  ConnectConfig,
  ParsedKey,
  Prompt,
  ServerHostKeyAlgorithm,
} from 'ssh2'
import {
  AuthenticationError,
  HostKeyVerificationError,
  InvalidArgumentError,
  TimeoutError,
  TransportError,
  type PsrpError,
  type SSHHostKey,
} from '../errors.ts'
import type { OutOfProcSessionOptions } from '../outofproc/index.ts'
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
import {
  OutOfProcStreamTransport,
  type OutOfProcConnectContext,
  type OutOfProcStreams,
} from './outofproc-stream.ts'
import { parseSshConfig, resolveSshConfig, type ResolvedSshConfig } from './ssh-config.ts'

const { Client, utils } = ssh2

/**
 * How the server's host key is verified.
 *
 * - `{ knownHosts }`: these known_hosts files (default policy: the user's and the system's);
 * - `{ fingerprint }`: accept exactly these keys (`SHA256:…` or `MD5:…`, as `ssh-keygen -l` prints);
 * - `{ verify }`: your callback decides (return `true` to accept);
 * - `'insecure-accept-any'`: no verification at all (tests only: anyone on the path can impersonate
 *   the server and read the password).
 */
export type HostKeyPolicy =
  | { readonly knownHosts: string | readonly string[] }
  | { readonly fingerprint: string | readonly string[] }
  | { readonly verify: (key: SSHHostKey) => boolean | Promise<boolean> }
  | 'insecure-accept-any'

/** One keyboard-interactive round: answer every prompt, in order. */
export interface KeyboardInteractiveChallenge {
  readonly name: string
  readonly instructions: string
  readonly prompts: readonly { readonly prompt: string; readonly echo: boolean }[]
}

/** Answers keyboard-interactive prompts. */
export type KeyboardInteractiveHandler = (
  challenge: KeyboardInteractiveChallenge,
) => readonly string[] | Promise<readonly string[]>

/** An authentication method {@link SSHConnection} may use. */
export type SSHAuthMethod = 'publickey' | 'agent' | 'keyboard-interactive' | 'password'

/** Options of {@link SSHConnection}. */
export interface SSHConnectionOptions {
  /** Host name, address or `~/.ssh/config` alias. */
  host: string
  /** Default: the config's `Port`, else 22. */
  port?: number | undefined
  /** Default: the config's `User`, else the local user name. */
  username?: string | undefined
  /** Password (for `password` and, with `keyboardInteractive: true`, keyboard-interactive). */
  password?: string | undefined
  /** A private key (OpenSSH or PEM text, or its bytes). */
  privateKey?: string | Uint8Array | undefined
  /** A private key file (`ssh -i`); read when connecting. */
  privateKeyPath?: string | undefined
  /** Passphrase of an encrypted private key. */
  passphrase?: string | undefined
  /**
   * ssh-agent: a socket path, `true` for `SSH_AUTH_SOCK`, `false` to never use it. Default: used when
   * no password, key or keyboard-interactive handler is given and `SSH_AUTH_SOCK` is set.
   */
  agent?: string | boolean | undefined
  /**
   * Keyboard-interactive: `true` answers every prompt with {@link password} (PAM's `Password:`), a
   * function answers the prompts itself. Tried before `password`, as `ssh` does.
   */
  keyboardInteractive?: boolean | KeyboardInteractiveHandler | undefined
  /** Host key verification; default `~/.ssh/known_hosts` etc. (see {@link HostKeyPolicy}). */
  hostKey?: HostKeyPolicy | undefined
  /** The SSH subsystem running the PowerShell server; default `powershell`. */
  subsystem?: string | undefined
  /** Run this command instead of a subsystem, e.g. `pwsh -sshs -NoLogo` (goes through the login shell). */
  command?: string | undefined
  /** Milliseconds for TCP + handshake + authentication + channel + the server's first answer; default 30 000. */
  connectTimeout?: number | undefined
  /** Milliseconds between SSH keepalives (0 = off); default the config's `ServerAliveInterval`, else 15 000. */
  keepaliveInterval?: number | undefined
  /** Unanswered keepalives before the connection is declared dead; default 3. */
  keepaliveCountMax?: number | undefined
  /** An ssh_config file to apply, or `false` for none; default `~/.ssh/config`. */
  sshConfig?: string | false | undefined
  /** Default timeout of signal, pipeline close and pool close; default 60 000. */
  closeTimeout?: number | undefined
  /** Options of the sans-IO OutOfProc session. */
  session?: OutOfProcSessionOptions | undefined
  /** Receives ssh2's debug lines (they contain no secrets). */
  debug?: ((line: string) => void) | undefined
}

/** What an {@link SSHConnection} shows of itself (no secrets). */
export interface SSHConnectionInfo {
  readonly host: string
  readonly port: number | undefined
  readonly username: string | undefined
  readonly target: string
  readonly authMethods: readonly SSHAuthMethod[]
  readonly authenticatedWith: SSHAuthMethod | undefined
}

const DEFAULT_CONNECT_TIMEOUT = 30_000
const DEFAULT_KEEPALIVE = 15_000
const STDERR_LIMIT = 64 * 1024

/** Host key algorithms to prefer for a known key type, in ssh2's names. */
const HOSTKEY_ALGOS: Readonly<Record<string, readonly ServerHostKeyAlgorithm[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}

/** Mutable facts shared between the connection object and its connector. */
interface SSHState {
  authenticatedWith: SSHAuthMethod | undefined
  client: InstanceType<typeof Client> | undefined
}

/**
 * A PSRP connection over SSH (one runspace pool per connection).
 *
 * @example
 * ```ts
 * import { RunspacePool, PowerShell, SSHConnection } from 'psrp'
 * const conn = new SSHConnection({ host: 'server1', username: 'admin', privateKeyPath: '~/.ssh/id_ed25519' })
 * await using pool = await RunspacePool.open(conn)
 * console.log(await new PowerShell(pool).addScript('$PSVersionTable.PSVersion').invoke())
 * ```
 * @example
 * ```ts
 * // password, a pinned host key, and an explicit server command instead of the subsystem
 * new SSHConnection({ host: '10.0.0.5', username: 'ops', password, command: 'pwsh -sshs -NoLogo',
 *   hostKey: { fingerprint: 'SHA256:QhLLWGE5qGXvt47/tIzR3E0bCFbScgXm6AYDNw4mfLU' } })
 * ```
 */
export class SSHConnection extends OutOfProcStreamTransport {
  readonly #opts: Readonly<SSHConnectionOptions>
  readonly #state: SSHState

  /**
   * @throws {InvalidArgumentError} for contradictory options (both `subsystem` and `command`,
   * `keyboardInteractive: true` without a password, a bad port).
   */
  constructor(options: SSHConnectionOptions) {
    validate(options)
    const opts = { ...options }
    const state: SSHState = { authenticatedWith: undefined, client: undefined }
    const connectTimeout = opts.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT
    super((context) => connectSsh(opts, context, state, connectTimeout), {
      connectTimeout,
      closeTimeout: opts.closeTimeout,
      session: opts.session,
      peerName: `ssh ${opts.host}`,
    })
    this.#opts = opts
    this.#state = state
  }

  /** The host as given (an address, name or config alias). */
  get host(): string {
    return this.#opts.host
  }

  /** The method that authenticated the session, once connected. */
  get authenticatedWith(): SSHAuthMethod | undefined {
    return this.#state.authenticatedWith
  }

  /** A description without secrets (also what `util.inspect` and `JSON.stringify` show). */
  get info(): SSHConnectionInfo {
    const o = this.#opts
    return {
      host: o.host,
      port: o.port,
      username: o.username,
      target: o.command !== undefined ? `command ${o.command}` : `subsystem ${o.subsystem ?? 'powershell'}`,
      authMethods: plannedMethods(o),
      authenticatedWith: this.#state.authenticatedWith,
    }
  }

  /** JSON form: {@link info} (no password, key or passphrase). */
  toJSON(): SSHConnectionInfo {
    return this.info
  }

  /** `util.inspect` form: {@link info}. */
  [inspect.custom](): string {
    return `SSHConnection ${inspect(this.info)}`
  }
}

function validate(o: SSHConnectionOptions): void {
  if (typeof o.host !== 'string' || o.host === '')
    throw new InvalidArgumentError('SSHConnection needs a host')
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port > 0 && o.port < 65536)) {
    throw new InvalidArgumentError(`invalid SSH port ${String(o.port)}`)
  }
  if (o.subsystem !== undefined && o.command !== undefined) {
    throw new InvalidArgumentError('give either subsystem or command, not both')
  }
  if (o.keyboardInteractive === true && o.password === undefined) {
    throw new InvalidArgumentError(
      'keyboardInteractive: true answers prompts with the password; give a password',
    )
  }
  if (o.privateKey !== undefined && o.privateKeyPath !== undefined) {
    throw new InvalidArgumentError('give either privateKey or privateKeyPath, not both')
  }
}

function hasExplicitCredential(o: SSHConnectionOptions): boolean {
  return (
    o.password !== undefined ||
    o.privateKey !== undefined ||
    o.privateKeyPath !== undefined ||
    typeof o.keyboardInteractive === 'function'
  )
}

function agentSocket(o: SSHConnectionOptions): string | undefined {
  const env = process.env['SSH_AUTH_SOCK']
  if (typeof o.agent === 'string') return o.agent
  if (o.agent === true) return env
  if (o.agent === false) return undefined
  return hasExplicitCredential(o) ? undefined : env
}

function plannedMethods(o: SSHConnectionOptions): SSHAuthMethod[] {
  const out: SSHAuthMethod[] = []
  if (o.privateKey !== undefined || o.privateKeyPath !== undefined || !hasExplicitCredential(o))
    out.push('publickey')
  if (agentSocket(o) !== undefined) out.push('agent')
  if (o.keyboardInteractive !== undefined && o.keyboardInteractive !== false) out.push('keyboard-interactive')
  if (o.password !== undefined) out.push('password')
  return out
}

function expandHome(path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  return path
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined
  }
}

async function loadConfig(o: SSHConnectionOptions): Promise<ResolvedSshConfig | undefined> {
  if (o.sshConfig === false) return undefined
  const home = homedir()
  const path = o.sshConfig === undefined ? join(home, '.ssh', 'config') : expandHome(o.sshConfig)
  const text = await readOptional(path)
  if (text === undefined) {
    if (o.sshConfig !== undefined) throw new InvalidArgumentError(`cannot read ssh config ${path}`)
    return undefined
  }
  // Include: read the named files synchronously-resolved up front (only plain names and one '*' level)
  const includes = new Map<string, string[]>()
  const pending = [...text.matchAll(/^\s*include\s*=?\s*(.+)$/gim)].flatMap((m) =>
    (m[1] as string).split(/\s+/),
  )
  for (const pattern of pending) {
    const full = isAbsolute(expandHome(pattern)) ? expandHome(pattern) : join(home, '.ssh', pattern)
    const texts: string[] = []
    const star = full.lastIndexOf('*')
    if (star === -1) {
      const t = await readOptional(full)
      if (t !== undefined) texts.push(t)
    } else {
      const dir = full.slice(0, full.lastIndexOf('/'))
      const re = new RegExp(
        `^${full
          .slice(dir.length + 1)
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      )
      const names = await readdir(dir).catch(() => [] as string[])
      for (const n of names.filter((x) => re.test(x)).sort()) {
        const t = await readOptional(join(dir, n))
        if (t !== undefined) texts.push(t)
      }
    }
    includes.set(pattern, texts)
  }
  let localUser = 'user'
  try {
    localUser = userInfo().username
  } catch {
    // no passwd entry
  }
  return resolveSshConfig(parseSshConfig(text), o.host, {
    localUser,
    home,
    include: (pattern) => includes.get(pattern) ?? [],
  })
}

function defaultUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env['USER'] ?? process.env['USERNAME'] ?? 'root'
  }
}

interface KeyCandidate {
  readonly source: string
  readonly key: ParsedKey
}

function parsePrivateKey(data: string | Buffer, passphrase: string | undefined, source: string): ParsedKey {
  const parsed = utils.parseKey(data, passphrase)
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed
  if (key === undefined || key instanceof Error) {
    const why = key instanceof Error ? key.message : 'no key found'
    const hint = /passphrase|encrypted/i.test(why)
      ? passphrase === undefined
        ? ' (the key is encrypted: give a passphrase)'
        : ' (wrong passphrase?)'
      : ''
    throw new InvalidArgumentError(`cannot use the private key ${source}: ${why}${hint}`)
  }
  if (!key.isPrivateKey()) throw new InvalidArgumentError(`${source} is not a private key`)
  return key
}

async function collectKeys(
  o: SSHConnectionOptions,
  cfg: ResolvedSshConfig | undefined,
): Promise<KeyCandidate[]> {
  if (o.privateKey !== undefined) {
    const data = typeof o.privateKey === 'string' ? o.privateKey : Buffer.from(o.privateKey)
    return [{ source: 'privateKey', key: parsePrivateKey(data, o.passphrase, 'given as privateKey') }]
  }
  if (o.privateKeyPath !== undefined) {
    const path = expandHome(o.privateKeyPath)
    let data: Buffer
    try {
      data = await readFile(path)
    } catch (e) {
      throw new InvalidArgumentError(`cannot read the private key ${path}: ${(e as Error).message}`, {
        cause: e,
      })
    }
    return [{ source: path, key: parsePrivateKey(data, o.passphrase, path) }]
  }
  if (hasExplicitCredential(o)) return []
  // ssh's defaults: the config's IdentityFiles, else the usual key names; unusable ones are skipped
  const home = homedir()
  const files =
    cfg !== undefined && cfg.identityFiles.length > 0
      ? cfg.identityFiles
      : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(home, '.ssh', n))
  const out: KeyCandidate[] = []
  for (const f of files) {
    const data = await readFile(expandHome(f)).catch(() => undefined)
    if (data === undefined) continue
    const parsed = utils.parseKey(data, o.passphrase)
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed
    if (key !== undefined && !(key instanceof Error) && key.isPrivateKey()) out.push({ source: f, key })
  }
  return out
}

async function knownHostsEntries(files: readonly string[]): Promise<KnownHostEntry[]> {
  const out: KnownHostEntry[] = []
  for (const f of files) {
    const text = await readOptional(f)
    if (text !== undefined) out.push(...parseKnownHosts(text, f))
  }
  return out
}

function describeKey(k: SSHHostKey): string {
  return `${k.keyType} ${k.fingerprint}`
}

function hostLabel(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
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

async function connectSsh(
  o: Readonly<SSHConnectionOptions>,
  context: OutOfProcConnectContext,
  state: SSHState,
  connectTimeout: number,
): Promise<OutOfProcStreams> {
  const cfg = await loadConfig(o)
  const hostName = cfg?.hostName ?? o.host
  const port = o.port ?? cfg?.port ?? 22
  const username = o.username ?? cfg?.user ?? defaultUser()
  const checkName = cfg?.hostKeyAlias ?? hostName
  const label = `${username}@${hostLabel(hostName, port)}`

  const policy: HostKeyPolicy = o.hostKey ?? {
    knownHosts:
      cfg !== undefined && cfg.userKnownHostsFiles.length > 0
        ? cfg.userKnownHostsFiles
        : [
            join(homedir(), '.ssh', 'known_hosts'),
            join(homedir(), '.ssh', 'known_hosts2'),
            '/etc/ssh/ssh_known_hosts',
          ],
  }
  const khFiles =
    typeof policy === 'object' && 'knownHosts' in policy
      ? (typeof policy.knownHosts === 'string' ? [policy.knownHosts] : [...policy.knownHosts]).map(expandHome)
      : []
  const entries = await knownHostsEntries(khFiles)
  const preferred = knownKeyTypes(entries, checkName, port).flatMap((t) => HOSTKEY_ALGOS[t] ?? [])

  const keys = await collectKeys(o, cfg ?? undefined)
  const agent = agentSocket(o)

  // the methods to try, in ssh's order: publickey (keys, agent), keyboard-interactive, password
  type Planned =
    | { method: 'publickey'; key: ParsedKey }
    | { method: 'agent'; agent: string }
    | { method: 'keyboard-interactive' }
    | { method: 'password' }
  const plan: Planned[] = [
    ...keys.map((k): Planned => ({ method: 'publickey', key: k.key })),
    ...(agent !== undefined ? [{ method: 'agent', agent } as const] : []),
    ...(o.keyboardInteractive !== undefined && o.keyboardInteractive !== false
      ? [{ method: 'keyboard-interactive' } as const]
      : []),
    ...(o.password !== undefined ? [{ method: 'password' } as const] : []),
  ]
  if (plan.length === 0) {
    // a host that does not resolve is the first thing to report (ssh says so before anything else)
    await lookup(hostName).catch((e: Error) => {
      throw new TransportError(`cannot connect to ${hostLabel(hostName, port)} over SSH: ${e.message}`, {
        cause: e,
      })
    })
    throw new AuthenticationError(
      `no SSH credentials for ${label}: give a password, privateKey/privateKeyPath, keyboardInteractive or agent ` +
        '(no usable ~/.ssh/id_* key and no SSH_AUTH_SOCK)',
    )
  }
  const tried: SSHAuthMethod[] = []
  let serverMethods: string[] | undefined
  let lastMethod: SSHAuthMethod | undefined

  const answerPrompts = async (name: string, instructions: string, prompts: Prompt[]): Promise<string[]> => {
    const handler = o.keyboardInteractive
    if (typeof handler === 'function') {
      const answers = await handler({
        name,
        instructions,
        prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
      })
      return [...answers]
    }
    return prompts.map(() => o.password ?? '')
  }

  // ssh2 passes null (not an array) before the first attempt, and accepts `false` for "give up"
  const authHandler: AuthHandlerMiddleware = (authsLeft, _partial, next) => {
    const methodsLeft = authsLeft as AuthenticationType[] | null
    const giveUp = next as unknown as (stop: false) => void
    if (methodsLeft !== null) serverMethods = methodsLeft
    for (;;) {
      const step = plan.shift()
      if (step === undefined) {
        giveUp(false)
        return
      }
      const serverName = step.method === 'agent' ? 'publickey' : step.method
      if (methodsLeft !== null && !methodsLeft.includes(serverName)) continue
      lastMethod = step.method
      tried.push(step.method)
      switch (step.method) {
        case 'publickey':
          next({ type: 'publickey', username, key: step.key })
          return
        case 'agent':
          next({ type: 'agent', username, agent: step.agent })
          return
        case 'keyboard-interactive':
          next({
            type: 'keyboard-interactive',
            username,
            prompt: (name, instructions, _lang, prompts, finish) => {
              answerPrompts(name, instructions, prompts).then(finish, () => finish([]))
            },
          })
          return
        case 'password':
          next({ type: 'password', username, password: o.password as string })
          return
      }
    }
  }

  const client = new Client()
  state.client = client
  let hostKeyError: HostKeyVerificationError | undefined
  const hostVerifier = (raw: Buffer, verify: (ok: boolean) => void): void => {
    const blob = new Uint8Array(raw)
    const key: SSHHostKey = {
      host: checkName,
      port,
      keyType: blobKeyType(blob) ?? 'unknown',
      key: blob,
      fingerprint: sha256Fingerprint(blob),
      md5Fingerprint: md5Fingerprint(blob),
    }
    verifyHostKey(policy, key, khFiles, entries).then(
      (err) => {
        hostKeyError = err
        verify(err === undefined)
      },
      () => verify(false),
    )
  }

  const keepaliveInterval =
    o.keepaliveInterval ??
    (cfg?.serverAliveInterval !== undefined ? cfg.serverAliveInterval * 1000 : DEFAULT_KEEPALIVE)
  const config: ConnectConfig = {
    host: hostName,
    port,
    username,
    readyTimeout:
      o.connectTimeout ?? (cfg?.connectTimeout !== undefined ? cfg.connectTimeout * 1000 : connectTimeout),
    keepaliveInterval,
    keepaliveCountMax: o.keepaliveCountMax ?? cfg?.serverAliveCountMax ?? 3,
    hostVerifier,
    authHandler,
    ...(preferred.length > 0
      ? { algorithms: { serverHostKey: { prepend: preferred, append: [], remove: [] } } }
      : {}),
    ...(o.debug !== undefined ? { debug: o.debug } : {}),
  }

  const mapError = (e: Error & { level?: string }): PsrpError => {
    if (hostKeyError !== undefined) return hostKeyError
    switch (e.level) {
      case 'client-authentication':
        return new AuthenticationError(
          `SSH authentication of ${label} failed (tried ${tried.length > 0 ? tried.join(', ') : 'nothing the server allows'}` +
            `${serverMethods !== undefined ? `; the server allows ${serverMethods.join(', ')}` : ''})`,
        )
      case 'client-timeout':
        return new TimeoutError(
          `SSH handshake with ${hostLabel(hostName, port)} timed out after ${config.readyTimeout} ms`,
          config.readyTimeout ?? 0,
          {
            cause: e,
          },
        )
      case 'client-socket':
      case 'client-dns':
        return new TransportError(`cannot connect to ${hostLabel(hostName, port)} over SSH: ${e.message}`, {
          cause: e,
        })
      default:
        return new TransportError(`SSH connection to ${hostLabel(hostName, port)} failed: ${e.message}`, {
          cause: e,
        })
    }
  }

  // connect, authenticate
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      client.off('ready', onReady)
      client.off('error', onError)
      client.off('close', onClose)
      context.signal.removeEventListener('abort', onAbort)
    }
    const onReady = (): void => {
      cleanup()
      state.authenticatedWith = lastMethod
      resolve()
    }
    const onError = (e: Error & { level?: string }): void => {
      cleanup()
      client.destroy()
      reject(mapError(e))
    }
    const onClose = (): void => {
      cleanup()
      reject(
        hostKeyError ??
          new TransportError(
            `the SSH server ${hostLabel(hostName, port)} closed the connection during login`,
          ),
      )
    }
    const onAbort = (): void => {
      cleanup()
      client.destroy()
      reject(new TransportError(`connecting to ${hostLabel(hostName, port)} over SSH was cancelled`))
    }
    client.on('ready', onReady)
    client.on('error', onError)
    client.on('close', onClose)
    if (context.signal.aborted) return onAbort()
    context.signal.addEventListener('abort', onAbort, { once: true })
    try {
      client.connect(config)
      // OutOfProc is stop-and-wait (one unacknowledged packet per pipeline), so every packet is a
      // round trip. ssh2 leaves Nagle's algorithm on: the tail of each packet then waits for the
      // server's delayed ACK (40 ms on Linux), which capped uploads at ~700 KiB/s. ssh does the same
      // for interactive sessions (TCP_NODELAY); applied when the socket connects.
      client.setNoDelay(true)
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)))
    }
  })

  // from here on, a failure of the SSH connection fails the transport
  let shuttingDown = false
  let channelEnded = false
  let lateError: PsrpError | undefined
  const onLateError = (e: Error & { level?: string }): void => {
    lateError ??= mapError(e)
    if (!shuttingDown) context.fail(lateError)
  }
  const onLateClose = (): void => {
    if (!shuttingDown && !channelEnded) {
      context.fail(lateError ?? new TransportError(`the SSH connection to ${label} was closed`))
    }
  }
  client.on('error', onLateError)
  client.on('close', onLateClose)

  // open the channel
  const target =
    o.command !== undefined ? `command '${o.command}'` : `subsystem '${o.subsystem ?? 'powershell'}'`
  let channel: ClientChannel
  try {
    channel = await new Promise<ClientChannel>((resolve, reject) => {
      const onAbort = (): void => reject(new TransportError(`opening the SSH ${target} was cancelled`))
      if (context.signal.aborted) return onAbort()
      context.signal.addEventListener('abort', onAbort, { once: true })
      const done = (err: Error | undefined, ch: ClientChannel): void => {
        context.signal.removeEventListener('abort', onAbort)
        if (err !== undefined && err !== null) {
          reject(
            new TransportError(
              `the SSH server ${hostLabel(hostName, port)} refused the ${target}: ${err.message}` +
                (o.command === undefined
                  ? ` (is 'Subsystem ${o.subsystem ?? 'powershell'} /path/to/pwsh -sshs -NoLogo' in sshd_config?)`
                  : ''),
              { cause: err },
            ),
          )
        } else {
          resolve(ch)
        }
      }
      if (o.command !== undefined) client.exec(o.command, done)
      else client.subsys(o.subsystem ?? 'powershell', done)
    })
  } catch (e) {
    shuttingDown = true
    client.destroy()
    throw e
  }

  let stderr = ''
  let exit: { code: number | null; signal: string | undefined } | undefined
  channel.stderr.setEncoding('utf8')
  channel.stderr.on('data', (t: string) => {
    // like PowerShell's client: ssh-side stderr is informational only (banners, warnings)
    if (stderr.length < STDERR_LIMIT) stderr += t.slice(0, STDERR_LIMIT - stderr.length)
  })
  channel.on('exit', (code: number | null, signal?: string) => {
    exit = { code, signal }
  })
  const channelClosed = new Promise<void>((resolve) => channel.once('close', () => resolve()))
  const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()))
  const within = (p: Promise<void>, ms: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), ms)
      void p.then(() => {
        clearTimeout(t)
        resolve(true)
      })
    })

  return {
    readable: channel,
    writable: channel,
    describeEnd: async (cause) => {
      await within(channelClosed, 500)
      if (lateError !== undefined) return lateError
      const parts = [`the SSH ${target} on ${label} ended`]
      if (exit !== undefined) {
        parts.push(exit.code !== null ? `exit code ${exit.code}` : `killed by ${exit.signal ?? 'a signal'}`)
      }
      if (cause !== undefined) parts.push(cause.message)
      const text = stderr.trim()
      if (text !== '') parts.push(`stderr: ${text}`)
      return new TransportError(parts.join('; '), cause === undefined ? undefined : { cause })
    },
    shutdown: async (reason) => {
      shuttingDown = true
      channelEnded = true
      if (reason === 'closed') {
        // EOF on the server's stdin ends pwsh (exit 4000); then close the connection
        channel.end()
        await within(channelClosed, 3_000)
        client.end()
        if (!(await within(clientClosed, 2_000))) client.destroy()
      } else {
        client.destroy()
      }
      channel.stderr.removeAllListeners('data')
      channel.on('error', () => {})
      client.on('error', () => {})
    },
  }
}
