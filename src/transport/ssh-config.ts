/**
 * The cheap part of OpenSSH's client configuration (ssh_config(5)), so `new SSHConnection({ host:
 * 'myalias' })` behaves like `ssh myalias`: `Host` blocks (wildcards, `!` negation, several patterns),
 * `Match all`, `Include` (through a caller-supplied reader), and the keywords `HostName`, `User`,
 * `Port`, `IdentityFile`, `IdentitiesOnly`, `UserKnownHostsFile`, `HostKeyAlias`, `ConnectTimeout`,
 * `ServerAliveInterval`, `ServerAliveCountMax`, `StrictHostKeyChecking`. As in OpenSSH the first value
 * obtained for a keyword wins (`IdentityFile` and `UserKnownHostsFile` accumulate), `Keyword value`
 * and `Keyword=value` both work, and values may be double-quoted. `%h %p %r %u %d %n %%` and a
 * leading `~` are expanded in file names. Other `Match` criteria never match (their blocks are
 * skipped); other keywords are ignored. Pure: reading files is the caller's job.
 *
 * ```ts
 * const cfg = parseSshConfig(readFileSync(`${homedir()}/.ssh/config`, 'utf8'))
 * const r = resolveSshConfig(cfg, 'myalias', { localUser: 'me', home: '/home/me' })
 * // { hostName: '10.0.0.5', user: 'admin', port: 2222, identityFiles: ['/home/me/.ssh/id_work'], … }
 * ```
 *
 * @module
 */
import { matchPatternList } from './ssh-host-pattern.ts'

/** One parsed directive. */
export interface SshConfigDirective {
  /** Lower-cased keyword. */
  readonly keyword: string
  /** Arguments, unquoted. */
  readonly args: readonly string[]
  /** 1-based line. */
  readonly line: number
}

/** A `Host` or `Match` block (the directives before the first one form a block that always applies). */
export interface SshConfigBlock {
  /** `Host` patterns, `['*']` for the leading block, or undefined for a `Match` block. */
  readonly hostPatterns: readonly string[] | undefined
  /** `Match` criteria (lower-cased words), when this is a `Match` block. */
  readonly match: readonly string[] | undefined
  readonly directives: readonly SshConfigDirective[]
}

/** A parsed config file. */
export interface SshConfig {
  readonly blocks: readonly SshConfigBlock[]
}

/** What {@link resolveSshConfig} found for a host. */
export interface ResolvedSshConfig {
  /** The real host to connect to (`HostName`, `%h` expanded), default the given host. */
  readonly hostName: string
  readonly user: string | undefined
  readonly port: number | undefined
  /** `IdentityFile`s, expanded, in order. */
  readonly identityFiles: readonly string[]
  readonly identitiesOnly: boolean | undefined
  /** `UserKnownHostsFile`s, expanded. */
  readonly userKnownHostsFiles: readonly string[]
  readonly hostKeyAlias: string | undefined
  /** Seconds. */
  readonly connectTimeout: number | undefined
  /** Seconds (0 = off). */
  readonly serverAliveInterval: number | undefined
  readonly serverAliveCountMax: number | undefined
  /** `yes`, `no`, `accept-new`, `ask`, `off`. */
  readonly strictHostKeyChecking: string | undefined
}

/** Context for token expansion and `Include`. */
export interface SshConfigContext {
  /** `%u`: the local user name. */
  readonly localUser: string
  /** `%d` and `~`: the local home directory. */
  readonly home: string
  /**
   * Reads the files an `Include` names (relative names are under `~/.ssh`); returns their texts in
   * order. Without it, `Include` is ignored.
   */
  readonly include?: ((pattern: string) => readonly string[]) | undefined
}

/** Splits a config line into words, honouring double quotes. */
function words(text: string): string[] {
  const out: string[] = []
  const re = /"([^"]*)"|(\S+)/g
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[1] ?? (m[2] as string))
  return out
}

/**
 * Parses ssh_config text. Never throws: unreadable lines are skipped.
 *
 * @example
 * ```ts
 * parseSshConfig('Host web\n  HostName 10.0.0.5\n  User admin\n').blocks[1]?.hostPatterns   // ['web']
 * ```
 */
export function parseSshConfig(text: string): SshConfig {
  const blocks: {
    hostPatterns: string[] | undefined
    match: string[] | undefined
    directives: SshConfigDirective[]
  }[] = [{ hostPatterns: ['*'], match: undefined, directives: [] }]
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim()
    if (line === '' || line.startsWith('#')) continue
    const m =
      /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(line) ?? /^([A-Za-z][A-Za-z0-9]*)()$/.exec(line)
    if (m === null) continue
    const keyword = (m[1] as string).toLowerCase()
    // a trailing comment after the value is not valid ssh_config, but be lenient with " #"
    const args = words((m[2] as string).replace(/\s+#.*$/, ''))
    if (keyword === 'host') {
      blocks.push({ hostPatterns: args, match: undefined, directives: [] })
    } else if (keyword === 'match') {
      blocks.push({ hostPatterns: undefined, match: args.map((a) => a.toLowerCase()), directives: [] })
    } else {
      ;(blocks.at(-1) as (typeof blocks)[number]).directives.push({ keyword, args, line: i + 1 })
    }
  }
  return { blocks }
}

/**
 * Whether a `Host` line's patterns select `host`: some pattern matches and no `!`-negated one does
 * (each word is one pattern; see `ssh-host-pattern.ts`).
 */
export function hostPatternsMatch(patterns: readonly string[], host: string): boolean {
  return matchPatternList(patterns, host) === 'match'
}

function expandPath(value: string, tokens: Record<string, string>, home: string): string {
  let v = value.replace(/%(.)/g, (all, t: string) => (t === '%' ? '%' : (tokens[t] ?? all)))
  if (v === '~') v = home
  else if (v.startsWith('~/')) v = home + v.slice(1)
  return v
}

/**
 * Applies a config to `host` (the name the user typed, which `Host` patterns are matched against).
 *
 * @param config the parsed file.
 * @param host the host alias or name.
 * @param context local user, home and `Include` reader.
 * @example
 * ```ts
 * resolveSshConfig(parseSshConfig('Host *.lab\n  User ops\n  Port 2200'), 'a.lab', ctx)   // user 'ops', port 2200
 * ```
 */
export function resolveSshConfig(
  config: SshConfig,
  host: string,
  context: SshConfigContext,
): ResolvedSshConfig {
  const found = new Map<string, string[]>()
  const identityFiles: string[] = []
  const knownHosts: string[] = []
  const seen = new Set<SshConfig>()

  const apply = (cfg: SshConfig, depth: number): void => {
    if (seen.has(cfg) || depth > 16) return
    seen.add(cfg)
    for (const block of cfg.blocks) {
      const selected =
        block.hostPatterns !== undefined
          ? hostPatternsMatch(block.hostPatterns, host)
          : block.match !== undefined && block.match.length === 1 && block.match[0] === 'all'
      if (!selected) continue
      for (const d of block.directives) {
        if (d.keyword === 'include') {
          if (context.include === undefined) continue
          for (const pattern of d.args) {
            for (const text of context.include(pattern)) apply(parseSshConfig(text), depth + 1)
          }
        } else if (d.keyword === 'identityfile') {
          if (d.args[0] !== undefined) identityFiles.push(d.args[0])
        } else if (d.keyword === 'userknownhostsfile') {
          if (knownHosts.length === 0 && !found.has('userknownhostsfile')) {
            found.set('userknownhostsfile', [...d.args])
            knownHosts.push(...d.args)
          }
        } else if (!found.has(d.keyword) && d.args.length > 0) {
          found.set(d.keyword, [...d.args])
        }
      }
    }
  }
  apply(config, 0)

  const first = (k: string): string | undefined => found.get(k)?.[0]
  const num = (k: string): number | undefined => {
    const v = first(k)
    if (v === undefined || !/^\d+$/.test(v)) return undefined
    return Number(v)
  }
  const hostName = (first('hostname') ?? host).replace(/%h/g, host).replace(/%%/g, '%')
  const user = first('user')
  const port = num('port')
  const tokens: Record<string, string> = {
    h: hostName,
    n: host,
    p: String(port ?? 22),
    r: user ?? context.localUser,
    u: context.localUser,
    d: context.home,
  }
  const yesNo = (k: string): boolean | undefined => {
    const v = first(k)?.toLowerCase()
    return v === 'yes' ? true : v === 'no' ? false : undefined
  }
  return {
    hostName,
    user,
    port,
    identityFiles: identityFiles
      .filter((f) => f.toLowerCase() !== 'none')
      .map((f) => expandPath(f, tokens, context.home)),
    identitiesOnly: yesNo('identitiesonly'),
    userKnownHostsFiles: knownHosts
      .filter((f) => f.toLowerCase() !== 'none')
      .map((f) => expandPath(f, tokens, context.home)),
    hostKeyAlias: first('hostkeyalias'),
    connectTimeout: num('connecttimeout'),
    serverAliveInterval: num('serveraliveinterval'),
    serverAliveCountMax: num('serveralivecountmax'),
    strictHostKeyChecking: first('stricthostkeychecking')?.toLowerCase(),
  }
}
