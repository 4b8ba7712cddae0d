/**
 * Remoting part of `npm run bench`: invoke latency and output throughput over the local `pwsh -s`
 * transport, for psrp and, in the same run against the same kind of server, for PowerShell's own
 * client (`[runspacefactory]::CreateOutOfProcessRunspace`, which spawns `pwsh -s` the same way).
 * Prints figures and ratios; never fails on numbers.
 *
 * Sizes: `PSRP_BENCH_INVOKES` (default 1000 sequential `$null` invokes), `PSRP_BENCH_STREAM`
 * (default 1,000,000 integers streamed), `PSRP_BENCH_ITEMS` (default 100,000 Get-Item-like objects).
 */
import { spawnSync } from 'node:child_process'
import {
  PowerShell,
  ProcessConnection,
  RunspacePool,
  WSManConnection,
  type PsrpConnection,
} from '../src/index.ts'
import { startWinRMBridge } from '../test/helpers/winrm-bridge/index.ts'

/** One measured workload. */
interface Workload {
  readonly name: string
  /** PowerShell script run on the server. */
  readonly script: string
  /** How many times it runs back to back (latency), or 1 (throughput). */
  readonly repeat: number
  /** Objects each run returns. */
  readonly objects: number
}

/** Milliseconds per workload for one client. */
type Timings = Map<string, number>

function workloads(): Workload[] {
  const invokes = Number(process.env['PSRP_BENCH_INVOKES'] ?? 1000)
  const stream = Number(process.env['PSRP_BENCH_STREAM'] ?? 1_000_000)
  const items = Number(process.env['PSRP_BENCH_ITEMS'] ?? 100_000)
  return [
    { name: `${invokes} sequential $null invokes`, script: '$null', repeat: invokes, objects: 1 },
    { name: `1..${stream} streamed`, script: `1..${stream}`, repeat: 1, objects: stream },
    {
      name: `${items} Get-Item-like objects`,
      script: `$now = [datetime]::Now; 1..${items} | ForEach-Object { [pscustomobject]@{ PSTypeName = 'Bench.FileInfo'; Name = "file$_.txt"; FullName = "/srv/data/file$_.txt"; Length = [long]$_ * 1024; Mode = '-a---'; LastWriteTime = $now; Attributes = [IO.FileAttributes]::Archive; IsReadOnly = $false } }`,
      repeat: 1,
      objects: items,
    },
  ]
}

async function measureOurs(connection: PsrpConnection, list: Workload[]): Promise<Timings> {
  const out: Timings = new Map()
  await using pool = await RunspacePool.open(connection, { timeout: 60_000 })
  await new PowerShell(pool).addScript('$null').invoke() // warm-up
  for (const w of list) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < w.repeat; i++) {
      let n = 0
      for await (const _ of new PowerShell(pool).addScript(w.script).stream()) n++
      if (n !== w.objects) throw new Error(`${w.name}: got ${n} objects, expected ${w.objects}`)
    }
    out.set(w.name, Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return out
}

function measurePowerShell(pwsh: string, list: Workload[]): Timings | string {
  const cases = list
    .map(
      (w) =>
        `@{ Name = '${w.name.replace(/'/g, "''")}'; Script = '${w.script.replace(/'/g, "''")}'; Repeat = ${w.repeat}; Objects = ${w.objects} }`,
    )
    .join(',\n')
  const script = `
$ErrorActionPreference = 'Stop'
$rs = [runspacefactory]::CreateOutOfProcessRunspace($null)
$rs.Open()
$warm = [powershell]::Create(); $warm.Runspace = $rs; $null = $warm.AddScript('$null').Invoke(); $warm.Dispose()
foreach ($case in @(${cases})) {
  $sw = [Diagnostics.Stopwatch]::StartNew()
  for ($i = 0; $i -lt $case.Repeat; $i++) {
    $ps = [powershell]::Create(); $ps.Runspace = $rs
    $null = $ps.AddScript($case.Script)
    $result = $ps.Invoke()
    if ($result.Count -ne $case.Objects) { throw "$($case.Name): got $($result.Count) objects" }
    $ps.Dispose()
  }
  "TIMING|$($case.Name)|$($sw.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture))"
}
$rs.Close()
`
  const r = spawnSync(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script], {
    encoding: 'utf8',
    timeout: 3_600_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
  })
  const out: Timings = new Map()
  for (const m of r.stdout.matchAll(/^TIMING\|(.+)\|([\d.]+)\s*$/gm)) out.set(m[1] as string, Number(m[2]))
  if (r.status !== 0 || out.size !== list.length) return r.stderr || r.stdout || `exit ${r.status}`
  return out
}

/** Runs the remoting benchmarks and prints a table. */
export async function benchRemoting(pwsh: string | undefined): Promise<void> {
  if (pwsh === undefined) {
    console.log('\npwsh not found: remoting benchmarks skipped')
    return
  }
  const list = workloads()
  console.log('\nremoting over local pwsh -s (each client drives its own pwsh -s server)')
  const ours = await measureOurs(new ProcessConnection({ executable: pwsh }), list)
  const bridge = await startWinRMBridge({ pwsh, username: 'bench', password: 'bench' })
  let wsman: Timings
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
    wsman = await measureOurs(conn, list)
    await conn.close()
  } finally {
    await bridge.close()
  }
  const theirs = measurePowerShell(pwsh, list)
  if (typeof theirs === 'string') console.log(`PowerShell client comparison failed: ${theirs}`)
  console.log(
    '                                         psrp pwsh -s     PowerShell client   ratio (PS / ours)   psrp WS-Man (HTTP bridge to pwsh -s)',
  )
  for (const w of list) {
    const ms = ours.get(w.name) as number
    const ps = typeof theirs === 'string' ? undefined : theirs.get(w.name)
    const figure = (t: number): string =>
      w.repeat > 1
        ? `${(t / w.repeat).toFixed(2).padStart(8)} ms/call`
        : `${((w.objects / t) * 1000).toFixed(0).padStart(8)} obj/s `
    console.log(
      `${w.name.padEnd(40)} ${figure(ms)}   ${ps === undefined ? '—'.padStart(16) : figure(ps)}   ${(ps === undefined ? '—' : `${(ps / ms).toFixed(2)}x`).padStart(8)}            ${figure(wsman.get(w.name) as number)}`,
    )
  }
}
