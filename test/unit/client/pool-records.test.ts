/**
 * Records the server sends to the pool rather than to a pipeline (PID the nil GUID, as Exchange
 * Online's proxy sends warnings): the core reports them as `poolRecord`, `RunspacePool` keeps them
 * in `pool.streams` and emits them; a pipeline's own records stay with the pipeline.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PowerShell, RunspacePool } from '../../../src/client/index.ts'
import { ClientRunspacePool } from '../../../src/psrp/index.ts'
import { InformationalRecord, WarningRecord } from '../../../src/clixml/index.ts'
import { openPair, pump, sequentialGuids, testError } from '../../helpers/psrp-server.ts'
import { FakeTransport } from './fake-transport.ts'

test('the core reports a record with the nil pipeline id as a poolRecord', () => {
  const { client, server } = openPair(
    () =>
      new ClientRunspacePool({
        id: '0badc0de-0000-4000-8000-000000000009',
        guid: sequentialGuids('dddddddd'),
      }),
  )
  server.send('WARNING_RECORD', { record: InformationalRecord.create('Warning', 'from the proxy') })
  const events = pump(client, server)
  assert.equal(events.length, 1)
  const e = events[0]
  assert.equal(e?.type, 'poolRecord')
  assert.ok(e.type === 'poolRecord' && e.stream === 'warning' && e.record instanceof WarningRecord)
  assert.equal(e.record.message, 'from the proxy')
})

test('pool-level records land in pool.streams and its events; the pipeline keeps its own', async () => {
  const transport = new FakeTransport()
  transport.onPipeline = (server, pid) => {
    server.send('WARNING_RECORD', { record: InformationalRecord.create('Warning', 'pool warning') })
    server.send('ERROR_RECORD', { record: testError('pool error') })
    server.send('WARNING_RECORD', { record: InformationalRecord.create('Warning', 'pipeline warning') }, pid)
    server.send('PIPELINE_OUTPUT', { value: 1 }, pid)
    server.sendPipelineState(pid, 'Completed')
  }
  const pool = await RunspacePool.open(transport)
  const heard: string[] = []
  pool.on('warning', (r) => heard.push(r.message))
  const ps = new PowerShell(pool).addScript('1')
  // no 'error' listener on the pool: a pool-level error record must not throw
  assert.deepEqual(await ps.invoke(), [1])
  assert.deepEqual(
    pool.streams.warning.map((r) => r.message),
    ['pool warning'],
  )
  assert.deepEqual(
    pool.streams.error.map((r) => r.message),
    ['pool error'],
  )
  assert.deepEqual(heard, ['pool warning'])
  assert.deepEqual(
    ps.streams.warning.map((r) => r.message),
    ['pipeline warning'],
  )
  assert.equal(ps.streams.error.length, 0)
  await pool.close()
})
