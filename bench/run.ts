/**
 * `npm run bench`: every row is psrp's figure next to a peer's measured in the same run (PowerShell's
 * own code where it has a counterpart) and the ratio; see bench/README.md for the rows and
 * bench/report.ts for `--quick`, `--json` and `--only`. This file: the CLIXML serializer and
 * deserializer against PowerShell's PSSerializer on the same XML, and fragmentation. Prints; never
 * fails on numbers.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { deserialize, serialize } from '../src/clixml/index.ts'
import { Defragmenter, encodeFragment, Fragmenter } from '../src/psrp/index.ts'
import { buildDataset } from './dataset.ts'
import { findPwsh } from '../test/helpers/peers.ts'
import { benchRemoting } from './remoting.ts'
import { benchSsh } from './ssh.ts'
import { benchFileTransfer } from './file-transfer.ts'
import { benchMemory } from './memory.ts'
import { benchFleet } from './fleet.ts'
import { benchFleetSsh } from './fleet-ssh.ts'
import { options, report, say, size, wants, wantsAny } from './report.ts'

const COUNT = size('PSRP_BENCH_OBJECTS', 10_000, 5_000)
const WRAP_OPEN = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
const WRAP_CLOSE = '</Objs>'

function time(fn: () => void, rounds = 3): number {
  fn() // warm-up
  let best = Infinity
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint()
    fn()
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return best
}

async function benchClixml(pwsh: string | undefined): Promise<void> {
  const wantDes = wants('clixml', 'deserialize')
  const wantSer = wants('clixml', 'serialize')
  if (!wantDes && !wantSer) return
  const objects = buildDataset(COUNT)
  const docs = objects.map((o) => WRAP_OPEN + serialize(o) + WRAP_CLOSE)
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0)
  say(
    `CLIXML: ${COUNT} objects, ${(bytes / 1048576).toFixed(2)} MiB (${(bytes / COUNT).toFixed(0)} bytes/object)`,
  )

  let parsed: unknown[] = []
  const desMs = time(() => {
    parsed = docs.map((d) => deserialize(d))
  })
  const serMs = time(() => {
    for (const p of parsed) serialize((p as unknown[])[0])
  })
  let psDes: number | undefined
  let psSer: number | undefined
  if (pwsh !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'psrp-bench-'))
    try {
      const file = join(dir, 'docs.txt')
      writeFileSync(file, docs.join('\n'))
      const script = `
$ErrorActionPreference = 'Stop'
Add-Type -TypeDefinition @'
using System; using System.Diagnostics; using System.IO; using System.Management.Automation;
public static class PsrpBench {
  public static string Run(string path) {
    string[] docs = File.ReadAllLines(path);
    object[] objs = new object[docs.Length];
    double des = double.MaxValue, ser = double.MaxValue;
    for (int round = 0; round < 4; round++) {
      var sw = Stopwatch.StartNew();
      for (int i = 0; i < docs.Length; i++) objs[i] = PSSerializer.Deserialize(docs[i]);
      if (round > 0) des = Math.Min(des, sw.Elapsed.TotalMilliseconds);
      sw.Restart();
      for (int i = 0; i < objs.Length; i++) PSSerializer.Serialize(objs[i], 10);
      if (round > 0) ser = Math.Min(ser, sw.Elapsed.TotalMilliseconds);
    }
    return des.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + ser.ToString(System.Globalization.CultureInfo.InvariantCulture);
  }
}
'@ -ReferencedAssemblies ([psobject].Assembly.Location)
[PsrpBench]::Run('${file}')
`
      const r = spawnSync(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script], {
        encoding: 'utf8',
        timeout: 600_000,
        env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
      })
      const m = /([\d.]+) ([\d.]+)\s*$/.exec(r.stdout)
      if (r.status === 0 && m !== null) {
        psDes = Number(m[1])
        psSer = Number(m[2])
      } else {
        say(`pwsh comparison failed: ${r.stderr || r.stdout}`)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  } else {
    say('pwsh not found: PowerShell PSSerializer comparison skipped')
  }
  const mbs = (ms: number | undefined): number | null =>
    ms === undefined ? null : bytes / 1048576 / (ms / 1000)
  const params = { objects: COUNT, bytes }
  if (wantDes)
    report({
      name: 'CLIXML deserialize',
      unit: 'MB/s',
      psrp: mbs(desMs) as number,
      peer: mbs(psDes),
      peerName: 'PSSerializer.Deserialize',
      better: 'higher',
      params,
    })
  if (wantSer)
    report({
      name: 'CLIXML serialize',
      unit: 'MB/s',
      psrp: mbs(serMs) as number,
      peer: mbs(psSer),
      peerName: 'PSSerializer.Serialize',
      better: 'higher',
      params,
    })
}

/** Fragmentation: 64 MiB of messages through 32 KiB fragments and back (no peer). */
function benchFragments(): void {
  if (!wantsAny([['fragment']])) return
  const message = new Uint8Array(1024 * 1024).map((_, i) => i & 0xff)
  const N = 64
  let frags: Uint8Array[] = []
  const fragMs = time(() => {
    const f = new Fragmenter()
    frags = []
    for (let i = 0; i < N; i++) for (const x of f.fragment(message, 32768)) frags.push(encodeFragment(x))
  })
  const defragMs = time(() => {
    const d = new Defragmenter({ maxObjectSize: 2 * 1024 * 1024 })
    let n = 0
    for (const x of frags) n += d.push(x).length
    if (n !== N) throw new Error('defragment lost messages')
  })
  const params = { mib: N, fragmentBytes: 32768 }
  const common = { unit: 'MB/s', peer: null, peerName: '(none)', better: 'higher', params } as const
  report({ name: 'fragment 1 MiB messages', psrp: N / (fragMs / 1000), ...common })
  report({ name: 'defragment 1 MiB messages', psrp: N / (defragMs / 1000), ...common })
}

async function main(): Promise<void> {
  const pwsh = findPwsh()
  say(
    `psrp bench — node ${process.version}${options.quick ? ', --quick' : ''}${options.only.length > 0 ? `, --only ${options.only.map((t) => t.join('+')).join(',')}` : ''}`,
  )
  await benchClixml(pwsh)
  benchFragments()
  await benchRemoting(pwsh)
  await benchSsh(pwsh)
  await benchFileTransfer(pwsh)
  await benchMemory(pwsh)
  await benchFleet()
  await benchFleetSsh(pwsh)
}

await main()
