/**
 * The replay server against every pypsrp recording: replaying the recorded requests themselves (with
 * fresh GUIDs and MessageIDs) gives no mismatch and the recorded responses (after mapping the GUIDs
 * back); altered requests give a mismatch that says what differs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import { listRecordings, readRecording, type Exchange } from '../../helpers/recordings.ts'
import { prepareRecording, startReplayServer, type ReplayServer } from '../../helpers/winrm-replay.ts'
import { backToRecorded, clientRequest, FreshGuids } from '../../helpers/winrm-replay/echo-client.ts'
import {
  isFault,
  parseEnvelope,
  responsePayloads,
  setRelatesTo,
} from '../../helpers/winrm-replay/envelope.ts'
import { GUID_IN_TEXT } from '../../helpers/winrm-replay/guids.ts'
import { b64, unb64 } from '../../helpers/winrm-replay/psrp.ts'
import {
  decodeFragments,
  decodeMessage,
  encodeFragment,
  encodeMessage,
  guidFromBytes,
  NIL_GUID,
} from '../../../src/psrp/index.ts'

const corpus = corpusDir()
const dir = corpus === undefined ? undefined : join(corpus, 'pypsrp')
const skip = peerSkip(
  'recorded corpus',
  dir !== undefined && existsSync(dir),
  'put the shared folder beside the checkout (../shared/corpus)',
)

async function post(server: ReplayServer, body: string): Promise<{ status: number; text: string } | Error> {
  try {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml;charset=UTF-8' },
      body,
    })
    return { status: res.status, text: await res.text() }
  } catch (err) {
    return err as Error
  }
}

function firstDiff(a: string, b: string): string {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return `at ${i}: expected …${a.slice(Math.max(0, i - 60), i + 60)}…, got …${b.slice(Math.max(0, i - 60), i + 60)}…`
}

/** The served response names the client's GUIDs, never the recording's client-chosen ones. */
function checkRewritten(where: string, served: string, request: string, guids: FreshGuids): void {
  for (const m of served.matchAll(GUID_IN_TEXT)) {
    assert.ok(
      !guids.forward.has(m[0].toLowerCase()),
      `${where}: served response still names recorded ${m[0]}`,
    )
  }
  if (!parseEnvelope(request).psrp) return
  for (const p of responsePayloads(parseEnvelope(served))) {
    for (const f of decodeFragments(unb64(p.b64))) {
      if (!f.start) continue
      const rpid = guidFromBytes(f.data, 8)
      assert.ok(
        rpid === NIL_GUID || guids.back.has(rpid),
        `${where}: served RPID ${rpid} is not the client's`,
      )
      const pid = guidFromBytes(f.data, 24)
      assert.ok(pid === NIL_GUID || guids.back.has(pid), `${where}: served PID ${pid} is not the client's`)
    }
  }
}

/** Replays a recording's own requests (fresh GUIDs) and checks every response. */
async function echoReplay(file: string, exchanges: Exchange[]): Promise<void> {
  const { order } = prepareRecording(exchanges)
  const guids = new FreshGuids(exchanges)
  const server = await startReplayServer(exchanges, { delayScale: 0.01 })
  try {
    for (const [i, ex] of exchanges.entries()) {
      const where = `${basename(file)} exchange ${i}`
      const req = clientRequest(ex, guids, order)
      assert.notEqual(req, ex.request, `${where}: the request should carry fresh GUIDs`)
      const res = await post(server, req)
      assert.deepEqual(server.mismatches, [], `${where}: mismatch`)
      if (ex.flags['http_error'] !== undefined) {
        assert.ok(res instanceof Error, `${where}: expected a connection error`)
        continue
      }
      assert.ok(!(res instanceof Error), `${where}: ${String(res)}`)
      const recorded = ex.response ?? ''
      assert.equal(res.status, isFault(recorded) ? 500 : 200, `${where}: status`)
      checkRewritten(where, res.text, ex.request, guids)
      const back = backToRecorded(res.text, ex.request, guids, order)
      // RelatesTo answers the request's MessageID (a few recordings carry another one)
      const expected = setRelatesTo(recorded, parseEnvelope(ex.request).messageId ?? '')
      if (back !== expected)
        assert.fail(`${where}: response differs from the recording: ${firstDiff(expected, back)}`)
    }
    assert.equal(server.remaining, 0)
    assert.equal(server.served, exchanges.length)
  } finally {
    await server.close()
  }
}

test('replay: every recording replays its own requests with fresh GUIDs', { skip }, async () => {
  const files = listRecordings(dir as string)
  assert.ok(files.length >= 50, `expected the pypsrp recordings, found ${files.length}`)
  let exchanges = 0
  for (const file of files) {
    const ex = readRecording(file)
    exchanges += ex.length
    await echoReplay(file, ex)
  }
  console.log(
    `replay: ${files.length} recordings, ${exchanges} exchanges replayed with fresh GUIDs, 0 mismatches`,
  )
})

/** Rewrites the one-fragment PSRP message of each base64 `Arguments` payload. */
function alterArguments(request: string, edit: (clixml: string) => string): string {
  return request.replace(
    /(<rsp:Arguments>)([^<]+)(<\/rsp:Arguments>)/,
    (_m, open: string, body: string, close: string) => {
      const [frag] = decodeFragments(unb64(body))
      assert.ok(frag !== undefined && frag.start && frag.end, 'expected a one-fragment CREATE_PIPELINE')
      const msg = decodeMessage(frag.data)
      const data = encodeMessage({
        destination: msg.destination,
        type: msg.type,
        rpid: msg.rpid,
        pid: msg.pid,
        data: edit(msg.data),
        bom: msg.hasBom,
      })
      // keep the header GUID bytes as they were (byte order of the recording)
      data.set(msg.rpidBytes, 8)
      data.set(msg.pidBytes, 24)
      return `${open}${b64(encodeFragment({ ...frag, data }))}${close}`
    },
  )
}

test('replay: a different command inside CREATE_PIPELINE is a mismatch that names it', { skip }, async () => {
  const file = join(dir as string, 'tests/tests_pypsrp/responses/test_psrp_clear_commands.yml')
  const exchanges = readRecording(file)
  const { order } = prepareRecording(exchanges)
  const guids = new FreshGuids(exchanges)
  const server = await startReplayServer(exchanges)
  try {
    const cmdIndex = exchanges.findIndex((e) => e.request.includes('/windows/shell/Command</wsa:Action>'))
    assert.ok(cmdIndex > 0)
    for (const ex of exchanges.slice(0, cmdIndex)) {
      const res = await post(server, clientRequest(ex, guids, order))
      assert.ok(!(res instanceof Error) && res.status === 200)
    }
    const cmd = exchanges[cmdIndex] as Exchange
    const altered = alterArguments(cmd.request, (xml) => xml.replace('echo new', 'Write-Output new'))
    assert.notEqual(altered, cmd.request)
    const res = await post(server, clientRequest({ ...cmd, request: altered }, guids, order))
    assert.ok(!(res instanceof Error))
    assert.equal(res.status, 500)
    assert.equal(server.mismatches.length, 1)
    const m = server.mismatches[0]
    assert.ok(m !== undefined)
    assert.equal(m.exchange, cmdIndex)
    assert.match(m.message, /CREATE_PIPELINE/)
    assert.match(m.message, /Cmd: expected "echo new", got "Write-Output new"/)
    assert.match(res.text, /s:Fault/)
    assert.match(res.text, /Write-Output new/)
    // the cursor did not move: the right request still matches
    const ok = await post(server, clientRequest(cmd, guids, order))
    assert.ok(!(ok instanceof Error))
    assert.equal(ok.status, 200, ok.text)
    assert.equal(server.mismatches.length, 1)
  } finally {
    await server.close()
  }
})

test('replay: a different Action is a mismatch that names both', { skip }, async () => {
  const file = join(dir as string, 'tests/tests_pypsrp/responses/test_winrs_standard.yml')
  const exchanges = readRecording(file)
  const guids = new FreshGuids(exchanges)
  const server = await startReplayServer(exchanges)
  try {
    const first = exchanges[0] as Exchange
    const altered = first.request.replace(
      'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create</wsa:Action>',
      'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</wsa:Action>',
    )
    const res = await post(server, clientRequest({ ...first, request: altered }, guids, 'le'))
    assert.ok(!(res instanceof Error))
    assert.equal(res.status, 500)
    assert.match(
      res.text,
      /Action: expected http:\/\/schemas.xmlsoap.org\/ws\/2004\/09\/transfer\/Create, got .*\/Get/,
    )
    assert.equal(server.mismatches.length, 1)
    assert.match(server.mismatches[0]?.message ?? '', /exchange 0 \(Create\)/)
  } finally {
    await server.close()
  }
})
