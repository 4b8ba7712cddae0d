/**
 * The local side of `expandVariables` in file transfers: `~` and `$VAR`/`${VAR}` in a local path, as a
 * POSIX shell (and pypsrp's `os.path.expanduser(os.path.expandvars(…))`) expand them, so that scripts
 * ported from pypsrp name the same files. The remote side is expanded by PowerShell on the server.
 *
 * @module
 */
import { homedir } from 'node:os'

/**
 * Expands a leading `~` (alone or before `/` or `\`) to the home directory and every `$NAME` or
 * `${NAME}` whose variable is set in `env`; unset variables stay as written (as Python's `expandvars`
 * leaves them). Linear in the path.
 *
 * ```ts
 * expandLocalPath('~/builds/$BUILD_ID.zip', { BUILD_ID: '42' }) // '/home/me/builds/42.zip'
 * ```
 */
export function expandLocalPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const expanded = path.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced, bare) => {
      const value = env[(braced ?? bare) as string]
      return value === undefined ? whole : value
    },
  )
  if (expanded === '~' || /^~[/\\]/.test(expanded)) return homedir() + expanded.slice(1)
  return expanded
}
