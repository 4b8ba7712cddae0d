/**
 * SSH client authentication (RFC 4252): which methods to offer and in what order, as `ssh` does —
 * public keys (a given key, else the config's `IdentityFile`s or `~/.ssh/id_*`), the ssh-agent
 * (draft-miller-ssh-agent; its keys are offered as `publickey`), keyboard-interactive (RFC 4256) and
 * password (RFC 4252 §8) — offering only what the server says it accepts, and the
 * {@link AuthenticationError} that names what was tried when the server refuses them all.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import ssh2 from 'ssh2'
import type { AuthHandlerMiddleware, AuthenticationType, ParsedKey, Prompt } from 'ssh2'
import { AuthenticationError, InvalidArgumentError } from '../errors.ts'
import type { ResolvedSshConfig } from './ssh-config.ts'
import { expandHome } from './ssh-config-file.ts'
import type { SSHAuthMethod, SSHConnectionOptions } from './ssh-options.ts'

const { utils } = ssh2

/** Whether the options name a credential (then no default key or agent is tried). */
function hasExplicitCredential(o: SSHConnectionOptions): boolean {
  return (
    o.password !== undefined ||
    o.privateKey !== undefined ||
    o.privateKeyPath !== undefined ||
    typeof o.keyboardInteractive === 'function'
  )
}

/** The ssh-agent socket to use, if any (`agent` option, else `SSH_AUTH_SOCK` without other credentials). */
function agentSocket(o: SSHConnectionOptions): string | undefined {
  const env = process.env['SSH_AUTH_SOCK']
  if (typeof o.agent === 'string') return o.agent
  if (o.agent === true) return env
  if (o.agent === false) return undefined
  return hasExplicitCredential(o) ? undefined : env
}

/** The methods a connection with these options will try, in order (no files read). */
export function plannedMethods(o: SSHConnectionOptions): SSHAuthMethod[] {
  const out: SSHAuthMethod[] = []
  if (o.privateKey !== undefined || o.privateKeyPath !== undefined || !hasExplicitCredential(o))
    out.push('publickey')
  if (agentSocket(o) !== undefined) out.push('agent')
  if (o.keyboardInteractive !== undefined && o.keyboardInteractive !== false) out.push('keyboard-interactive')
  if (o.password !== undefined) out.push('password')
  return out
}

/** The first key ssh2 finds in `parsed`, or why there is none. */
function firstKey(parsed: ReturnType<typeof utils.parseKey>): ParsedKey | Error | undefined {
  return Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed
}

function parsePrivateKey(data: string | Buffer, passphrase: string | undefined, source: string): ParsedKey {
  const key = firstKey(utils.parseKey(data, passphrase))
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

/**
 * The private keys to offer: the given one (an unusable given key is an error), else — without other
 * credentials — the config's `IdentityFile`s or `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` (unusable
 * ones skipped, as `ssh` does).
 *
 * @throws {InvalidArgumentError} when a given key cannot be read or parsed.
 */
async function collectKeys(
  o: SSHConnectionOptions,
  cfg: ResolvedSshConfig | undefined,
): Promise<ParsedKey[]> {
  if (o.privateKey !== undefined) {
    const data = typeof o.privateKey === 'string' ? o.privateKey : Buffer.from(o.privateKey)
    return [parsePrivateKey(data, o.passphrase, 'given as privateKey')]
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
    return [parsePrivateKey(data, o.passphrase, path)]
  }
  if (hasExplicitCredential(o)) return []
  const home = homedir()
  const files =
    cfg !== undefined && cfg.identityFiles.length > 0
      ? cfg.identityFiles
      : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(home, '.ssh', n))
  const out: ParsedKey[] = []
  for (const f of files) {
    const data = await readFile(expandHome(f)).catch(() => undefined)
    if (data === undefined) continue
    const key = firstKey(utils.parseKey(data, o.passphrase))
    if (key !== undefined && !(key instanceof Error) && key.isPrivateKey()) out.push(key)
  }
  return out
}

/** The error for a connection without any credential, for `label` (`user@host`). */
export function noCredentialsError(label: string): AuthenticationError {
  return new AuthenticationError(
    `no SSH credentials for ${label}: give a password, privateKey/privateKeyPath, keyboardInteractive or agent ` +
      '(no usable ~/.ssh/id_* key and no SSH_AUTH_SOCK)',
  )
}

/** One authentication request to make. */
type AuthStep =
  | { readonly method: 'publickey'; readonly key: ParsedKey }
  | { readonly method: 'agent'; readonly agent: string }
  | { readonly method: 'keyboard-interactive' }
  | { readonly method: 'password' }

/**
 * The authentication of one connection: the requests to make, in `ssh`'s order (public keys, agent,
 * keyboard-interactive, password), and what happened to them. {@link handler} is ssh2's
 * `authHandler`.
 */
export class SshAuthentication {
  readonly #options: Readonly<SSHConnectionOptions>
  readonly #username: string
  readonly #steps: AuthStep[]
  readonly #tried: SSHAuthMethod[] = []
  #serverMethods: readonly string[] | undefined
  #lastMethod: SSHAuthMethod | undefined

  private constructor(options: Readonly<SSHConnectionOptions>, username: string, steps: AuthStep[]) {
    this.#options = options
    this.#username = username
    this.#steps = steps
  }

  /**
   * Plans the requests for `username`: reads the key files it needs.
   *
   * @throws {InvalidArgumentError} when a given private key cannot be read or parsed.
   */
  static async plan(
    options: Readonly<SSHConnectionOptions>,
    cfg: ResolvedSshConfig | undefined,
    username: string,
  ): Promise<SshAuthentication> {
    const keys = await collectKeys(options, cfg)
    const agent = agentSocket(options)
    const kbd = options.keyboardInteractive !== undefined && options.keyboardInteractive !== false
    const steps: AuthStep[] = [
      ...keys.map((key): AuthStep => ({ method: 'publickey', key })),
      ...(agent !== undefined ? [{ method: 'agent', agent } as const] : []),
      ...(kbd ? [{ method: 'keyboard-interactive' } as const] : []),
      ...(options.password !== undefined ? [{ method: 'password' } as const] : []),
    ]
    return new SshAuthentication(options, username, steps)
  }

  /** Whether there is nothing to try (no credential given or found); asked before connecting. */
  get empty(): boolean {
    return this.#steps.length === 0 && this.#tried.length === 0
  }

  /** The method of the last request made: the one that succeeded, once the server accepted. */
  get lastMethod(): SSHAuthMethod | undefined {
    return this.#lastMethod
  }

  /** The error for a server that refused every request, naming what was tried and what it allows. */
  refused(label: string): AuthenticationError {
    const tried = this.#tried
    const server = this.#serverMethods
    return new AuthenticationError(
      `SSH authentication of ${label} failed (tried ${tried.length > 0 ? tried.join(', ') : 'nothing the server allows'}` +
        `${server !== undefined ? `; the server allows ${server.join(', ')}` : ''})`,
    )
  }

  /**
   * ssh2's `authHandler`: makes the next planned request the server allows, or gives up. ssh2 passes
   * null (not a list) before the first attempt, and accepts `false` for "give up".
   */
  readonly handler: AuthHandlerMiddleware = (authsLeft, _partial, next) => {
    const methodsLeft = authsLeft as AuthenticationType[] | null
    const giveUp = next as unknown as (stop: false) => void
    if (methodsLeft !== null) this.#serverMethods = methodsLeft
    const username = this.#username
    for (;;) {
      const step = this.#steps.shift()
      if (step === undefined) {
        giveUp(false)
        return
      }
      const serverName = step.method === 'agent' ? 'publickey' : step.method
      if (methodsLeft !== null && !methodsLeft.includes(serverName)) continue
      this.#lastMethod = step.method
      this.#tried.push(step.method)
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
              this.#answerPrompts(name, instructions, prompts).then(finish, () => finish([]))
            },
          })
          return
        case 'password':
          next({ type: 'password', username, password: this.#options.password as string })
          return
      }
    }
  }

  /** Keyboard-interactive answers: the handler's, else the password for every prompt. */
  async #answerPrompts(name: string, instructions: string, prompts: Prompt[]): Promise<string[]> {
    const handler = this.#options.keyboardInteractive
    if (typeof handler === 'function') {
      const answers = await handler({
        name,
        instructions,
        prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
      })
      return [...answers]
    }
    return prompts.map(() => this.#options.password ?? '')
  }
}
