/** CREATE_PIPELINE invocation settings from the pipeline spec (MS-PSRP 2.2.2.10), issue 16 item 10. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ClientRunspacePool, pipelineCommand } from '../../../src/psrp/index.ts'
import { openPair, pump, sequentialGuids } from '../../helpers/psrp-server.ts'

function created(spec: Record<string, unknown>): Record<string, unknown> {
  const { client: pool, server } = openPair(
    () =>
      new ClientRunspacePool({
        id: '0badc0de-0000-4000-8000-000000000016',
        guid: sequentialGuids('cccccccc'),
      }),
  )
  pool.createPipeline({ statements: [[pipelineCommand({ command: 'Get-Date' })]], ...spec }).start()
  pump(pool, server)
  return server.last('CREATE_PIPELINE').fields as unknown as Record<string, unknown>
}

test('redirectShellErrorOutputPipe defaults to true and can be turned off', () => {
  assert.equal(created({}).redirectShellErrorOutputPipe, true)
  assert.equal(created({ redirectShellErrorOutputPipe: false }).redirectShellErrorOutputPipe, false)
})

test('apartment state, history text, AddToHistory and RemoteStreamOptions reach the message', () => {
  const f = created({ apartmentState: 0, history: 'the line', addToHistory: true, remoteStreamOptions: 15 })
  assert.equal(f.apartmentState, 0)
  assert.equal(f.history, 'the line')
  assert.equal(f.addToHistory, true)
  assert.equal(f.remoteStreamOptions, 15)
})
