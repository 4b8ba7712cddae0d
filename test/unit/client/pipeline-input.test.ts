/**
 * How `PowerShell` batches pipeline input (each batch waits for one acknowledgement, which over WinRM
 * is a Send request): scalars go up to 1,024 a batch, objects of unknown size 64, bytes and strings up
 * to 4 MiB. Measured as the values the input iterator has handed out that the server has not received
 * yet, each time the client asks for the next value.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PowerShell, RunspacePool } from '../../../src/client/index.ts'
import type { PsrpPayload } from '../../../src/transport/psrp-transport.ts'
import { FakeTransport } from './fake-transport.ts'

/** A transport whose server completes a pipeline once its input has ended. */
class InputTransport extends FakeTransport {
  override send(payload: PsrpPayload): Promise<void> {
    const done = super.send(payload)
    const pid = payload.pipelineId
    if (
      pid !== undefined &&
      this.server.messages('END_OF_PIPELINE_INPUT').some((m) => m.pipelineId === pid)
    ) {
      this.server.sendPipelineState(pid, 'Completed')
    }
    return done
  }
}

/** Feeds `count` values made by `make` and returns the most ever handed out but not yet received. */
async function mostInFlight(count: number, make: (i: number) => unknown): Promise<number> {
  const transport = new InputTransport()
  const pool = await RunspacePool.open(transport)
  const received = (): number => transport.server.received.filter((m) => m.type === 'PIPELINE_INPUT').length
  let handedOut = 0
  let most = 0
  async function* input(): AsyncGenerator<unknown> {
    for (let i = 0; i < count; i++) {
      most = Math.max(most, handedOut - received())
      handedOut++
      yield make(i)
    }
  }
  await new PowerShell(pool).addCommand('Out-Null').invoke(input())
  assert.equal(transport.server.messages('PIPELINE_INPUT').length, count)
  await pool.close()
  return most
}

test('integers go 1,024 to a batch, not one round trip per 64', async () => {
  const most = await mostInFlight(5000, (i) => i)
  assert.equal(most, 1023)
})

test('objects of unknown size still wait every 64', async () => {
  const most = await mostInFlight(500, (i) => ({ index: i, name: `item ${i}` }))
  assert.equal(most, 63)
})

test('byte arrays wait every 4 MiB', async () => {
  const chunk = 256 * 1024
  const most = await mostInFlight(40, () => new Uint8Array(chunk))
  assert.equal(most, (4 * 1024 * 1024) / chunk - 1)
})
