/**
 * `RunspacePool` and `PowerShell` over an in-memory transport whose far end is the in-memory PSRP
 * server: the pipeline handle's life cycle without a real peer.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AbortError } from '../../../src/errors.ts'
import { PowerShell, RunspacePool } from '../../../src/client/index.ts'
import { FakeTransport } from './fake-transport.ts'

test('a pre-aborted invoke leaves no listener behind: closing the pool later does not touch that PowerShell', async () => {
  const transport = new FakeTransport()
  const pool = await RunspacePool.open(transport)
  const ps = new PowerShell(pool).addScript('1')
  const states: string[] = []
  ps.on('stateChanged', (s) => states.push(s))
  await assert.rejects(ps.invoke(undefined, { signal: AbortSignal.abort() }), AbortError)
  assert.equal(ps.state, 'NotStarted')
  await pool.close()
  // a listener left attached to the pool would see the pool's failure on close and fail this PowerShell
  assert.equal(ps.state, 'NotStarted')
  assert.deepEqual(states, [])
  assert.deepEqual(transport.pipelinesCreated, [])
})

test('a pipeline runs, completes and is released on the transport', async () => {
  const transport = new FakeTransport()
  transport.onPipeline = (server, pid) => {
    server.send('PIPELINE_OUTPUT', { value: 42 }, pid)
    server.sendPipelineState(pid, 'Completed')
  }
  const pool = await RunspacePool.open(transport)
  const ps = new PowerShell(pool).addScript('42')
  assert.deepEqual(await ps.invoke(), [42])
  assert.equal(ps.state, 'Completed')
  assert.equal(transport.poolCreated, true)
  assert.deepEqual(transport.pipelinesCreated, [ps.instanceId])
  assert.deepEqual(transport.pipelinesClosed, [ps.instanceId])
  await pool.close()
})
