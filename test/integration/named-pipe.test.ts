/**
 * PSRP over PowerShell's IPC named pipe (a Unix domain socket on Linux), as `Enter-PSHostProcess`:
 * the issue-3 scenario list against pwsh processes started with `-CustomPipeName` (a fresh one per
 * pool, because a pipe serves one client at a time and the list keeps pools open side by side), then
 * attach by pid to the default `PSHost.*` pipe, reconnects to one pipe back to back, a busy pipe, a
 * missing pipe and the target dying mid-pipeline. Skips without pwsh (fails under PSRP_REQUIRE_PEERS=1).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  InvalidArgumentError,
  NamedPipeConnection,
  NotSupportedError,
  PowerShell,
  RunspacePool,
  TimeoutError,
  TransportError,
  findPipeForPid,
  pipePath,
  type PsrpTransport,
} from '../../src/index.ts'
import type { CallOptions } from '../../src/transport/cancel.ts'
import { definePoolScenarios } from './pool-scenarios.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'
import {
  startPipeTarget,
  stopAllPipeTargets,
  stopPipeTarget as stopTarget,
  waitForPipe,
  type PipeTarget,
} from '../helpers/pipe-target.ts'

const pwsh = findPwsh()
const skip = process.platform === 'win32' ? 'the named-pipe tests use Unix domain sockets' : pwshSkip(pwsh)
const startTarget = (): PipeTarget => startPipeTarget(pwsh as string)

/** A pipe connection that owns its target pwsh and ends it when the pool closes. */
class OwnedPipeConnection extends NamedPipeConnection {
  readonly #child: PipeTarget['child']
  constructor() {
    const { child, name } = startTarget()
    super({ pipeName: name, connectTimeout: 60_000 })
    this.#child = child
  }
  override async close(options?: CallOptions): Promise<void> {
    try {
      await super.close(options)
    } finally {
      stopTarget(this.#child)
    }
  }
}

after(stopAllPipeTargets)

definePoolScenarios({
  label: 'named pipe (-CustomPipeName)',
  skip,
  connect: (): PsrpTransport => new OwnedPipeConnection(),
  streamItems: Number(process.env.PSRP_STREAM_ITEMS ?? 50_000),
})

describe('named pipe: one long-running pwsh', { skip, timeout: 180_000 }, () => {
  let target: PipeTarget
  before(async () => {
    target = startTarget()
    // wait for its socket (pwsh startup)
    assert.ok(await waitForPipe(target.name), `${pipePath(target.name)} did not appear`)
  })
  after(() => stopTarget(target.child))

  test('five pools back to back on one pipe (the server re-listens between clients)', async () => {
    for (let i = 0; i < 5; i++) {
      await using pool = await RunspacePool.open(new NamedPipeConnection({ pipeName: target.name }), {
        timeout: 30_000,
      })
      assert.deepEqual(await new PowerShell(pool).addScript(`${i} * 2`).invoke(), [i * 2])
    }
  })

  test('{ pid } finds the default PSHost pipe (through the global-tool shim) and runs inside that process', async () => {
    // a pwsh of its own: sessions on its default pipe and on a custom pipe are not mixed in one
    // process (pwsh re-creates its listeners after each client, and the two have raced under load)
    const own = startTarget()
    try {
      const pid = own.child.pid as number
      let path = ''
      for (let i = 0; i < 300 && path === ''; i++) {
        path = await findPipeForPid(pid).catch(() => '')
        if (path === '') await new Promise((r) => setTimeout(r, 100))
      }
      assert.match(path, /CoreFxPipe_PSHost\.[0-9A-F]{8}\.\d+\.None\.(dotnet|pwsh)$/)
      const conn = new NamedPipeConnection({ pid })
      await using pool = await RunspacePool.open(conn, { timeout: 30_000 })
      assert.equal(conn.path, path)
      const [remotePid] = await new PowerShell(pool).addScript('$PID').invoke()
      // the PSHost pipe is named after the process that serves it
      assert.equal(String(remotePid), path.split('.').at(-3))
    } finally {
      stopTarget(own.child)
    }
  })

  test('{ path } reaches the custom pipe, served inside the target process', async () => {
    const defaultPipe = await findPipeForPid(target.child.pid as number)
    await using viaPath = await RunspacePool.open(new NamedPipeConnection({ path: pipePath(target.name) }), {
      timeout: 30_000,
    })
    const [remotePid] = await new PowerShell(viaPath).addScript('$PID').invoke()
    assert.equal(String(remotePid), defaultPipe.split('.').at(-3))
  })

  test('a busy pipe (one client at a time) times out with a TimeoutError; the first pool is unaffected', async () => {
    await using first = await RunspacePool.open(new NamedPipeConnection({ pipeName: target.name }), {
      timeout: 30_000,
    })
    const t0 = Date.now()
    await assert.rejects(
      RunspacePool.open(new NamedPipeConnection({ pipeName: target.name, connectTimeout: 2_000 }), {
        timeout: 10_000,
      }),
      TimeoutError,
    )
    assert.ok(Date.now() - t0 < 6_000, `took ${Date.now() - t0} ms`)
    assert.deepEqual(await new PowerShell(first).addScript('"first"').invoke(), ['first'])
  })

  test('disconnect is not supported over a named pipe', async () => {
    await using pool = await RunspacePool.open(new NamedPipeConnection({ pipeName: target.name }), {
      timeout: 30_000,
    })
    await assert.rejects(pool.disconnect(), NotSupportedError)
  })
})

describe('named pipe failures', { skip }, () => {
  test('a pipe that never appears fails after connectTimeout with a TransportError or TimeoutError', async () => {
    const t0 = Date.now()
    await assert.rejects(
      RunspacePool.open(
        new NamedPipeConnection({ pipeName: `psrp-none-${process.pid}`, connectTimeout: 1_000 }),
        {
          timeout: 10_000,
        },
      ),
      (e: unknown) => e instanceof TimeoutError || e instanceof TransportError,
    )
    assert.ok(Date.now() - t0 < 4_000)
  })

  test('a pid without a pipe is a TransportError naming where it looked', async () => {
    await assert.rejects(findPipeForPid(process.pid), (e: unknown) => {
      assert.ok(e instanceof TransportError)
      assert.match(e.message, new RegExp(`CoreFxPipe_PSHost\\.\\*\\.${process.pid}\\.\\*`))
      return true
    })
  })

  test('exactly one of pid, pipeName, path', () => {
    assert.throws(() => new NamedPipeConnection({} as never), InvalidArgumentError)
    assert.throws(() => new NamedPipeConnection({ pid: 1, path: '/x' } as never), InvalidArgumentError)
    assert.throws(() => new NamedPipeConnection({ pipeName: '../etc' }), InvalidArgumentError)
  })

  test(
    'the target dying mid-pipeline rejects pending calls with TransportError promptly',
    { timeout: 60_000 },
    async () => {
      const { child, name } = startTarget()
      const pool = await RunspacePool.open(
        new NamedPipeConnection({ pipeName: name, connectTimeout: 60_000 }),
        {
          timeout: 60_000,
        },
      )
      const run = new PowerShell(pool).addScript('Start-Sleep 60').invoke()
      run.catch(() => undefined)
      await new Promise((r) => setTimeout(r, 500))
      const t0 = Date.now()
      stopTarget(child)
      await assert.rejects(run, TransportError)
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`)
      await pool.close()
    },
  )
})
