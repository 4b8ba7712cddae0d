/**
 * `RunspacePool.open({ maxReceivedObjectSize })` reaches the reassembly of server messages: a message
 * over the limit fails the pool with a ProtocolError naming it (against a real recording, Windows
 * Server 2012 R2 in test/recordings), and a limit that is not a positive integer is refused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { InvalidArgumentError, ProtocolError, RunspacePool } from '../../../src/index.ts'
import { replayConnection, startReplayServer } from '../../helpers/winrm-replay.ts'

const recording = join(
  import.meta.dirname,
  '../../recordings/pypsrp-extra/test_psrp_run_protocol_version_2.2.yml',
)

async function open(maxReceivedObjectSize: number): Promise<unknown> {
  const server = await startReplayServer(recording, { concurrentReceives: true, receiveTimeoutMs: 300 })
  const conn = replayConnection(server)
  try {
    const pool = await RunspacePool.open(conn, { timeout: 10_000, maxReceivedObjectSize })
    return pool.state
  } finally {
    await server.close()
  }
}

test('a server message over maxReceivedObjectSize fails the pool with a ProtocolError', async () => {
  // the recorded APPLICATION_PRIVATE_DATA (the PSVersionTable) is about a kilobyte
  await assert.rejects(open(300), (e: unknown) => {
    assert.ok(e instanceof ProtocolError, String(e))
    assert.match(e.message, /exceeds the limit of 300\b/)
    return true
  })
  assert.equal(await open(64 * 1024), 'Opened')
})

test('maxReceivedObjectSize must be a positive integer', async () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) await assert.rejects(open(bad), InvalidArgumentError)
})
