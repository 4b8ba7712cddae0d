/**
 * Generates the benchmark data set: realistic PowerShell objects (nested, adapted and extended
 * properties, strings that need escaping, 64-bit numbers, DateTimes), deterministic (seeded).
 */
import { PSObject, PSDateTime, PSGuid, PSVersion } from '../src/clixml/index.ts'

/** Small deterministic PRNG (mulberry32) so every run builds the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const words = [
  'alpha',
  'beta',
  'gamma',
  'C:\\Windows\\System32',
  'line\nbreak',
  'tab\there',
  '_x000A_ literal',
  'emoji 💩',
  'ünïcödé',
  '<xml & stuff>',
]

/** Builds `count` objects shaped like `Get-Item`/`Get-Process` output. */
export function buildDataset(count: number, seed = 1): PSObject[] {
  const rnd = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const out: PSObject[] = []
  const baseTicks = 638000000000000000n
  for (let i = 0; i < count; i++) {
    const o = new PSObject()
    o.typeNames = [
      'Deserialized.System.IO.FileInfo',
      'Deserialized.System.IO.FileSystemInfo',
      'Deserialized.System.MarshalByRefObject',
      'Deserialized.System.Object',
    ]
    o.toStringValue = `C:\\data\\${pick(words)}-${i}.txt`
    o.adapted.set('Name', `${pick(words)}-${i}.txt`)
    o.adapted.set('Length', BigInt(Math.floor(rnd() * 2 ** 40)) * 1024n)
    o.adapted.set('IsReadOnly', rnd() > 0.5)
    o.adapted.set('CreationTimeUtc', new PSDateTime(baseTicks + BigInt(Math.floor(rnd() * 1e15)), 'utc'))
    o.adapted.set(
      'LastWriteTime',
      new PSDateTime(baseTicks + BigInt(Math.floor(rnd() * 1e15)), 'unspecified'),
    )
    o.adapted.set('Attributes', `Archive, ${pick(words)}`)
    o.extended.set('PSPath', `Microsoft.PowerShell.Core\\FileSystem::C:\\data\\${pick(words)}`)
    o.extended.set('PSIsContainer', false)
    o.extended.set('Id', new PSGuid('6e2f4cc5-3bd8-4a4a-9d52-27e5b0f0a6c1'))
    o.extended.set('VersionInfo', new PSVersion('10.0.' + String(i)))
    const nested = PSObject.custom({
      Owner: `DOMAIN\\${pick(words)}`,
      Score: rnd() * 1000,
      Tags: [pick(words), pick(words), i],
    })
    o.extended.set('Meta', nested)
    out.push(o)
  }
  return out
}
