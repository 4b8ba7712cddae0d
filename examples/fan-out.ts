/**
 * One script on many hosts at once, like `Invoke-Command -ComputerName a,b,c -ThrottleLimit 32`:
 * each host's result arrives as soon as that host finishes, and one host's failure does not stop the
 * others.
 *
 * Run: `PSRP_FLEET='win1,win2,ssh://ops@linux1' PSRP_PASSWORD=… npx tsx examples/fan-out.ts`. Without
 * `PSRP_FLEET` it runs on a local pwsh and on an SSH port where nothing listens, to show a failure.
 */
import { runOnHosts } from 'psrp'

const targets = (process.env['PSRP_FLEET'] ?? 'local,ssh://nobody@127.0.0.1:1').split(',')
const results = runOnHosts(targets, '[Environment]::MachineName; $PSVersionTable.PSVersion.ToString()', {
  throttle: 32,
  perHostTimeout: 60_000,
  wsman: { username: process.env['PSRP_USER'], password: process.env['PSRP_PASSWORD'] },
})
let failed = 0
for await (const r of results) {
  if (r.ok)
    console.log(
      `${r.host}: ${String(r.output?.[0])}, PowerShell ${String(r.output?.[1])} (${Math.round(r.durationMs)} ms)`,
    )
  else {
    failed++
    console.log(`${r.host}: failed to ${r.phase}: ${r.error.message}`)
  }
}
console.log(`${targets.length - failed} of ${targets.length} hosts answered`)
