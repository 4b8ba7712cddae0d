/**
 * Older servers, from their real recordings (test/recordings/pypsrp-extra): PowerShell 2.0 on
 * Windows Server 2008 R2 speaks protocol 2.1 and chooses its own ShellId and CommandId (MS-WSMV
 * 3.1.4.5, 3.1.4.11), which every later request must use; features a server's protocol version lacks
 * fail at once with NotSupportedError instead of sending a message the server cannot handle.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { NotSupportedError, RunspacePool } from '../../../src/index.ts'
import { replayConnection, startReplayServer, type ReplayServer } from '../../helpers/winrm-replay.ts'

const recordings = join(import.meta.dirname, '../../recordings/pypsrp-extra')

async function openAgainst(name: string): Promise<{ server: ReplayServer; pool: RunspacePool }> {
  const server = await startReplayServer(join(recordings, `${name}.yml`), {
    concurrentReceives: true,
    receiveTimeoutMs: 300,
  })
  const conn = replayConnection(server)
  const pool = await RunspacePool.open(conn, { timeout: 10_000 })
  return { server, pool }
}

test('protocol 2.1 (PowerShell 2.0): the server-assigned ShellId is used after Create', async () => {
  const { server, pool } = await openAgainst('test_psrp_run_protocol_version_2.1')
  try {
    assert.equal(pool.state, 'Opened')
    assert.equal(pool.protocolVersion, '2.1')
    assert.equal(String(pool.psVersionTable?.get('PSVersion')), '2.0')
    assert.deepEqual(server.mismatches, [])
  } finally {
    await server.close()
  }
})

test('protocol 2.1: resetRunspaceState and disconnect are refused before anything is sent', async () => {
  const { server, pool } = await openAgainst('test_psrp_run_protocol_version_2.1')
  try {
    const served = server.session.served
    await assert.rejects(pool.resetRunspaceState(), (e: unknown) => {
      assert.ok(e instanceof NotSupportedError)
      assert.match(e.message, /protocol 2\.3 or later; the server speaks 2\.1 \(PowerShell 2\.0\)/)
      return true
    })
    await assert.rejects(pool.disconnect(), NotSupportedError)
    assert.equal(server.session.served, served, 'no request reached the server')
    assert.deepEqual(server.mismatches, [])
  } finally {
    await server.close()
  }
})

test('protocol 2.2 (Windows Server 2012 R2): open works and resetRunspaceState (2.3+) is refused', async () => {
  const { server, pool } = await openAgainst('test_psrp_run_protocol_version_2.2')
  try {
    assert.equal(pool.protocolVersion, '2.2')
    await assert.rejects(pool.resetRunspaceState(), /the server speaks 2\.2/)
    assert.deepEqual(server.mismatches, [])
  } finally {
    await server.close()
  }
})
