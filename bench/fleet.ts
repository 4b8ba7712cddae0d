/**
 * Fleet rows: `runOnHosts` over a simulated fleet of WinRM hosts (bench/fleet-server.ts, a child
 * process, so that the RSS measured here is the client's alone), one small script per host, at
 * throttle 32, 128 and 512. Each row prints hosts per second, p50/p99 of the per-host time, the
 * client's peak RSS growth, and that growth per in-flight host. There is no peer in the row: PowerShell's
 * `Invoke-Command -ThrottleLimit` cannot reach these simulated hosts (it would need a real WinRM
 * listener per host), see bench/README.md.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { runOnHosts } from '../src/index.ts'
import { report, say, size, wants, wantsAny } from './report.ts'

const THROTTLES = [32, 128, 512] as const

/** Starts the simulated fleet; resolves with its ports and a stop function. */
async function startFleet(hosts: number): Promise<{ ports: number[]; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fleet-server.ts'), String(hosts)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`the fleet server exited (${code}) before listening`)))
  })
  const { ports } = JSON.parse(first) as { ports: number[] }
  return { ports, stop: () => child.stdin.end() }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

export async function benchFleet(): Promise<void> {
  if (!wantsAny(THROTTLES.map((t) => ['fleet', `throttle-${t}`]))) return
  const hosts = size('PSRP_BENCH_FLEET_HOSTS', 1000, 200)
  const fleet = await startFleet(hosts)
  say(`fleet: ${hosts} simulated WinRM hosts (one process, no pwsh), one small script each`)
  try {
    const targets = fleet.ports.map((p) => `http://127.0.0.1:${p}`)
    for (const throttle of THROTTLES) {
      if (!wants('fleet', `throttle-${throttle}`)) continue
      globalThis.gc?.()
      const base = process.memoryUsage().rss
      let peak = base
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
      const durations: number[] = []
      let failures = 0
      const t0 = performance.now()
      for await (const r of runOnHosts(targets, 'Get-Date', {
        throttle,
        wsman: { auth: 'basic', username: 'fleet', password: 'fleet', allowUnencryptedBasic: true },
      })) {
        durations.push(r.durationMs)
        if (!r.ok) failures++
      }
      const totalMs = performance.now() - t0
      clearInterval(sampler)
      peak = Math.max(peak, process.memoryUsage().rss)
      durations.sort((a, b) => a - b)
      const growthMiB = (peak - base) / 1048576
      const p50 = percentile(durations, 50)
      const p99 = percentile(durations, 99)
      say(
        `  throttle ${throttle}: ${(totalMs / 1000).toFixed(1)} s, p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, ` +
          `peak RSS +${growthMiB.toFixed(1)} MiB (${((growthMiB * 1024) / Math.min(throttle, hosts)).toFixed(0)} KiB per host in flight), ${failures} failed`,
      )
      report({
        name: `fleet throttle ${throttle}`,
        unit: 'hosts/s',
        psrp: hosts / (totalMs / 1000),
        peer: null,
        peerName: '(none: simulated hosts)',
        better: 'higher',
        params: {
          hosts,
          throttle,
          totalMs: Math.round(totalMs),
          p50Ms: Math.round(p50),
          p99Ms: Math.round(p99),
          peakRssGrowthMiB: Number(growthMiB.toFixed(1)),
          failures,
        },
      })
    }
  } finally {
    fleet.stop()
  }
}
