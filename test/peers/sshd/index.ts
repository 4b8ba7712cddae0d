/**
 * A private OpenSSH server for the SSH transport tests and the bench: Debian's `openssh-server` run as
 * root on 127.0.0.1 with its own config, host key, port and authorized keys in a temp dir, and the
 * `powershell` subsystem pointing at pwsh (`notes/transports.md` §3.3).
 *
 * ```ts
 * const peer = await startSshd({ pwsh: '/root/.dotnet/tools/pwsh' })
 * // new SSHConnection({ host: peer.host, port: peer.port, username: peer.username,
 * //   password: peer.password, hostKey: { knownHosts: peer.knownHostsPath } })
 * await peer.close()
 * ```
 *
 * What it does, all from here (nothing needs a separate root script):
 * - creates (once) the test user `psrptest` with `useradd -m -s /bin/sh` and sets its fixed password
 *   with `chpasswd` (every start sets the same password, so concurrent peers agree);
 * - makes `/run/sshd` (the privilege-separation directory sshd insists on);
 * - pwsh runs as the test user, so it must be reachable by that user: the .NET global tool lives under
 *   `/root` (mode 0700), so when the user cannot traverse to it, the folder holding the pwsh
 *   executable (for the global tool: `~/.dotnet/tools` with its `.store`) is hard-linked (`cp -al`,
 *   falling back to a copy) into the peer's temp dir, which is world-readable; the Subsystem line
 *   points at that copy. `dotnet` itself (`/usr/share/dotnet`) is world-readable; sshd's `SetEnv` sets
 *   `DOTNET_ROOT` to where it is and opts out of telemetry;
 * - `UsePAM yes` (keyboard-interactive needs PAM on Linux), `StrictModes no` (keys live under /tmp).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { createHash } from 'node:crypto'
import { freePort } from '../../helpers/net.ts'

/** The test account sshd authenticates. */
export const SSHD_TEST_USER = 'psrptest'
/** Its password (fixed, so that peers started concurrently agree). */
export const SSHD_TEST_PASSWORD = 'Psrp-Ssh-Test-1'
const SSHD = '/usr/sbin/sshd'

/** Options of {@link startSshd}. */
export interface SshdOptions {
  /** The pwsh to serve as the `powershell` subsystem (required). */
  readonly pwsh: string
  /** Milliseconds to wait for sshd to listen (default 15 000). */
  readonly startTimeout?: number | undefined
  /** Extra sshd_config lines. */
  readonly extraConfig?: readonly string[] | undefined
}

/** A running private sshd. */
export interface SshdPeer {
  readonly host: string
  readonly port: number
  readonly username: string
  readonly password: string
  /** The client's ed25519 private key (unencrypted), authorized for {@link username}. */
  readonly privateKeyPath: string
  /** The same key encrypted with {@link keyPassphrase}, also authorized. */
  readonly encryptedKeyPath: string
  readonly keyPassphrase: string
  /** A known_hosts file with the host key under `[127.0.0.1]:<port>`. */
  readonly knownHostsPath: string
  /** `SHA256:…` of the host key, as `ssh-keygen -l` prints it. */
  readonly hostKeyFingerprint: string
  /** The host key as a known_hosts key field: `ssh-ed25519 AAAA…`. */
  readonly hostPublicKey: string
  /** The pwsh executable the subsystem runs. */
  readonly subsystemPwsh: string
  /** Pid of the listening sshd. */
  readonly pid: number
  /** Temp dir with the config, keys and logs. */
  readonly dir: string
  /** What sshd logged so far (stderr, `-e`). */
  log(): string
  /** Pids of the per-connection sshd processes (children of the listener). */
  sessionPids(): number[]
  /** Stops sshd (and with it every session) and removes the temp dir. */
  close(): Promise<void>
}

/** Why the peer cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the sshd peer runs on Linux only'
  if (process.getuid?.() !== 0) return 'the sshd peer needs root (it runs sshd and creates a test user)'
  for (const tool of [SSHD, '/usr/bin/ssh-keygen', '/usr/sbin/useradd', '/usr/sbin/chpasswd']) {
    if (!existsSync(tool))
      return `${tool} missing: apt-get install -y --no-install-recommends openssh-server openssh-client`
  }
  return undefined
}

/** Path of the OpenSSH client (`ssh`), which PowerShell's own SSH remoting needs, or undefined. */
export function findSshClient(): string | undefined {
  for (const d of (process.env['PATH'] ?? '/usr/bin').split(delimiter)) {
    const p = join(d, 'ssh')
    if (d !== '' && existsSync(p)) return p
  }
  return existsSync('/usr/bin/ssh') ? '/usr/bin/ssh' : undefined
}

function run(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 30_000 })
  if (r.error !== undefined) throw r.error
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

function ensureUser(): void {
  const exists = (): boolean => spawnSync('id', ['-u', SSHD_TEST_USER]).status === 0
  if (!exists()) {
    const r = spawnSync('/usr/sbin/useradd', ['-m', '-s', '/bin/sh', SSHD_TEST_USER], { encoding: 'utf8' })
    // a concurrent start may have created it first
    if (r.status !== 0 && !exists()) throw new Error(`useradd ${SSHD_TEST_USER} failed: ${r.stderr}`)
  }
  run('/usr/sbin/chpasswd', [], `${SSHD_TEST_USER}:${SSHD_TEST_PASSWORD}\n`)
}

/** True when `user` can execute `path` (checked by running `test -x` as that user). */
function userCanExecute(user: string, path: string): boolean {
  return spawnSync('/usr/sbin/runuser', ['-u', user, '--', 'test', '-x', path]).status === 0
}

/** The pwsh path the test user can run: `pwsh` itself, or a hard-linked copy of its folder in `dir`. */
function reachablePwsh(pwsh: string, dir: string): string {
  if (userCanExecute(SSHD_TEST_USER, pwsh)) {
    // the global tool's shim also needs its .store; a readable shim implies a readable tree
    return pwsh
  }
  const real = realpathSync(pwsh)
  const from = dirname(real)
  const to = join(dir, 'pwsh')
  if (spawnSync('cp', ['-al', from, to]).status !== 0) {
    rmSync(to, { recursive: true, force: true })
    run('cp', ['-a', from, to])
  }
  const copy = join(to, real.slice(from.length + 1))
  if (!userCanExecute(SSHD_TEST_USER, copy)) throw new Error(`${SSHD_TEST_USER} cannot run ${copy}`)
  return copy
}

function dotnetRoot(): string | undefined {
  for (const d of (process.env['PATH'] ?? '').split(delimiter)) {
    const p = join(d, 'dotnet')
    if (d !== '' && existsSync(p)) return dirname(realpathSync(p))
  }
  return existsSync('/usr/share/dotnet/dotnet') ? '/usr/share/dotnet' : undefined
}

function fingerprintOf(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64')
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      // pid (comm) state ppid …; comm may contain spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(name))
    } catch {
      // the process ended while we looked
    }
  }
  return out
}

/** Starts a private sshd; see the module description. */
export async function startSshd(options: SshdOptions): Promise<SshdPeer> {
  const missing = sshdUnavailable()
  if (missing !== undefined) throw new Error(missing)
  accessSync(options.pwsh, constants.X_OK)
  ensureUser()
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })

  const dir = mkdtempSync(join(tmpdir(), 'psrp-sshd-'))
  chmodSync(dir, 0o755)
  let child: ChildProcess | undefined
  try {
    const hostKey = join(dir, 'ssh_host_ed25519_key')
    run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'psrp-test-host', '-f', hostKey])
    const clientKey = join(dir, 'client_key')
    run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'psrp-test-client', '-f', clientKey])
    const keyPassphrase = 'key pässphrase'
    const encryptedKey = join(dir, 'client_key_encrypted')
    run('/usr/bin/ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      keyPassphrase,
      '-C',
      'psrp-enc',
      '-f',
      encryptedKey,
    ])
    const authorized = join(dir, 'authorized_keys')
    writeFileSync(
      authorized,
      readFileSync(`${clientKey}.pub`, 'utf8') + readFileSync(`${encryptedKey}.pub`, 'utf8'),
    )
    chmodSync(authorized, 0o644)

    const pwsh = reachablePwsh(options.pwsh, dir)
    const root = dotnetRoot()
    const env = ['POWERSHELL_TELEMETRY_OPTOUT=1', 'DOTNET_CLI_TELEMETRY_OPTOUT=1', 'DOTNET_NOLOGO=1']
    if (root !== undefined) env.push(`DOTNET_ROOT=${root}`, `PATH=${root}:/usr/local/bin:/usr/bin:/bin`)

    const config = join(dir, 'sshd_config')
    const startTimeout = options.startTimeout ?? 15_000
    for (let attempt = 0; ; attempt++) {
      const port = await freePort()
      writeFileSync(
        config,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKey}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${authorized}`,
          'PubkeyAuthentication yes',
          'PasswordAuthentication yes',
          'KbdInteractiveAuthentication yes',
          'UsePAM yes',
          'PermitRootLogin no',
          `AllowUsers ${SSHD_TEST_USER}`,
          'StrictModes no',
          'PrintMotd no',
          'PrintLastLog no',
          'LogLevel VERBOSE',
          'MaxStartups 100',
          'MaxSessions 50',
          `SetEnv ${env.join(' ')}`,
          `Subsystem powershell ${pwsh} -sshs -NoLogo -NoProfile`,
          ...(options.extraConfig ?? []),
          '',
        ].join('\n'),
      )
      run(SSHD, ['-t', '-f', config])
      child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] })
      let log = ''
      const started = await new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`sshd did not listen within ${startTimeout} ms: ${log}`))
        }, startTimeout)
        child!.stderr!.setEncoding('utf8')
        child!.stderr!.on('data', (t: string) => {
          log += t
          if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
            clearTimeout(timer)
            resolve(true)
          }
        })
        child!.once('exit', () => {
          clearTimeout(timer)
          if (/Address already in use/.test(log) && attempt < 3) resolve(false)
          else reject(new Error(`sshd exited: ${log}`))
        })
      })
      if (!started) continue
      const proc = child
      let logText = log
      proc.stderr!.removeAllListeners('data')
      proc.stderr!.on('data', (t: string) => {
        if (logText.length < 1_000_000) logText += t
      })
      const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
      const knownHostsPath = join(dir, 'known_hosts')
      writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostPublicKey}\n`)
      const exited = new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) resolve()
        else proc.once('exit', () => resolve())
      })
      let closed: Promise<void> | undefined
      return {
        host: '127.0.0.1',
        port,
        username: SSHD_TEST_USER,
        password: SSHD_TEST_PASSWORD,
        privateKeyPath: clientKey,
        encryptedKeyPath: encryptedKey,
        keyPassphrase,
        knownHostsPath,
        hostKeyFingerprint: fingerprintOf(hostPublicKey),
        hostPublicKey,
        subsystemPwsh: pwsh,
        pid: proc.pid as number,
        dir,
        log: () => logText,
        sessionPids: () => childrenOf(proc.pid as number),
        close: () =>
          (closed ??= (async () => {
            const sessions = childrenOf(proc.pid as number)
            proc.kill('SIGTERM')
            for (const pid of sessions) {
              try {
                process.kill(pid, 'SIGTERM')
              } catch {
                // already gone
              }
            }
            const t = setTimeout(() => proc.kill('SIGKILL'), 3_000)
            await exited
            clearTimeout(t)
            rmSync(dir, { recursive: true, force: true })
          })()),
      }
    }
  } catch (e) {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
}
