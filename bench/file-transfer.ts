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
 * Size: `PSRP_BENCH_FILE_MIB` (default 200).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, ProcessConnection, WSManConnection } from '../src/index.ts'
import { startWinRMBridge } from '../test/helpers/winrm-bridge/index.ts'

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

function measurePowerShell(pwsh: string, src: string, dir: string): Seconds | string {
  const q = (s: string): string => `'${s.replace(/'/g, "''")}'`
  const script = `
$ErrorActionPreference = 'Stop'
$rs = [runspacefactory]::CreateOutOfProcessRunspace($null)
$rs.Open()
$s = [System.Management.Automation.Runspaces.PSSession]::Create($rs, 'OutOfProc', $null)
$remote = ${q(join(dir, 'ps-remote.bin'))}
$back = ${q(join(dir, 'ps-back.bin'))}
$sw = [Diagnostics.Stopwatch]::StartNew()
Copy-Item -LiteralPath ${q(src)} -Destination $remote -ToSession $s -Force
"COPY|$($sw.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture))"
$sw.Restart()
Copy-Item -LiteralPath $remote -Destination $back -FromSession $s -Force
"FETCH|$($sw.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture))"
Remove-Item -LiteralPath $remote, $back
$rs.Close()
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
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
