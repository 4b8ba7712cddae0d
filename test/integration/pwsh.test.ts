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
  InvalidArgumentError,
  DEFAULT_GC_GEN0_BUDGET,
  DEFAULT_GC_LARGE_OBJECT_THRESHOLD,
  type ProcessConnectionOptions,
} from '../../src/index.ts'
import { definePoolScenarios } from './pool-scenarios.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const conn = (): ProcessConnection => new ProcessConnection({ executable: pwsh as string })

// 200,000 items prove the bounded memory (pool-scenarios.ts measures the live heap: 4 MiB is 21 bytes
// an item). A million is `npm run bench`'s job: pwsh's own server needs 90 s for it on 2 cores with
// ProcessConnection's GC budget, ~10 minutes with .NET's (its CPU per item grows with the count; see
// bench/README.md, "pwsh's garbage collector"). PSRP_STREAM_ITEMS overrides.
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

/**
 * What the server sees: its GC variables (`DOTNET_GCgen0size`, `COMPlus_GCgen0size`,
 * `DOTNET_GCLOHThreshold`), the generation of a new 1 MiB array (2: the large-object heap), and its
 * collections over `1..count`.
 */
async function serverGc(
  options: ProcessConnectionOptions,
  count = 0,
): Promise<{ dotnet: string; complus: string; loh: string; generationOf1MiB: number; collections: number }> {
  const connection = new ProcessConnection({ executable: pwsh as string, ...options })
  await using pool = await RunspacePool.open(connection, { timeout: 60_000 })
  const before = Number((await new PowerShell(pool).addScript('[GC]::CollectionCount(0)').invoke())[0])
  let n = 0
  if (count > 0) for await (const _ of new PowerShell(pool).addScript(`1..${count}`).stream()) n++
  assert.equal(n, count)
  const [dotnet, complus, loh, generation, after] = (await new PowerShell(pool)
    .addScript(
      '"$env:DOTNET_GCgen0size"; "$env:COMPlus_GCgen0size"; "$env:DOTNET_GCLOHThreshold"; ' +
        '[GC]::GetGeneration([byte[]]::new(1MB)); [GC]::CollectionCount(0)',
    )
    .invoke()) as [string, string, string, number, number]
  return { dotnet, complus, loh, generationOf1MiB: Number(generation), collections: Number(after) - before }
}

describe("pwsh -s garbage collector's settings", { skip, timeout: 120_000 }, () => {
  test('by default pwsh gets a 16 MiB budget and collects far less often while it streams small objects', async () => {
    // pwsh's server allocates ~75 KB per integer it sends; 4,000 integers are ~300 MB of garbage
    const ours = await serverGc({}, 4000)
    const dotnet = await serverGc({ gcGen0Budget: 0 }, 4000)
    assert.equal(ours.dotnet, DEFAULT_GC_GEN0_BUDGET.toString(16))
    assert.equal(dotnet.dotnet, '')
    assert.ok(
      ours.collections * 2 <= dotnet.collections,
      `collections with 16 MiB: ${ours.collections}; with .NET's own budget: ${dotnet.collections}`,
    )
  })

  test("by default a 1 MiB array is a young object, not on the large-object heap; 0 keeps .NET's 85,000 bytes", async () => {
    const ours = await serverGc({})
    assert.equal(ours.loh, DEFAULT_GC_LARGE_OBJECT_THRESHOLD.toString(16))
    assert.equal(ours.generationOf1MiB, 0)
    const dotnet = await serverGc({ gcLargeObjectThreshold: 0 })
    assert.deepEqual([dotnet.loh, dotnet.generationOf1MiB], ['', 2])
  })

  test("a setting given in the caller's environment stands, and undefined there keeps .NET's own", async () => {
    const given = await serverGc({ gcGen0Budget: 0x2000000 })
    assert.deepEqual([given.dotnet, given.complus], ['2000000', ''])
    const own = await serverGc({ gcGen0Budget: 0x2000000, env: { DOTNET_GCgen0size: '0x3000000' } })
    assert.equal(own.dotnet, '0x3000000')
    const complus = await serverGc({ env: { COMPlus_GCgen0size: '800000' } })
    assert.deepEqual([complus.dotnet, complus.complus], ['', '800000'])
    const removed = await serverGc({
      env: { DOTNET_GCgen0size: undefined, DOTNET_GCLOHThreshold: undefined },
    })
    assert.deepEqual(
      [removed.dotnet, removed.complus, removed.loh, removed.generationOf1MiB],
      ['', '', '', 2],
    )
    const lohGiven = await serverGc({ env: { DOTNET_GCLOHThreshold: '200000' } })
    assert.deepEqual(
      [lohGiven.loh, lohGiven.generationOf1MiB, lohGiven.dotnet],
      ['200000', 0, DEFAULT_GC_GEN0_BUDGET.toString(16)],
    )
  })
})

test('GC settings out of range are an InvalidArgumentError', () => {
  for (const gcGen0Budget of [-1, 1000, 65_535, 1.5, 2 ** 32 + 1, Number.NaN, Infinity])
    assert.throws(() => new ProcessConnection({ gcGen0Budget }), InvalidArgumentError, String(gcGen0Budget))
  for (const gcGen0Budget of [0, 65_536, 2 ** 32]) new ProcessConnection({ gcGen0Budget })
  for (const gcLargeObjectThreshold of [-1, 84_999, 2.5, 2 ** 32 + 1, Number.NaN])
    assert.throws(
      () => new ProcessConnection({ gcLargeObjectThreshold }),
      InvalidArgumentError,
      String(gcLargeObjectThreshold),
    )
  for (const gcLargeObjectThreshold of [0, 85_000, 2 ** 32]) new ProcessConnection({ gcLargeObjectThreshold })
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
