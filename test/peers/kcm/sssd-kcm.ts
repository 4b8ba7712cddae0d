/**
 * A real KCM daemon for tests: Debian's sssd-kcm (`/usr/libexec/sssd/sssd_kcm`, the Fedora/RHEL
 * default credential cache). When a daemon already answers on the default socket
 * (`/var/run/.heim_org.h5l.kcm-socket`, e.g. systemd's sssd-kcm.socket) it is used as is; otherwise
 * `sssd_kcm` is started in the foreground as the current user (it needs no sssd.conf: without one it
 * listens on the default socket) and stopped by {@link KcmPeer.close}.
 *
 * ```ts
 * const kcm = await startSssdKcm()
 * // KRB5CCNAME=KCM:… with kcm_socket = kcm.socketPath in krb5.conf
 * await kcm.close()
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect } from 'node:net'

/** The daemon binary of Debian's sssd-kcm package. */
export const SSSD_KCM = '/usr/libexec/sssd/sssd_kcm'
/** MIT's and sssd's default socket. */
export const KCM_SOCKET = '/var/run/.heim_org.h5l.kcm-socket'

/** True when sssd-kcm is installed and can be started here (it runs as the current uid). */
export function sssdKcmAvailable(): boolean {
  return existsSync(SSSD_KCM) && typeof process.getuid === 'function' && process.getuid() === 0
}

/** A KCM daemon the tests may use. */
export interface KcmPeer {
  readonly socketPath: string
  /** True when this helper started the daemon (its default cache is then the tests' to change). */
  readonly started: boolean
  close(): Promise<void>
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** Uses a running daemon, or starts `sssd_kcm` and waits (up to 10 s) for its socket. */
export async function startSssdKcm(): Promise<KcmPeer> {
  if (await answers(KCM_SOCKET)) return { socketPath: KCM_SOCKET, started: false, close: async () => {} }
  const uid = String(process.getuid?.() ?? 0)
  const gid = String(process.getgid?.() ?? 0)
  const child: ChildProcess = spawn(SSSD_KCM, ['--uid', uid, '--gid', gid, '--logger=stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  child.stderr?.on('data', (c: Buffer) => (log = (log + c.toString('utf8')).slice(-4000)))
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break
    if (await answers(KCM_SOCKET)) {
      return {
        socketPath: KCM_SOCKET,
        started: true,
        close: async () => {
          process.off('exit', killOnExit)
          if (child.exitCode !== null) return
          const gone = new Promise((r) => child.once('exit', r))
          child.kill('SIGTERM')
          await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))])
          if (child.exitCode === null) child.kill('SIGKILL')
        },
      }
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  process.off('exit', killOnExit)
  throw new Error(`sssd_kcm did not start: ${log}`)
}
