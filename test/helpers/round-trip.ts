/**
 * One whole PSRP session over a connection, asserted step by step: open a pool, a pipeline with output
 * and an error record, a large string as pipeline input (its length and first characters come back),
 * close. Every step is {@link bounded}, so a peer that stops answering fails the test instead of
 * hanging it.
 */
import assert from 'node:assert/strict'
import { ErrorRecord, PowerShell, RunspacePool, type PsrpConnection } from '../../src/index.ts'
import { bounded } from './bounded.ts'

export interface RoundTripOptions {
  /** Size of the input string, in bytes (one character repeated). */
  readonly inputBytes: number
  /** The repeated character. */
  readonly fill: string
  /** Limit for opening the pool and for the large input, in ms. */
  readonly openMs: number
  /** Limit for the small pipeline and for closing, in ms. */
  readonly callMs: number
}

/** Runs the session; resolves with the milliseconds opening the pool took. */
export async function sessionRoundTrip(conn: PsrpConnection, o: RoundTripOptions): Promise<number> {
  const t0 = Date.now()
  const pool = await bounded(RunspacePool.open(conn, { timeout: o.openMs }), o.openMs, 'open')
  const opened = Date.now() - t0
  assert.equal(pool.state, 'Opened')

  const ps = new PowerShell(pool).addScript("'a'; Write-Error 'e'; 'b'")
  assert.deepEqual(await bounded(ps.invoke(), o.callMs, 'invoke'), ['a', 'b'])
  assert.ok(ps.streams.error[0] instanceof ErrorRecord)
  assert.equal(ps.streams.error[0].message, 'e')

  const big = o.fill.repeat(o.inputBytes)
  assert.deepEqual(
    await bounded(
      new PowerShell(pool)
        .addScript('$input | ForEach-Object { $_.Length; $_.Substring(0, 3) }')
        .invoke([big]),
      o.openMs,
      `${o.inputBytes} bytes of input`,
    ),
    [big.length, o.fill.repeat(3)],
  )
  await bounded(pool.close(), o.callMs, 'close')
  assert.equal(pool.state, 'Closed')
  return opened
}
