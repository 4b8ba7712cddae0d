/**
 * OpenTelemetry spans (issue 17): with the SDK's in-memory exporter registered, one invoke over WS-Man
 * (the WinRM test bridge, Basic over HTTP) and one over SSH (the private sshd) give a span tree:
 * the caller's span → psrp.pool.open → connect/process spans and wsman.request spans, and
 * psrp.pipeline → its wsman.request spans (Command, Receive, …), with host attributes on each. No
 * attribute, event or status message holds the password, a secret parameter value or the script text.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { context, trace, type Attributes } from '@opentelemetry/api'
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AuthenticationError,
  Client,
  NamedPipeConnection,
  PowerShell,
  RunspacePool,
  SSHConnection,
  TransportError,
  WSManConnection,
  pipePath,
  type PsrpConnection,
  type WSManConnectionOptions,
} from '../../src/index.ts'
import { md4 } from '../../src/auth/crypto/md4.ts'
import { runOnHosts } from '../../src/client/fleet.ts'
import { TRACER_NAME } from '../../src/internal/telemetry.ts'
import {
  kerberosFrontSkip,
  ntlmFrontSkip,
  peerEndpoint,
  startKerberosFront,
  startNtlmFront,
  type AuthFront,
  type KerberosFront,
} from '../helpers/auth-fronts.ts'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { startPipeTarget, stopAllPipeTargets, waitForPipe, type PipeTarget } from '../helpers/pipe-target.ts'
import { startWinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { startSshd, sshdUnavailable, type SshdPeer } from '../peers/sshd/index.ts'

const pwsh = findPwsh()
const wsmanSkip = pwshSkip(pwsh)
const sshSkip = wsmanSkip || peerSkip('sshd', sshdUnavailable() === undefined, sshdUnavailable() ?? '')
const unixSockets = process.platform === 'win32' ? 'the named-pipe tests use Unix domain sockets' : false
const pipeSkip = unixSockets || wsmanSkip
const ntlmSkip = ntlmFrontSkip(pwsh)
const kerberosSkip = kerberosFrontSkip(pwsh)

const USER = 'psrp'
const PASSWORD = 'trace-pässword-7f3a9c'
const SECRET_VALUE = 'secret-parameter-value-41d8cd98'
const SCRIPT = `param([string]$Token) "len=$($Token.Length)" # script-text-marker-9e107d9d`

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const contextManager = new AsyncHooksContextManager()

before(() => {
  context.setGlobalContextManager(contextManager.enable())
  trace.setGlobalTracerProvider(provider)
})
after(async () => {
  await provider.shutdown()
  trace.disable()
  context.disable()
})
afterEach(() => exporter.reset())

/** Runs `fn` inside a span named `name` of a test tracer: the root of the tree under test. */
function underRoot<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return trace.getTracer('test').startActiveSpan(name, async (span) => {
    try {
      return await fn()
    } finally {
      span.end()
    }
  })
}

/**
 * Under the `caller` root span: opens a pool on `conn`, runs {@link SCRIPT} with the secret token as a
 * parameter and closes the pool; resolves with the output.
 */
function invokeUnderCaller(conn: PsrpConnection, timeout?: number): Promise<unknown[]> {
  return underRoot('caller', async () => {
    await using pool = await RunspacePool.open(conn, timeout === undefined ? {} : { timeout })
    return await new PowerShell(pool).addScript(SCRIPT).addParameter('Token', SECRET_VALUE).invoke()
  })
}

function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId
}

function one(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name)
  assert.equal(found.length, 1, `exactly one ${name} span, got ${found.length}`)
  return found[0] as ReadableSpan
}

function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => parentId(s) === parent.spanContext().spanId)
}

/** True when `span` is `ancestor` or below it. */
function under(spans: readonly ReadableSpan[], span: ReadableSpan, ancestor: ReadableSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
  for (let s: ReadableSpan | undefined = span; s !== undefined; s = byId.get(parentId(s) ?? '')) {
    if (s === ancestor) return true
  }
  return false
}

/** Every text a span carries: name, attribute values, event names and attributes, status message. */
function spanTexts(span: ReadableSpan): string[] {
  const values = (a: Attributes | undefined): string[] =>
    Object.entries(a ?? {}).flatMap(([k, v]) => [k, JSON.stringify(v)])
  return [
    span.name,
    ...values(span.attributes),
    ...span.events.flatMap((e) => [e.name, ...values(e.attributes)]),
    span.status.message ?? '',
  ]
}

function assertNoSecrets(spans: readonly ReadableSpan[], secrets: readonly string[]): void {
  assert.ok(spans.length > 0)
  for (const span of spans) {
    for (const text of spanTexts(span)) {
      for (const secret of secrets) {
        assert.ok(!text.includes(secret), `span ${span.name} carries a secret (${JSON.stringify(text)})`)
      }
    }
  }
}

/**
 * No attribute or event value looks like key material or a token: a run of 24 or more base64 or hex
 * characters (GUIDs have dashes; the script hash is 16 hex digits).
 */
function assertNoKeyMaterial(spans: readonly ReadableSpan[]): void {
  for (const span of spans) {
    for (const text of spanTexts(span)) {
      assert.doesNotMatch(text, /[A-Za-z0-9+/]{24,}/, `span ${span.name} carries a token-like value`)
    }
  }
}

/**
 * Attributes of a `psrp.auth` span: host, mechanism (and, under Negotiate, the mechanism it settled
 * on) and the handshake's final status, nothing else.
 */
const AUTH_SPAN_KEYS = ['http.response.status_code', 'psrp.auth.mechanism', 'server.address', 'server.port']

/**
 * Checks the `psrp.auth` spans of one pool's life over an authenticating peer at `port`: at least one
 * (one per HTTP connection that needed the handshake), each the child of the `wsman.request` whose
 * connection it authenticated, which also holds that connection's `psrp.connect`; the first under
 * `psrp.pool.open`; all under the caller's root; only the expected attributes.
 */
function assertAuthSpans(
  spans: readonly ReadableSpan[],
  mechanism: string,
  port: number,
  negotiated?: string,
): ReadableSpan[] {
  const root = one(spans, 'caller')
  const open = one(spans, 'psrp.pool.open')
  const auths = spans.filter((s) => s.name === 'psrp.auth')
  assert.ok(auths.length >= 1, 'a psrp.auth span')
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
  for (const auth of auths) {
    assert.equal(auth.instrumentationScope.name, TRACER_NAME)
    const keys =
      negotiated === undefined ? AUTH_SPAN_KEYS : [...AUTH_SPAN_KEYS, 'psrp.auth.negotiated_mechanism']
    assert.deepEqual(Object.keys(auth.attributes).sort(), keys.sort())
    assert.equal(auth.attributes['psrp.auth.mechanism'], mechanism)
    assert.equal(auth.attributes['psrp.auth.negotiated_mechanism'], negotiated)
    assert.equal(auth.attributes['server.address'], '127.0.0.1')
    assert.equal(auth.attributes['server.port'], port)
    assert.equal(auth.attributes['http.response.status_code'], 200)
    assert.notEqual(auth.status.code, 2, 'not failed') // SpanStatusCode.ERROR
    const request = byId.get(parentId(auth) ?? '')
    assert.equal(request?.name, 'wsman.request', 'psrp.auth is the child of a wsman.request')
    const connects = childrenOf(spans, request).filter((c) => c.name === 'psrp.connect')
    assert.equal(connects.length, 1, 'the request opened the connection it authenticated')
    assert.equal(connects[0]?.attributes['psrp.auth.mechanism'], mechanism)
    assert.ok(under(spans, auth, root), 'psrp.auth under the caller')
  }
  const first = [...auths].sort((a, b) => hrMs(a.startTime) - hrMs(b.startTime))[0] as ReadableSpan
  assert.ok(under(spans, first, open), 'the first psrp.auth under psrp.pool.open')
  return auths
}

function hrMs([s, ns]: readonly [number, number]): number {
  return s * 1e3 + ns / 1e6
}

const expectedScriptHash = createHash('sha256').update(SCRIPT, 'utf8').digest('hex').slice(0, 16)

describe('traces over WS-Man (WinRM bridge)', { skip: wsmanSkip }, () => {
  let bridge: Awaited<ReturnType<typeof startWinRMBridge>>
  before(async () => {
    bridge = await startWinRMBridge({ pwsh: pwsh as string, username: USER, password: PASSWORD })
  })
  after(() => bridge?.close())

  const connect = (): WSManConnection =>
    new WSManConnection({
      server: '127.0.0.1',
      port: bridge.port,
      ssl: false,
      auth: 'basic',
      username: USER,
      password: PASSWORD,
      allowUnencryptedBasic: true,
      operationTimeout: 5,
    })

  test('one invoke is a tree: pool open and pipeline under the caller, WS-Man requests under them', async () => {
    const conn = connect()
    const out = await invokeUnderCaller(conn)
    await conn.close()
    assert.deepEqual(out, [`len=${SECRET_VALUE.length}`])

    const spans = exporter.getFinishedSpans()
    const root = one(spans, 'caller')
    const open = one(spans, 'psrp.pool.open')
    const pipeline = one(spans, 'psrp.pipeline')
    assert.equal(parentId(open), root.spanContext().spanId)
    assert.equal(parentId(pipeline), root.spanContext().spanId)
    assert.equal(open.instrumentationScope.name, TRACER_NAME)

    for (const s of [open, pipeline]) {
      assert.equal(s.attributes['server.address'], '127.0.0.1')
      assert.equal(s.attributes['server.port'], bridge.port)
      assert.equal(s.attributes['psrp.transport'], 'wsman')
    }
    assert.equal(pipeline.attributes['psrp.script.sha256'], expectedScriptHash)
    assert.equal(pipeline.attributes['psrp.pipeline.commands'], 1)
    assert.equal(pipeline.attributes['psrp.pipeline.output_count'], 1)
    assert.equal(pipeline.attributes['psrp.pipeline.state'], 'Completed')
    assert.match(String(pipeline.attributes['psrp.pipeline.id']), /^[0-9a-f-]{36}$/i)

    // the shell is created under the pool open, and the connection opened by its first request
    const openRequests = childrenOf(spans, open).filter((s) => s.name === 'wsman.request')
    const create = openRequests.find((s) => s.attributes['psrp.wsman.action'] === 'create')
    assert.ok(create !== undefined, 'a wsman.request create under psrp.pool.open')
    assert.equal(create.attributes['http.response.status_code'], 200)
    assert.equal(create.attributes['http.request.method'], 'POST')
    assert.ok((create.attributes['psrp.wsman.request.size'] as number) > 0)
    assert.ok((create.attributes['psrp.wsman.response.size'] as number) > 0)
    const connects = spans.filter((s) => s.name === 'psrp.connect')
    assert.ok(connects.length >= 1)
    assert.ok(connects.some((c) => parentId(c) === create.spanContext().spanId))
    for (const c of connects) {
      assert.equal(c.attributes['network.transport'], 'tcp')
      assert.equal(c.attributes['server.port'], bridge.port)
      assert.equal(c.attributes['psrp.auth.mechanism'], 'Basic')
    }

    // the pipeline's Command and Receive requests nest under it
    const pipelineActions = spans
      .filter((s) => s.name === 'wsman.request' && under(spans, s, pipeline))
      .map((s) => s.attributes['psrp.wsman.action'])
    assert.ok(pipelineActions.includes('command'), `command under the pipeline: ${pipelineActions.join(',')}`)
    assert.ok(pipelineActions.includes('receive'), `receive under the pipeline: ${pipelineActions.join(',')}`)
    for (const s of spans.filter((x) => x.name === 'wsman.request')) {
      assert.equal(s.attributes['server.address'], '127.0.0.1')
      assert.equal(s.attributes['server.port'], bridge.port)
    }

    assertNoSecrets(spans, [PASSWORD, SECRET_VALUE, SCRIPT, 'script-text-marker-9e107d9d'])
  })

  test('a refused login is recorded with its error code, without the password', async () => {
    const conn = new WSManConnection({
      server: '127.0.0.1',
      port: bridge.port,
      ssl: false,
      auth: 'basic',
      username: USER,
      password: `${PASSWORD}-wrong`,
      allowUnencryptedBasic: true,
      operationTimeout: 5,
    })
    await assert.rejects(RunspacePool.open(conn), { code: 'ERR_AUTHENTICATION' })
    await conn.close()
    const spans = exporter.getFinishedSpans()
    const open = one(spans, 'psrp.pool.open')
    assert.equal(open.status.code, 2) // SpanStatusCode.ERROR
    assert.equal(open.attributes['psrp.error.code'], 'ERR_AUTHENTICATION')
    const failedRequest = spans.find((s) => s.name === 'wsman.request' && s.attributes['psrp.error.code'])
    assert.equal(failedRequest?.attributes['psrp.error.code'], 'ERR_AUTHENTICATION')
    assertNoSecrets(spans, [PASSWORD])
  })

  test('copy and fetch are spans with the bytes and the SHA-256, the host work nested under them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psrp-trace-copy-'))
    const body = Buffer.from('traced file body\n'.repeat(100))
    const sha256 = createHash('sha256').update(body).digest('hex')
    try {
      writeFileSync(join(dir, 'in.txt'), body)
      const remote = join(dir, 'remote.txt') // the bridge's pwsh runs on this machine
      {
        await using client = new Client(connect())
        await client.copy(join(dir, 'in.txt'), remote)
        await client.fetch(remote, join(dir, 'back.txt'))
      }
      assert.deepEqual(readFileSync(join(dir, 'back.txt')), body)
      const spans = exporter.getFinishedSpans()
      for (const name of ['psrp.copy', 'psrp.fetch']) {
        const s = one(spans, name)
        assert.equal(s.attributes['psrp.transfer.bytes'], body.length)
        assert.equal(s.attributes['psrp.transfer.sha256'], sha256)
        assert.equal(s.attributes['server.port'], bridge.port)
        const requests = spans.filter((r) => r.name === 'wsman.request' && under(spans, r, s))
        assert.ok(requests.length > 0, `wsman requests under ${name}`)
      }
      assert.ok(
        under(spans, one(spans, 'psrp.pool.open'), one(spans, 'psrp.copy')),
        'the pool opened by the copy',
      )
      assertNoSecrets(spans, [PASSWORD, body.toString().slice(0, 16)])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('runOnHosts: one psrp.fleet.host span per host, the host work nested under it', async () => {
    const target = `http://127.0.0.1:${bridge.port}`
    const results = []
    for await (const r of runOnHosts([target, target], SCRIPT, {
      wsman: { auth: 'basic', username: USER, password: PASSWORD, allowUnencryptedBasic: true },
    })) {
      results.push(r)
    }
    assert.equal(results.length, 2)
    const spans = exporter.getFinishedSpans()
    const hosts = spans.filter((s) => s.name === 'psrp.fleet.host')
    assert.equal(hosts.length, 2)
    for (const h of hosts) {
      assert.equal(h.attributes['server.address'], '127.0.0.1')
      assert.equal(h.attributes['psrp.fleet.target'], target)
      assert.equal(h.attributes['psrp.fleet.ok'], true)
    }
    const pipelines = spans.filter((s) => s.name === 'psrp.pipeline')
    assert.equal(pipelines.length, 2)
    for (const p of pipelines)
      assert.ok(
        hosts.some((h) => under(spans, p, h)),
        'pipeline under its host span',
      )
    assertNoSecrets(spans, [PASSWORD, SCRIPT])
  })
})

describe('traces over SSH (private sshd)', { skip: sshSkip }, () => {
  let peer: SshdPeer | undefined
  before(async () => {
    peer = await startSshd({ pwsh: pwsh as string })
  })
  after(() => peer?.close())

  test('one invoke is a tree: psrp.connect under psrp.pool.open, the pipeline beside it', async () => {
    const sshd = peer as SshdPeer
    const conn = new SSHConnection({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      password: sshd.password,
      hostKey: { knownHosts: sshd.knownHostsPath },
      sshConfig: false,
      connectTimeout: 30_000,
    })
    const out = await invokeUnderCaller(conn)
    assert.deepEqual(out, [`len=${SECRET_VALUE.length}`])

    const spans = exporter.getFinishedSpans()
    const root = one(spans, 'caller')
    const open = one(spans, 'psrp.pool.open')
    const pipeline = one(spans, 'psrp.pipeline')
    const connect = one(spans, 'psrp.connect')
    assert.equal(parentId(open), root.spanContext().spanId)
    assert.equal(parentId(pipeline), root.spanContext().spanId)
    assert.ok(under(spans, connect, open), 'psrp.connect under psrp.pool.open')
    assert.equal(connect.attributes['psrp.transport'], 'ssh')
    assert.equal(connect.attributes['network.transport'], 'tcp')
    assert.equal(connect.attributes['server.address'], sshd.host)
    assert.equal(connect.attributes['server.port'], sshd.port)
    assert.equal(connect.attributes['psrp.auth.mechanism'], 'password')
    for (const s of [open, pipeline]) {
      assert.equal(s.attributes['server.address'], sshd.host)
      assert.equal(s.attributes['server.port'], sshd.port)
      assert.equal(s.attributes['psrp.transport'], 'ssh')
    }
    assert.equal(pipeline.attributes['psrp.script.sha256'], expectedScriptHash)
    assert.equal(pipeline.attributes['psrp.pipeline.state'], 'Completed')
    assertNoSecrets(spans, [sshd.password, SECRET_VALUE, SCRIPT, 'script-text-marker-9e107d9d'])
  })
})

describe('traces over a named pipe (pwsh -CustomPipeName)', { skip: pipeSkip }, () => {
  let target: PipeTarget
  before(async () => {
    target = startPipeTarget(pwsh as string)
    assert.ok(await waitForPipe(target.name), `${pipePath(target.name)} did not appear`)
  })
  after(stopAllPipeTargets)

  test('psrp.connect under psrp.pool.open, with the socket path as the address', async () => {
    const conn = new NamedPipeConnection({ pipeName: target.name, connectTimeout: 60_000 })
    const out = await invokeUnderCaller(conn, 60_000)
    assert.deepEqual(out, [`len=${SECRET_VALUE.length}`])

    const spans = exporter.getFinishedSpans()
    const root = one(spans, 'caller')
    const open = one(spans, 'psrp.pool.open')
    const connect = one(spans, 'psrp.connect')
    assert.equal(parentId(open), root.spanContext().spanId)
    assert.ok(under(spans, connect, open), 'psrp.connect under psrp.pool.open')
    assert.equal(connect.instrumentationScope.name, TRACER_NAME)
    assert.equal(connect.kind, 2) // SpanKind.CLIENT
    assert.equal(connect.attributes['psrp.transport'], 'named-pipe')
    assert.equal(connect.attributes['network.transport'], 'pipe')
    assert.equal(connect.attributes['server.address'], pipePath(target.name))
    assert.equal(connect.attributes['server.address'], conn.path)
    assert.notEqual(connect.status.code, 2, 'not failed')
    assert.equal(one(spans, 'psrp.pipeline').attributes['psrp.pipeline.state'], 'Completed')
    assertNoSecrets(spans, [SECRET_VALUE, SCRIPT, 'script-text-marker-9e107d9d'])
  })
})

describe('traces of a named pipe that cannot be reached', { skip: unixSockets }, () => {
  test('the failed psrp.connect carries the path and the error code', async () => {
    const path = '/dev/null/psrp-no-pipe' // ENOTDIR: refused at once, not retried
    const conn = new NamedPipeConnection({ path, connectTimeout: 60_000 })
    await assert.rejects(
      underRoot('caller', () => RunspacePool.open(conn, { timeout: 60_000 })),
      TransportError,
    )
    const spans = exporter.getFinishedSpans()
    const connect = one(spans, 'psrp.connect')
    assert.ok(under(spans, connect, one(spans, 'psrp.pool.open')), 'psrp.connect under psrp.pool.open')
    assert.equal(connect.status.code, 2) // SpanStatusCode.ERROR
    assert.equal(connect.attributes['psrp.error.code'], 'ERR_TRANSPORT')
    assert.equal(connect.attributes['server.address'], path)
    assert.equal(connect.attributes['psrp.transport'], 'named-pipe')
  })
})

describe('psrp.auth spans over WinRM with NTLM (gss-ntlmssp peer)', { skip: ntlmSkip }, () => {
  const DOMAIN = 'LAB'
  const NTLM_USER = 'alice'
  const NTLM_PASSWORD = 'trace-ntlm-Pässw0rd-c4ca4238'
  const ntHash = Buffer.from(md4(Buffer.from(NTLM_PASSWORD, 'utf16le')))
  const secrets = [
    NTLM_PASSWORD,
    ntHash.toString('hex'),
    ntHash.toString('base64'),
    'TlRMTVNT', // "NTLMSS", the start of every NTLM token in base64
    SECRET_VALUE,
    SCRIPT,
  ]
  let front: AuthFront | undefined
  before(async () => {
    front = await startNtlmFront(pwsh as string, [
      { domain: DOMAIN, user: NTLM_USER, password: NTLM_PASSWORD },
    ])
  })
  after(() => front?.close())

  const options = (password: string): WSManConnectionOptions => ({
    ...peerEndpoint((front as AuthFront).peer),
    auth: 'ntlm',
    username: `${DOMAIN}\\${NTLM_USER}`,
    password,
  })

  test('each connection’s handshake is a psrp.auth span under its request, without a secret', async () => {
    const conn = new WSManConnection(options(NTLM_PASSWORD))
    const out = await invokeUnderCaller(conn, 60_000)
    await conn.close()
    assert.deepEqual(out, [`len=${SECRET_VALUE.length}`])
    const spans = exporter.getFinishedSpans()
    const auths = assertAuthSpans(spans, 'Negotiate', (front as AuthFront).peer.port, 'NTLM')
    const status = await (front as AuthFront).peer.status()
    assert.equal(auths.length, status.authenticated, 'one psrp.auth span per authentication the peer saw')
    assertNoSecrets(spans, secrets)
    assertNoKeyMaterial(spans)
  })

  test('a refused handshake is a failed psrp.auth span with the error code, without the password', async () => {
    const wrong = 'not-the-trace-Pässw0rd-1679091c'
    const conn = new WSManConnection(options(wrong))
    await assert.rejects(
      underRoot('caller', () => RunspacePool.open(conn, { timeout: 60_000 })),
      AuthenticationError,
    )
    await conn.close()
    const spans = exporter.getFinishedSpans()
    const auth = one(spans, 'psrp.auth')
    assert.equal(auth.status.code, 2) // SpanStatusCode.ERROR
    assert.equal(auth.attributes['psrp.error.code'], 'ERR_AUTHENTICATION')
    assert.equal(auth.attributes['psrp.auth.mechanism'], 'Negotiate')
    assert.ok(under(spans, auth, one(spans, 'psrp.pool.open')), 'psrp.auth under psrp.pool.open')
    assertNoSecrets(spans, [wrong, ...secrets])
    assertNoKeyMaterial(spans)
  })
})

describe('psrp.auth spans over WinRM with Kerberos (MIT KDC peer)', { skip: kerberosSkip }, () => {
  let front: KerberosFront | undefined
  before(async () => {
    front = await startKerberosFront(pwsh as string)
  })
  after(() => front?.close())

  const options = (auth: 'kerberos' | 'negotiate'): WSManConnectionOptions => {
    const { kdc, peer } = front as KerberosFront
    return {
      ...peerEndpoint(peer),
      auth,
      username: 'alice',
      password: kdc.password,
      kerberos: { hostname: 'localhost', krb5Config: kdc.krb5ConfPath, kdcTimeout: 3000 },
    }
  }

  for (const [auth, mechanism, negotiated] of [
    ['kerberos', 'Kerberos', undefined],
    ['negotiate', 'Negotiate', 'Kerberos'],
  ] as const) {
    test(`auth '${auth}': a psrp.auth span (${mechanism}) per connection, without a secret`, async () => {
      const { kdc, peer } = front as KerberosFront
      const before = (await peer.status()).authenticated
      const conn = new WSManConnection(options(auth))
      const out = await invokeUnderCaller(conn, 60_000)
      await conn.close()
      assert.deepEqual(out, [`len=${SECRET_VALUE.length}`])
      const spans = exporter.getFinishedSpans()
      const auths = assertAuthSpans(spans, mechanism, peer.port, negotiated)
      const s = await peer.status()
      assert.equal(auths.length, s.authenticated - before, 'one psrp.auth span per authentication')
      assertNoSecrets(spans, [kdc.password, SECRET_VALUE, SCRIPT])
      assertNoKeyMaterial(spans)
    })
  }
})
