/**
 * The CLIXML limits of `RunspacePool.open` (`maxClixmlDepth`, `maxClixmlLength`; also `Client`'s
 * `pool` options) reach the deserializer of every message the server sends: the pool's own data when
 * it opens (a replayed Windows Server 2012 R2 recording, test/recordings) and pipeline output (a real
 * `pwsh -s`). Over a limit the pool fails with a ProtocolError (ERR_PROTOCOL) caused by a
 * ClixmlError (ERR_CLIXML); the defaults let the same data through. docs/limits.md lists every limit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  Client,
  ClixmlError,
  InvalidArgumentError,
  ProtocolError,
  RunspacePool,
  type RunspacePoolOptions,
} from '../../src/index.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'
import { replayConnection, startReplayServer } from '../helpers/winrm-replay.ts'

const recording = join(
  import.meta.dirname,
  '../recordings/pypsrp-extra/test_psrp_run_protocol_version_2.2.yml',
)
const pwsh = findPwsh()
const skipPwsh = pwshSkip(pwsh)

/** Opens a pool against the recording; resolves to its state. */
async function openReplay(options: RunspacePoolOptions): Promise<string> {
  const server = await startReplayServer(recording, { concurrentReceives: true, receiveTimeoutMs: 300 })
  const conn = replayConnection(server)
  try {
    // not closed: the recording goes on with a command, so a Delete would not match it
    const pool = await RunspacePool.open(conn, { timeout: 10_000, ...options })
    return pool.state
  } finally {
    await server.close()
    await conn.close()
  }
}

/** Checks for the pool failure a CLIXML limit gives: a ProtocolError caused by a ClixmlError. */
function clixmlLimit(message: string, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ProtocolError, String(e))
    assert.equal(e.code, 'ERR_PROTOCOL')
    assert.ok(e.message.startsWith(`${message} body:`), e.message)
    assert.ok(e.cause instanceof ClixmlError, String(e.cause))
    assert.equal(e.cause.code, 'ERR_CLIXML')
    assert.match(e.cause.message, pattern)
    return true
  }
}

test('maxClixmlDepth and maxClixmlLength apply to the data of a pool being opened', async () => {
  // the recorded APPLICATION_PRIVATE_DATA (the PSVersionTable) nests about ten elements deep, ~1 KB
  await assert.rejects(
    openReplay({ maxClixmlDepth: 4 }),
    clixmlLimit('APPLICATION_PRIVATE_DATA', /nesting deeper than 4 elements/),
  )
  await assert.rejects(
    openReplay({ maxClixmlLength: 300 }),
    clixmlLimit('APPLICATION_PRIVATE_DATA', /XML is \d+ characters, over the limit of 300\b/),
  )
  assert.equal(await openReplay({}), 'Opened')
})

test('maxClixmlDepth and maxClixmlLength must be positive integers', async () => {
  for (const name of ['maxClixmlDepth', 'maxClixmlLength'] as const) {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        openReplay({ [name]: bad }),
        (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(name),
      )
    }
  }
})

/** Ten hashtables, each the value of the next: about 40 elements deep in CLIXML. */
const NESTED = '$h = 1; foreach ($i in 1..10) { $h = @{ n = $h } }; $h'
/** A 20 000-character string: one PIPELINE_OUTPUT message of about 20 KB. */
const LONG = "'x' * 20000"

test(
  'the limits apply to pipeline output, through Client options (pwsh -s)',
  { skip: skipPwsh },
  async () => {
    const deep = new Client(
      { local: true, executable: pwsh },
      { maxRunspaces: 1, pool: { maxClixmlDepth: 20 } },
    )
    try {
      assert.deepEqual((await deep.runPs('1..3')).output, [1, 2, 3])
      await assert.rejects(
        deep.runPs(NESTED, { timeout: 30_000 }),
        clixmlLimit('PIPELINE_OUTPUT', /nesting deeper than 20 elements/),
      )
    } finally {
      await deep.close()
    }
    const long = new Client(
      { local: true, executable: pwsh },
      { maxRunspaces: 1, pool: { maxClixmlLength: 16_384 } },
    )
    try {
      assert.deepEqual((await long.runPs("'short'")).output, ['short'])
      await assert.rejects(
        long.runPs(LONG, { timeout: 30_000 }),
        clixmlLimit('PIPELINE_OUTPUT', /XML is \d+ characters, over the limit of 16384\b/),
      )
    } finally {
      await long.close()
    }
  },
)

test('the default limits let the same output through (pwsh -s)', { skip: skipPwsh }, async () => {
  const client = new Client({ local: true, executable: pwsh }, { maxRunspaces: 1 })
  try {
    const [nested] = (await client.runPs(NESTED, { timeout: 30_000 })).output
    assert.ok(nested instanceof Map, String(nested))
    const [long] = (await client.runPs(LONG, { timeout: 30_000 })).output
    assert.equal(long, 'x'.repeat(20_000))
  } finally {
    await client.close()
  }
})
