/**
 * File-transfer part of `npm run bench`: copy and fetch throughput of {@link Client.copy} /
 * {@link Client.fetch} for one file, next to PowerShell's own `Copy-Item -ToSession` /
 * `-FromSession` measured in the same run over the same transport: a local `pwsh -s`. PowerShell's
 * session is built the way its `Start-Job` builds one (`[runspacefactory]::CreateOutOfProcessRunspace`,
 * which spawns `pwsh -s` exactly as {@link ProcessConnection} does) and wrapped with
 * `[PSSession]::Create`, because pwsh on Linux has no WinRM client; our WS-Man figures (through the
 * WinRM test bridge, which hosts the shell in `pwsh -s`) are printed without a PowerShell counterpart.
 * Prints; never fails on numbers.
 *
 * Over SSH (a private sshd, test/peers/sshd, `powershell` subsystem; needs root and openssh): psrp's
 * {@link SSHConnection} next to `Copy-Item -ToSession`/`-FromSession` through
 * `New-PSSession -HostName … -KeyFilePath …` (PowerShell's SSH remoting, which runs the `ssh` binary),
 * as the SSH section of the bench does.
 *
 * Size (full / `--quick`): `PSRP_BENCH_FILE_MIB` (200 / 50). `PSRP_BENCH_TRANSFER_CONCURRENCY` sets
 * the pipelines per file (default: the client's pool, 4 runspaces; 1 is the one-pipeline path). Row tags: `transfer`, `copy` or
 * `fetch`, and `pwsh`, `wsman` or `ssh`.
 *
 * A tree of small files (`PSRP_BENCH_TREE_FILES`, 1,000 / 200, of 0 to 3,000 bytes in 20 directories),
 * copied and fetched back by `Client.copy`/`Client.fetch` next to `Copy-Item -Recurse -ToSession` /
 * `-FromSession` over a local `pwsh -s`; both results are compared with the source. Row tags:
 * `transfer`, `tree`, `copy` or `fetch`, `pwsh`.
 */
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, ProcessConnection, SSHConnection, WSManConnection } from '../src/index.ts'
import { startWinRMBridge } from '../test/helpers/winrm-bridge/index.ts'
import { findSshClient, sshdUnavailable, startSshd, type SshdPeer } from '../test/peers/sshd/index.ts'
import { report, say, size, wants } from './report.ts'

const MiB = 1024 * 1024

/** Seconds taken by copy and fetch of one file. */
interface Seconds {
  copy: number
  fetch: number
}

async function writeRandom(path: string, size: number): Promise<void> {
  const f = await open(path, 'w')
  try {
    for (let left = size; left > 0; left -= MiB) await f.write(randomBytes(Math.min(MiB, left)))
  } finally {
    await f.close()
  }
}

/** `PSRP_BENCH_TRANSFER_CONCURRENCY`, when set: pipelines per file. */
function concurrency(): { concurrency?: number } {
  const value = process.env['PSRP_BENCH_TRANSFER_CONCURRENCY']
  return value === undefined || value === '' ? {} : { concurrency: Number(value) }
}

async function measureOurs(client: Client, src: string, dir: string): Promise<Seconds> {
  await client.runPs('$null') // opens the pool outside the timing
  const remote = join(dir, 'ours-remote.bin')
  const back = join(dir, 'ours-back.bin')
  let t0 = process.hrtime.bigint()
  await client.copy(src, remote, { overwrite: true, ...concurrency() })
  const copy = Number(process.hrtime.bigint() - t0) / 1e9
  t0 = process.hrtime.bigint()
  await client.fetch(remote, back, { overwrite: true, ...concurrency() })
  const fetch = Number(process.hrtime.bigint() - t0) / 1e9
  await rm(remote, { force: true })
  await rm(back, { force: true })
  return { copy, fetch }
}

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`

/** PowerShell's session over a local `pwsh -s` (what `Start-Job` builds). */
const LOCAL_SESSION = `
$rs = [runspacefactory]::CreateOutOfProcessRunspace($null)
$rs.Open()
$s = [System.Management.Automation.Runspaces.PSSession]::Create($rs, 'OutOfProc', $null)`

/** PowerShell's SSH remoting session to the private sshd (the `ssh` binary, key, strict host key). */
function sshSession(peer: SshdPeer): string {
  return `
$s = New-PSSession -HostName ${q(peer.host)} -Port ${peer.port} -UserName ${q(peer.username)} -KeyFilePath ${q(peer.privateKeyPath)} -Options @{ BatchMode = 'yes'; StrictHostKeyChecking = 'yes'; UserKnownHostsFile = ${q(peer.knownHostsPath)} }
$null = Invoke-Command -Session $s -ScriptBlock { 1 }`
}

/**
 * Times two `Copy-Item` commands, a copy then a fetch, in one pwsh over the PowerShell session
 * `session` builds (as `$s`), then runs `after`; their seconds, or what went wrong.
 */
function timeCopyItem(
  pwsh: string,
  session: string,
  copy: string,
  fetch: string,
  after: string,
): Seconds | string {
  const script = `
$ErrorActionPreference = 'Stop'
${session}
$sw = [Diagnostics.Stopwatch]::StartNew()
${copy}
"COPY|$($sw.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture))"
$sw.Restart()
${fetch}
"FETCH|$($sw.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture))"
${after}
Remove-PSSession $s
`
  const r = spawnSync(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script], {
    encoding: 'utf8',
    timeout: 3_600_000,
    env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
  })
  const copied = /^COPY\|([\d.]+)/m.exec(r.stdout)
  const fetched = /^FETCH\|([\d.]+)/m.exec(r.stdout)
  if (r.status !== 0 || copied === null || fetched === null) return r.stderr || r.stdout || `exit ${r.status}`
  return { copy: Number(copied[1]), fetch: Number(fetched[1]) }
}

function measurePowerShell(
  pwsh: string,
  src: string,
  dir: string,
  session: string = LOCAL_SESSION,
): Seconds | string {
  const remote = q(join(dir, 'ps-remote.bin'))
  const back = q(join(dir, 'ps-back.bin'))
  return timeCopyItem(
    pwsh,
    session,
    `Copy-Item -LiteralPath ${q(src)} -Destination ${remote} -ToSession $s -Force`,
    `Copy-Item -LiteralPath ${remote} -Destination ${back} -FromSession $s -Force`,
    `Remove-Item -LiteralPath ${remote}, ${back} -Force`,
  )
}

const KINDS = ['copy', 'fetch'] as const

/** Prints the copy and fetch rows of one transport. */
function rows(
  transport: string,
  mib: number,
  ours: Seconds,
  theirs: Seconds | undefined,
  peerName: string,
  kinds: readonly ('copy' | 'fetch')[],
): void {
  for (const kind of kinds)
    report({
      name: `${kind} one file, ${transport}`,
      unit: 'MiB/s',
      psrp: mib / ours[kind],
      peer: theirs === undefined ? null : mib / theirs[kind],
      peerName,
      better: 'higher',
      params: { mib, ...concurrency() },
    })
}

/** Writes the bench's tree of `count` small files (0 to 3,000 bytes, 20 directories) under `root`. */
async function writeTree(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const sub = join(root, `d${i % 20}`)
    if (i < 20) await mkdir(sub, { recursive: true })
    await writeFile(join(sub, `f${i}.bin`), randomBytes(i % 10 === 0 ? 0 : 1 + ((i * 37) % 3000)))
  }
}

/** Relative path → SHA-256 of every file under `root`. */
async function treeHashes(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const full = join(e.parentPath, e.name)
    out.set(
      full.slice(root.length + 1),
      createHash('sha256')
        .update(await readFile(full))
        .digest('hex'),
    )
  }
  return out
}

/** Whether two trees hold the same files with the same bytes. */
function sameTree(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([rel, hash]) => b.get(rel) === hash)
}

/**
 * The tree rows: `Client.copy`/`fetch` of a directory of small files next to `Copy-Item -Recurse`
 * over a local `pwsh -s`, in files per second; a transfer whose result differs from the source is
 * reported instead of timed.
 */
async function benchTree(pwsh: string, kinds: readonly ('copy' | 'fetch')[]): Promise<void> {
  const count = size('PSRP_BENCH_TREE_FILES', 1000, 200)
  const dir = await mkdtemp(join(tmpdir(), 'psrp-bench-tree-'))
  try {
    const src = join(dir, 'tree')
    await writeTree(src, count)
    const want = await treeHashes(src)
    say(`file transfer of a tree of ${count} small files (0 to 3,000 bytes)`)
    const client = new Client(new ProcessConnection({ executable: pwsh }))
    const ours: Seconds = { copy: 0, fetch: 0 }
    try {
      await client.runPs('$null') // opens the pool outside the timing
      let t0 = process.hrtime.bigint()
      await client.copy(src, join(dir, 'ours-remote'))
      ours.copy = Number(process.hrtime.bigint() - t0) / 1e9
      t0 = process.hrtime.bigint()
      await client.fetch(join(dir, 'ours-remote'), join(dir, 'ours-back'))
      ours.fetch = Number(process.hrtime.bigint() - t0) / 1e9
    } finally {
      await client.close()
    }
    if (!sameTree(want, await treeHashes(join(dir, 'ours-back')))) {
      say('psrp tree transfer: the fetched tree differs from the source; rows skipped')
      return
    }
    const measured = timeCopyItem(
      pwsh,
      LOCAL_SESSION,
      `Copy-Item -LiteralPath ${q(src)} -Destination ${q(join(dir, 'ps-remote'))} -ToSession $s -Recurse`,
      `Copy-Item -LiteralPath ${q(join(dir, 'ps-remote'))} -Destination ${q(join(dir, 'ps-back'))} -FromSession $s -Recurse`,
      '',
    )
    let theirs: Seconds | undefined
    if (typeof measured === 'string') say(`Copy-Item -Recurse comparison failed: ${measured}`)
    else if (!sameTree(want, await treeHashes(join(dir, 'ps-back'))))
      say('Copy-Item -Recurse: the fetched tree differs from the source; peer figures left out')
    else theirs = measured
    for (const kind of kinds)
      report({
        name: `${kind} a tree of small files, pwsh -s`,
        unit: 'files/s',
        psrp: count / ours[kind],
        peer: theirs === undefined ? null : count / theirs[kind],
        peerName: 'Copy-Item -Recurse -ToSession/-FromSession (pwsh -s session)',
        better: 'higher',
        params: { files: count },
      })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Runs the file-transfer benchmarks and prints their rows. */
export async function benchFileTransfer(pwsh: string | undefined): Promise<void> {
  const want = (transport: string): ('copy' | 'fetch')[] =>
    KINDS.filter((k) => wants('transfer', k, transport))
  const local = want('pwsh')
  const overWsman = want('wsman')
  const overSsh = want('ssh')
  const tree = KINDS.filter((k) => wants('transfer', 'tree', k, 'pwsh'))
  if (local.length + overWsman.length + overSsh.length + tree.length === 0) return
  if (pwsh === undefined) {
    say('pwsh not found: file-transfer benchmarks skipped')
    return
  }
  if (tree.length > 0) await benchTree(pwsh, tree)
  if (local.length + overWsman.length + overSsh.length === 0) return
  const mib = size('PSRP_BENCH_FILE_MIB', 200, 50)
  const dir = await mkdtemp(join(tmpdir(), 'psrp-bench-ft-'))
  try {
    const src = join(dir, 'source.bin')
    await writeRandom(src, mib * MiB)
    say(`file transfer of one ${mib} MiB file (SHA-256 verified by psrp; Copy-Item does not hash)`)
    if (local.length > 0) {
      const client = new Client(new ProcessConnection({ executable: pwsh }))
      let ours: Seconds
      try {
        ours = await measureOurs(client, src, dir)
      } finally {
        await client.close()
      }
      const theirs = measurePowerShell(pwsh, src, dir)
      if (typeof theirs === 'string') say(`Copy-Item comparison failed: ${theirs}`)
      rows(
        'pwsh -s',
        mib,
        ours,
        typeof theirs === 'string' ? undefined : theirs,
        'Copy-Item -ToSession/-FromSession (pwsh -s session)',
        local,
      )
    }
    if (overWsman.length > 0) {
      const bridge = await startWinRMBridge({ pwsh, username: 'bench', password: 'bench' })
      try {
        const conn = new WSManConnection({
          server: '127.0.0.1',
          port: bridge.port,
          ssl: false,
          auth: 'basic',
          username: 'bench',
          password: 'bench',
          allowUnencryptedBasic: true,
        })
        const client = new Client(conn)
        try {
          rows(
            'WS-Man',
            mib,
            await measureOurs(client, src, dir),
            undefined,
            '(no WinRM client in pwsh on Linux)',
            overWsman,
          )
        } finally {
          await client.close()
          await conn.close()
        }
      } finally {
        await bridge.close()
      }
    }
    if (overSsh.length > 0) await benchSshTransfer(pwsh, src, dir, mib, overSsh)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Copy and fetch over SSH: psrp's SSHConnection and Copy-Item through New-PSSession -HostName. */
async function benchSshTransfer(
  pwsh: string,
  src: string,
  dir: string,
  mib: number,
  kinds: readonly ('copy' | 'fetch')[],
): Promise<void> {
  const missing = sshdUnavailable()
  if (missing !== undefined) {
    say(`SSH file transfer skipped: ${missing}`)
    return
  }
  // the remote files are written by the sshd test user
  await chmod(dir, 0o777)
  await chmod(src, 0o644)
  const peer = await startSshd({ pwsh })
  try {
    const conn = new SSHConnection({
      host: peer.host,
      port: peer.port,
      username: peer.username,
      privateKeyPath: peer.privateKeyPath,
      hostKey: { knownHosts: peer.knownHostsPath },
      sshConfig: false,
    })
    const client = new Client(conn)
    let ours: Seconds
    try {
      ours = await measureOurs(client, src, dir)
    } finally {
      await client.close()
    }
    const theirs =
      findSshClient() === undefined
        ? 'the ssh client is missing (apt-get install openssh-client)'
        : measurePowerShell(pwsh, src, dir, sshSession(peer))
    if (typeof theirs === 'string') say(`Copy-Item over SSH comparison failed: ${theirs}`)
    rows(
      'SSH',
      mib,
      ours,
      typeof theirs === 'string' ? undefined : theirs,
      'Copy-Item over New-PSSession -HostName',
      kinds,
    )
  } finally {
    await peer.close()
  }
}
