/**
 * Host calls on the pool and on pipelines: RUNSPACEPOOL_HOST_CALL / PIPELINE_HOST_CALL become
 * `hostCall` events (call id, method id and name, typed parameters, whether an answer is
 * expected); `hostResponse` queues RUNSPACEPOOL_/PIPELINE_HOST_RESPONSE on the promptResponse
 * stream ahead of other queued data; errors travel as ErrorRecords; SecureString answers use the
 * session key (2.3) or the plaintext form (2.4).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import {
  AesSessionCipher,
  ClientRunspacePool,
  pipelineCommand,
  decryptSessionKey,
  encodePublicKeyBlob,
  HostMethodId,
  type ClientRunspacePoolOptions,
  type PsrpEvent,
} from '../../../src/psrp/index.ts'
import { ErrorRecord, ProgressRecord, PSObject, PSSecureString } from '../../../src/clixml/index.ts'
import { PsrpError } from '../../../src/errors.ts'
import { openPair, pump, sequentialGuids, testError, type PsrpTestServer } from '../../helpers/psrp-server.ts'

type HostCallEvent = Extract<PsrpEvent, { type: 'hostCall' }>

function opened(
  options: ClientRunspacePoolOptions = {},
  serverOptions: { protocolVersion?: string; swapGuidByteOrder?: boolean } = {},
): { pool: ClientRunspacePool; server: PsrpTestServer } {
  const { client, server } = openPair(
    () =>
      new ClientRunspacePool({
        id: '22222222-3333-4444-8555-666666666666',
        guid: sequentialGuids('dddddddd'),
        ...options,
      }),
    serverOptions,
  )
  assert.equal(client.state, 'Opened')
  return { pool: client, server }
}

function hostCalls(events: PsrpEvent[]): HostCallEvent[] {
  return events.filter((e): e is HostCallEvent => e.type === 'hostCall')
}

/** The server calls a pipeline host method; returns the client's event. */
function ask(
  pool: ClientRunspacePool,
  server: PsrpTestServer,
  pid: string,
  callId: bigint,
  methodName: keyof typeof HostMethodId,
): HostCallEvent {
  server.send(
    'PIPELINE_HOST_CALL',
    { callId, methodId: HostMethodId[methodName], methodName, parameters: [] },
    pid,
  )
  const [c] = hostCalls(pump(pool, server))
  assert.ok(c !== undefined)
  assert.equal(c.callId, callId)
  return c
}

function running(pool: ClientRunspacePool, server: PsrpTestServer, hasInput = false): string {
  const p = pool.createPipeline({ statements: [[pipelineCommand({ command: 'Read-Host' })]], hasInput })
  p.start()
  pump(pool, server)
  return p.id
}

test('pool host call: event with call id, method id and name; the response goes on promptResponse for the pool', () => {
  const { pool, server } = opened()
  server.send('RUNSPACEPOOL_HOST_CALL', {
    callId: 7n,
    methodId: HostMethodId.GetName,
    methodName: 'GetName',
    parameters: [],
  })
  const calls = hostCalls(pump(pool, server))
  assert.equal(calls.length, 1)
  const c = calls[0] as HostCallEvent
  assert.equal(c.pipelineId, undefined)
  assert.equal(c.callId, 7n)
  assert.equal(c.methodId, 1)
  assert.equal(c.methodName, 'GetName')
  assert.deepEqual(c.parameters, [])
  assert.equal(c.expectsResponse, true)

  pool.hostResponse(undefined, c.callId, c.methodId, { value: 'psrp-node' })
  const payload = pool.dataToSend()
  assert.ok(payload !== undefined)
  assert.equal(payload.stream, 'promptResponse')
  assert.equal(payload.pipelineId, undefined)
  const [m] = server.receive(payload)
  assert.equal(m?.type, 'RUNSPACEPOOL_HOST_RESPONSE')
  const r = server.last('RUNSPACEPOOL_HOST_RESPONSE').fields
  assert.equal(r.callId, 7n)
  assert.equal(r.methodId, 1)
  assert.equal(r.result, 'psrp-node')
  assert.equal(r.error, undefined)
})

test('pipeline host call: ReadLine answered on the pipeline’s promptResponse stream', () => {
  const { pool, server } = opened()
  const pid = running(pool, server)
  server.send(
    'PIPELINE_HOST_CALL',
    { callId: 1n, methodId: HostMethodId.ReadLine, methodName: 'ReadLine', parameters: [] },
    pid,
  )
  const [c] = hostCalls(pump(pool, server))
  assert.ok(c !== undefined)
  assert.equal(c.pipelineId, pid)
  assert.equal(c.methodName, 'ReadLine')
  assert.equal(c.expectsResponse, true)
  pool.hostResponse(c.pipelineId, c.callId, c.methodId, { value: 'typed by the user' })
  const payload = pool.dataToSend()
  assert.ok(payload !== undefined)
  assert.equal(payload.stream, 'promptResponse')
  assert.equal(payload.pipelineId, pid)
  server.receive(payload)
  const r = server.last('PIPELINE_HOST_RESPONSE')
  assert.equal(r.pid, pid)
  assert.equal(r.stream, 'promptResponse')
  assert.equal(r.fields.callId, 1n)
  assert.equal(r.fields.methodId, HostMethodId.ReadLine)
  assert.equal(r.fields.result, 'typed by the user')
})

test('host call failure: the response carries the ErrorRecord instead of a result', () => {
  const { pool, server } = opened()
  const pid = running(pool, server)
  server.send(
    'PIPELINE_HOST_CALL',
    {
      callId: 3n,
      methodId: HostMethodId.PromptForChoice,
      methodName: 'PromptForChoice',
      parameters: ['caption', 'msg', [], 0],
    },
    pid,
  )
  const [c] = hostCalls(pump(pool, server))
  assert.ok(c !== undefined)
  pool.hostResponse(c.pipelineId, c.callId, c.methodId, {
    error: testError('no UI here', 'HostNotInteractive'),
  })
  pump(pool, server)
  const r = server.last('PIPELINE_HOST_RESPONSE').fields
  assert.equal(r.callId, 3n)
  assert.equal(r.result, undefined)
  assert.ok(r.error instanceof ErrorRecord)
  assert.equal(r.error.message, 'no UI here')
  assert.equal(r.error.fullyQualifiedErrorId, 'HostNotInteractive')
  assert.doesNotMatch(server.last('PIPELINE_HOST_RESPONSE').body, /N="mr"/)
})

test('void host methods expect no response (by method, and pwsh’s call id -100)', () => {
  const { pool, server } = opened()
  const pid = running(pool, server)
  const voids: [keyof typeof HostMethodId, unknown[]][] = [
    ['WriteLine2', ['hello']],
    ['Write1', ['no newline']],
    ['WriteErrorLine', ['err']],
    ['WriteProgress', [1n, ProgressRecord.create({ activity: 'a', statusDescription: 's' })]],
    ['SetForegroundColor', [12]],
    ['SetShouldExit', [3]],
  ]
  for (const [name, parameters] of voids) {
    server.send(
      'PIPELINE_HOST_CALL',
      { callId: -100n, methodId: HostMethodId[name], methodName: name, parameters },
      pid,
    )
  }
  server.send(
    'PIPELINE_HOST_CALL',
    { callId: 9n, methodId: HostMethodId.GetWindowSize, methodName: 'GetWindowSize', parameters: [] },
    pid,
  )
  const calls = hostCalls(pump(pool, server))
  assert.deepEqual(
    calls.map((c) => [c.methodName, c.expectsResponse]),
    [...voids.map(([n]) => [n, false]), ['GetWindowSize', true]],
  )
  assert.equal(calls[0]?.callId, -100n)
  assert.deepEqual(calls[0]?.parameters, ['hello'])
  const progress = calls[3]?.parameters
  assert.equal(progress?.[0], 1n)
  assert.ok(progress?.[1] instanceof PSObject)
  assert.equal(progress[1].get('Activity'), 'a')
  assert.equal(pool.dataToSend(), undefined, 'no automatic responses')
})

test('host responses jump ahead of queued input for the same pipeline', () => {
  const { pool, server } = opened()
  const pid = running(pool, server, true)
  const p = pool.pipelines.get(pid)
  assert.ok(p !== undefined)
  p.sendInput(Array.from({ length: 20 }, (_, i) => `input ${i}`))
  server.send(
    'PIPELINE_HOST_CALL',
    { callId: 4n, methodId: HostMethodId.ReadLine, methodName: 'ReadLine', parameters: [] },
    pid,
  )
  for (const chunk of server.take()) pool.receiveData(chunk.data, chunk.pipelineId)
  const c = pool.nextEvent()
  assert.equal(c?.type, 'hostCall')
  pool.hostResponse(pid, 4n, HostMethodId.ReadLine, { value: 'answer' })
  const first = pool.dataToSend(100)
  assert.ok(first !== undefined)
  assert.equal(first.stream, 'promptResponse', 'the response goes before the queued input')
  server.receive(first)
  const streams: string[] = [first.stream]
  for (let d = pool.dataToSend(100); d !== undefined; d = pool.dataToSend(100)) {
    streams.push(d.stream)
    server.receive(d)
  }
  const firstDefault = streams.indexOf('default')
  assert.ok(firstDefault > 0)
  assert.ok(
    streams.slice(firstDefault).every((st) => st === 'default'),
    streams.join(','),
  )
  // the whole response arrived before any input
  const order = server.received.filter((m) => m.pipelineId === pid).map((m) => m.type)
  assert.equal(order.indexOf('PIPELINE_HOST_RESPONSE'), 1, order.join(','))
  assert.equal(server.messages('PIPELINE_INPUT').length, 20)
  assert.equal(server.last('PIPELINE_HOST_RESPONSE').fields.result, 'answer')
})

test('a host response cut into several fragments keeps to the promptResponse stream until complete', () => {
  const { pool, server } = opened()
  const pid = running(pool, server, true)
  ask(pool, server, pid, 5n, 'ReadLine')
  pool.pipelines.get(pid)?.sendInput(['queued before'])
  pool.hostResponse(pid, 5n, HostMethodId.ReadLine, { value: 'y'.repeat(500) })
  const streams: string[] = []
  for (let d = pool.dataToSend(64); d !== undefined; d = pool.dataToSend(64)) {
    streams.push(d.stream)
    server.receive(d)
  }
  const firstDefault = streams.indexOf('default')
  assert.ok(firstDefault > 1)
  assert.ok(streams.slice(0, firstDefault).every((s) => s === 'promptResponse'))
  assert.ok(streams.slice(firstDefault).every((s) => s === 'default'))
  assert.equal(server.last('PIPELINE_HOST_RESPONSE').fields.result, 'y'.repeat(500))
})

test('host call parameters are typed (Prompt field descriptions, PromptForCredential, a Prompt answer)', () => {
  const { pool, server } = opened()
  const pid = running(pool, server)
  const field = new PSObject({
    typeNames: ['System.Management.Automation.Host.FieldDescription', 'System.Object'],
    extended: [
      ['name', 'Name'],
      ['label', ''],
      ['parameterTypeName', 'String'],
      ['parameterTypeFullName', 'System.String'],
      ['parameterAssemblyFullName', 'System.String'],
      ['helpMessage', ''],
      ['isMandatory', true],
      ['metadata', []],
      ['defaultValue', null],
    ],
  })
  server.send(
    'PIPELINE_HOST_CALL',
    {
      callId: 11n,
      methodId: HostMethodId.Prompt,
      methodName: 'Prompt',
      parameters: ['Caption', 'Message', [field]],
    },
    pid,
  )
  server.send(
    'PIPELINE_HOST_CALL',
    {
      callId: 12n,
      methodId: HostMethodId.PromptForCredential1,
      methodName: 'PromptForCredential1',
      parameters: ['Cred', 'Enter', 'user', 'target'],
    },
    pid,
  )
  const calls = hostCalls(pump(pool, server))
  assert.equal(calls.length, 2)
  assert.equal(calls[0]?.methodName, 'Prompt')
  assert.equal(calls[0]?.parameters[0], 'Caption')
  const fields = calls[0]?.parameters[2]
  assert.ok(Array.isArray(fields))
  const f0 = fields[0] as PSObject
  assert.equal(f0.get('name'), 'Name')
  assert.equal(f0.get('isMandatory'), true)
  assert.equal(calls[1]?.methodName, 'PromptForCredential1')
  assert.deepEqual(calls[1]?.parameters, ['Cred', 'Enter', 'user', 'target'])
  // Prompt answers with a dictionary
  pool.hostResponse(pid, 11n, HostMethodId.Prompt, { value: new Map([['Name', 'Alice']]) })
  pump(pool, server)
  const r = server.last('PIPELINE_HOST_RESPONSE').fields.result
  assert.ok(r instanceof Map)
  assert.equal(r.get('Name'), 'Alice')
})

test('host call for a pipeline written with RFC 4122 GUID bytes maps to the pipeline', () => {
  const { pool, server } = opened({}, { swapGuidByteOrder: true })
  const pid = running(pool, server)
  server.send(
    'PIPELINE_HOST_CALL',
    { callId: 2n, methodId: HostMethodId.GetVersion, methodName: 'GetVersion', parameters: [] },
    pid,
  )
  const [c] = hostCalls(pump(pool, server))
  assert.equal(c?.pipelineId, pid)
})

test('SecureString answers: encrypted with the session key at 2.3, base64 UTF-16LE at 2.4', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const { pool, server } = opened()
  const pid = running(pool, server)
  ask(pool, server, pid, 1n, 'ReadLineAsSecureString')
  // without a key the SecureString cannot be serialized: the caller must exchange keys first
  assert.throws(
    () =>
      pool.hostResponse(pid, 1n, HostMethodId.ReadLineAsSecureString, { value: new PSSecureString('pw') }),
    PsrpError,
  )
  pool.exchangeKey({
    publicKeyBlob: encodePublicKeyBlob(keys.publicKey),
    decrypt: (b) => new AesSessionCipher(decryptSessionKey(keys.privateKey, b)),
  })
  pump(pool, server)
  pool.hostResponse(pid, 1n, HostMethodId.ReadLineAsSecureString, { value: new PSSecureString('pw 2.3') })
  pump(pool, server)
  const r23 = server.last('PIPELINE_HOST_RESPONSE')
  assert.ok(!r23.body.includes(Buffer.from('pw 2.3', 'utf16le').toString('base64')))
  assert.ok(r23.fields.result instanceof PSSecureString)
  assert.equal(r23.fields.result.reveal(), 'pw 2.3')

  const v24 = opened({ protocolVersion: '2.4' }, { protocolVersion: '2.4' })
  const pid24 = running(v24.pool, v24.server)
  ask(v24.pool, v24.server, pid24, 1n, 'ReadLineAsSecureString')
  v24.pool.hostResponse(pid24, 1n, HostMethodId.ReadLineAsSecureString, {
    value: new PSSecureString('pw 2.4'),
  })
  pump(v24.pool, v24.server)
  const r24 = v24.server.last('PIPELINE_HOST_RESPONSE')
  assert.ok(r24.body.includes(`>${Buffer.from('pw 2.4', 'utf16le').toString('base64')}</SS>`))
  assert.ok(r24.fields.result instanceof PSSecureString)
  assert.equal(r24.fields.result.reveal(), 'pw 2.4')
})

test('hostResponse refuses calls that were never made or expect no answer', () => {
  const { pool, server } = opened()
  const pid = running(pool, server)
  server.send(
    'PIPELINE_HOST_CALL',
    { callId: -100n, methodId: HostMethodId.WriteLine2, methodName: 'WriteLine2', parameters: ['x'] },
    pid,
  )
  pump(pool, server)
  assert.throws(() => pool.hostResponse(pid, -100n, HostMethodId.WriteLine2, { value: null }), PsrpError)
  assert.throws(() => pool.hostResponse(pid, 12345n, HostMethodId.ReadLine, { value: 'x' }), PsrpError)
  assert.equal(pool.dataToSend(), undefined)
})
