/**
 * runOnHosts over a mixed set of real targets: a local pwsh, the private sshd, the WinRM test server
 * (right and wrong user), and a closed port. Each host's result arrives once; the failures are typed
 * and do not stop the others; a per-host time limit stops a real pipeline.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ErrorRecord, runOnHosts, type HostResult } from '../../src/index.ts'
import { AuthenticationError, TimeoutError, TransportError } from '../../src/errors.ts'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { freePort } from '../helpers/net.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { startSshd, sshdUnavailable, type SshdPeer } from '../peers/sshd/index.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh) || peerSkip('sshd', sshdUnavailable() === undefined, sshdUnavailable() ?? '')
const USER = 'fleet'
const PASSWORD = 'fleet pässword'

describe('runOnHosts over real targets', { skip }, () => {
  let bridge: WinRMBridge
  let sshd: SshdPeer
  let closedPort: number

  before(async () => {
    bridge = await startWinRMBridge({ pwsh: pwsh as string, username: USER, password: PASSWORD })
    sshd = await startSshd({ pwsh: pwsh as string })
    closedPort = await freePort()
  })
  after(async () => {
    await bridge?.close()
    await sshd?.close()
  })

  test('local, SSH and WinRM succeed; a wrong user and a closed port fail alone, typed', async () => {
    const targets = [
      'local',
      `ssh://${sshd.username}@127.0.0.1:${sshd.port}`,
      `http://127.0.0.1:${bridge.port}`,
      `http://intruder@127.0.0.1:${bridge.port}`,
      `http://127.0.0.1:${closedPort}`,
    ]
    const results: HostResult[] = []
    for await (const r of runOnHosts(targets, "Write-Error 'oops' -ErrorAction Continue; 6 * 7", {
      throttle: 2,
      retries: 1,
      retryDelay: 10,
      perHostTimeout: 60_000,
      wsman: { auth: 'basic', username: USER, password: PASSWORD, allowUnencryptedBasic: true },
      ssh: { password: sshd.password, hostKey: { knownHosts: sshd.knownHostsPath } },
    })) {
      results.push(r)
    }
    assert.deepEqual(results.map((r) => r.target.text).sort(), [...targets].sort(), 'each host exactly once')
    const by = new Map(results.map((r) => [r.target.text, r]))
    for (const ok of targets.slice(0, 3)) {
      const r = by.get(ok)
      assert.ok(r?.ok, `${ok}: ${r !== undefined && !r.ok ? r.error.message : ''}`)
      assert.deepEqual(r.output, [42])
      assert.equal(r.hadErrors, true)
      const record = r.streams?.error[0]
      assert.ok(record instanceof ErrorRecord)
      assert.equal(record.message, 'oops')
      assert.equal(r.attempts, 1)
    }
    const intruder = by.get(targets[3] as string)
    assert.ok(intruder !== undefined && !intruder.ok)
    assert.ok(intruder.error instanceof AuthenticationError, intruder.error.message)
    assert.equal(intruder.phase, 'connect')
    assert.equal(intruder.attempts, 1, 'a refused login is not retried')
    const closed = by.get(targets[4] as string)
    assert.ok(closed !== undefined && !closed.ok)
    assert.ok(closed.error instanceof TransportError, closed.error.message)
    assert.equal(closed.phase, 'connect')
    assert.equal(closed.attempts, 2, 'a refused connection is retried')
    assert.equal(bridge.shells(), 0, 'the WinRM shell was closed')
  })

  test('perHostTimeout stops a running pipeline and closes the host; onOutput streams objects', async () => {
    const streamed: unknown[] = []
    const started = performance.now()
    const results: HostResult[] = []
    for await (const r of runOnHosts(
      ['local', `http://127.0.0.1:${bridge.port}`],
      'if ($env:PSRP_FLEET_SLEEP) { Start-Sleep -Seconds 120 } else { 1..3 }',
      {
        perHostTimeout: 25_000, // well above a pool open on a loaded machine, far below the sleep
        local: { env: { ...process.env, PSRP_FLEET_SLEEP: '1' } },
        onOutput: (host, o) => streamed.push([host, o]),
        wsman: { auth: 'basic', username: USER, password: PASSWORD, allowUnencryptedBasic: true },
      },
    )) {
      results.push(r)
    }
    assert.ok(performance.now() - started < 100_000, 'the sleeping host did not hold the run')
    const local = results.find((r) => r.target.kind === 'local')
    assert.ok(local !== undefined && !local.ok)
    assert.ok(local.error instanceof TimeoutError, local.error.message)
    assert.equal(local.phase, 'run')
    const wsman = results.find((r) => r.target.kind === 'wsman')
    assert.ok(
      wsman?.ok,
      wsman !== undefined && !wsman.ok ? `${wsman.error.name}: ${wsman.error.message}` : '',
    )
    assert.equal(wsman.output, undefined, 'streamed, not collected')
    assert.deepEqual(streamed, [
      ['127.0.0.1', 1],
      ['127.0.0.1', 2],
      ['127.0.0.1', 3],
    ])
    assert.equal(bridge.shells(), 0)
  })
})
