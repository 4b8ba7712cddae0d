/**
 * A throwaway MIT Kerberos realm for tests (Debian krb5-kdc, krb5-admin-server, krb5-user): a KDC
 * database in a temp dir, principals, keytabs, and `krb5kdc -n` on 127.0.0.1 (TCP + UDP) on a free
 * port. Only `KRB5_CONFIG`/`KRB5_KDC_PROFILE` of the child processes point at it; /etc is never
 * touched. Based on shared/auth-lab/lab_up.sh.
 *
 * ```ts
 * const kdc = await startKdc()
 * // kdc.realm, kdc.kdcAddress ('127.0.0.1:NNNNN'), kdc.krb5ConfPath, kdc.serviceKeytab …
 * kdc.kinit('/tmp/x/alice.ccache')
 * await kdc.close()
 * ```
 *
 * Principals: `alice` (password, pre-authentication required; also in `userKeytab`), `bob`
 * (aes256-cts-hmac-sha384-192 only, pre-authentication required), `dave` (no pre-authentication),
 * `HTTP/localhost` and `host/localhost` (random keys, in `serviceKeytab`). Every user's password is
 * {@link KdcPeer.password}.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { createSocket } from 'node:dgram'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../helpers/net.ts'

/** Binaries the peer needs. */
export const KDC_BINARIES = [
  '/usr/sbin/krb5kdc',
  '/usr/sbin/kdb5_util',
  '/usr/sbin/kadmin.local',
  '/usr/bin/kinit',
  '/usr/bin/ktutil',
]

/** True when the Debian MIT Kerberos packages are installed. */
export function kdcAvailable(): boolean {
  return KDC_BINARIES.every((b) => existsSync(b))
}

/** Options of {@link startKdc}. */
export interface KdcOptions {
  /** Realm name (default `PSRP.TEST`). */
  readonly realm?: string
  /** Password of every user principal (default `Passw0rd!`). */
  readonly password?: string
}

/** A running test KDC. */
export interface KdcPeer {
  readonly realm: string
  /** `127.0.0.1:port`. */
  readonly kdcAddress: string
  readonly port: number
  /** The temp dir holding everything. */
  readonly dir: string
  /** krb5.conf (realm, kdc, domain_realm localhost, udp_preference_limit 0). */
  readonly krb5ConfPath: string
  /** Keytab of HTTP/localhost and host/localhost (every enctype). */
  readonly serviceKeytab: string
  /** Keytab of alice (same keys as her password). */
  readonly userKeytab: string
  /** The users' password. */
  readonly password: string
  /** Environment for MIT tools and python3-gssapi (KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5_KTNAME). */
  readonly env: NodeJS.ProcessEnv
  /** Runs `kinit` for `principal` (default alice) into `ccachePath`; `forwardable` adds `-f`. */
  kinit(
    ccachePath: string,
    options?: { principal?: string; forwardable?: boolean; ccacheType?: number },
  ): void
  /** Runs `kadmin.local -q <query>` and returns its stdout. */
  kadmin(query: string): string
  /** Stops the KDC and removes the temp dir. */
  close(): Promise<void>
}

const ENCTYPES =
  'aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal'

/** A port free on 127.0.0.1 for TCP and for UDP (the KDC listens on both). */
async function freeTcpUdpPort(): Promise<number> {
  for (;;) {
    const port = await freePort()
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4')
      u.once('error', () => {
        u.close()
        resolve(false)
      })
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)))
    })
    if (udpFree) return port
  }
}

function tcpUp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL')
})

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): string {
  const r = spawnSync(cmd, args, { env, input, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/** Creates the realm and starts its KDC (retries on a port race). */
export async function startKdc(options: KdcOptions = {}): Promise<KdcPeer> {
  const realm = options.realm ?? 'PSRP.TEST'
  const password = options.password ?? 'Passw0rd!'
  const dir = mkdtempSync(join(tmpdir(), 'psrp-kdc-'))
  mkdirSync(join(dir, 'db'))
  const krb5ConfPath = join(dir, 'krb5.conf')
  const kdcConf = join(dir, 'kdc.conf')
  const serviceKeytab = join(dir, 'http.keytab')
  const userKeytab = join(dir, 'alice.keytab')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KRB5_CONFIG: krb5ConfPath,
    KRB5_KDC_PROFILE: kdcConf,
    KRB5_KTNAME: `FILE:${serviceKeytab}`,
    KRB5_TRACE: undefined,
  }
  const writeConf = (port: number): void => {
    writeFileSync(
      krb5ConfPath,
      `[libdefaults]
    default_realm = ${realm}
    dns_lookup_realm = false
    dns_lookup_kdc = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 0
    forwardable = true
[realms]
    ${realm} = {
        kdc = 127.0.0.1:${port}
    }
[domain_realm]
    localhost = ${realm}
`,
    )
    writeFileSync(
      kdcConf,
      `[kdcdefaults]
    kdc_listen = 127.0.0.1:${port}
    kdc_tcp_listen = 127.0.0.1:${port}
[realms]
    ${realm} = {
        database_name = ${dir}/db/principal
        key_stash_file = ${dir}/db/stash
        acl_file = ${dir}/kadm5.acl
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = ${ENCTYPES}
        max_renewable_life = 7d
    }
[logging]
    kdc = FILE:${dir}/kdc.log
`,
    )
  }
  writeFileSync(join(dir, 'kadm5.acl'), `*/admin@${realm} *\n`)
  writeConf(1)
  const kadmin = (q: string): string => run('/usr/sbin/kadmin.local', ['-q', q], env)
  run('/usr/sbin/kdb5_util', ['create', '-s', '-r', realm, '-P', 'masterpw-psrp'], env)
  kadmin(`addprinc +requires_preauth -pw ${password} alice@${realm}`)
  kadmin(`addprinc +requires_preauth -e aes256-cts-hmac-sha384-192:normal -pw ${password} bob@${realm}`)
  kadmin(`addprinc -pw ${password} dave@${realm}`)
  kadmin(`addprinc -randkey HTTP/localhost@${realm}`)
  kadmin(`addprinc -randkey host/localhost@${realm}`)
  kadmin(`ktadd -k ${serviceKeytab} HTTP/localhost@${realm} host/localhost@${realm}`)
  kadmin(`ktadd -norandkey -k ${userKeytab} alice@${realm}`)

  let child: ChildProcess | undefined
  let port = 0
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = await freeTcpUdpPort()
    writeConf(port)
    const c = spawn('/usr/sbin/krb5kdc', ['-n'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let exited = false
    c.once('exit', () => (exited = true))
    live.add(c)
    for (let i = 0; i < 100 && !exited; i++) {
      if (await tcpUp(port)) {
        child = c
        break
      }
      await new Promise((r) => setTimeout(r, 30))
    }
    if (child === undefined) {
      live.delete(c)
      c.kill('SIGKILL')
    }
  }
  if (child === undefined) {
    const log = existsSync(join(dir, 'kdc.log')) ? readFileSync(join(dir, 'kdc.log'), 'utf8') : ''
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`krb5kdc did not start: ${log}`)
  }
  const kdcChild = child
  return {
    realm,
    kdcAddress: `127.0.0.1:${port}`,
    port,
    dir,
    krb5ConfPath,
    serviceKeytab,
    userKeytab,
    password,
    env,
    kadmin,
    kinit(ccachePath, o = {}) {
      const principal = o.principal ?? `alice@${realm}`
      const e: NodeJS.ProcessEnv = { ...env, KRB5CCNAME: `FILE:${ccachePath}` }
      if (o.ccacheType !== undefined) {
        const conf = join(dir, `krb5-cc${o.ccacheType}.conf`)
        writeFileSync(
          conf,
          readFileSync(krb5ConfPath, 'utf8').replace(
            '[libdefaults]',
            `[libdefaults]\n    ccache_type = ${o.ccacheType}`,
          ),
        )
        e['KRB5_CONFIG'] = conf
      }
      run('/usr/bin/kinit', [...(o.forwardable === true ? ['-f'] : []), principal], e, `${password}\n`)
    },
    async close() {
      live.delete(kdcChild)
      if (kdcChild.exitCode === null) {
        const gone = new Promise((r) => kdcChild.once('exit', r))
        kdcChild.kill('SIGTERM')
        await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))])
        if (kdcChild.exitCode === null) kdcChild.kill('SIGKILL')
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
