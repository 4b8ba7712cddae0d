/**
 * Surviving the network (issue 16, docs/network.md): a fault-injecting TCP proxy
 * (test/helpers/fault-proxy.ts) sits between the client and the WinRM test bridge, which hosts each
 * shell in a real `pwsh -s`. Each case breaks one request of a running pipeline and checks that the
 * script's output arrives exactly once and in order (1..N, no gap, no repeat), or that the call fails
 * with a typed error within its timeout.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import {
  Client,
  ConnectionLostError,
  PowerShell,
  PsrpError,
  RunspacePool,
  TransportError,
  WSManConnection,
  type WSManConnectionOptions,
} from '../../src/index.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'
import { startWinRMBridge } from '../helpers/winrm-bridge/index.ts'
import {
  startFaultProxy,
  type FaultAction,
  type FaultProxy,
  type ProxiedRequest,
} from '../helpers/fault-proxy.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const USER = 'psrp'
const PASSWORD = 'fault pässword'
const N = 12
/** Prints 1..N, one number every 150 ms, so the output spans many Receives. */
const SCRIPT = `1..${N} | ForEach-Object { $_; Start-Sleep -Milliseconds 150 }`
const EXPECTED = Array.from({ length: N }, (_, i) => i + 1)

type Bridge = Awaited<ReturnType<typeof startWinRMBridge>>

describe('network faults between the client and the WinRM server', { skip }, () => {
  let bridge: Bridge
  let proxy: FaultProxy
  const tmp = mkdtempSync(join(tmpdir(), 'psrp-faults-'))

  before(async () => {
    bridge = await startWinRMBridge({ pwsh: pwsh as string, username: USER, password: PASSWORD })
    proxy = await startFaultProxy(bridge.port)
  })
  after(async () => {
    await proxy.close()
    await bridge.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  function connection(extra: Partial<WSManConnectionOptions> = {}): WSManConnection {
    return new WSManConnection({
      server: '127.0.0.1',
      port: proxy.port,
      ssl: false,
      auth: 'basic',
      username: USER,
      password: PASSWORD,
      allowUnencryptedBasic: true,
      operationTimeout: 2,
      readTimeout: 30_000,
      retries: { count: 3, backoffMs: 50 },
      ...extra,
    })
  }

  /** A rule that applies `fault` to the `k`-th Receive of a pipeline (1-based) and passes the rest. */
  function onPipelineReceive(k: number, fault: FaultAction): (r: ProxiedRequest) => FaultAction {
    let seen = 0
    return (r) => {
      if (r.action !== 'Receive' || r.commandId === undefined) return 'pass'
      return ++seen === k ? fault : 'pass'
    }
  }

  /** Runs SCRIPT on a fresh pool through the proxy: the numbers output, or the error. */
  async function run(conn: WSManConnection): Promise<number[] | unknown> {
    const pool = await RunspacePool.open(conn, { timeout: 30_000 })
    try {
      const out = await new PowerShell(pool).addScript(SCRIPT).invoke(undefined, { timeout: 40_000 })
      return out.map((v) => Number(v))
    } catch (e) {
      return e
    } finally {
      proxy.setRule(() => 'pass')
      await pool.close({ timeout: 15_000 }).catch(() => undefined)
      await conn.close()
    }
  }

  /** The output is exactly 1..N, or the failure is a typed error. */
  function exactlyOnceOrTyped(result: unknown, typed: (e: unknown) => boolean): void {
    if (Array.isArray(result)) assert.deepEqual(result, EXPECTED)
    else assert.ok(typed(result), `a typed error, got ${String(result)}`)
  }

  test('the socket dropped under a pending Receive: the Receive is sent again, output arrives once', async () => {
    proxy.setRule(onPipelineReceive(2, 'drop'))
    const result = await run(connection())
    assert.deepEqual(result, EXPECTED)
    assert.ok(
      proxy.log.some((r) => r.fault === 'drop'),
      'the fault was injected',
    )
  })

  test('the server got the Receive and the connection died before its answer: output once or a typed error', async () => {
    proxy.setRule(onPipelineReceive(3, 'dropAfterForward'))
    exactlyOnceOrTyped(await run(connection()), (e) => e instanceof TransportError)
    assert.ok(proxy.log.some((r) => r.fault === 'dropAfterForward'))
  })

  test('a ReceiveResponse cut half way: the lost output is a TransportError, never a silent gap', async () => {
    // the 2nd pipeline Receive that carries output is cut; the bridge, like WinRM, dequeued it
    proxy.setRule(onPipelineReceive(2, 'cutResponse'))
    const result = await run(connection())
    exactlyOnceOrTyped(result, (e) => e instanceof TransportError && /lost/.test(e.message))
  })

  test('a Receive stalled past readTimeout is sent again on a new connection; output arrives once', async () => {
    proxy.setRule(onPipelineReceive(2, 'stall'))
    const result = await run(connection({ readTimeout: 10_000 }))
    assert.deepEqual(result, EXPECTED)
    assert.ok(proxy.log.some((r) => r.fault === 'stall'))
  })

  test('429 with Retry-After: 1 is retried by the HTTP layer; output arrives once', async () => {
    const throttled = onPipelineReceive(2, {
      status: 429,
      headers: { 'Retry-After': '1' },
      body: 'slow down',
    })
    let sends = 0
    // also throttle the first Send of the run (the HTTP layer retries it: 429 means not acted on)
    proxy.setRule((r) =>
      r.action === 'Send' && ++sends === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : throttled(r),
    )
    const before = proxy.log.length
    const result = await run(connection())
    assert.deepEqual(result, EXPECTED)
    const log = proxy.log.slice(before)
    const i = log.findIndex((r) => r.fault === 'answer 429' && r.action === 'Receive')
    assert.ok(i >= 0, 'a Receive was answered 429')
    assert.equal(log.slice(i + 1).find((r) => r.commandId === log[i]?.commandId)?.action, 'Receive')
  })

  test('the connection lost for 2 s mid-pipeline: the pool reaches its shell again and the output continues', async () => {
    let seen = 0
    let cut = false
    proxy.setRule((r) => {
      if (cut) return 'drop'
      if (r.action === 'Receive' && r.commandId !== undefined && ++seen === 3) {
        cut = true
        setTimeout(() => (cut = false), 2000)
        return 'drop'
      }
      return 'pass'
    })
    const result = await run(connection({ receiveRetries: 1, reconnectWindow: 30_000 }))
    assert.deepEqual(result, EXPECTED)
    assert.ok(proxy.log.filter((r) => r.fault === 'drop').length > 1, 'requests were dropped for a while')
  })

  test('when the reconnection window passes, the pipeline fails with ConnectionLostError', async () => {
    let seen = 0
    let cut = false
    proxy.setRule((r) => {
      if (r.action === 'Receive' && r.commandId !== undefined && ++seen === 2) cut = true
      return cut ? 'drop' : 'pass'
    })
    const result = await run(connection({ receiveRetries: 1, reconnectWindow: 1500 }))
    assert.ok(result instanceof ConnectionLostError, `ConnectionLostError, got ${String(result)}`)
    assert.equal(result.code, 'ERR_TRANSPORT')
    assert.equal(result.windowMs, 1500)
  })

  test('RunspacePool.isAlive: true for an open pool (a Get of the shell), false once closed', async () => {
    const conn = connection()
    const pool = await RunspacePool.open(conn, { timeout: 30_000 })
    const before = proxy.log.length
    assert.equal(await pool.isAlive({ timeout: 10_000 }), true)
    assert.deepEqual(
      proxy.log
        .slice(before)
        .filter((r) => r.action !== 'Receive')
        .map((r) => r.action),
      ['Get'],
      'one Get and nothing else (the pool Receive long-poll runs meanwhile)',
    )
    await pool.close({ timeout: 15_000 })
    assert.equal(await pool.isAlive(), false)
    await conn.close()
  })

  test('Client.copy with a pipeline Receive reset: the file arrives whole, or a typed error', async () => {
    const data = randomBytes(600_000)
    const src = join(tmp, 'src.bin')
    const dest = join(tmp, 'dest.bin')
    writeFileSync(src, data)
    proxy.setRule(onPipelineReceive(1, 'reset'))
    const client = new Client(connection(), { maxRunspaces: 1 })
    try {
      const outcome = await client.copy(src, dest, { timeout: 60_000 }).then(
        () => 'copied',
        (e: unknown) => e,
      )
      if (outcome === 'copied') assert.ok(readFileSync(dest).equals(data), 'the copy is byte for byte')
      else assert.ok(outcome instanceof PsrpError, `a typed error, got ${String(outcome)}`)
      assert.ok(
        proxy.log.some((r) => r.fault === 'reset'),
        'the fault was injected',
      )
    } finally {
      proxy.setRule(() => 'pass')
      await client.close()
    }
  })

  test('Client.copy with a Send reset: the data is not sent twice; the copy fails with a typed error', async () => {
    const data = randomBytes(600_000)
    const src = join(tmp, 'src2.bin')
    const dest = join(tmp, 'dest2.bin')
    writeFileSync(src, data)
    let sends = 0
    proxy.setRule((r) =>
      r.action === 'Send' && r.commandId !== undefined && ++sends === 2 ? 'dropAfterForward' : 'pass',
    )
    const client = new Client(connection(), { maxRunspaces: 1 })
    try {
      const outcome = await client.copy(src, dest, { timeout: 60_000 }).then(
        () => 'copied',
        (e: unknown) => e,
      )
      if (outcome === 'copied') assert.ok(readFileSync(dest).equals(data), 'the copy is byte for byte')
      else assert.ok(outcome instanceof PsrpError, `a typed error, got ${String(outcome)}`)
    } finally {
      proxy.setRule(() => 'pass')
      await client.close()
    }
  })
})
