/**
 * PSRP and WinRS over WS-Management end to end: the WinRM test bridge (test/helpers/winrm-bridge)
 * speaks WS-Man on 127.0.0.1 and hosts each PSRP shell in a real `pwsh -s`. The issue-3 scenario list
 * runs over HTTP and over HTTPS (test CA, validation on), plus WinRM-only behaviour and faults.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Server } from 'node:net'
import {
  AuthenticationError,
  InvalidStateError,
  PowerShell,
  ProtocolError,
  RunspacePool,
  TimeoutError,
  TransportError,
  WinRSShell,
  WSManConnection,
  WSManFaultError,
  type WSManConnectionOptions,
} from '../../src/index.ts'
import { findPwsh, opensslSkip, pwshSkip } from '../helpers/peers.ts'
import { startWinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { makeCertificates, type TestCertificates } from '../helpers/http-servers.ts'
import { definePoolScenarios } from './pool-scenarios.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const tlsSkip = skip || opensslSkip()
const USER = 'psrp'
const PASSWORD = 'wsman pässword'

type Bridge = Awaited<ReturnType<typeof startWinRMBridge>>

/** A bridge started lazily by the first connection (so skipped suites start nothing). */
function lazyBridge(https: () => TestCertificates | undefined): {
  options: () => WSManConnectionOptions
  bridge: () => Bridge | undefined
  start: () => Promise<void>
  stop: () => Promise<void>
} {
  let bridge: Bridge | undefined
  let certs: TestCertificates | undefined
  return {
    bridge: () => bridge,
    start: async () => {
      certs = https()
      bridge = await startWinRMBridge({
        pwsh: pwsh as string,
        username: USER,
        password: PASSWORD,
        ...(certs === undefined ? {} : { https: { key: certs.serverKey, cert: certs.serverCert } }),
      })
    },
    stop: async () => {
      await bridge?.close()
    },
    options: () => ({
      server: '127.0.0.1',
      port: (bridge as Bridge).port,
      ssl: certs !== undefined,
      auth: 'basic' as const,
      username: USER,
      password: PASSWORD,
      ...(certs === undefined ? { allowUnencryptedBasic: true } : { ca: certs.ca }),
      operationTimeout: 5,
    }),
  }
}

const httpBridge = lazyBridge(() => undefined)
let certificates: TestCertificates | undefined
const httpsBridge = lazyBridge(() => (certificates ??= makeCertificates()))

describe('WinRM bridge (HTTP)', { skip }, () => {
  before(() => httpBridge.start())
  after(() => httpBridge.stop())
  definePoolScenarios({
    label: 'WSMan HTTP',
    skip,
    connect: () => new WSManConnection(httpBridge.options()),
    streamItems: 50_000,
  })

  test('WinRS: exit codes, stdout and stderr, stdin, environment and working directory', async () => {
    const conn = new WSManConnection(httpBridge.options())
    await using shell = await WinRSShell.open(conn, {
      environment: { PSRP_X: 'from env' },
      workingDirectory: '/tmp',
    })
    const ok = await shell.exec('/bin/sh', ['-c', 'echo "$PSRP_X"; pwd; echo oops >&2; exit 3'])
    assert.equal(ok.exitCode, 3)
    assert.equal(ok.stdout.toString(), 'from env\n/tmp\n')
    assert.equal(ok.stderr.toString(), 'oops\n')
    const cat = await shell.exec('cat', [], { stdin: 'line 1\nline 2\n' })
    assert.equal(cat.stdout.toString(), 'line 1\nline 2\n')
    assert.equal(cat.exitCode, 0)
  })

  test('WinRS: output streams while the process runs; terminate ends it', async () => {
    const conn = new WSManConnection(httpBridge.options())
    await using shell = await WinRSShell.open(conn)
    const proc = await shell.spawn('/bin/sh', ['-c', 'echo first; sleep 30; echo never'])
    const first = await new Promise<string>((resolve) =>
      proc.stdout.once('data', (d: Buffer) => resolve(d.toString())),
    )
    assert.equal(first, 'first\n')
    const t0 = Date.now()
    await proc.kill()
    assert.equal(await proc.exited, null)
    assert.equal(proc.exitCode, undefined)
    assert.ok(Date.now() - t0 < 3000)
  })

  test('disconnect, reconnect, enumerate and connect from a new client', { timeout: 60_000 }, async () => {
    const conn = new WSManConnection(httpBridge.options())
    const pool = await RunspacePool.open(conn, { timeout: 60_000, idleTimeout: 120 })
    const states: string[] = []
    pool.on('stateChanged', (s) => states.push(s))
    // a pipeline that keeps producing while we are away
    const ps = new PowerShell(pool).addScript('1..6 | ForEach-Object { Start-Sleep -Milliseconds 250; $_ }')
    const run = ps.invoke()
    await new Promise((r) => setTimeout(r, 300))
    await pool.disconnect()
    assert.equal(pool.state, 'Disconnected')
    assert.equal(ps.state, 'Disconnected')
    await assert.rejects(new PowerShell(pool).addScript('1').invoke(), InvalidStateError)
    const listed = await RunspacePool.getRunspacePools(conn)
    assert.ok(listed.some((s) => s.shellId?.toLowerCase() === pool.id && s.state === 'Disconnected'))
    await new Promise((r) => setTimeout(r, 1000))
    await pool.reconnect()
    assert.equal(pool.state, 'Opened')
    assert.deepEqual(await run, [1, 2, 3, 4, 5, 6])
    assert.deepEqual(states, ['Disconnected', 'Opened'])

    // another client attaches to the pool this one left disconnected
    await pool.disconnect()
    const other = await RunspacePool.connect(new WSManConnection(httpBridge.options()), pool.id, {
      timeout: 30_000,
    })
    assert.equal(other.state, 'Opened')
    assert.deepEqual(await new PowerShell(other).addScript('"attached"').invoke(), ['attached'])
    await other.close()
    assert.ok(!(await RunspacePool.getRunspacePools(conn)).some((s) => s.shellId?.toLowerCase() === pool.id))
  })

  test(
    'the max envelope size is read from winrm/config and sizes what a pool sends',
    { timeout: 60_000 },
    async () => {
      const conn = new WSManConnection(httpBridge.options())
      assert.equal(conn.maxEnvelopeSize, 153_600)
      assert.equal(await conn.updateMaxEnvelopeSize(), 500 * 1024)
      await using pool = await RunspacePool.open(conn, { timeout: 60_000 })
      const bridge = httpBridge.bridge() as Bridge
      const before = bridge.requests.length
      const big = 'y'.repeat(1024 * 1024)
      assert.deepEqual(await new PowerShell(pool).addScript('$input | ForEach-Object Length').invoke([big]), [
        big.length,
      ])
      const sends = bridge.requests.slice(before).filter((r) => r.action.endsWith('/Send')).length
      // 1 MiB of CLIXML in ~370 KiB requests (at the default 150 KiB envelope it would take ten)
      assert.ok(sends >= 3 && sends <= 5, `${sends} Send requests`)
    },
  )

  test(
    'the server-side pwsh dying mid-pipeline rejects pending calls with a typed error promptly',
    { timeout: 60_000 },
    async () => {
      const conn = new WSManConnection(httpBridge.options())
      const pool = await RunspacePool.open(conn, { timeout: 60_000 })
      const run = new PowerShell(pool).addScript('Start-Sleep 60').invoke()
      run.catch(() => undefined)
      await new Promise((r) => setTimeout(r, 500))
      const pid = (httpBridge.bridge() as Bridge).pwshPid(pool.id)
      assert.ok(pid !== undefined)
      const t0 = Date.now()
      process.kill(pid, 'SIGKILL')
      await assert.rejects(run, (e: unknown) => e instanceof WSManFaultError || e instanceof TransportError)
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`)
      await pool.close()
      await pool.close()
    },
  )

  test(
    'a new client attaches to a pool and the pipeline another client left running',
    { timeout: 60_000 },
    async () => {
      const a = await RunspacePool.open(new WSManConnection(httpBridge.options()), { timeout: 60_000 })
      const psA = new PowerShell(a).addScript('1..8 | ForEach-Object { Start-Sleep -Milliseconds 250; $_ }')
      const seenA: unknown[] = []
      const reading = (async () => {
        for await (const v of psA.stream()) seenA.push(v)
      })()
      reading.catch(() => undefined)
      for (let i = 0; i < 200 && seenA.length < 2; i++) await new Promise((r) => setTimeout(r, 50))
      await a.disconnect()
      assert.equal(psA.state, 'Disconnected')

      await using b = await RunspacePool.connect(new WSManConnection(httpBridge.options()), a.id, {
        timeout: 30_000,
      })
      const ids = await b.listServerPipelines()
      assert.deepEqual(ids, [psA.instanceId])
      const psB = PowerShell.attach(b, ids[0] as string)
      const rest = await psB.invoke()
      assert.equal(psB.state, 'Completed')
      assert.ok(seenA.length > 0 && rest.length > 0, `A saw ${seenA.length}, B got ${rest.length}`)
      assert.deepEqual([...seenA, ...rest], [1, 2, 3, 4, 5, 6, 7, 8])
    },
  )

  test(
    'a configuration name (e.g. a JEA endpoint) selects the resource URI of the pool',
    { timeout: 60_000 },
    async () => {
      const conn = new WSManConnection({ ...httpBridge.options(), configurationName: 'Psrp.Jea' })
      await using pool = await RunspacePool.open(conn, { timeout: 60_000 })
      assert.deepEqual(await new PowerShell(pool).addScript('"on the endpoint"').invoke(), [
        'on the endpoint',
      ])
      const [listed] = (await RunspacePool.getRunspacePools(conn)).filter(
        (p) => p.shellId?.toLowerCase() === pool.id,
      )
      assert.equal(listed?.resourceUri, 'http://schemas.microsoft.com/powershell/Psrp.Jea')
      await using other = await RunspacePool.open(new WSManConnection(httpBridge.options()), {
        timeout: 60_000,
        configurationName: 'Other.Endpoint',
      })
      const [second] = (await RunspacePool.getRunspacePools(conn)).filter(
        (p) => p.shellId?.toLowerCase() === other.id,
      )
      assert.equal(second?.resourceUri, 'http://schemas.microsoft.com/powershell/Other.Endpoint')
    },
  )

  test('faults: a wrong password is an AuthenticationError; an unknown shell is a WSManFaultError', async () => {
    const bad = new WSManConnection({ ...httpBridge.options(), password: 'wrong' })
    await assert.rejects(RunspacePool.open(bad, { timeout: 30_000 }), AuthenticationError)
    const conn = new WSManConnection(httpBridge.options())
    const transport = conn.createPsrpTransport({ poolId: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9' })
    await transport.start()
    await assert.rejects(
      transport.createPipeline('11111111-2222-4333-8444-555555555555', {
        pipelineId: '11111111-2222-4333-8444-555555555555',
        stream: 'default',
        data: new Uint8Array([1]),
      }),
      WSManFaultError,
    )
  })

  test('faults: dead, silent and half-answering servers give typed errors promptly', async () => {
    const silent = createServer(() => undefined) // accepts, never answers
    const halfway = createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n<s:Envelope'))
    })
    await Promise.all([silent, halfway].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))))
    const port = (srv: Server): number => (srv.address() as AddressInfo).port
    try {
      const base = { ...httpBridge.options(), connectTimeout: 2000, readTimeout: 500, retries: { count: 0 } }
      const t0 = Date.now()
      const dead = new WSManConnection({ ...base, port: port(halfway) + 1 })
      await assert.rejects(RunspacePool.open(dead, { timeout: 30_000 }), TransportError)
      await assert.rejects(
        RunspacePool.open(new WSManConnection({ ...base, port: port(silent) }), { timeout: 30_000 }),
        TimeoutError,
      )
      await assert.rejects(
        RunspacePool.open(new WSManConnection({ ...base, port: port(halfway) }), { timeout: 30_000 }),
        (e: unknown) => e instanceof TransportError || e instanceof ProtocolError,
      )
      assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`)
    } finally {
      silent.close()
      halfway.close()
    }
  })
})

describe('WinRM bridge (HTTPS, validation on)', { skip: tlsSkip }, () => {
  before(() => httpsBridge.start())
  after(() => httpsBridge.stop())
  definePoolScenarios({
    label: 'WSMan HTTPS',
    skip: tlsSkip,
    connect: () => new WSManConnection(httpsBridge.options()),
    streamItems: 20_000,
  })
})
