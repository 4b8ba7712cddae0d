/**
 * Test helpers for optional peers (pwsh, sshd, KDC, the recorded corpus). A test that needs a peer
 * calls {@link peerSkip}: on a developer machine without the peer the test is skipped with a visible
 * reason; when `PSRP_REQUIRE_PEERS=1` (CI) a missing peer is a failure instead.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { homedir } from 'node:os'
import { listRecordings } from './recordings.ts'

/** True when missing peers must fail the run (CI). */
export const requirePeers = process.env['PSRP_REQUIRE_PEERS'] === '1'

/**
 * Returns `false` when the peer is present. When it is absent, returns a skip reason string (for
 * `test(name, { skip })`), or throws when peers are required.
 */
export function peerSkip(peer: string, present: boolean, hint: string): string | false {
  if (present) return false
  const reason = `${peer} not available: ${hint}`
  if (requirePeers) throw new Error(`PSRP_REQUIRE_PEERS=1 but ${reason}`)
  return reason
}

/** The shared corpus folder (`../shared/corpus` beside the checkout), or undefined. */
export function corpusDir(): string | undefined {
  const dir = process.env['PSRP_CORPUS_DIR'] ?? resolve(import.meta.dirname, '../../../shared/corpus')
  return existsSync(dir) ? dir : undefined
}

/**
 * pypsrp's recordings in the shared corpus (`corpus/pypsrp`): the folder, the skip reason when the
 * corpus is absent (see {@link peerSkip}), and every recording under it.
 */
export function pypsrpRecordings(): { dir: string | undefined; skip: string | false; files: string[] } {
  const corpus = corpusDir()
  const dir = corpus === undefined ? undefined : join(corpus, 'pypsrp')
  const present = dir !== undefined && existsSync(dir)
  const skip = peerSkip(
    'recorded corpus',
    present,
    'put the shared folder beside the checkout (../shared/corpus) or set PSRP_CORPUS_DIR',
  )
  return { dir: present ? dir : undefined, skip, files: present ? listRecordings(dir) : [] }
}

/** Path of a `pwsh` executable on PATH or in ~/.dotnet/tools, or undefined. */
export function findPwsh(): string | undefined {
  const env = process.env['PSRP_PWSH']
  if (env !== undefined && env !== '') return existsSync(env) ? env : undefined
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), join(homedir(), '.dotnet', 'tools')]
  for (const d of dirs) {
    if (d === '') continue
    const p = join(d, 'pwsh')
    if (existsSync(p)) return p
  }
  return undefined
}

/** How to install the pwsh the tests expect. */
export const PWSH_HINT = 'install with dotnet tool install --global PowerShell --version 7.6.9'

/** {@link peerSkip} for a local pwsh 7.6: `pwsh` is what {@link findPwsh} returned. */
export function pwshSkip(pwsh: string | undefined): string | false {
  return peerSkip('pwsh', pwsh !== undefined, PWSH_HINT)
}

/** True when the `openssl` CLI can be run (it makes the test certificates). */
export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0
}

/** {@link peerSkip} for the `openssl` CLI. */
export function opensslSkip(): string | false {
  return peerSkip('openssl', hasOpenssl(), 'apt-get install openssl')
}
