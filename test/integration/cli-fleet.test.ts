/**
 * `psrp run|cmd|copy` in fleet mode over real targets: a local pwsh, the private sshd, the WinRM test
 * server and a closed port. Output tagged per host, the summary (table or `--json` last line), and an
 * exit code of 0 only when every host succeeded.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { freePort } from '../helpers/net.ts'
import { runCli } from '../helpers/cli.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { SSHD_TEST_PASSWORD, startSshd, sshdUnavailable, type SshdPeer } from '../peers/sshd/index.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh) || peerSkip('sshd', sshdUnavailable() === undefined, sshdUnavailable() ?? '')

describe('psrp CLI fleet mode', { skip }, () => {
  let bridge: WinRMBridge
  let sshd: SshdPeer
  let closedPort: number
  let dir: string
  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    PATH: `${process.env['PATH'] ?? ''}:${join(process.env['HOME'] ?? '', '.dotnet/tools')}`,
    PSRP_PASSWORD: SSHD_TEST_PASSWORD,
  })
  // WinRM flags apply to the WinRM targets, SSH flags to the ssh:// ones
  const flags = (): string[] => [
    '--user',
    'fleet',
    '--auth',
    'basic',
    '--allow-unencrypted',
    '--known-hosts',
    sshd.knownHostsPath,
  ]

  before(async () => {
    // one password for both kinds: PSRP_PASSWORD is the CLI's only source without a terminal
    bridge = await startWinRMBridge({ pwsh: pwsh as string, username: 'fleet', password: SSHD_TEST_PASSWORD })
    sshd = await startSshd({ pwsh: pwsh as string })
    closedPort = await freePort()
    dir = mkdtempSync(join(tmpdir(), 'psrp-cli-fleet-'))
  })
  after(async () => {
    await bridge?.close()
    await sshd?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  test('run --json: objects tagged with PSComputerName, a failed host in the summary, exit 1', async () => {
    const ssh = `ssh://${sshd.username}@127.0.0.1:${sshd.port}`
    const winrm = `http://127.0.0.1:${bridge.port}`
    const closed = `http://127.0.0.1:${closedPort}`
    const r = await runCli(
      [
        'run',
        '--host',
        ['local', ssh, winrm, closed].join(','),
        '--throttle',
        '2',
        ...flags(),
        '--json',
        '6 * 7',
      ],
      { env: env(), timeout: 240_000 },
    )
    assert.equal(r.code, 1, r.stderr)
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const summary = lines.pop() as { summary: Record<string, unknown> }
    assert.deepEqual(
      lines.map((l) => [l['PSComputerName'], l['value']]).sort(),
      [
        ['local', 42],
        [ssh, 42],
        [winrm, 42],
      ].sort(),
    )
    assert.equal(summary.summary['hosts'], 4)
    assert.equal(summary.summary['succeeded'], 3)
    const failed = summary.summary['failedHosts'] as { target: string; error: string; phase: string }[]
    assert.deepEqual(
      failed.map((f) => [f.target, f.error, f.phase]),
      [[closed, 'ERR_TRANSPORT', 'connect']],
    )
  })

  test('run from --hosts-file: [host] prefixed lines, error records on stderr, summary table, exit 1 on errors', async () => {
    const inventory = join(dir, 'inventory.txt')
    writeFileSync(inventory, `# two targets\nlocal\n\nhttp://127.0.0.1:${bridge.port}  # the bridge\n`)
    const ok = await runCli(['run', '--hosts-file', inventory, ...flags(), '"hi"'], {
      env: env(),
      timeout: 240_000,
    })
    assert.equal(ok.code, 0, ok.stderr)
    assert.deepEqual(
      ok.stdout.trim().split('\n').sort(),
      ['[http://127.0.0.1:' + bridge.port + '] hi', '[local] hi'].sort(),
    )
    assert.match(ok.stderr, /^HOST +RESULT +TIME/m)
    assert.match(ok.stderr, /2 of 2 hosts succeeded\n$/)
    const bad = await runCli(['run', '--hosts-file', inventory, ...flags(), "Write-Error 'nope'; 1"], {
      env: env(),
      timeout: 240_000,
    })
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^\[local\] .*nope/m)
    assert.match(bad.stderr, /0 of 2 hosts succeeded; failed: http:\/\/127\.0\.0\.1:\d+, local\n$/)
  })

  test('cmd and copy to several hosts', async () => {
    const targets = `local,http://127.0.0.1:${bridge.port}`
    const cmd = await runCli(['cmd', '--host', targets, ...flags(), '/bin/sh', '-c', 'echo out; exit 3'], {
      env: env(),
      timeout: 240_000,
    })
    assert.equal(cmd.code, 1)
    assert.deepEqual(
      cmd.stdout.trim().split('\n').sort(),
      ['[local] out', `[http://127.0.0.1:${bridge.port}] out`].sort(),
    )
    assert.match(cmd.stderr, /exit 3/)
    const source = join(dir, 'payload.bin')
    writeFileSync(source, Buffer.alloc(100_000, 7))
    const dest1 = join(dir, 'copied-local.bin')
    const copy = await runCli(['copy', '--host', 'local', '--hosts-file', '/dev/null', source, dest1], {
      env: env(),
      timeout: 240_000,
    })
    assert.equal(copy.code, 0, copy.stderr)
    assert.deepEqual(readFileSync(dest1), readFileSync(source))
    assert.match(copy.stderr, /1 of 1 host succeeded/)
  })

  test('psrp cmd over WinRS prints CLIXML stderr as text, or raw with --raw-stderr (one host and a fleet)', async () => {
    const clixml =
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
      '<S S="Error">bad thing_x000D__x000A_</S></Objs>'
    const program = ['/bin/sh', '-c', `printf '%s' '${clixml}' >&2`]
    const one = ['--host', '127.0.0.1', '--port', String(bridge.port), ...flags().slice(0, 5)]
    const text = await runCli(['cmd', ...one, ...program], { env: env(), timeout: 120_000 })
    assert.equal(text.code, 0, text.stderr)
    // after the --allow-unencrypted warning: the text, no CLIXML
    assert.match(text.stderr, /^psrp: warning: --allow-unencrypted[^\n]*\nbad thing\r\n$/)
    const raw = await runCli(['cmd', ...one, '--raw-stderr', ...program], { env: env(), timeout: 120_000 })
    assert.ok(raw.stderr.endsWith(`\n${clixml}`), raw.stderr)
    const fleet = await runCli(
      ['cmd', '--host', `local,http://127.0.0.1:${bridge.port}`, ...flags(), ...program],
      {
        env: env(),
        timeout: 240_000,
      },
    )
    assert.match(fleet.stderr, new RegExp(`^\\[http://127.0.0.1:${bridge.port}\\] bad thing$`, 'm'))
  })

  test('usage errors: --throttle without several hosts, --ssh with a list', async () => {
    const a = await runCli(['run', '--throttle', '3', '1'], { env: env() })
    assert.equal(a.code, 2)
    assert.match(a.stderr, /--throttle needs several hosts/)
    const b = await runCli(['run', '--host', 'a,b', '--ssh', 'c', '1'], { env: env() })
    assert.equal(b.code, 2)
    assert.match(b.stderr, /--ssh names one target/)
    const c = await runCli(['run', '--host', 'a,b:0', '1'], { env: env() })
    assert.equal(c.code, 2)
    assert.match(c.stderr, /bad port/)
  })
})
