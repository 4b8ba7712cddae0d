/**
 * `npm run winrm-test-server`: the WinRM test server (this folder's bridge: WS-Man on 127.0.0.1, each
 * PowerShell shell a real `pwsh -s`, WinRS shells local processes) as a command, to try `psrp --host`
 * and `WSManConnection` without Windows. Shells run as the user who starts it.
 *
 * ```sh
 * npm run winrm-test-server -- --port 5985 --auth basic      # Basic: psrp needs --allow-unencrypted over HTTP
 * npm run winrm-test-server -- --port 5985 --auth ntlm       # NTLM/Negotiate + message encryption, as Windows
 * ```
 *
 * WMI classes (`Win32_OperatingSystem`, `Win32_Service`) answer Get, WQL Enumerate and StopService
 * (`cim-responder.ts`), so `psrp wsman …` can be tried too.
 *
 * `--auth ntlm` puts the project's NTLM acceptor (`test/peers/auth`, Debian's python3-gssapi and
 * gss-ntlmssp) in front of the bridge. The password is `--password`, else `PSRP_PASSWORD`, else a
 * random one; the server prints the exact `psrp run` line to try, then `READY`.
 * SIGINT/SIGTERM (or Ctrl+C) stop it and every pwsh it started.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { findPwsh } from '../peers.ts'
import { ntlmPeerAvailable, startNtlmPeer, type NtlmPeer } from '../../peers/auth/ntlm-peer.ts'
import { CimResponder } from './cim-responder.ts'
import { startWinRMBridge, type WinRMBridge } from './index.ts'

const USAGE = `usage: npm run winrm-test-server -- [--port <n>] [--auth basic|ntlm] [--user <name>] [--password <p>]

  -p, --port <n>      port on 127.0.0.1 (default 5985; 0 picks a free one)
      --auth <a>      basic (default) or ntlm (NTLM and Negotiate with WinRM message encryption,
                      needs Debian's python3-gssapi and gss-ntlmssp)
  -u, --user <name>   the account (default psrp; with ntlm its domain is LAB)
      --password <p>  its password (default: PSRP_PASSWORD, else a random one, printed)
  -h, --help
`

/** Quotes a word for a POSIX shell when it needs it. */
function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

async function main(): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        port: { type: 'string', short: 'p', default: '5985' },
        auth: { type: 'string', default: 'basic' },
        user: { type: 'string', short: 'u', default: 'psrp' },
        password: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(USAGE)
    return 0
  }
  const port = Number(values.port)
  const auth = values.auth
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (auth !== 'basic' && auth !== 'ntlm')) {
    process.stderr.write(`--port must be 0-65535 and --auth basic or ntlm\n${USAGE}`)
    return 2
  }
  const pwsh = findPwsh()
  if (pwsh === undefined) {
    process.stderr.write('pwsh not found: install PowerShell 7 (see README) or set PSRP_PWSH\n')
    return 1
  }
  if (auth === 'ntlm' && !ntlmPeerAvailable()) {
    process.stderr.write(
      '--auth ntlm needs Debian python3 with python3-gssapi and gss-ntlmssp (apt-get install python3-gssapi gss-ntlmssp)\n',
    )
    return 1
  }
  const user = values.user
  const envPassword = process.env['PSRP_PASSWORD']
  // --password, else PSRP_PASSWORD (what psrp sends too), else a random one
  const fromEnv = values.password === undefined && envPassword !== undefined && envPassword !== ''
  const password =
    values.password ?? (fromEnv ? (envPassword as string) : randomBytes(9).toString('base64url'))

  let bridge: WinRMBridge | undefined
  let peer: NtlmPeer | undefined
  const stop = async (): Promise<void> => {
    await peer?.close()
    await bridge?.close()
  }
  try {
    if (auth === 'basic') {
      bridge = await startWinRMBridge({ pwsh, username: user, password, port, cim: new CimResponder() })
    } else {
      bridge = await startWinRMBridge({ pwsh, cim: new CimResponder() })
      peer = await startNtlmPeer({ upstream: bridge.url, users: [{ domain: 'LAB', user, password }], port })
    }
  } catch (e) {
    await stop()
    const err = e as NodeJS.ErrnoException
    process.stderr.write(
      err.code === 'EADDRINUSE'
        ? `port ${port} is in use (try --port 0)\n`
        : `could not start: ${err.message}\n`,
    )
    return 1
  }
  const listening = peer?.port ?? bridge.port
  const login = auth === 'ntlm' ? `LAB\\${user}` : user
  const flags = auth === 'basic' ? ' --auth basic --allow-unencrypted' : ''
  const env = fromEnv ? '' : `PSRP_PASSWORD=${sh(password)} `
  process.stdout.write(
    `WinRM test server on http://127.0.0.1:${listening}/wsman (${auth === 'ntlm' ? 'NTLM/Negotiate, messages encrypted' : 'Basic, clear text'}); ` +
      `user ${login}, password ${fromEnv ? 'from PSRP_PASSWORD' : sh(password)}. Each shell is a pwsh -s run as ${process.env['USER'] ?? 'you'}.\n` +
      `Try:\n  ${env}npx psrp run --host 127.0.0.1 --port ${listening}${flags} --user ${sh(login)} '$PSVersionTable.PSVersion'\n` +
      `Ctrl+C stops it.\nREADY\n`,
  )
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await stop()
  return 0
}

process.exitCode = await main()
