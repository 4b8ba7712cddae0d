/**
 * The WinRM test server's simulated PowerShell shells (no pwsh): a real client opens a pool through
 * the server, runs pipelines and gets the simulated answers, and the shell is gone after close.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Client, runOnHosts } from '../../../src/index.ts'
import { startWinRMBridge } from '../../helpers/winrm-bridge/index.ts'

const credentials = { auth: 'basic', username: 'sim', password: 'sim', allowUnencryptedBasic: true } as const

test('a simulated shell answers each pipeline with the given outputs', async () => {
  const bridge = await startWinRMBridge({
    pwsh: '/nonexistent/pwsh', // never run
    username: 'sim',
    password: 'sim',
    simulate: (commands) => [`ran ${commands.join(' | ')}`, 42],
  })
  try {
    const client = new Client('127.0.0.1', { ...credentials, port: bridge.port, ssl: false })
    try {
      assert.deepEqual((await client.runPs('Get-Date')).output, ['ran Get-Date', 42])
      assert.deepEqual((await client.runPs('hostname')).output, ['ran hostname', 42])
      assert.equal(bridge.shells(), 1)
    } finally {
      await client.close()
    }
    assert.equal(bridge.shells(), 0)
  } finally {
    await bridge.close()
  }
})

test('twenty simulated hosts through runOnHosts, throttle 5', async () => {
  const bridges = await Promise.all(
    Array.from({ length: 20 }, () =>
      startWinRMBridge({
        pwsh: '/nonexistent/pwsh',
        username: 'sim',
        password: 'sim',
        simulate: () => ['up'],
      }),
    ),
  )
  try {
    const results = []
    for await (const r of runOnHosts(
      bridges.map((b) => `http://127.0.0.1:${b.port}`),
      'Get-Date',
      { throttle: 5, wsman: credentials },
    )) {
      results.push(r)
    }
    assert.equal(results.length, 20)
    assert.ok(results.every((r) => r.ok && r.output?.[0] === 'up'))
    assert.ok(bridges.every((b) => b.shells() === 0))
  } finally {
    await Promise.all(bridges.map((b) => b.close()))
  }
})
