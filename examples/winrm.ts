/**
 * WinRM: PowerShell (PSRP) and a WinRS command on a Windows host, or on the WinRM test server of a
 * checkout (`npm run winrm-test-server -- --auth ntlm`).
 *
 * Run: `PSRP_WINRM_HOST=win1 PSRP_WINRM_USER='DOMAIN\admin' PSRP_PASSWORD=… npx tsx examples/winrm.ts`.
 * Plain HTTP on 5985 (`PSRP_WINRM_PORT`) with Negotiate and WinRM message encryption, Windows'
 * default; set `PSRP_WINRM_SSL=1` for HTTPS on 5986.
 */
import { Client, WSManConnection } from 'psrp'

const env = process.env
const ssl = env['PSRP_WINRM_SSL'] === '1'
const conn = new WSManConnection({
  server: env['PSRP_WINRM_HOST'] ?? '127.0.0.1',
  port: Number(env['PSRP_WINRM_PORT'] ?? (ssl ? 5986 : 5985)),
  ssl,
  auth: 'negotiate',
  username: env['PSRP_WINRM_USER'],
  password: env['PSRP_PASSWORD'],
})
const client = new Client(conn)
try {
  const { output } = await client.runPs(
    '"PowerShell $($PSVersionTable.PSVersion) on $([Environment]::MachineName)"',
  )
  console.log(output[0])
  // WinRS: a process in a cmd shell (on the test server, a local process)
  const { stdout, rc } = await client.runCmd('whoami')
  console.log(`whoami: ${stdout.trim()} (exit ${rc})`)
} finally {
  await client.close()
  await conn.close() // a connection you pass in is yours to close
}
