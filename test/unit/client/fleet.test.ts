/**
 * runOnHosts' scheduling, with stand-in clients (the connections are not what is tested here; the
 * integration test runs the same over real pwsh, sshd and the WinRM test server): the throttle,
 * completion order, per-host failures and time limits, retries only where nothing ran, client reuse
 * and release, and that breaking or aborting leaves nothing open.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { runOnHosts, type HostResult, type RunOnHostsOptions } from '../../../src/client/fleet.ts'
import type { Client } from '../../../src/client/client.ts'
import type { FleetTargetSpec } from '../../../src/client/fleet-target.ts'
import { AbortError, AuthenticationError, TimeoutError, TransportError } from '../../../src/errors.ts'

/**
 * A stand-in client: `pool()` resolves (or rejects with `openError`) after `openMs`, or rejects when its
 * signal aborts; counts closes.
 */
class StubClient {
  closed = 0
  opens = 0
  constructor(
    readonly spec: FleetTargetSpec,
    readonly openMs = 0,
    readonly openError?: Error,
  ) {}
  async pool(options: { signal?: AbortSignal } = {}): Promise<object> {
    this.opens++
    // as Client.pool does, it gives up when its signal aborts (no timer outlives the test)
    await delay(this.openMs, undefined, { signal: options.signal })
    if (this.openError !== undefined) throw this.openError
    return {}
  }
  async close(): Promise<void> {
    this.closed++
  }
}

interface Harness {
  clients: StubClient[]
  options: RunOnHostsOptions
}

function harness(
  make: (spec: FleetTargetSpec, made: number) => StubClient,
  options: RunOnHostsOptions = {},
): Harness {
  const clients: StubClient[] = []
  return {
    clients,
    options: {
      ...options,
      connect: (spec) => {
        const c = make(spec, clients.length)
        clients.push(c)
        return c as unknown as Client
      },
    },
  }
}

async function collect<T>(it: AsyncIterable<HostResult<T>>): Promise<HostResult<T>[]> {
  const out: HostResult<T>[] = []
  for await (const r of it) out.push(r)
  return out
}

test('at most `throttle` hosts in flight; every host reported once, in completion order', async () => {
  const { clients, options } = harness((spec) => new StubClient(spec))
  let inFlight = 0
  let peak = 0
  const hosts = Array.from({ length: 20 }, (_, i) => `h${i}`)
  const results = await collect(
    runOnHosts(
      hosts,
      async (_client, { host }) => {
        inFlight++
        peak = Math.max(peak, inFlight)
        // later hosts finish sooner: completion order differs from target order
        await delay(40 - Number(host.slice(1)))
        inFlight--
        return host.toUpperCase()
      },
      { ...options, throttle: 4 },
    ),
  )
  assert.equal(peak, 4)
  assert.deepEqual(results.map((r) => r.host).sort(), [...hosts].sort())
  assert.notDeepEqual(
    results.map((r) => r.host),
    hosts,
  )
  for (const r of results) {
    assert.ok(r.ok)
    assert.equal(r.value, r.host.toUpperCase())
    assert.equal(r.attempts, 1)
  }
  assert.equal(clients.length, 20)
  assert.ok(
    clients.every((c) => c.closed === 1),
    'each host’s client closed once',
  )
})

test('a host is reported before its slow close ends; open connections never exceed the throttle', async () => {
  let open = 0
  let peakOpen = 0
  const closing: (() => void)[] = []
  class SlowClose extends StubClient {
    override async pool(options: { signal?: AbortSignal } = {}): Promise<object> {
      open++
      peakOpen = Math.max(peakOpen, open)
      return super.pool(options)
    }
    override async close(): Promise<void> {
      await super.close()
      await new Promise<void>((resolve) => closing.push(resolve)) // ends when the test says so
      open--
    }
  }
  const { options } = harness((spec) => new SlowClose(spec))
  const it = runOnHosts(['a', 'b', 'c'], async (_c, { host }) => host, { ...options, throttle: 2 })[
    Symbol.asyncIterator
  ]()
  const first = await it.next()
  assert.ok(first.done !== true && first.value.ok, 'the first result arrives while its close is pending')
  assert.equal(closing.length >= 1, true, 'its close has started')
  assert.equal(open, 2, 'the third host waits for a slot: both closes are still pending')
  const second = await it.next()
  assert.ok(second.done !== true)
  closing.splice(0).forEach((end) => end()) // the closes finish: the third host may start
  const third = await it.next()
  assert.ok(third.done !== true && third.value.host === 'c')
  const pending = it.next()
  await delay(10)
  closing.splice(0).forEach((end) => end())
  assert.equal((await pending).done, true)
  assert.equal(peakOpen, 2)
})

test('one host failing does not stop the others; the failure says its phase', async () => {
  const { options } = harness(
    (spec) =>
      new StubClient(spec, 0, spec.host === 'down' ? new TransportError('connect ECONNREFUSED') : undefined),
  )
  const results = await collect(
    runOnHosts(
      ['a', 'down', 'b', 'throws'],
      async (_c, { host }) => {
        if (host === 'throws') throw new Error('script failed')
        return 1
      },
      options,
    ),
  )
  const by = new Map(results.map((r) => [r.host, r]))
  assert.equal(by.get('a')?.ok, true)
  assert.equal(by.get('b')?.ok, true)
  const down = by.get('down')
  assert.ok(down !== undefined && !down.ok)
  assert.equal(down.phase, 'connect')
  assert.ok(down.error instanceof TransportError)
  const threw = by.get('throws')
  assert.ok(threw !== undefined && !threw.ok)
  assert.equal(threw.phase, 'run')
  assert.equal(threw.error.message, 'script failed')
})

test('retries: connection failures only, with a fresh client each time; never auth or run failures', async () => {
  const { clients, options } = harness(
    (spec, made) =>
      new StubClient(
        spec,
        0,
        spec.host === 'flaky' && made < 2
          ? new TransportError('ECONNRESET')
          : spec.host === 'auth'
            ? new AuthenticationError('wrong password')
            : undefined,
      ),
    { retries: 3, retryDelay: 1 },
  )
  let runs = 0
  const results = await collect(
    runOnHosts(
      ['flaky', 'auth', 'runfail'],
      async (_c, { host, attempt }) => {
        if (host === 'runfail') {
          runs++
          throw new TransportError('dropped while running')
        }
        return attempt
      },
      { ...options, throttle: 1 },
    ),
  )
  const by = new Map(results.map((r) => [r.host, r]))
  const flaky = by.get('flaky')
  assert.ok(flaky?.ok)
  assert.equal(flaky.attempts, 3)
  assert.equal(flaky.value, 3)
  assert.equal(clients.filter((c) => c.spec.host === 'flaky').length, 3, 'a new client per attempt')
  assert.equal(by.get('auth')?.attempts, 1)
  assert.equal(by.get('runfail')?.attempts, 1)
  assert.equal(runs, 1, 'work that started is never re-run')
  assert.ok(clients.every((c) => c.closed >= 1))
})

test('perHostTimeout: a stuck host is a TimeoutError, its client closed, the others finish', async () => {
  const { clients, options } = harness((spec) => new StubClient(spec, spec.host === 'stuck' ? 60_000 : 0))
  const started = performance.now()
  const results = await collect(
    runOnHosts(['stuck', 'fine'], async () => 'ok', { ...options, perHostTimeout: 200 }),
  )
  assert.ok(performance.now() - started < 30_000, 'the stuck host did not hold the run')
  const stuck = results.find((r) => r.host === 'stuck')
  assert.ok(stuck !== undefined && !stuck.ok)
  assert.ok(stuck.error instanceof TimeoutError)
  assert.match(stuck.error.message, /stuck did not finish within 200 ms/)
  assert.equal(results.find((r) => r.host === 'fine')?.ok, true)
  assert.ok((clients.find((c) => c.spec.host === 'stuck')?.closed ?? 0) >= 1)
})

test('the same endpoint twice shares one client, closed after its last entry', async () => {
  const { clients, options } = harness((spec) => new StubClient(spec))
  const seen: StubClient[] = []
  const results = await collect(
    runOnHosts(
      ['admin@win1', 'admin@WIN1', 'other@win1'],
      async (client) => {
        seen.push(client as unknown as StubClient)
        await delay(10)
        return (client as unknown as StubClient).closed
      },
      options,
    ),
  )
  assert.equal(clients.length, 2)
  assert.equal(seen[0], seen[1])
  assert.notEqual(seen[0], seen[2])
  assert.ok(
    results.every((r) => r.ok && r.value === 0),
    'not closed while in use',
  )
  assert.ok(clients.every((c) => c.closed === 1))
})

test('breaking out of the loop stops the hosts in flight and closes every client', async () => {
  const { clients, options } = harness((spec) => new StubClient(spec))
  const aborted: string[] = []
  let started = 0
  let bothStarted!: () => void
  const barrier = new Promise<void>((resolve) => (bothStarted = resolve))
  for await (const r of runOnHosts(
    ['quick', 'slow1', 'slow2'],
    async (_c, { host, signal }) => {
      if (host === 'quick') {
        await barrier // the slow hosts are running their work when the loop breaks
        return 1
      }
      if (++started === 2) bothStarted()
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted.push(host)
          reject(signal.reason)
        }),
      )
      return 2
    },
    options,
  )) {
    assert.equal(r.host, 'quick')
    break
  }
  assert.deepEqual(aborted.sort(), ['slow1', 'slow2'])
  assert.equal(clients.length, 3)
  assert.ok(
    clients.every((c) => c.closed >= 1),
    'every client closed before the loop ended',
  )
})

test('aborting the signal rejects the iteration with AbortError, closes everything, starts nothing more', async () => {
  const { clients, options } = harness((spec) => new StubClient(spec))
  const controller = new AbortController()
  const hosts = Array.from({ length: 10 }, (_, i) => `h${i}`)
  const seen: string[] = []
  await assert.rejects(async () => {
    for await (const r of runOnHosts(
      hosts,
      async (_c, { signal }) => {
        await delay(20, undefined, { signal })
        return 0
      },
      { ...options, throttle: 2, signal: controller.signal },
    )) {
      seen.push(r.host)
      if (seen.length === 2) controller.abort()
    }
  }, AbortError)
  assert.ok(clients.length <= 5, `${clients.length} clients made after the abort`)
  assert.ok(clients.every((c) => c.closed >= 1))
})

test('bad options are refused before anything starts', () => {
  assert.throws(() => runOnHosts(['a'], 'x', { throttle: 0 }), /throttle/)
  assert.throws(() => runOnHosts(['a'], 'x', { retries: -1 }), /retries/)
  assert.throws(() => runOnHosts(['a:0'], 'x'), /bad port/)
})
