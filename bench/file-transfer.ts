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
 * Size: `PSRP_BENCH_FILE_MIB` (default 200).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, ProcessConnection, SSHConnection, WSManConnection } from '../src/index.ts'
import { startWinRMBridge } from '../test/helpers/winrm-bridge/index.ts'
import { findSshClient, sshdUnavailable, startSshd, type SshdPeer } from '../test/peers/sshd/index.ts'

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

async function measureOurs(client: Client, src: string, dir: string): Promise<Seconds> {
  await client.runPs('$null') // opens the pool outside the timing
  const remote = join(dir, 'ours-remote.bin')
  const back = join(dir, 'ours-back.bin')
  let t0 = process.hrtime.bigint()
  await client.copy(src, remote, { overwrite: true })
  const copy = Number(process.hrtime.bigint() - t0) / 1e9
  t0 = process.hrtime.bigint()
  await client.fetch(remote, back, { overwrite: true })
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

function measurePowerShell(
  pwsh: string,
  src: string,
  dir: string,
  session: string = LOCAL_SESSION,
): Seconds | string {
  const script = `
$ErrorActionPreference = 'Stop'
${session}
$remote = ${q(join(dir, 'ps-remote.bin'))}
$back = ${q(join(dir, 'ps-back.bin'))}
$sw = [Diagnostics.Stopwatch]::StartNew()
Copy-Item -LiteralPath ${q(src)} -Destination $remote -ToSession $s -Force
"COPY|$($sw.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture))"
$sw.Restart()
Copy-Item -LiteralPath $remote -Destination $back -FromSession $s -Force
"FETCH|$($sw.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture))"
Remove-Item -LiteralPath $remote, $back -Force
Remove-PSSession $s
`
  const r = spawnSync(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script], {
    encoding: 'utf8',
    timeout: 3_600_000,
    env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
  })
  const copy = /^COPY\|([\d.]+)/m.exec(r.stdout)
  const fetch = /^FETCH\|([\d.]+)/m.exec(r.stdout)
  if (r.status !== 0 || copy === null || fetch === null) return r.stderr || r.stdout || `exit ${r.status}`
  return { copy: Number(copy[1]), fetch: Number(fetch[1]) }
}

/** Runs the file-transfer benchmarks and prints a table. */
export async function benchFileTransfer(pwsh: string | undefined): Promise<void> {
  if (pwsh === undefined) {
    console.log('\npwsh not found: file-transfer benchmarks skipped')
    return
  }
  const mib = Number(process.env['PSRP_BENCH_FILE_MIB'] ?? 200)
  const dir = await mkdtemp(join(tmpdir(), 'psrp-bench-ft-'))
  try {
    const src = join(dir, 'source.bin')
    await writeRandom(src, mib * MiB)
    console.log(`\nfile transfer of one ${mib} MiB file (SHA-256 verified by psrp; Copy-Item does not hash)`)

    const local = new Client(new ProcessConnection({ executable: pwsh }))
    let ours: Seconds
    try {
      ours = await measureOurs(local, src, dir)
    } finally {
      await local.close()
    }

    const bridge = await startWinRMBridge({ pwsh, username: 'bench', password: 'bench' })
    let wsman: Seconds
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
        wsman = await measureOurs(client, src, dir)
      } finally {
        await client.close()
        await conn.close()
      }
    } finally {
      await bridge.close()
    }

    const theirs = measurePowerShell(pwsh, src, dir)
    if (typeof theirs === 'string') console.log(`Copy-Item comparison failed: ${theirs}`)
    const rate = (s: number | undefined): string =>
      s === undefined ? '—'.padStart(12) : `${(mib / s).toFixed(1).padStart(7)} MiB/s`
    console.log(
      '                 psrp pwsh -s    Copy-Item (pwsh -s session)   ratio (ours / Copy-Item)   psrp WS-Man (HTTP bridge to pwsh -s)',
    )
    for (const kind of ['copy', 'fetch'] as const) {
      const ps = typeof theirs === 'string' ? undefined : theirs[kind]
      const label = kind === 'copy' ? 'copy (-ToSession)' : 'fetch (-FromSession)'
      console.log(
        `${label.padEnd(22)} ${rate(ours[kind])}   ${rate(ps).padStart(20)}          ${(ps === undefined ? '—' : `${(ps / ours[kind]).toFixed(2)}x`).padStart(8)}                ${rate(wsman[kind])}`,
      )
    }
    await benchSshTransfer(pwsh, src, dir, mib, rate)
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
  rate: (s: number | undefined) => string,
): Promise<void> {
  const missing = sshdUnavailable()
  if (missing !== undefined) {
    console.log(`SSH file transfer skipped: ${missing}`)
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
    if (typeof theirs === 'string') console.log(`Copy-Item over SSH comparison failed: ${theirs}`)
    console.log(
      `\nover SSH (private sshd on 127.0.0.1:${peer.port})   psrp SSHConnection   Copy-Item (New-PSSession -HostName)   ratio (ours / Copy-Item)`,
    )
    for (const kind of ['copy', 'fetch'] as const) {
      const ps = typeof theirs === 'string' ? undefined : theirs[kind]
      const label = kind === 'copy' ? 'copy (-ToSession)' : 'fetch (-FromSession)'
      console.log(
        `${label.padEnd(40)} ${rate(ours[kind]).padStart(18)}   ${rate(ps).padStart(30)}          ${(ps === undefined ? '—' : `${(ps / ours[kind]).toFixed(2)}x`).padStart(8)}`,
      )
    }
  } finally {
    await peer.close()
  }
}
