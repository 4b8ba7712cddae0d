/**
 * The local files an SSH connection reads before it connects: `~/.ssh/config` (or the file given as
 * `sshConfig`) with the files its `Include` lines name, applied to the host through the pure parser
 * in `ssh-config.ts` (ssh_config(5)); `~` expansion; the local user name. Nothing is written.
 *
 * @module
 */
import { readFile, readdir } from 'node:fs/promises'
import { homedir, userInfo } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { InvalidArgumentError } from '../errors.ts'
import { parseSshConfig, resolveSshConfig, type ResolvedSshConfig } from './ssh-config.ts'
import { wildcardMatch } from './ssh-host-pattern.ts'
import type { SSHConnectionOptions } from './ssh-options.ts'

/** `~` and `~/…` to the home directory; other paths unchanged. */
export function expandHome(path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  return path
}

/** A text file's contents, or undefined when it cannot be read. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined
  }
}

/** The local user name (`%u`, and the SSH user when none is configured). */
export function defaultUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env['USER'] ?? process.env['USERNAME'] ?? 'root'
  }
}

/**
 * Reads and applies the ssh_config for `o.host`: undefined with `sshConfig: false` or when the
 * default `~/.ssh/config` does not exist.
 *
 * @throws {InvalidArgumentError} when an explicitly given `sshConfig` file cannot be read.
 */
export async function loadSshConfig(o: SSHConnectionOptions): Promise<ResolvedSshConfig | undefined> {
  if (o.sshConfig === false) return undefined
  const home = homedir()
  const path = o.sshConfig === undefined ? join(home, '.ssh', 'config') : expandHome(o.sshConfig)
  const text = await readOptional(path)
  if (text === undefined) {
    if (o.sshConfig !== undefined) throw new InvalidArgumentError(`cannot read ssh config ${path}`)
    return undefined
  }
  // Include: the named files are read up front (plain names, and '*'/'?' in the last path component)
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
      const slash = full.lastIndexOf('/')
      const dir = full.slice(0, slash)
      const namePattern = full.slice(slash + 1)
      const names = await readdir(dir).catch(() => [] as string[])
      for (const n of names.filter((x) => wildcardMatch(namePattern, x, { caseSensitive: true })).sort()) {
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
