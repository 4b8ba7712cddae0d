/**
 * Remoting part of `npm run bench`: invoke latency and output throughput over the local `pwsh -s`
 * transport, for psrp and, in the same run against the same kind of server, for PowerShell's own
 * client (`[runspacefactory]::CreateOutOfProcessRunspace`, which spawns `pwsh -s` the same way).
 * The same workloads over WS-Man (the WinRM test bridge, which hosts the shell in `pwsh -s`) have no
 * PowerShell counterpart on Linux. Prints figures and ratios; never fails on numbers.
 *
 * Sizes (full / `--quick`): `PSRP_BENCH_INVOKES` (1000 / 300 sequential `$null` invokes),
 * `PSRP_BENCH_STREAM` (1,000,000 / 100,000 integers streamed), `PSRP_BENCH_ITEMS` (100,000 / 20,000
 * Get-Item-like objects). Row tags: `invoke`, `stream`, `items`, and `pwsh` or `wsman`.
 *
 * psrp's {@link ProcessConnection} starts pwsh with a 16 MiB first-generation GC budget and a 4 MiB
 * large-object threshold (`gcGen0Budget`, `gcLargeObjectThreshold`), PowerShell's client with .NET's
 * own. So each workload over pwsh -s is also measured with psrp's client on a server started as
 * PowerShell's client starts it (both `0`): the rows `…, pwsh -s, .NET GC` (also tagged `dotnet-gc`)
 * compare the two clients alone, on the same server.
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
import { report, say, size, wants } from './report.ts'

/** One measured workload. */
interface Workload {
  /** Row tag and stable row-name stem: `invoke`, `stream`, `items`. */
  readonly key: 'invoke' | 'stream' | 'items'
  /** Label with the size (matches PowerShell's TIMING lines). */
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
  const invokes = size('PSRP_BENCH_INVOKES', 1000, 300)
  const stream = size('PSRP_BENCH_STREAM', 1_000_000, 100_000)
  const items = size('PSRP_BENCH_ITEMS', 100_000, 20_000)
  return [
    {
      key: 'invoke',
      name: `${invokes} sequential $null invokes`,
      script: '$null',
      repeat: invokes,
      objects: 1,
    },
    { key: 'stream', name: `1..${stream} streamed`, script: `1..${stream}`, repeat: 1, objects: stream },
    {
      key: 'items',
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

/** The peer of the rows over pwsh -s. */
const POWERSHELL_PEER = 'PowerShell OutOfProcess runspace'

/** Row names per workload key (stable across sizes). */
const ROW_NAMES: Record<Workload['key'], string> = {
  invoke: 'invoke $null',
  stream: 'stream 1..n',
  items: 'stream Get-Item-like objects',
}

function row(w: Workload, transport: string, ms: number, peerMs: number | undefined, peerName: string): void {
  const perCall = w.repeat > 1
  const value = (t: number): number => (perCall ? t / w.repeat : (w.objects / t) * 1000)
  report({
    name: `${ROW_NAMES[w.key]}, ${transport}`,
    unit: perCall ? 'ms/call' : 'obj/s',
    psrp: value(ms),
    peer: peerMs === undefined ? null : value(peerMs),
    peerName,
    better: perCall ? 'lower' : 'higher',
    params: perCall ? { calls: w.repeat } : { objects: w.objects },
  })
}

/** Runs the remoting benchmarks and prints their rows. */
export async function benchRemoting(pwsh: string | undefined): Promise<void> {
  const all = workloads()
  const local = all.filter((w) => wants(w.key, 'pwsh'))
  const localDotnetGc = all.filter((w) => wants(w.key, 'pwsh', 'dotnet-gc'))
  const overWsman = all.filter((w) => wants(w.key, 'wsman'))
  if (local.length === 0 && localDotnetGc.length === 0 && overWsman.length === 0) return
  if (pwsh === undefined) {
    say('pwsh not found: remoting benchmarks skipped')
    return
  }
  if (local.length > 0 || localDotnetGc.length > 0) {
    say('remoting over local pwsh -s (each client drives its own pwsh -s server)')
    const ours =
      local.length > 0
        ? await measureOurs(new ProcessConnection({ executable: pwsh }), local)
        : new Map<string, number>()
    // the same client on a server started as PowerShell's client starts it: .NET's own GC settings
    const oursDotnetGc =
      localDotnetGc.length > 0
        ? await measureOurs(
            new ProcessConnection({ executable: pwsh, gcGen0Budget: 0, gcLargeObjectThreshold: 0 }),
            localDotnetGc,
          )
        : new Map<string, number>()
    const theirs = measurePowerShell(
      pwsh,
      all.filter((w) => local.includes(w) || localDotnetGc.includes(w)),
    )
    if (typeof theirs === 'string') say(`PowerShell client comparison failed: ${theirs}`)
    const peer = (w: Workload): number | undefined =>
      typeof theirs === 'string' ? undefined : theirs.get(w.name)
    for (const w of local) row(w, 'pwsh -s', ours.get(w.name) as number, peer(w), POWERSHELL_PEER)
    for (const w of localDotnetGc)
      row(w, 'pwsh -s, .NET GC', oursDotnetGc.get(w.name) as number, peer(w), POWERSHELL_PEER)
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
      const wsman = await measureOurs(conn, overWsman)
      await conn.close()
      for (const w of overWsman)
        row(w, 'WS-Man', wsman.get(w.name) as number, undefined, '(no WinRM client in pwsh on Linux)')
    } finally {
      await bridge.close()
    }
  }
}
