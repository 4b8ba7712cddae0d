/**
 * `npm run winrm-test-server` (test/helpers/winrm-bridge/server-cli.ts): the line it prints is run as
 * printed (bash, `npx psrp` being this checkout's CLI) and reaches pwsh through the server; a wrong
 * password is refused; SIGTERM stops it; bad flags are usage errors; a port in use is named.
 * (The `--auth ntlm` form runs in test/integration/readme.test.ts, from the README.)
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'
import { psrpShellCommand } from '../helpers/cli.ts'

const SERVER = fileURLToPath(new URL('../helpers/winrm-bridge/server-cli.ts', import.meta.url))
const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const env = { ...process.env, PSRP_PWSH: pwsh ?? '', PSRP_PASSWORD: '' }

type Server = ChildProcessByStdio<null, Readable, Readable>

function startServer(args: string[]): Promise<{ server: Server; out: string }> {
  return new Promise((resolve, reject) => {
    const server = spawn(process.execPath, ['--import', 'tsx', SERVER, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    const timer = setTimeout(() => {
      server.kill('SIGKILL')
      reject(new Error(`not READY in 60 s:\n${out}`))
    }, 60_000)
    server.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (!out.includes('READY\n')) return
      clearTimeout(timer)
      resolve({ server, out })
    })
    server.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    server.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited (${code}) before READY:\n${out}`))
    })
  })
}

/** Runs bash with `npx psrp` as this checkout's CLI. */
function bash(script: string, extraEnv: Record<string, string> = {}): ReturnType<typeof spawnSync> {
  const shim = `npx() { shift; ${psrpShellCommand} "$@"; }`
  return spawnSync('bash', ['-c', `${shim}\n${script}`], {
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: 120_000,
  })
}

describe('npm run winrm-test-server', { skip }, () => {
  let server: Server | undefined
  let out = ''

  before(async () => {
    ;({ server, out } = await startServer(['--port', '0', '--auth', 'basic', '--password', "it's a test"]))
  })
  after(() => {
    if (server !== undefined && server.exitCode === null) server.kill('SIGKILL')
  })

  test('prints the account and a psrp line that runs as printed', () => {
    assert.match(out, /WinRM test server on http:\/\/127\.0\.0\.1:\d+\/wsman \(Basic/)
    const line = /^Try:\n {2}(.+)$/m.exec(out)?.[1]
    assert.ok(line !== undefined, out)
    assert.match(
      line,
      /^PSRP_PASSWORD='it'\\''s a test' npx psrp run --host 127\.0\.0\.1 --port \d+ --auth basic /,
    )
    const r = bash(line)
    assert.equal(r.status, 0, `${String(r.stdout)}\n${String(r.stderr)}`)
    assert.match(String(r.stdout), /Major\s+Minor/)
    // the password is checked
    const wrong = bash(line.replace(/^PSRP_PASSWORD='.*?' npx/, "PSRP_PASSWORD='wrong' npx"))
    assert.equal(wrong.status, 1)
  })

  test('a port in use is named; SIGTERM stops the server', async () => {
    const port = /127\.0\.0\.1:(\d+)/.exec(out)?.[1]
    assert.ok(port !== undefined)
    const again = spawnSync(process.execPath, ['--import', 'tsx', SERVER, '--port', port], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(again.status, 1)
    assert.match(again.stderr, new RegExp(`port ${port} is in use`))
    const s = server as Server
    const exited = new Promise<number | null>((resolve) => s.once('exit', (code) => resolve(code)))
    s.kill('SIGTERM')
    assert.equal(await exited, 0)
  })
})

test('winrm-test-server: bad flags are usage errors (exit 2)', () => {
  for (const args of [['--auth', 'kerberos'], ['--port', '70000'], ['--nope']]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', SERVER, ...args], { env, encoding: 'utf8' })
    assert.equal(r.status, 2, args.join(' '))
    assert.match(r.stderr, /usage: npm run winrm-test-server/)
  }
})
