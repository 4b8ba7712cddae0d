/**
 * Client runspace pool state machine, paired with the in-memory test server: the open handshake and
 * its state sequence, protocol negotiation 2.0–2.4, APPLICATION_PRIVATE_DATA, RUNSPACEPOOL_STATE
 * (Broken with an error record, Closed), SET_MAX/MIN_RUNSPACES, GET_AVAILABLE_RUNSPACES,
 * RESET_RUNSPACE_STATE, RUNSPACEPOOL_INIT_DATA, USER_EVENT, the key exchange at 2.3 and its absence
 * at 2.4, invalid-state errors, fragment ObjectIds, and tolerant receiving (partial fragments,
 * small server fragments, swapped GUID byte order, malformed data).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import {
  AesSessionCipher,
  ClientRunspacePool,
  decryptSessionKey,
  encodeFragment,
  encodeMessage,
  encodePublicKeyBlob,
  Fragmenter,
  MessageType,
  NIL_GUID,
  type ClientRunspacePoolOptions,
  type PsrpEvent,
  type SessionKeyExchanger,
  pipelineCommand,
} from '../../../src/psrp/index.ts'
import { ErrorRecord, HostInfo, PSDateTime, PSGuid, PSSecureString } from '../../../src/clixml/index.ts'
import { InvalidStateError, ProtocolError, PsrpError } from '../../../src/errors.ts'
import {
  openPair,
  pump,
  PsrpTestServer,
  sequentialGuids,
  TEST_SESSION_KEY,
  testError,
} from '../../helpers/psrp-server.ts'

const POOL_ID = '11111111-2222-4333-8444-555555555555'

function newPool(options: ClientRunspacePoolOptions = {}): ClientRunspacePool {
  return new ClientRunspacePool({ id: POOL_ID, guid: sequentialGuids(), ...options })
}

const keyPair = generateKeyPairSync('rsa', { modulusLength: 2048 })
function exchanger(): SessionKeyExchanger {
  return {
    publicKeyBlob: encodePublicKeyBlob(keyPair.publicKey),
    decrypt: (blob) => new AesSessionCipher(decryptSessionKey(keyPair.privateKey, blob)),
  }
}

/** The pool's cipher, typed loosely (assertions narrow `pool.cipher` too eagerly). */
function cipherOf(pool: ClientRunspacePool): unknown {
  return pool.cipher
}

function states(events: PsrpEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'runspacePoolState' ? [e.state] : []))
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
    assert.equal(e.code, 'ERR_INVALID_STATE')
    assert.equal(e.state, state)
    return true
  })
}

test('open: SESSION_CAPABILITY then INIT_RUNSPACEPOOL in one pool payload; states BeforeOpen → … → Opened', () => {
  const pool = newPool({ minRunspaces: 2, maxRunspaces: 5, applicationArguments: new Map([['app', 'x']]) })
  assert.equal(pool.state, 'BeforeOpen')
  assert.equal(pool.id, POOL_ID)
  assert.equal(pool.dataToSend(), undefined, 'nothing queued before open()')
  pool.open()
  assert.equal(pool.state, 'NegotiationSent')
  const payload = pool.dataToSend()
  assert.ok(payload !== undefined)
  assert.equal(payload.stream, 'default')
  assert.equal(payload.pipelineId, undefined)
  assert.equal(pool.dataToSend(), undefined, 'both messages fit one payload')

  const server = new PsrpTestServer()
  const received = server.receive(payload)
  assert.deepEqual(
    received.map((m) => m.type),
    ['SESSION_CAPABILITY', 'INIT_RUNSPACEPOOL'],
  )
  for (const m of received) {
    assert.equal(m.rpid, POOL_ID)
    assert.equal(m.pid, NIL_GUID)
  }
  assert.deepEqual(server.last('SESSION_CAPABILITY').fields, {
    protocolVersion: '2.3',
    psVersion: '2.0',
    serializationVersion: '1.1.0.1',
  })
  const init = server.last('INIT_RUNSPACEPOOL').fields
  assert.equal(init.minRunspaces, 2)
  assert.equal(init.maxRunspaces, 5)
  assert.equal(Number(init.threadOptions), 0)
  assert.equal(Number(init.apartmentState), 2)
  assert.ok(init.hostInfo instanceof HostInfo)
  assert.ok(init.applicationArguments instanceof Map)
  assert.equal(init.applicationArguments.get('app'), 'x')

  const events = pump(pool, server)
  assert.deepEqual(states(events), ['NegotiationSent', 'NegotiationSucceeded', 'Opening', 'Opened'])
  const prev = ofType(events, 'runspacePoolState').map((e) => e.previous)
  assert.deepEqual(prev, ['BeforeOpen', 'NegotiationSent', 'NegotiationSucceeded', 'Opening'])
  assert.equal(pool.state, 'Opened')
  const cap = ofType(events, 'sessionCapability')
  assert.equal(cap.length, 1)
  assert.equal(cap[0]?.protocolVersion, '2.3')
  assert.equal(pool.serverProtocolVersion, '2.3')
  assert.equal(pool.negotiatedVersion, '2.3')
  const apd = ofType(events, 'applicationPrivateData')
  assert.equal(apd.length, 1)
  const table = pool.applicationPrivateData?.get('PSVersionTable')
  assert.ok(table instanceof Map)
  assert.equal(String(table.get('PSRemotingProtocolVersion')), '2.3')
  // the order of events is the order of messages
  assert.deepEqual(
    events.map((e) => e.type),
    [
      'runspacePoolState',
      'sessionCapability',
      'runspacePoolState',
      'runspacePoolState',
      'applicationPrivateData',
      'runspacePoolState',
    ],
  )
})

test('negotiation: the client announces a configurable version; the negotiated one is the lower of both', () => {
  const cases: [client: '2.0' | '2.1' | '2.2' | '2.3' | '2.4', server: string, negotiated: string][] = [
    ['2.3', '2.3', '2.3'],
    ['2.3', '2.4', '2.3'],
    ['2.4', '2.4', '2.4'],
    ['2.4', '2.3', '2.3'],
    ['2.4', '2.2', '2.2'],
    ['2.2', '2.2', '2.2'],
    ['2.1', '2.1', '2.1'],
    ['2.0', '2.3', '2.0'],
    ['2.3', '2.5', '2.3'],
  ]
  for (const [client, server, negotiated] of cases) {
    const { client: pool, server: srv } = openPair(() => newPool({ protocolVersion: client }), {
      protocolVersion: server,
    })
    assert.equal(
      srv.last('SESSION_CAPABILITY').fields.protocolVersion,
      client,
      `${client}/${server}: announced`,
    )
    assert.equal(pool.clientProtocolVersion, client)
    assert.equal(pool.serverProtocolVersion, server)
    assert.equal(pool.negotiatedVersion, negotiated, `${client}/${server}`)
    assert.equal(pool.state, 'Opened')
  }
  assert.equal(newPool().clientProtocolVersion, '2.3', 'default is 2.3')
  assert.equal(newPool().negotiatedVersion, undefined, 'unknown before the server answers')
})

test('negotiation: a server speaking an unsupported major version breaks the pool with a ProtocolError', () => {
  for (const version of ['1.0', '3.0']) {
    const pool = newPool()
    const server = new PsrpTestServer({ protocolVersion: version })
    pool.open()
    assert.throws(() => pump(pool, server), ProtocolError, version)
    assert.equal(pool.state, 'Broken', version)
    assertInvalidState(
      () => pool.createPipeline({ statements: [[pipelineCommand({ command: 'x' })]] }),
      'Broken',
    )
  }
})

test('open: without a SESSION_CAPABILITY answer the pool stays in NegotiationSent', () => {
  const pool = newPool()
  pool.open()
  const server = new PsrpTestServer({ autoOpen: false })
  pump(pool, server)
  assert.equal(pool.state, 'NegotiationSent')
  assert.equal(pool.negotiatedVersion, undefined)
  assertInvalidState(
    () => pool.createPipeline({ statements: [[pipelineCommand({ command: 'x' })]] }),
    'NegotiationSent',
  )
})

test('invalid states: every pool action before open, while opening and after close throws InvalidStateError', () => {
  const spec = { statements: [[pipelineCommand({ command: 'Get-Date' })]] }
  const actions: [string, (p: ClientRunspacePool) => unknown][] = [
    ['createPipeline', (p) => p.createPipeline(spec)],
    ['getCommandMetadata', (p) => p.getCommandMetadata({ names: ['*'], commandType: 511 })],
    ['setMaxRunspaces', (p) => p.setMaxRunspaces(2)],
    ['setMinRunspaces', (p) => p.setMinRunspaces(1)],
    ['getAvailableRunspaces', (p) => p.getAvailableRunspaces()],
    ['resetRunspaceState', (p) => p.resetRunspaceState()],
  ]
  const fresh = newPool()
  for (const [, act] of actions) assertInvalidState(() => act(fresh), 'BeforeOpen')
  assertInvalidState(() => fresh.exchangeKey(exchanger()), 'BeforeOpen')

  const opening = newPool()
  opening.open()
  for (const [name, act] of actions) assert.throws(() => act(opening), InvalidStateError, name)
  assertInvalidState(() => opening.open(), 'NegotiationSent')

  const { client: opened } = openPair(() => newPool())
  assertInvalidState(() => opened.open(), 'Opened')
  opened.beginClose()
  assert.equal(opened.state, 'Closing')
  for (const [, act] of actions) assertInvalidState(() => act(opened), 'Closing')
  opened.markClosed()
  assert.equal(opened.state, 'Closed')
  for (const [, act] of actions) assertInvalidState(() => act(opened), 'Closed')
  assertInvalidState(() => opened.open(), 'Closed')
  assertInvalidState(() => opened.exchangeKey(exchanger()), 'Closed')
})

test('construction: invalid runspace limits are refused', () => {
  assert.throws(() => new ClientRunspacePool({ minRunspaces: 0 }), PsrpError)
  assert.throws(() => new ClientRunspacePool({ minRunspaces: 3, maxRunspaces: 2 }), PsrpError)
  const p = new ClientRunspacePool({ minRunspaces: 2, maxRunspaces: 2 })
  assert.equal(p.minRunspaces, 2)
  assert.equal(p.maxRunspaces, 2)
  assert.match(p.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  assert.notEqual(new ClientRunspacePool().id, new ClientRunspacePool().id)
})

test('RUNSPACEPOOL_STATE Broken carries its error record; running pipelines fail; the pool refuses actions', () => {
  const { client: pool, server } = openPair(() => newPool())
  const pipeline = pool.createPipeline({
    statements: [[pipelineCommand({ command: 'Start-Sleep', args: [{ name: undefined, value: 60 }] })]],
  })
  pipeline.start()
  pump(pool, server)
  server.sendPoolState('Broken', testError('the session broke', 'SessionBroken'))
  const events = pump(pool, server)
  const st = ofType(events, 'runspacePoolState')
  assert.equal(st.length, 1)
  assert.equal(st[0]?.state, 'Broken')
  assert.equal(st[0]?.previous, 'Opened')
  assert.ok(st[0]?.error instanceof ErrorRecord)
  assert.equal(st[0]?.error?.message, 'the session broke')
  assert.equal(st[0]?.error?.fullyQualifiedErrorId, 'SessionBroken')
  assert.equal(pool.state, 'Broken')
  assert.equal(pipeline.state, 'Failed')
  assert.equal(pipeline.done, true)
  assertInvalidState(
    () => pool.createPipeline({ statements: [[pipelineCommand({ command: 'x' })]] }),
    'Broken',
  )
  assertInvalidState(() => pool.setMaxRunspaces(3), 'Broken')
})

test('RUNSPACEPOOL_STATE Broken during open (e.g. bad INIT) is reported with the error', () => {
  const pool = newPool()
  const server = new PsrpTestServer({ autoOpen: false })
  pool.open()
  pump(pool, server)
  server.send('SESSION_CAPABILITY', {
    protocolVersion: '2.3',
    psVersion: '2.0',
    serializationVersion: '1.1.0.1',
  })
  server.sendPoolState('Broken', testError('max runspaces must be ≥ min'))
  const events = pump(pool, server)
  assert.deepEqual(states(events), ['NegotiationSucceeded', 'Opening', 'Broken'])
  assert.equal(ofType(events, 'runspacePoolState').at(-1)?.error?.message, 'max runspaces must be ≥ min')
})

test('close: server Closing then Closed; pipelines still running end Stopped; markClosed is idempotent', () => {
  const { client: pool, server } = openPair(() => newPool())
  const p = pool.createPipeline({ statements: [[pipelineCommand({ command: 'x' })]] })
  p.start()
  pump(pool, server)
  pool.beginClose()
  assert.equal(pool.state, 'Closing')
  pool.beginClose()
  assert.equal(pool.state, 'Closing', 'beginClose twice is harmless')
  server.sendPoolState('Closing')
  server.sendPoolState('Closed')
  const events = pump(pool, server)
  assert.deepEqual(states(events), ['Closing', 'Closing', 'Closed'])
  assert.equal(pool.state, 'Closed')
  assert.equal(p.state, 'Stopped')
  pool.markClosed()
  assert.equal(pool.state, 'Closed')
  assert.equal(pool.nextEvent(), undefined, 'markClosed on a closed pool emits nothing')
})

test('markBroken: the transport broke; state Broken, but Closed stays Closed', () => {
  const { client: pool } = openPair(() => newPool())
  pool.markBroken()
  assert.equal(pool.state, 'Broken')
  const closed = openPair(() => newPool()).client
  closed.markClosed()
  closed.markBroken()
  assert.equal(closed.state, 'Closed')
})

test('SET_MAX/MIN_RUNSPACES: call ids are distinct; RUNSPACE_AVAILABILITY answers are matched by call id', () => {
  const { client: pool, server } = openPair(() => newPool({ minRunspaces: 1, maxRunspaces: 2 }))
  const a = pool.setMaxRunspaces(8)
  const b = pool.setMinRunspaces(3)
  const c = pool.setMaxRunspaces(1)
  assert.equal(new Set([a, b, c]).size, 3)
  pump(pool, server)
  const max = server.messages('SET_MAX_RUNSPACES')
  const min = server.messages('SET_MIN_RUNSPACES')
  assert.deepEqual(
    max.map((m) => [m.fields.maxRunspaces, m.fields.callId]),
    [
      [8, a],
      [1, c],
    ],
  )
  assert.deepEqual(
    min.map((m) => [m.fields.minRunspaces, m.fields.callId]),
    [[3, b]],
  )
  // answered out of order: c refused, then a accepted, then b accepted
  server.send('RUNSPACE_AVAILABILITY', { callId: c, response: false })
  server.send('RUNSPACE_AVAILABILITY', { callId: a, response: true })
  const first = pump(pool, server)
  assert.deepEqual(
    ofType(first, 'runspaceAvailability').map((e) => [e.callId, e.response]),
    [
      [c, false],
      [a, true],
    ],
  )
  assert.equal(pool.maxRunspaces, 8, 'only the accepted change applies')
  assert.equal(pool.minRunspaces, 1)
  server.send('RUNSPACE_AVAILABILITY', { callId: b, response: true })
  pump(pool, server)
  assert.equal(pool.minRunspaces, 3)
})

test('GET_AVAILABLE_RUNSPACES: the count comes back for the call id', () => {
  const { client: pool, server } = openPair(() => newPool({ maxRunspaces: 4 }))
  const ci = pool.getAvailableRunspaces()
  pump(pool, server)
  assert.equal(server.last('GET_AVAILABLE_RUNSPACES').fields.callId, ci)
  server.send('RUNSPACE_AVAILABILITY', { callId: ci, response: 3n })
  const ev = ofType(pump(pool, server), 'runspaceAvailability')
  assert.equal(ev.length, 1)
  assert.equal(ev[0]?.callId, ci)
  assert.equal(ev[0]?.response, 3n)
  assert.equal(pool.maxRunspaces, 4, 'a count does not change the limits')
})

test('RESET_RUNSPACE_STATE: sent at 2.3; refused when the negotiated version is below 2.3', () => {
  const { client: pool, server } = openPair(() => newPool())
  const ci = pool.resetRunspaceState()
  pump(pool, server)
  assert.equal(server.last('RESET_RUNSPACE_STATE').fields.callId, ci)
  server.send('RUNSPACE_AVAILABILITY', { callId: ci, response: true })
  assert.deepEqual(
    ofType(pump(pool, server), 'runspaceAvailability').map((e) => e.response),
    [true],
  )
  const old = openPair(() => newPool(), { protocolVersion: '2.2' })
  assert.throws(() => old.client.resetRunspaceState(), PsrpError)
  pump(old.client, old.server)
  assert.equal(old.server.messages('RESET_RUNSPACE_STATE').length, 0)
})

test('RUNSPACEPOOL_INIT_DATA updates the limits; USER_EVENT is reported with its fields', () => {
  const { client: pool, server } = openPair(() => newPool())
  server.send('RUNSPACEPOOL_INIT_DATA', { minRunspaces: 2, maxRunspaces: 7 })
  server.send('USER_EVENT', {
    eventIdentifier: 42,
    sourceIdentifier: 'Timer.Elapsed',
    timeGenerated: PSDateTime.parse('2024-05-06T07:08:09Z'),
    messageData: 'hello',
    runspaceId: new PSGuid(POOL_ID),
  })
  const events = pump(pool, server)
  assert.deepEqual(
    ofType(events, 'runspacePoolInitData').map((e) => [e.minRunspaces, e.maxRunspaces]),
    [[2, 7]],
  )
  assert.equal(pool.minRunspaces, 2)
  assert.equal(pool.maxRunspaces, 7)
  const ue = ofType(events, 'userEvent')
  assert.equal(ue.length, 1)
  assert.equal(ue[0]?.event['eventIdentifier'], 42)
  assert.equal(ue[0]?.event['sourceIdentifier'], 'Timer.Elapsed')
  assert.equal(ue[0]?.event['messageData'], 'hello')
})

test('key exchange at 2.3: PUBLIC_KEY → ENCRYPTED_SESSION_KEY installs the AES cipher; SecureStrings reach the server', () => {
  const { client: pool, server } = openPair(() => newPool())
  assert.equal(pool.cipher, undefined, 'no cipher before the exchange at 2.3')
  const ex = exchanger()
  assert.equal(pool.exchangeKey(ex), true)
  assert.equal(pool.keyExchangePending, true)
  assert.equal(pool.exchangeKey(ex), true, 'a second call while pending sends nothing new')
  const events = pump(pool, server)
  assert.equal(server.messages('PUBLIC_KEY').length, 1)
  assert.equal(server.last('PUBLIC_KEY').fields.publicKey, ex.publicKeyBlob)
  assert.equal(server.last('PUBLIC_KEY').pid, NIL_GUID)
  assert.equal(ofType(events, 'sessionKeyExchanged').length, 1)
  assert.equal(pool.keyExchangePending, false)
  const cipher = cipherOf(pool)
  assert.ok(cipher instanceof AesSessionCipher)
  assert.equal(pool.exchangeKey(ex), false, 'nothing to do once a key is installed')
  // the client and the server now share TEST_SESSION_KEY
  const plain = Buffer.from('ok', 'utf16le')
  assert.deepEqual(cipher.encrypt(plain), new AesSessionCipher(TEST_SESSION_KEY).encrypt(plain))

  const p = pool.createPipeline({
    statements: [
      [
        pipelineCommand({
          command: 'Write-Output',
          args: [{ name: 'InputObject', value: new PSSecureString('s3cret') }],
        }),
      ],
    ],
  })
  p.start()
  pump(pool, server)
  const create = server.last('CREATE_PIPELINE')
  assert.ok(
    !create.body.includes(Buffer.from('s3cret', 'utf16le').toString('base64')),
    'not plaintext on the wire',
  )
  const arg = create.fields.statements[0]?.[0]?.args[0]?.value
  assert.ok(arg instanceof PSSecureString)
  assert.equal(arg.reveal(), 's3cret')
  // and a SecureString from the server decrypts on the client
  server.send('PIPELINE_OUTPUT', { value: new PSSecureString('from server') }, p.id)
  const out = ofType(pump(pool, server), 'pipelineOutput')
  assert.ok(out[0]?.value instanceof PSSecureString)
  assert.equal(out[0].value.reveal(), 'from server')
})

test('key exchange at 2.4: no exchange; SecureStrings are base64 UTF-16LE; exchangeKey returns false', () => {
  const { client: pool, server } = openPair(() => newPool({ protocolVersion: '2.4' }), {
    protocolVersion: '2.4',
  })
  assert.equal(pool.negotiatedVersion, '2.4')
  assert.ok(pool.cipher !== undefined, 'plaintext cipher installed by the negotiation')
  assert.equal(pool.exchangeKey(exchanger()), false)
  pump(pool, server)
  assert.equal(server.messages('PUBLIC_KEY').length, 0)
  const p = pool.createPipeline({
    statements: [
      [
        pipelineCommand({
          command: 'Write-Output',
          args: [{ name: undefined, value: new PSSecureString('pässwörd') }],
        }),
      ],
    ],
  })
  p.start()
  pump(pool, server)
  const create = server.last('CREATE_PIPELINE')
  assert.ok(create.body.includes(`>${Buffer.from('pässwörd', 'utf16le').toString('base64')}</SS>`))
  const arg = create.fields.statements[0]?.[0]?.args[0]?.value
  assert.ok(arg instanceof PSSecureString)
  assert.equal(arg.reveal(), 'pässwörd')
})

test('key exchange: client 2.4 against a 2.3 server negotiates 2.3 and needs the RSA exchange', () => {
  const { client: pool, server } = openPair(() => newPool({ protocolVersion: '2.4' }), {
    protocolVersion: '2.3',
  })
  assert.equal(pool.negotiatedVersion, '2.3')
  assert.equal(pool.cipher, undefined)
  assert.equal(pool.exchangeKey(exchanger()), true)
  pump(pool, server)
  assert.ok(cipherOf(pool) instanceof AesSessionCipher)
})

test('key exchange: a client 2.3 against a 2.4 server still uses the RSA exchange (negotiated 2.3)', () => {
  const { client: pool, server } = openPair(() => newPool({ protocolVersion: '2.3' }), {
    protocolVersion: '2.4',
  })
  assert.equal(pool.negotiatedVersion, '2.3')
  assert.equal(pool.cipher, undefined)
  assert.equal(pool.exchangeKey(exchanger()), true)
  const events = pump(pool, server)
  assert.equal(ofType(events, 'sessionKeyExchanged').length, 1)
})

test('PUBLIC_KEY_REQUEST from the server is reported; answering it completes the exchange', () => {
  const { client: pool, server } = openPair(() => newPool())
  server.send('PUBLIC_KEY_REQUEST', {})
  const events = pump(pool, server)
  assert.equal(ofType(events, 'publicKeyRequested').length, 1)
  assert.equal(pool.exchangeKey(exchanger()), true)
  const after = pump(pool, server)
  assert.equal(server.messages('PUBLIC_KEY').length, 1)
  assert.equal(ofType(after, 'sessionKeyExchanged').length, 1)
  assert.ok(pool.cipher !== undefined)
})

test('PUBLIC_KEY_REQUEST triggers PUBLIC_KEY automatically when a key exchanger was configured', () => {
  const pool = new ClientRunspacePool({ id: POOL_ID, sessionKey: exchanger } as ClientRunspacePoolOptions)
  const server = new PsrpTestServer()
  pool.open()
  pump(pool, server)
  server.send('PUBLIC_KEY_REQUEST', {})
  pump(pool, server)
  assert.equal(server.messages('PUBLIC_KEY').length, 1)
  assert.ok(pool.cipher !== undefined)
})

test('ENCRYPTED_SESSION_KEY without a key exchange is a ProtocolError; a bad key is a typed error', () => {
  const { client: pool, server } = openPair(() => newPool())
  server.send('ENCRYPTED_SESSION_KEY', { encryptedSessionKey: 'AQIAABBmAAAApAAA' })
  assert.throws(() => pump(pool, server), ProtocolError)

  const second = openPair(() => newPool(), { autoKeyExchange: false })
  second.client.exchangeKey(exchanger())
  pump(second.client, second.server)
  // a ciphertext that does not decrypt with our private key
  second.server.send('ENCRYPTED_SESSION_KEY', {
    encryptedSessionKey: Buffer.concat([
      Buffer.from([1, 2, 0, 0, 0x10, 0x66, 0, 0, 0, 0xa4, 0, 0]),
      Buffer.alloc(256, 7),
    ]).toString('base64'),
  })
  assert.throws(() => pump(second.client, second.server), PsrpError)
  assert.equal(second.client.cipher, undefined)
})

test('fragments: one ObjectId counter per pool, shared by pool and pipeline messages, starting at 1', () => {
  const { client: pool, server } = openPair(() => newPool())
  const p1 = pool.createPipeline({ statements: [[pipelineCommand({ command: 'a' })]], hasInput: true })
  p1.start()
  pool.setMaxRunspaces(2)
  const p2 = pool.createPipeline({ statements: [[pipelineCommand({ command: 'b' })]] })
  p2.start()
  p1.sendInput([1, 2])
  p1.endInput()
  const before = server.payloadSizes.length
  pump(pool, server, { clientFragmentSize: 60 })
  const starts = server.fragments.filter((f) => f.start)
  const ids = starts.map((f) => f.objectId)
  assert.deepEqual(
    ids,
    ids.map((_, i) => BigInt(i + 1)),
    'ObjectIds 1, 2, 3, … in send order',
  )
  assert.equal(ids.length, server.received.length)
  // every fragment of one object carries consecutive FragmentIds, the last one flagged end
  const byObject = new Map<bigint, bigint[]>()
  for (const f of server.fragments)
    byObject.set(f.objectId, [...(byObject.get(f.objectId) ?? []), f.fragmentId])
  for (const [, frs] of byObject)
    assert.deepEqual(
      frs,
      frs.map((_, i) => BigInt(i)),
    )
  assert.ok(
    [...byObject.values()].some((f) => f.length > 1),
    'small fragments split some messages',
  )
  assert.ok(server.payloadSizes.slice(before).every((s) => s <= 60))
})

test('dataToSend: undefined when idle; a fragment size below 22 is refused', () => {
  const pool = newPool()
  assert.equal(pool.dataToSend(), undefined)
  assert.equal(pool.hasDataToSend, false)
  pool.open()
  assert.equal(pool.hasDataToSend, true)
  assert.throws(() => pool.dataToSend(21), PsrpError)
  const p = pool.dataToSend(22)
  assert.ok(p !== undefined)
  assert.equal(p.data.length, 22, 'one header + one byte')
})

test('receiving: server bytes fed one at a time, small server fragments, and several messages per chunk', () => {
  for (const [chunkSize, serverFragmentSize] of [
    [1, 32768],
    [7, 40],
    [1000, 22],
    [100000, 32768],
  ] as const) {
    const pool = newPool()
    const server = new PsrpTestServer()
    pool.open()
    const events = pump(pool, server, { chunkSize, serverFragmentSize })
    assert.equal(pool.state, 'Opened', `${chunkSize}/${serverFragmentSize}`)
    assert.deepEqual(states(events), ['NegotiationSent', 'NegotiationSucceeded', 'Opening', 'Opened'])
  }
})

test('receiving: GUIDs in RFC 4122 byte order (old recordings) still match the pool and its pipelines', () => {
  const { client: pool, server } = openPair(() => newPool(), { swapGuidByteOrder: true })
  assert.equal(pool.state, 'Opened')
  const p = pool.createPipeline({ statements: [[pipelineCommand({ command: 'x' })]] })
  p.start()
  pump(pool, server)
  server.send('PIPELINE_OUTPUT', { value: 'hi' }, p.id)
  server.sendPipelineState(p.id, 'Completed')
  const events = pump(pool, server)
  const out = ofType(events, 'pipelineOutput')
  assert.equal(out[0]?.pipelineId, p.id)
  assert.equal(ofType(events, 'pipelineState')[0]?.pipelineId, p.id)
  assert.equal(p.state, 'Completed')
})

test('receiving: malformed data gives ProtocolError (continuation without start, client-bound check, bad body)', () => {
  const { client: pool } = openPair(() => newPool())
  // a fragment that continues an object never started
  const orphan = encodeFragment({
    objectId: 99n,
    fragmentId: 3n,
    start: false,
    end: true,
    data: Uint8Array.of(1, 2, 3),
  })
  assert.throws(() => pool.receiveData(orphan), ProtocolError)

  const fresh = openPair(() => newPool()).client
  const toServer = encodeMessage({
    destination: 'server',
    type: MessageType.PIPELINE_OUTPUT,
    rpid: POOL_ID,
    data: '<S>x</S>',
  })
  const f = new Fragmenter(50n).fragment(toServer, 32768).map(encodeFragment)
  assert.throws(() => fresh.receiveData(f[0] as Uint8Array), ProtocolError)

  const third = openPair(() => newPool()).client
  const cut = encodeMessage({
    destination: 'client',
    type: MessageType.RUNSPACEPOOL_STATE,
    rpid: POOL_ID,
    data: '<Obj RefId="0"><MS><I32 N="RunspaceState">2</I3',
  })
  assert.throws(
    () => third.receiveData(new Fragmenter(60n).fragment(cut, 32768).map(encodeFragment)[0] as Uint8Array),
    ProtocolError,
  )

  const fourth = openPair(() => newPool()).client
  const unknown = encodeMessage({ destination: 'client', type: 0x00099999, rpid: POOL_ID, data: '' })
  assert.throws(
    () =>
      fourth.receiveData(new Fragmenter(70n).fragment(unknown, 32768).map(encodeFragment)[0] as Uint8Array),
    ProtocolError,
  )
})

test('receiving: a RUNSPACEPOOL_STATE value outside 2.2.3.4 is a ProtocolError', () => {
  const { client: pool, server } = openPair(() => newPool())
  server.send('RUNSPACEPOOL_STATE', { state: 42 })
  assert.throws(() => pump(pool, server), ProtocolError)
})

test('nextEvent: undefined when there is nothing; a partial fragment yields no event', () => {
  const pool = newPool()
  assert.equal(pool.nextEvent(), undefined)
  pool.open()
  assert.equal(pool.nextEvent()?.type, 'runspacePoolState')
  assert.equal(pool.nextEvent(), undefined)
  const server = new PsrpTestServer()
  for (let p = pool.dataToSend(); p !== undefined; p = pool.dataToSend()) server.receive(p)
  const [chunk] = server.take()
  assert.ok(chunk !== undefined)
  pool.receiveData(chunk.data.subarray(0, 30))
  assert.equal(pool.nextEvent(), undefined, 'need more data')
  pool.receiveData(chunk.data.subarray(30))
  assert.equal(pool.nextEvent()?.type, 'sessionCapability')
})
