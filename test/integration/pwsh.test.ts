/**
 * PSRP against a real PowerShell 7.6 over the out-of-process transport (`pwsh -s`): the scenario list
 * of issue 3 (pool-scenarios.ts) plus process failures and malformed server output. Skips when pwsh
 * is absent (fails under PSRP_REQUIRE_PEERS=1).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import {
  PowerShell,
  ProcessConnection,
  ProtocolError,
  RunspacePool,
  TransportError,
  InvalidStateError,
} from '../../src/index.ts'
import { definePoolScenarios } from './pool-scenarios.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const conn = (): ProcessConnection => new ProcessConnection({ executable: pwsh as string })

// 200,000 items prove the bounded memory (pool-scenarios.ts measures the live heap: 4 MiB is 21 bytes
// an item). A million is `npm run bench`'s job: pwsh's own server needs ~10 minutes for it on 2 cores
// (its CPU per item grows with the count; PowerShell's own client takes as long). PSRP_STREAM_ITEMS
// overrides.
definePoolScenarios({
  label: 'pwsh -s',
  skip,
  connect: conn,
  streamItems: Number(process.env.PSRP_STREAM_ITEMS ?? 200_000),
})

describe('pwsh -s failures', { skip }, () => {
  test('killing pwsh mid-pipeline rejects pending calls with TransportError promptly; closing twice is harmless', async () => {
    const connection = conn()
    const pool = await RunspacePool.open(connection, { timeout: 60_000 })
    const run = new PowerShell(pool).addScript('Start-Sleep 60').invoke()
    run.catch(() => undefined)
    await new Promise((r) => setTimeout(r, 500))
    const t0 = Date.now()
    process.kill(connection.pid as number, 'SIGKILL')
    await assert.rejects(run, TransportError)
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`)
    await assert.rejects(
      new PowerShell(pool).addScript('1').invoke(),
      (e: unknown) => e instanceof TransportError || e instanceof InvalidStateError,
    )
    await pool.close()
    await pool.close()
  })
})

describe('malformed server output', () => {
  const fake = fileURLToPath(new URL('../helpers/fake-psrp-server.mjs', import.meta.url))
  for (const [mode, type] of [
    ['orphan-fragment', ProtocolError],
    ['bad-clixml', ProtocolError],
    ['garbled', ProtocolError],
  ] as const) {
    test(`${mode}: opening fails with ${type.name}, nothing hangs`, async () => {
      const connection = new ProcessConnection({
        executable: process.execPath,
        arguments: [fake, mode],
        connectTimeout: 10_000,
        closeTimeout: 5_000,
      })
      await assert.rejects(RunspacePool.open(connection, { timeout: 10_000 }), type)
    })
  }
})
