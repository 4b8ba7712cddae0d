/**
 * `npm run bench`: throughput of the CLIXML serializer/deserializer and of fragmentation, printed as
 * figures and, where pwsh is installed, as ratios to PowerShell's own PSSerializer measured in the
 * same run on the same XML. Prints; never fails on numbers.
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

const COUNT = Number(process.env['PSRP_BENCH_OBJECTS'] ?? 10_000)
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

const fmt = (n: number, unit: string): string => `${n.toFixed(1).padStart(9)} ${unit}`

async function main(): Promise<void> {
  console.log(`psrp bench — node ${process.version}, ${COUNT} objects`)
  const objects = buildDataset(COUNT)
  const docs = objects.map((o) => WRAP_OPEN + serialize(o) + WRAP_CLOSE)
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0)
  console.log(
    `data set: ${(bytes / 1048576).toFixed(2)} MiB of CLIXML (${(bytes / COUNT).toFixed(0)} bytes/object)`,
  )

  let parsed: unknown[] = []
  const desMs = time(() => {
    parsed = docs.map((d) => deserialize(d))
  })
  const serMs = time(() => {
    for (const p of parsed) serialize((p as unknown[])[0])
  })
  const rows: [string, number, number | undefined][] = [
    ['CLIXML deserialize', desMs, undefined],
    ['CLIXML serialize', serMs, undefined],
  ]

  const pwsh = findPwsh()
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
        rows[0]![2] = Number(m[1])
        rows[1]![2] = Number(m[2])
      } else {
        console.log(`pwsh comparison failed: ${r.stderr || r.stdout}`)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  } else {
    console.log('pwsh not found: PowerShell PSSerializer comparison skipped')
  }

  console.log(
    '\n                          psrp (ms)     MB/s      objects/s   PowerShell (ms)   ratio (PS time / ours)',
  )
  for (const [name, ms, ps] of rows) {
    const ratio = ps === undefined ? '—' : `${(ps / ms).toFixed(2)}x`
    console.log(
      `${name.padEnd(22)}${fmt(ms, 'ms')}${fmt(bytes / 1048576 / (ms / 1000), 'MB/s')}${fmt(COUNT / (ms / 1000), 'obj/s')}   ${ps === undefined ? '—'.padStart(12) : fmt(ps, 'ms')}      ${ratio}`,
    )
  }

  // fragmentation: 64 MiB of messages through 32 KiB fragments and back
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
  console.log(`\nfragment   ${N} MiB in 32 KiB fragments: ${fmt(N / (fragMs / 1000), 'MB/s')}`)
  console.log(`defragment ${N} MiB from 32 KiB fragments: ${fmt(N / (defragMs / 1000), 'MB/s')}`)

  await benchRemoting(findPwsh())
  await benchSsh(findPwsh())
  await benchFileTransfer(findPwsh())
}

await main()
