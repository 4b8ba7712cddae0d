/**
 * PowerShell over SSH (PowerShell 7's SSH remoting: the server's `powershell` subsystem).
 *
 * Run: `PSRP_SSH_HOST=server1 PSRP_SSH_USER=admin npx tsx examples/ssh.ts`. The login is the key
 * in `PSRP_SSH_KEY`, else the ssh-agent and `~/.ssh/id_*`, else the password in `PSRP_PASSWORD`;
 * the host key is checked against `PSRP_SSH_KNOWN_HOSTS` (default `~/.ssh/known_hosts`).
 */
import { PowerShell, RunspacePool, SSHConnection, type SSHConnectionOptions } from 'psrp'

const env = process.env
const options: SSHConnectionOptions = {
  host: env['PSRP_SSH_HOST'] ?? 'localhost',
  port: env['PSRP_SSH_PORT'] === undefined ? undefined : Number(env['PSRP_SSH_PORT']),
  username: env['PSRP_SSH_USER'],
  password: env['PSRP_PASSWORD'],
  privateKeyPath: env['PSRP_SSH_KEY'],
}
if (env['PSRP_SSH_KNOWN_HOSTS'] !== undefined) options.hostKey = { knownHosts: env['PSRP_SSH_KNOWN_HOSTS'] }

const ssh = new SSHConnection(options)
const pool = await RunspacePool.open(ssh, { timeout: 30_000 })
try {
  const [version, user] = await new PowerShell(pool)
    .addScript('$PSVersionTable.PSVersion.ToString(); [Environment]::UserName')
    .invoke()
  console.log(`PowerShell ${String(version)} over SSH as ${String(user)}`)
} finally {
  await pool.close() // also closes the SSH connection the pool opened
}
