/**
 * Client pipeline state machine, paired with the in-memory test server: CREATE_PIPELINE with the
 * full PowerShell spec (and its version-dependent merge fields), PSInvocationState transitions
 * (Completed, Failed with its error record, Stopping → Stopped), invalid-state errors, input
 * fragmented across small fragment sizes, output and the six record streams as events, concurrent
 * pipelines with overlapping server ObjectIds, and GET_COMMAND_METADATA.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  ClientRunspacePool,
  pipelineCommand,
  NIL_GUID,
  type ClientPipeline,
  type ClientRunspacePoolOptions,
  type PipelineSpec,
  type PsrpEvent,
} from '../../../src/psrp/index.ts'
import {
  CommandMetadataCount,
  DebugRecord,
  ErrorRecord,
  HostInfo,
  InformationalRecord,
  InformationRecord,
  ProgressRecord,
  PSObject,
  VerboseRecord,
  WarningRecord,
} from '../../../src/clixml/index.ts'
import { InvalidStateError, ProtocolError, PsrpError } from '../../../src/errors.ts'
import { openPair, pump, sequentialGuids, testError, type PsrpTestServer } from '../../helpers/psrp-server.ts'

const POOL_ID = '0badc0de-0000-4000-8000-000000000001'

function opened(
  options: ClientRunspacePoolOptions = {},
  serverVersion?: string,
): { pool: ClientRunspacePool; server: PsrpTestServer } {
  const { client, server } = openPair(
    () => new ClientRunspacePool({ id: POOL_ID, guid: sequentialGuids('bbbbbbbb'), ...options }),
    serverVersion === undefined ? {} : { protocolVersion: serverVersion },
  )
  assert.equal(client.state, 'Opened')
  return { pool: client, server }
}

function ofType<T extends PsrpEvent['type']>(
  events: PsrpEvent[],
  type: T,
): Extract<PsrpEvent, { type: T }>[] {
  return events.filter((e): e is Extract<PsrpEvent, { type: T }> => e.type === type)
}

function assertInvalidState(fn: () => unknown, state: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidStateError, `expected InvalidStateError, got ${String(e)}`)
    assert.equal(e.state, state)
    return true
  })
}

const simple: PipelineSpec = { statements: [[pipelineCommand({ command: 'Get-Date' })]] }

test('CREATE_PIPELINE carries the full PowerShell spec on the pipeline target', () => {
  const { pool, server } = opened()
  const statements = [
    [
      pipelineCommand({
        command: 'Get-ChildItem',
        args: [
          { name: 'Path', value: 'C:\\Windows' },
          { name: 'Recurse', value: true },
          { name: undefined, value: 42 },
        ],
        mergeMyResult: 2,
        mergeToResult: 1,
        mergeError: 1,
        mergeWarning: 1,
        mergeVerbose: 1,
        mergeDebug: 1,
        mergeInformation: 1,
      }),
      pipelineCommand({ command: 'Select-Object', args: [{ name: 'First', value: 3 }] }),
    ],
    [pipelineCommand({ command: '$x = 1; $x + 1', isScript: true, useLocalScope: true })],
    [pipelineCommand({ command: 'Write-Output "dot-sourced"', isScript: true, useLocalScope: false })],
  ]
  const host = HostInfo.create({
    useRunspaceHost: false,
    isHostNull: false,
    isHostUINull: false,
    isHostRawUINull: true,
  })
  const p = pool.createPipeline({
    statements,
    hasInput: true,
    addToHistory: true,
    isNested: true,
    remoteStreamOptions: 15,
    apartmentState: 1,
    hostInfo: host,
    history: 'Get-ChildItem C:\\Windows',
  })
  assert.equal(p.state, 'NotStarted')
  assert.equal(p.isCommandMetadata, false)
  assert.equal(pool.pipelines.get(p.id), p)
  assert.equal(pool.dataToSend(), undefined, 'creating a pipeline sends nothing until start()')
  p.start()
  assert.equal(p.state, 'Running')
  const payload = pool.dataToSend()
  assert.ok(payload !== undefined)
  assert.equal(payload.pipelineId, p.id)
  assert.equal(payload.stream, 'default')
  const [m] = server.receive(payload)
  assert.ok(m !== undefined)
  assert.equal(m.type, 'CREATE_PIPELINE')
  assert.equal(m.rpid, POOL_ID)
  assert.equal(m.pid, p.id)
  const f = server.last('CREATE_PIPELINE').fields
  assert.deepEqual(f.statements, statements)
  assert.equal(f.noInput, false)
  assert.equal(f.addToHistory, true)
  assert.equal(f.isNested, true)
  assert.equal(f.remoteStreamOptions, 15)
  assert.equal(f.apartmentState, 1)
  assert.equal(f.history, 'Get-ChildItem C:\\Windows')
  assert.ok(f.hostInfo instanceof HostInfo)
  assert.equal(f.hostInfo.get('_isHostRawUINull'), true)
  assert.equal(f.hostInfo.get('_useRunspaceHost'), false)
})

test('CREATE_PIPELINE defaults: no input, not nested, no history, host info of the pool', () => {
  const { pool, server } = opened()
  const p = pool.createPipeline(simple)
  p.start()
  pump(pool, server)
  const f = server.last('CREATE_PIPELINE').fields
  assert.equal(f.noInput, true)
  assert.equal(f.addToHistory, false)
  assert.equal(f.isNested, false)
  assert.equal(f.remoteStreamOptions, 0)
  assert.equal(f.apartmentState, 2)
  assert.equal(f.history, undefined)
  assert.equal(p.acceptsInput, false)
})

test('CREATE_PIPELINE: merge fields follow the negotiated version (2.1: none, 2.2: no Information, 2.3: all)', () => {
  const spec: PipelineSpec = {
    statements: [[pipelineCommand({ command: 'x', mergeError: 1, mergeInformation: 1, mergeWarning: 1 })]],
  }
  const bodies = new Map<string, string>()
  for (const v of ['2.1', '2.2', '2.3'] as const) {
    const { pool, server } = opened({ protocolVersion: v })
    pool.createPipeline(spec).start()
    pump(pool, server)
    bodies.set(v, server.last('CREATE_PIPELINE').body)
  }
  assert.doesNotMatch(bodies.get('2.1') as string, /N="MergeError"/)
  assert.match(bodies.get('2.2') as string, /N="MergeError"/)
  assert.match(bodies.get('2.2') as string, /N="MergeWarning"/)
  assert.doesNotMatch(bodies.get('2.2') as string, /N="MergeInformation"/)
  assert.match(bodies.get('2.3') as string, /N="MergeInformation"/)
  // negotiated, not announced: a 2.3 client against a 2.2 server writes the 2.2 form
  const { pool, server } = opened({ protocolVersion: '2.3' }, '2.2')
  pool.createPipeline(spec).start()
  pump(pool, server)
  assert.doesNotMatch(server.last('CREATE_PIPELINE').body, /N="MergeInformation"/)
})

test('Running → Completed: output and records arrive as events in order; the pipeline is done', () => {
  const { pool, server } = opened()
  const p = pool.createPipeline(simple)
  p.start()
  pump(pool, server)
  const info = new InformationRecord({
    typeNames: ['System.Management.Automation.InformationRecord', 'System.Object'],
    extended: [
      ['MessageData', 'hello host'],
      ['Source', 'Write-Host'],
      ['Tags', ['PSHOST']],
    ],
  })
  server.send('PIPELINE_OUTPUT', { value: 1 }, p.id)
  server.send('ERROR_RECORD', { record: testError('non-terminating', 'E1') }, p.id)
  server.send('WARNING_RECORD', { record: InformationalRecord.create('Warning', 'warn') }, p.id)
  server.send('VERBOSE_RECORD', { record: InformationalRecord.create('Verbose', 'verb') }, p.id)
  server.send('DEBUG_RECORD', { record: InformationalRecord.create('Debug', 'dbg') }, p.id)
  server.send(
    'PROGRESS_RECORD',
    { record: ProgressRecord.create({ activity: 'act', statusDescription: 'half', percentComplete: 50 }) },
    p.id,
  )
  server.send('INFORMATION_RECORD', { record: info }, p.id)
  server.send('PIPELINE_OUTPUT', { value: 'two' }, p.id)
  server.sendPipelineState(p.id, 'Completed')
  const events = pump(pool, server)
  assert.deepEqual(
    events.map((e) => (e.type === 'pipelineRecord' ? `record:${e.stream}` : e.type)),
    [
      'pipelineOutput',
      'record:error',
      'record:warning',
      'record:verbose',
      'record:debug',
      'record:progress',
      'record:information',
      'pipelineOutput',
      'pipelineState',
    ],
  )
  for (const e of events) assert.equal((e as { pipelineId: string }).pipelineId, p.id)
  assert.deepEqual(
    ofType(events, 'pipelineOutput').map((e) => e.value),
    [1, 'two'],
  )
  const recs = ofType(events, 'pipelineRecord')
  assert.ok(recs[0]?.record instanceof ErrorRecord)
  assert.equal(recs[0].record.message, 'non-terminating')
  assert.ok(recs[1]?.record instanceof WarningRecord)
  assert.equal(recs[1].record.message, 'warn')
  assert.ok(recs[2]?.record instanceof VerboseRecord)
  assert.ok(recs[3]?.record instanceof DebugRecord)
  assert.equal(recs[3].record.message, 'dbg')
  assert.ok(recs[4]?.record instanceof ProgressRecord)
  assert.equal(recs[4].record.percentComplete, 50)
  assert.ok(recs[5]?.record instanceof InformationRecord)
  assert.equal(recs[5].record.message, 'hello host')
  const st = ofType(events, 'pipelineState')
  assert.equal(st[0]?.state, 'Completed')
  assert.equal(st[0]?.error, undefined)
  assert.equal(p.state, 'Completed')
  assert.equal(p.done, true)
  assert.equal(p.acceptsInput, false)
})

test('Running → Failed: the terminating ErrorRecord comes with the state', () => {
  const { pool, server } = opened()
  const p = pool.createPipeline(simple)
  p.start()
  pump(pool, server)
  server.sendPipelineState(
    p.id,
    'Failed',
    testError('The term x is not recognized', 'CommandNotFoundException'),
  )
  const st = ofType(pump(pool, server), 'pipelineState')
  assert.equal(st.length, 1)
  assert.equal(st[0]?.state, 'Failed')
  assert.ok(st[0]?.error instanceof ErrorRecord)
  assert.equal(st[0].error.message, 'The term x is not recognized')
  assert.equal(st[0].error.fullyQualifiedErrorId, 'CommandNotFoundException')
  assert.equal(p.state, 'Failed')
  assert.equal(p.done, true)
})

test('stop: Running → Stopping (bookkeeping only; the transport signals) → Stopped from the server', () => {
  const { pool, server } = opened()
  const p = pool.createPipeline(simple)
  assertInvalidState(() => p.beginStop(), 'NotStarted')
  p.start()
  pump(pool, server)
  p.beginStop()
  assert.equal(p.state, 'Stopping')
  assert.equal(pool.dataToSend(), undefined, 'stopping queues no PSRP message')
  p.beginStop()
  assert.equal(p.state, 'Stopping', 'stopping twice is harmless')
  server.sendPipelineState(
    p.id,
    'Stopped',
    testError('The pipeline has been stopped.', 'PipelineStoppedException'),
  )
  const st = ofType(pump(pool, server), 'pipelineState')
  assert.equal(st[0]?.state, 'Stopped')
  assert.equal(st[0]?.error?.fullyQualifiedErrorId, 'PipelineStoppedException')
  assert.equal(p.state, 'Stopped')
  p.beginStop()
  assert.equal(p.state, 'Stopped', 'stopping a finished pipeline does nothing')
})

test('stop: a pipeline that completes while Stopping ends Completed', () => {
  const { pool, server } = opened()
  const p = pool.createPipeline(simple)
  p.start()
  pump(pool, server)
  p.beginStop()
  server.sendPipelineState(p.id, 'Completed')
  pump(pool, server)
  assert.equal(p.state, 'Completed')
})

test('invalid states: start twice, input without input, input after end or completion', () => {
  const { pool, server } = opened()
  const noInput = pool.createPipeline(simple)
  assertInvalidState(() => noInput.sendInput([1]), 'NotStarted')
  assertInvalidState(() => noInput.endInput(), 'NotStarted')
  noInput.start()
  assertInvalidState(() => noInput.start(), 'Running')
  assertInvalidState(() => noInput.sendInput([1]), 'Running')
  assertInvalidState(() => noInput.endInput(), 'Running')

  const withInput = pool.createPipeline({ ...simple, hasInput: true })
  withInput.start()
  assert.equal(withInput.acceptsInput, true)
  withInput.sendInput([1])
  withInput.endInput()
  assert.equal(withInput.acceptsInput, false)
  assertInvalidState(() => withInput.sendInput([2]), 'Running')
  assertInvalidState(() => withInput.endInput(), 'Running')

  const done = pool.createPipeline({ ...simple, hasInput: true })
  done.start()
  pump(pool, server)
  server.sendPipelineState(done.id, 'Completed')
  pump(pool, server)
  assertInvalidState(() => done.sendInput([1]), 'Completed')
  assertInvalidState(() => done.endInput(), 'Completed')
  assertInvalidState(() => done.start(), 'Completed')
})

test('input: every PIPELINE_INPUT arrives whole and in order across small fragment sizes', () => {
  const values: unknown[] = [
    0,
    -1,
    'a',
    '',
    'x'.repeat(5000),
    'emoji 😀 and \u0000 control \u001b chars _x000A_',
    true,
    123456789012345678n,
    new PSObject({
      extended: [
        ['Name', 'obj'],
        ['Size', 3],
      ],
    }),
    [1, 'two', 3],
    new Map<string, unknown>([['k', 'v']]),
  ]
  for (const size of [22, 23, 40, 64, 257, 1024, 32768]) {
    const { pool, server } = opened()
    const p = pool.createPipeline({ ...simple, hasInput: true })
    p.start()
    p.sendInput(values)
    p.endInput()
    const before = server.payloadSizes.length
    pump(pool, server, { clientFragmentSize: size })
    assert.ok(
      server.payloadSizes.slice(before).every((s) => s <= size),
      `payloads ≤ ${size}: ${server.payloadSizes.slice(before).join(',')}`,
    )
    const msgs = server.received.filter((m) => m.pipelineId === p.id)
    assert.deepEqual(
      msgs.map((m) => m.type),
      ['CREATE_PIPELINE', ...values.map(() => 'PIPELINE_INPUT'), 'END_OF_PIPELINE_INPUT'],
      `size ${size}`,
    )
    for (const m of msgs) assert.equal(m.pid, p.id)
    const got = server.messages('PIPELINE_INPUT').map((m) => m.fields.value)
    assert.equal(got.length, values.length)
    for (const [i, v] of values.entries()) {
      const g = got[i]
      if (v instanceof PSObject) {
        assert.ok(g instanceof PSObject)
        assert.equal(g.get('Name'), 'obj')
        assert.equal(g.get('Size'), 3)
      } else if (v instanceof Map) {
        assert.ok(g instanceof Map)
        assert.equal(g.get('k'), 'v')
      } else if (Array.isArray(v)) {
        assert.deepEqual([...(g as unknown[])], v)
      } else {
        assert.equal(g, v, `size ${size} value ${i}`)
      }
    }
    if (size <= 64)
      assert.ok(
        server.fragments.some((f) => !f.end),
        `size ${size} splits messages`,
      )
  }
})

test('input: a 1 MiB string crosses many 32 KiB fragments intact', () => {
  const { pool, server } = opened()
  const big = Array.from({ length: 1 << 20 }, (_, i) => String.fromCharCode(0x41 + (i % 26))).join('')
  const p = pool.createPipeline({ ...simple, hasInput: true })
  p.start()
  p.sendInput([big, 'after'])
  p.endInput()
  pump(pool, server, { clientFragmentSize: 32768 })
  const got = server.messages('PIPELINE_INPUT').map((m) => m.fields.value)
  assert.equal(got.length, 2)
  assert.equal((got[0] as string).length, big.length)
  assert.equal(got[0], big)
  assert.equal(got[1], 'after')
  assert.ok(server.fragments.filter((f) => f.pipelineId === p.id).length > 32)
})

test('concurrent pipelines: output interleaves; the server’s per-pipeline ObjectIds overlap; events stay apart', () => {
  const { pool, server } = opened({ maxRunspaces: 2 })
  const a = pool.createPipeline(simple)
  const b = pool.createPipeline(simple)
  assert.notEqual(a.id, b.id)
  a.start()
  b.start()
  pump(pool, server)
  assert.deepEqual(
    server.messages('CREATE_PIPELINE').map((m) => m.pid),
    [a.id, b.id],
  )
  for (let i = 0; i < 5; i++) {
    server.send('PIPELINE_OUTPUT', { value: `a${i}` }, a.id)
    server.send('PIPELINE_OUTPUT', { value: `b${i}`.repeat(40) }, b.id)
  }
  server.sendPipelineState(b.id, 'Completed')
  server.sendPipelineState(a.id, 'Completed')
  const events = pump(pool, server, { serverFragmentSize: 50, chunkSize: 13 })
  const outA = ofType(events, 'pipelineOutput').filter((e) => e.pipelineId === a.id)
  const outB = ofType(events, 'pipelineOutput').filter((e) => e.pipelineId === b.id)
  assert.deepEqual(
    outA.map((e) => e.value),
    ['a0', 'a1', 'a2', 'a3', 'a4'],
  )
  assert.deepEqual(
    outB.map((e) => e.value),
    [0, 1, 2, 3, 4].map((i) => `b${i}`.repeat(40)),
  )
  assert.equal(a.state, 'Completed')
  assert.equal(b.state, 'Completed')
})

test('a nested pipeline may be created while another runs', () => {
  const { pool, server } = opened()
  const outer = pool.createPipeline(simple)
  outer.start()
  const inner = pool.createPipeline({ ...simple, isNested: true })
  inner.start()
  pump(pool, server)
  const creates = server.messages('CREATE_PIPELINE')
  assert.deepEqual(
    creates.map((m) => m.fields.isNested),
    [false, true],
  )
})

test('GET_COMMAND_METADATA: a pipeline-shaped request; CommandMetadataCount then CommandMetadata as output', () => {
  const { pool, server } = opened()
  const req = pool.getCommandMetadata({
    names: ['Get-*', 'Set-Item'],
    commandType: 8,
    namespace: ['Microsoft.PowerShell.Core'],
  })
  assert.equal(req.isCommandMetadata, true)
  assert.equal(req.state, 'NotStarted')
  req.start()
  assert.equal(req.state, 'Running')
  assertInvalidState(() => req.sendInput([1]), 'Running')
  pump(pool, server)
  const m = server.last('GET_COMMAND_METADATA')
  assert.equal(m.pid, req.id)
  assert.equal(m.pipelineId, req.id)
  assert.deepEqual(m.fields.names, ['Get-*', 'Set-Item'])
  assert.equal(m.fields.commandType, 8)
  assert.deepEqual(m.fields.namespace, ['Microsoft.PowerShell.Core'])
  assert.equal(server.messages('CREATE_PIPELINE').length, 0)

  const count = new PSObject({
    typeNames: [
      'Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo',
      'System.Management.Automation.PSCustomObject',
      'System.Object',
    ],
    extended: [['Count', 2]],
  })
  const meta = (name: string): PSObject =>
    new PSObject({
      typeNames: ['Deserialized.System.Management.Automation.PSCustomObject', 'Deserialized.System.Object'],
      extended: [
        ['Name', name],
        ['Namespace', 'Microsoft.PowerShell.Core'],
        ['HelpUri', ''],
        ['OutputType', []],
        ['Parameters', new Map()],
        ['ResolvedCommandName', null],
      ],
    })
  server.send('PIPELINE_OUTPUT', { value: count }, req.id)
  server.send('PIPELINE_OUTPUT', { value: meta('Get-Item') }, req.id)
  server.send('PIPELINE_OUTPUT', { value: meta('Set-Item') }, req.id)
  server.sendPipelineState(req.id, 'Completed')
  const events = pump(pool, server)
  const out = ofType(events, 'pipelineOutput').map((e) => e.value)
  assert.equal(out.length, 3)
  assert.ok(out[0] instanceof CommandMetadataCount)
  assert.equal(out[0].count, 2)
  assert.deepEqual(
    out.slice(1).map((o) => (o as PSObject).get('Name')),
    ['Get-Item', 'Set-Item'],
  )
  assert.equal(req.state, 'Completed')
})

test('pipeline ids: injected GUID source, explicit ids, duplicates refused, removePipeline forgets', () => {
  const { pool } = opened()
  const a = pool.createPipeline(simple)
  assert.equal(a.id, 'bbbbbbbb-0000-4000-8000-000000000001')
  const b = pool.createPipeline(simple, 'cccccccc-0000-4000-8000-000000000009')
  assert.equal(b.id, 'cccccccc-0000-4000-8000-000000000009')
  assert.throws(() => pool.createPipeline(simple, b.id), PsrpError)
  assert.equal(pool.pipelines.size, 2)
  pool.removePipeline(a.id)
  assert.equal(pool.pipelines.has(a.id), false)
  assert.equal(pool.pipelines.size, 1)
})

test('receiving: PIPELINE_STATE with a value outside 2.2.3.5 is a ProtocolError', () => {
  const { pool, server } = opened()
  const p = pool.createPipeline(simple)
  p.start()
  pump(pool, server)
  server.send('PIPELINE_STATE', { state: 99 }, p.id)
  assert.throws(() => pump(pool, server), ProtocolError)
})

test('receiving: output for a pipeline the client forgot is still reported under its id', () => {
  const { pool, server } = opened()
  const p = pool.createPipeline(simple)
  p.start()
  pump(pool, server)
  pool.removePipeline(p.id)
  server.send('PIPELINE_OUTPUT', { value: 'late' }, p.id)
  const out = ofType(pump(pool, server), 'pipelineOutput')
  assert.equal(out[0]?.pipelineId, p.id)
  assert.equal(out[0]?.value, 'late')
})

test('pool messages and pipeline messages use separate targets; pool PID is nil', () => {
  const { pool, server } = opened()
  const p: ClientPipeline = pool.createPipeline({ ...simple, hasInput: true })
  p.start()
  pool.getAvailableRunspaces()
  p.sendInput(['x'])
  const targets: (string | undefined)[] = []
  for (let d = pool.dataToSend(); d !== undefined; d = pool.dataToSend()) {
    targets.push(d.pipelineId)
    server.receive(d)
  }
  assert.ok(targets.includes(undefined))
  assert.ok(targets.includes(p.id))
  assert.equal(server.last('GET_AVAILABLE_RUNSPACES').pid, NIL_GUID)
  assert.equal(server.last('PIPELINE_INPUT').pid, p.id)
})

test('20,000 outputs fed in 32 KiB transport chunks arrive complete and in order', () => {
  const { pool, server } = opened()
  const p = pool.createPipeline(simple)
  p.start()
  pump(pool, server)
  const n = 20000
  for (let i = 0; i < n; i++) server.send('PIPELINE_OUTPUT', { value: i }, p.id)
  server.sendPipelineState(p.id, 'Completed')
  const events = pump(pool, server, { chunkSize: 32768 })
  const out = ofType(events, 'pipelineOutput').map((e) => e.value)
  assert.equal(out.length, n)
  assert.ok(out.every((v, i) => v === i))
  assert.equal(events.at(-1)?.type, 'pipelineState')
})
