/**
 * The replay server tolerates what differs legitimately between clients: PSRP messages split or
 * merged over Send requests differently, a CREATE_PIPELINE continued in a Send, and pypsrp-only
 * Signals after a command is done. It still refuses a client that leaves out a required request or
 * polls before it finished sending.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import { readRecording, type Exchange } from '../../helpers/recordings.ts'
import {
  defaultOptional,
  prepareRecording,
  startReplayServer,
  type ReplayServer,
} from '../../helpers/winrm-replay.ts'
import { clientRequest, FreshGuids } from '../../helpers/winrm-replay/echo-client.ts'
import { b64, unb64 } from '../../helpers/winrm-replay/psrp.ts'
import { decodeFragments, encodeFragment, type Fragment } from '../../../src/psrp/index.ts'

const corpus = corpusDir()
const dir = corpus === undefined ? undefined : join(corpus, 'pypsrp/tests/tests_pypsrp/responses')
const skip = peerSkip(
  'recorded corpus',
  dir !== undefined && existsSync(dir),
  'put the shared folder beside the checkout (../shared/corpus)',
)

async function post(server: ReplayServer, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(server.url, { method: 'POST', body })
  return { status: res.status, text: await res.text() }
}

/** A stand-in client over one recording. */
async function client(name: string): Promise<{
  exchanges: Exchange[]
  server: ReplayServer
  request: (i: number) => string
  send: (body: string) => Promise<{ status: number; text: string }>
  replay: (from: number, to: number) => Promise<void>
}> {
  const exchanges = readRecording(join(dir as string, `${name}.yml`))
  const { order } = prepareRecording(exchanges)
  const guids = new FreshGuids(exchanges)
  const server = await startReplayServer(exchanges)
  const request = (i: number): string => clientRequest(exchanges[i] as Exchange, guids, order)
  const send = (body: string): Promise<{ status: number; text: string }> => post(server, body)
  const replay = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) {
      const r = await send(request(i))
      assert.deepEqual(server.mismatches, [], `exchange ${i}`)
      assert.ok(r.status === 200 || r.status === 500, `exchange ${i}: ${r.status}`)
    }
  }
  return { exchanges, server, request, send, replay }
}

/** The fragments of the first PSRP stream element of a request. */
function fragmentsOf(request: string, element: 'Stream' | 'Arguments'): Fragment[] {
  const m = new RegExp(`<rsp:${element}[^>]*>([^<]+)</rsp:${element}>`).exec(request)
  assert.ok(m !== null, `no ${element} payload`)
  return decodeFragments(unb64(m[1] as string))
}

/** A request with its (only) PSRP stream element replaced. */
function withPayload(request: string, element: 'Stream' | 'Arguments', frags: Fragment[]): string {
  const bytes = Buffer.concat(frags.map((f) => encodeFragment(f)))
  return request.replace(
    new RegExp(`(<rsp:${element}[^>]*>)[^<]+(</rsp:${element}>)`),
    (_m, open: string, close: string) => `${open}${b64(bytes)}${close}`,
  )
}

/** Splits a whole (start+end) fragment into two. */
function split(f: Fragment, at: number): [Fragment, Fragment] {
  return [
    { objectId: f.objectId, fragmentId: 0n, start: true, end: false, data: f.data.subarray(0, at) },
    { objectId: f.objectId, fragmentId: 1n, start: false, end: true, data: f.data.subarray(at) },
  ]
}

test('flexible: one recorded Send split over three, with a message cut in two', { skip }, async () => {
  const c = await client('test_psrp_with_input')
  try {
    await c.replay(0, 4)
    const send = c.request(4)
    const frags = fragmentsOf(send, 'Stream')
    assert.equal(frags.length, 5)
    const [a, b] = split(frags[2] as Fragment, 30)
    const parts = [[frags[0], frags[1]], [a], [b, frags[3], frags[4]]] as Fragment[][]
    for (const p of parts) {
      const r = await c.send(withPayload(send, 'Stream', p))
      assert.equal(r.status, 200, r.text)
      assert.match(r.text, /SendResponse/)
    }
    assert.deepEqual(c.server.mismatches, [])
    await c.replay(5, c.exchanges.length)
    assert.equal(c.server.remaining, 0)
  } finally {
    await c.server.close()
  }
})

test('flexible: seven recorded Sends merged into two', { skip }, async () => {
  const c = await client('test_client_copy_file_really_large')
  try {
    await c.replay(0, 4)
    const frags = [4, 5, 6, 7, 8, 9, 10].flatMap((i) => fragmentsOf(c.request(i), 'Stream'))
    const template = c.request(4)
    for (const p of [frags.slice(0, 3), frags.slice(3)]) {
      const r = await c.send(withPayload(template, 'Stream', p))
      assert.equal(r.status, 200, r.text)
    }
    assert.deepEqual(c.server.mismatches, [])
    await c.replay(11, c.exchanges.length)
    assert.equal(c.server.remaining, 0)
  } finally {
    await c.server.close()
  }
})

test('flexible: CREATE_PIPELINE started in Command and finished in a Send', { skip }, async () => {
  const c = await client('test_psrp_with_input')
  try {
    await c.replay(0, 3)
    const cmd = c.request(3)
    const [whole] = fragmentsOf(cmd, 'Arguments')
    const [a, b] = split(whole as Fragment, 100)
    let r = await c.send(withPayload(cmd, 'Arguments', [a]))
    assert.equal(r.status, 200, r.text)
    assert.match(r.text, /CommandResponse/)
    // the rest goes in a Send to the new command (same target as the recorded input Send)
    r = await c.send(withPayload(c.request(4), 'Stream', [b]))
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(c.server.mismatches, [])
    await c.replay(4, c.exchanges.length)
    assert.equal(c.server.remaining, 0)
  } finally {
    await c.server.close()
  }
})

test('flexible: polling before a split message is complete is a mismatch', { skip }, async () => {
  const c = await client('test_psrp_with_input')
  try {
    await c.replay(0, 4)
    const send = c.request(4)
    const frags = fragmentsOf(send, 'Stream')
    const r = await c.send(withPayload(send, 'Stream', frags.slice(0, 2)))
    assert.equal(r.status, 200)
    const poll = await c.send(c.request(5))
    assert.equal(poll.status, 500)
    assert.match(
      c.server.mismatches[0]?.message ?? '',
      /has not yet sent PSRP messages \[PIPELINE_INPUT, PIPELINE_INPUT, END_OF_PIPELINE_INPUT\]/,
    )
  } finally {
    await c.server.close()
  }
})

test('flexible: pypsrp-only Signals after Done may be left out, a Receive may not', { skip }, async () => {
  const c = await client('test_psrp_multiple_invocations')
  try {
    const optional = c.exchanges.map((_e, i) => i).filter((i) => defaultOptional(i, c.exchanges))
    assert.deepEqual(optional, [5, 8])
    await c.replay(0, 5)
    await c.replay(6, 8)
    assert.equal(c.server.remainingRequired, 1)
    await c.replay(9, 10)
    assert.equal(c.server.remaining, 0)
    assert.equal(c.server.remainingRequired, 0)
  } finally {
    await c.server.close()
  }
  const d = await client('test_psrp_multiple_invocations')
  try {
    await d.replay(0, 3)
    const r = await d.send(d.request(4)) // leaves out the Command
    assert.equal(r.status, 500)
    assert.match(d.server.mismatches[0]?.message ?? '', /exchange 3 \(Command\)/)
    assert.match(d.server.mismatches[0]?.message ?? '', /Action: expected .*\/Command, got .*\/Receive/)
  } finally {
    await d.server.close()
  }
})

test(
  'concurrent: a Receive sent ahead of its turn is held until the recording reaches it',
  { skip },
  async () => {
    const exchanges = readRecording(join(dir as string, 'test_psrp_with_input.yml'))
    const { order } = prepareRecording(exchanges)
    const guids = new FreshGuids(exchanges)
    const server = await startReplayServer(exchanges, { concurrentReceives: true, receiveTimeoutMs: 5000 })
    const request = (i: number): string => clientRequest(exchanges[i] as Exchange, guids, order)
    try {
      for (let i = 0; i < 4; i++) assert.equal((await post(server, request(i))).status, 200)
      // the pipeline's Receive goes out before the input is sent (a client that receives at once)
      const early = post(server, request(5))
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(server.served, 4, 'the Receive is held')
      assert.equal((await post(server, request(4))).status, 200)
      const r = await early
      assert.equal(r.status, 200)
      assert.match(r.text, /CommandState/)
      assert.equal((await post(server, request(6))).status, 200)
      assert.deepEqual(server.mismatches, [])
      assert.equal(server.remaining, 0)
    } finally {
      await server.close()
    }
  },
)

test(
  'concurrent: a background pool Receive times out (w:TimedOut) and is dropped at Delete',
  { skip },
  async () => {
    const exchanges = readRecording(join(dir as string, 'test_psrp_with_input.yml'))
    const { order } = prepareRecording(exchanges)
    const guids = new FreshGuids(exchanges)
    const server = await startReplayServer(exchanges, { concurrentReceives: true, receiveTimeoutMs: 100 })
    const request = (i: number): string => clientRequest(exchanges[i] as Exchange, guids, order)
    try {
      for (let i = 0; i < 3; i++) assert.equal((await post(server, request(i))).status, 200)
      // one more pool Receive than the recording has: WinRM would answer it after OperationTimeout
      const background = await post(
        server,
        request(2).replace(
          /uuid:[0-9A-F-]{36}<\/wsa:MessageID>/i,
          `uuid:${globalThis.crypto.randomUUID()}</wsa:MessageID>`,
        ),
      )
      assert.equal(background.status, 500)
      assert.match(background.text, /w:TimedOut/)
      assert.match(background.text, /2150858793/)
      const again = post(server, request(2))
      for (let i = 3; i < 7; i++) assert.equal((await post(server, request(i))).status, 200)
      const dropped = await again
      assert.equal(dropped.status, 500)
      assert.match(dropped.text, /w:TimedOut|w:InvalidSelectors/)
      assert.deepEqual(server.mismatches, [])
      assert.equal(server.remaining, 0)
      assert.ok(server.session.timedOutReceives.length >= 1)
    } finally {
      await server.close()
    }
  },
)
