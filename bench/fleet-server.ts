/**
 * The simulated fleet of the fleet bench: `hosts` WinRM test servers on 127.0.0.1 in this one process,
 * each answering PowerShell shells in-process (no pwsh) with a `Get-Date`-like string. Prints one JSON
 * line `{"ports": [...]}` when all listen, then serves until stdin closes.
 *
 *   node --import tsx bench/fleet-server.ts 1000
 */
import { startWinRMBridge } from '../test/helpers/winrm-bridge/index.ts'

const hosts = Number(process.argv[2] ?? '100')
const bridges: Awaited<ReturnType<typeof startWinRMBridge>>[] = []
for (let i = 0; i < hosts; i++) {
  bridges.push(
    await startWinRMBridge({
      pwsh: '/nonexistent/pwsh', // never run: every shell is simulated
      username: 'fleet',
      password: 'fleet',
      simulate: () => [new Date().toISOString()],
    }),
  )
}
process.stdout.write(`${JSON.stringify({ ports: bridges.map((b) => b.port) })}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  void Promise.all(bridges.map((b) => b.close())).then(() => process.exit(0))
})
