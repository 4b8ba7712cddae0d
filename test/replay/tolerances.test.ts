/**
 * The replay-server behaviour the public-client runner relies on, shown with a stand-in client that
 * sends the recorded requests (fresh GUIDs) with one change each: every tolerance is off by default
 * (the change is a mismatch) and accepts exactly that change when turned on; a held Receive whose
 * client hung up consumes nothing; a request repeated after a recorded dropped connection is dropped
 * again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { corpusDir, peerSkip } from '../helpers/peers.ts'
import { readRecording, type Exchange } from '../helpers/recordings.ts'
import {
  prepareRecording,
  startReplayServer,
  type ReplayServer,
  type ReplayServerOptions,
} from '../helpers/winrm-replay.ts'
import { clientRequest, FreshGuids } from '../helpers/winrm-replay/echo-client.ts'
import { b64, unb64 } from '../helpers/winrm-replay/psrp.ts'
import { decodeFragments, encodeFragment } from '../../src/psrp/index.ts'

const corpus = corpusDir()
const dir = corpus === undefined ? undefined : join(corpus, 'pypsrp/tests/tests_pypsrp/responses')
const skip = peerSkip(
  'recorded corpus',
  dir !== undefined && existsSync(dir),
  'put the shared folder beside the checkout (../shared/corpus)',
)

interface Client {
  server: ReplayServer
  exchanges: Exchange[]
  request: (i: number) => string
  send: (body: string, signal?: AbortSignal) => Promise<{ status: number; text: string }>
  replay: (from: number, to: number) => Promise<void>
}

async function client(name: string, options: ReplayServerOptions = {}): Promise<Client> {
  const exchanges = readRecording(join(dir as string, `${name}.yml`))
  const { order } = prepareRecording(exchanges)
  const guids = new FreshGuids(exchanges)
  const server = await startReplayServer(exchanges, options)
  const request = (i: number): string => clientRequest(exchanges[i] as Exchange, guids, order)
  const send = async (body: string, signal?: AbortSignal): Promise<{ status: number; text: string }> => {
    const res = await fetch(server.url, { method: 'POST', body, ...(signal === undefined ? {} : { signal }) })
    return { status: res.status, text: await res.text() }
  }
  const replay = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) {
      await send(request(i))
      assert.deepEqual(server.mismatches, [], `exchange ${i}`)
    }
  }
  return { server, exchanges, request, send, replay }
}

/** Rewrites the CLIXML of the single-fragment messages in a request's rsp:Stream. */
function editStream(request: string, edit: (xml: string) => string): string {
  return request.replace(
    /(<rsp:Stream[^>]*>)([^<]+)(<\/rsp:Stream>)/,
    (_m, open: string, body: string, close: string) => {
      const frags = decodeFragments(unb64(body)).map((f) => {
        const xml = Buffer.from(f.data.subarray(40)).toString('utf8')
        const data = Buffer.concat([f.data.subarray(0, 40), Buffer.from(edit(xml), 'utf8')])
        return encodeFragment({ ...f, data: new Uint8Array(data) })
      })
      return `${open}${b64(Buffer.concat(frags))}${close}`
    },
  )
}

/** The `ci` values of the messages in a response's streams. */
function callIdsIn(response: string): string[] {
  const out: string[] = []
  for (const m of response.matchAll(/<rsp:Stream[^>]*>([^<]+)<\/rsp:Stream>/g)) {
    for (const f of decodeFragments(unb64(m[1] as string))) {
      const ci = /<I64 N="ci">(-?\d+)<\/I64>/i.exec(Buffer.from(f.data.subarray(40)).toString('utf8'))
      if (ci !== null) out.push(ci[1] as string)
    }
  }
  return out
}

test('bindCallIds: call ids are bound like GUIDs and answered with the client’s', { skip }, async () => {
  const shifted = (c: Client, i: number): string =>
    editStream(c.request(i), (xml) =>
      xml.replace(/(<I64 N="ci">)(\d+)(<\/I64>)/i, (_m, o, v, e) => `${o}${Number(v) + 10}${e}`),
    )
  const strict = await client('test_psrp_set_runspaces', { concurrentReceives: true })
  try {
    await strict.replay(0, 3)
    await strict.send(shifted(strict, 3))
    assert.equal(strict.server.mismatches.length, 1, 'a different call id is a mismatch by default')
  } finally {
    await strict.server.close()
  }
  const c = await client('test_psrp_set_runspaces', { bindCallIds: true })
  try {
    await c.replay(0, 3)
    for (let i = 3; i < 15; i += 2) {
      const sent = await c.send(shifted(c, i))
      assert.equal(sent.status, 200, sent.text)
      const answer = await c.send(c.request(i + 1))
      assert.deepEqual(c.server.mismatches, [])
      assert.deepEqual(callIdsIn(answer.text), [String((i - 3) / 2 + 10)], `answer to exchange ${i}`)
    }
    await c.replay(15, c.exchanges.length)
    assert.equal(c.server.remainingRequired, 0)
  } finally {
    await c.server.close()
  }
})

test('bindCallIds: a call id already bound to another is refused', { skip }, async () => {
  const c = await client('test_psrp_set_runspaces', { bindCallIds: true })
  const withCi = (i: number, ci: number): string =>
    editStream(c.request(i), (xml) => xml.replace(/(<I64 N="ci">)\d+(<\/I64>)/i, `$1${ci}$2`))
  try {
    await c.replay(0, 3)
    await c.send(withCi(3, 10))
    await c.send(c.request(4))
    assert.equal(c.server.mismatches.length, 0)
    await c.send(withCi(5, 10))
    const messages = c.server.mismatches.map((m) => m.message)
    assert.equal(messages.length, 1)
    assert.match(messages[0] ?? '', /call id 10 already stands for the recording's 0/)
  } finally {
    await c.server.close()
  }
})

test('a held Receive whose client hung up consumes no exchange', { skip }, async () => {
  const c = await client('test_psrp_set_runspaces', { concurrentReceives: true, receiveTimeoutMs: 5000 })
  try {
    await c.replay(0, 3)
    // the pool Receive the recording answers after the next Send: held; its client gives up
    const abort = new AbortController()
    const held = c.send(c.request(4), abort.signal).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 50))
    abort.abort()
    assert.ok((await held) instanceof Error)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(c.server.session.abandonedReceives, 1)
    // the exchange is still there for the next Receive
    await c.replay(3, c.exchanges.length)
    assert.equal(c.server.remainingRequired, 0)
  } finally {
    await c.server.close()
  }
})

test('a request repeated after a recorded dropped connection is dropped again', { skip }, async () => {
  const c = await client('test_psrp_is_alive_http_error')
  try {
    await c.replay(0, 4)
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(c.send(c.request(4)))
    }
    assert.deepEqual(c.server.mismatches, [])
    assert.equal(c.server.session.retriedDrops, 1)
    // anything else is still a mismatch
    await c.send(c.request(0))
    assert.equal(c.server.mismatches.length, 1)
  } finally {
    await c.server.close()
  }
})

test('stopSignalSpellings and extraSignalsAfterStop', { skip }, async () => {
  const crtl = (c: Client): string =>
    c.request(6).replace('powershell/signal/ctrl_c', 'powershell/signal/crtl_c')
  const terminate = (c: Client): string =>
    c
      .request(6)
      .replace(
        'powershell/signal/ctrl_c',
        'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate',
      )
  const strict = await client('test_psrp_nested_command')
  try {
    await strict.replay(0, 6)
    await strict.send(crtl(strict))
    assert.equal(strict.server.mismatches.length, 1, 'the other spelling is a mismatch by default')
    await strict.send(strict.request(6))
    await strict.send(terminate(strict))
    assert.equal(strict.server.mismatches.length, 2, 'a terminate after the stop is a mismatch by default')
  } finally {
    await strict.server.close()
  }
  const c = await client('test_psrp_nested_command', {
    stopSignalSpellings: true,
    extraSignalsAfterStop: true,
  })
  try {
    await c.replay(0, 6)
    assert.equal((await c.send(crtl(c))).status, 200)
    const t = await c.send(terminate(c))
    assert.equal(t.status, 200)
    assert.match(t.text, /SignalResponse/)
    await c.replay(7, c.exchanges.length)
    assert.deepEqual(c.server.mismatches, [])
    assert.equal(c.server.remaining, 0)
  } finally {
    await c.server.close()
  }
})

test('promptResponseOnCommand: a host response Send may name its pipeline', { skip }, async () => {
  const onCommand = (c: Client): string => {
    const pid = /<rsp:CommandLine CommandId="([^"]+)"/.exec(c.request(5))?.[1]
    assert.ok(pid !== undefined)
    return c.request(7).replace('<rsp:Stream Name="pr">', `<rsp:Stream Name="pr" CommandId="${pid}">`)
  }
  const strict = await client('test_psrp_pshost_ui_mocked_methods')
  try {
    await strict.replay(0, 7)
    await strict.send(onCommand(strict))
    assert.equal(
      strict.server.mismatches.length,
      1,
      'a CommandId the recording lacks is a mismatch by default',
    )
  } finally {
    await strict.server.close()
  }
  const c = await client('test_psrp_pshost_ui_mocked_methods', { promptResponseOnCommand: true })
  try {
    await c.replay(0, 7)
    assert.equal((await c.send(onCommand(c))).status, 200)
    await c.replay(8, 9)
    // an unknown CommandId is still refused
    const unknown = c
      .request(9)
      .replace(
        '<rsp:Stream Name="pr">',
        `<rsp:Stream Name="pr" CommandId="${globalThis.crypto.randomUUID()}">`,
      )
    await c.send(unknown)
    assert.equal(c.server.mismatches.length, 1)
    for (let i = 9; i < c.exchanges.length; i++) await c.send(c.request(i))
    assert.equal(c.server.mismatches.length, 1)
    assert.equal(c.server.remaining, 0)
  } finally {
    await c.server.close()
  }
})
