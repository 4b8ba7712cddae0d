/**
 * The process transport against a real `pwsh -s` 7.6 and against a fake child (test/helpers/fake-pwsh.mjs).
 * PSRP message headers are parsed by hand here: the psrp wire module is developed separately.
 */
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, test } from 'node:test'
import { AbortError, ProtocolError, TimeoutError, TransportError, type PsrpError } from '../../src/errors.ts'
import {
  findPwsh as findPwshOrThrow,
  ProcessConnection,
  pwshCandidates,
  type ProcessConnectionOptions,
} from '../../src/transport/process.ts'
import type { PsrpTransportEvent } from '../../src/transport/psrp-transport.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'

const pwsh = findPwsh()
const skipPwsh = pwshSkip(pwsh)
const fakePwsh = resolve(import.meta.dirname, '../helpers/fake-pwsh.mjs')

/**
 * SESSION_CAPABILITY (protocol 2.3, PSVersion 2.0) + INIT_RUNSPACEPOOL fragments: the `creationXml` of
 * shared/seed/000_0575d2ebac4e6473.txt.
 */
const CREATION_XML =
  'AAAAAAAAAAEAAAAAAAAAAAMAAADHAgAAAAIAAQBaQW6l+ypKqpG/d79RBDOGAAAAAAAAAAAAAAAAAAAAADxPYmogUmVmSWQ9IjAiPjxNUz48VmVyc2lvbiBOPSJwcm90b2NvbHZlcnNpb24iPjIuMzwvVmVyc2lvbj48VmVyc2lvbiBOPSJQU1ZlcnNpb24iPjIuMDwvVmVyc2lvbj48VmVyc2lvbiBOPSJTZXJpYWxpemF0aW9uVmVyc2lvbiI+MS4xLjAuMTwvVmVyc2lvbj48L01TPjwvT2JqPgAAAAAAAAACAAAAAAAAAAADAAAC/QIAAAAEAAEAWkFupfsqSqqRv3e/UQQzhgAAAAAAAAAAAAAAAAAAAAA8T2JqIFJlZklkPSIwIj48TVM+PEkzMiBOPSJNaW5SdW5zcGFjZXMiPjE8L0kzMj48STMyIE49Ik1heFJ1bnNwYWNlcyI+MTwvSTMyPjxPYmogTj0iUFNUaHJlYWRPcHRpb25zIiBSZWZJZD0iMSI+PFROIFJlZklkPSIwIj48VD5TeXN0ZW0uTWFuYWdlbWVudC5BdXRvbWF0aW9uLlJ1bnNwYWNlcy5QU1RocmVhZE9wdGlvbnM8L1Q+PFQ+U3lzdGVtLkVudW08L1Q+PFQ+U3lzdGVtLlZhbHVlVHlwZTwvVD48VD5TeXN0ZW0uT2JqZWN0PC9UPjwvVE4+PFRvU3RyaW5nPkRlZmF1bHQ8L1RvU3RyaW5nPjxJMzI+MDwvSTMyPjwvT2JqPjxPYmogTj0iQXBhcnRtZW50U3RhdGUiIFJlZklkPSIyIj48VE4gUmVmSWQ9IjEiPjxUPlN5c3RlbS5NYW5hZ2VtZW50LkF1dG9tYXRpb24uUnVuc3BhY2VzLkFwYXJ0bWVudFN0YXRlPC9UPjxUPlN5c3RlbS5FbnVtPC9UPjxUPlN5c3RlbS5WYWx1ZVR5cGU8L1Q+PFQ+U3lzdGVtLk9iamVjdDwvVD48L1ROPjxUb1N0cmluZz5VTktOT1dOPC9Ub1N0cmluZz48STMyPjI8L0kzMj48L09iaj48T2JqIE49Ikhvc3RJbmZvIiBSZWZJZD0iMyI+PE1TPjxCIE49Il9pc0hvc3ROdWxsIj50cnVlPC9CPjxCIE49Il9pc0hvc3RVSU51bGwiPnRydWU8L0I+PEIgTj0iX2lzSG9zdFJhd1VJTnVsbCI+dHJ1ZTwvQj48QiBOPSJfdXNlUnVuc3BhY2VIb3N0Ij50cnVlPC9CPjwvTVM+PC9PYmo+PE5pbCBOPSJBcHBsaWNhdGlvbkFyZ3VtZW50cyIgLz48L01TPjwvT2JqPg=='
const creation = new Uint8Array(Buffer.from(CREATION_XML, 'base64'))

const SESSION_CAPABILITY = 0x00010002
const APPLICATION_PRIVATE_DATA = 0x00021009
const RUNSPACEPOOL_STATE = 0x00021005

interface Fragment {
  objectId: bigint
  fragmentId: bigint
  start: boolean
  end: boolean
  blob: Uint8Array
}

/** Splits a payload into fragments (21-byte header: ObjectId u64 BE, FragmentId u64 BE, flags, length u32 BE). */
function parseFragments(payload: Uint8Array): Fragment[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const out: Fragment[] = []
  let off = 0
  while (off < payload.length) {
    assert.ok(payload.length - off >= 21, 'fragment header is 21 bytes')
    const flags = view.getUint8(off + 16)
    assert.equal(flags & ~3, 0, 'only start/end flags are defined')
    const length = view.getUint32(off + 17, false)
    assert.ok(off + 21 + length <= payload.length, 'blob length fits the payload')
    out.push({
      objectId: view.getBigUint64(off, false),
      fragmentId: view.getBigUint64(off + 8, false),
      start: (flags & 1) !== 0,
      end: (flags & 2) !== 0,
      blob: payload.subarray(off + 21, off + 21 + length),
    })
    off += 21 + length
  }
  return out
}

interface Message {
  destination: number
  messageType: number
  body: string
}

/** Reassembles whole messages from a sequence of payloads and parses their 40-byte headers. */
class MessageCollector {
  readonly messages: Message[] = []
  readonly #partial = new Map<bigint, Uint8Array[]>()

  push(payload: Uint8Array): void {
    for (const f of parseFragments(payload)) {
      let parts = this.#partial.get(f.objectId)
      if (f.start) {
        assert.equal(f.fragmentId, 0n, 'a start fragment has id 0')
        assert.equal(parts, undefined, 'no message in progress for this object id')
        parts = []
        this.#partial.set(f.objectId, parts)
      }
      assert.ok(parts !== undefined, 'continuation fragment without a start')
      assert.equal(BigInt(parts.length), f.fragmentId, 'fragment ids are consecutive')
      parts.push(f.blob)
      if (f.end) {
        this.#partial.delete(f.objectId)
        const msg = Buffer.concat(parts)
        assert.ok(msg.length >= 40, 'message header is 40 bytes')
        this.messages.push({
          destination: msg.readUInt32LE(0),
          messageType: msg.readUInt32LE(4),
          body: msg.subarray(40).toString('utf8'),
        })
      }
    }
  }

  types(): number[] {
    return this.messages.map((m) => m.messageType)
  }
}

/** Consumes events in the background so acks and data are processed while the test awaits. */
function collect(
  conn: ProcessConnection,
  parse = true,
): {
  messages: MessageCollector
  events: PsrpTransportEvent[]
  done: Promise<void>
  waitFor: (pred: () => boolean, ms?: number) => Promise<void>
} {
  const messages = new MessageCollector()
  const events: PsrpTransportEvent[] = []
  let wake: (() => void) | undefined
  const done = (async () => {
    for await (const ev of conn.events()) {
      events.push(ev)
      if (parse && ev.type === 'data' && ev.pipelineId === undefined) messages.push(ev.data)
      wake?.()
    }
    wake?.()
  })()
  const waitFor = async (pred: () => boolean, ms = 20_000): Promise<void> => {
    const deadline = performance.now() + ms
    while (!pred()) {
      if (performance.now() > deadline) throw new Error('timed out waiting for condition')
      await new Promise<void>((r) => {
        wake = r
        setTimeout(r, 100)
      })
    }
  }
  return { messages, events, done, waitFor }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function rejectsWith<T extends PsrpError>(
  p: Promise<unknown>,
  cls: new (...args: never[]) => T,
  match?: RegExp,
): Promise<T> {
  let caught: unknown
  try {
    await p
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`)
  if (match !== undefined) assert.match(caught.message, match)
  return caught
}

const PIPELINE = '6f1b6f34-1e2d-4a9a-9a4e-0b9d6f2c1a10'

describe('ProcessConnection against pwsh -s', { skip: skipPwsh, timeout: 120_000 }, () => {
  test('opens a runspace pool, answers with capability, private data and state; closes cleanly', async () => {
    const conn = new ProcessConnection({ executable: pwsh })
    await conn.start()
    assert.ok(alive(conn.pid))
    const c = collect(conn)

    await conn.send({ stream: 'default', data: creation }) // resolves on <DataAck PSGuid='0…0' />
    await c.waitFor(() => c.messages.types().includes(RUNSPACEPOOL_STATE))

    const types = c.messages.types()
    assert.deepEqual(types.slice(0, 3), [SESSION_CAPABILITY, APPLICATION_PRIVATE_DATA, RUNSPACEPOOL_STATE])
    for (const m of c.messages.messages) assert.equal(m.destination, 1, 'messages are for the client')
    const cap = c.messages.messages[0] as Message
    assert.match(cap.body, /<Version N="protocolversion">2\.3<\/Version>/)
    const priv = c.messages.messages[1] as Message
    assert.match(priv.body, /PSRemotingProtocolVersion/)
    const state = c.messages.messages[2] as Message
    assert.match(state.body, /<I32 N="RunspaceState">2<\/I32>/, 'pool is Opened')
    // every server packet carries exactly one fragment with start+end for these small messages
    for (const ev of c.events) {
      if (ev.type !== 'data') continue
      const frags = parseFragments(ev.data)
      assert.equal(frags.length, 1)
      assert.ok(frags[0]?.start === true && frags[0].end)
      assert.equal(ev.data.length, 21 + (frags[0]?.blob.length ?? 0))
    }

    // A pipeline transport: Command → CommandAck, Close → CloseAck (no CREATE_PIPELINE needed).
    await conn.command(PIPELINE)
    await conn.closePipeline(PIPELINE)

    const pid = conn.pid
    await conn.close() // resolves on the pool's CloseAck, then ends stdin / kills
    await c.done
    assert.equal(conn.state, 'closed')
    assert.equal(conn.failure, undefined)
    assert.ok(!c.events.some((e) => e.type === 'failed'))
    // RUNSPACEPOOL_STATE Closing (4) and Closed (3) come before the CloseAck
    const states = c.messages.messages
      .filter((m) => m.messageType === RUNSPACEPOOL_STATE)
      .map((m) => /<I32 N="RunspaceState">(\d+)<\/I32>/.exec(m.body)?.[1])
    assert.deepEqual(states, ['2', '4', '3'])
    assert.ok(!alive(pid), 'the process exited')
  })

  test('close() with a pipeline still open closes the pipeline first (pool Close would hang otherwise)', async () => {
    const conn = new ProcessConnection({ executable: pwsh, closeTimeout: 20_000 })
    await conn.start()
    const c = collect(conn)
    await conn.send({ stream: 'default', data: creation })
    await c.waitFor(() => c.messages.types().includes(RUNSPACEPOOL_STATE))
    await conn.command(PIPELINE)
    await conn.close()
    await c.done
    assert.equal(conn.state, 'closed')
  })

  test('killing the process mid-session rejects a pending send with TransportError within 1 s', async () => {
    const conn = new ProcessConnection({ executable: pwsh })
    await conn.start()
    const c = collect(conn)
    const pid = conn.pid as number
    const pending = conn.send({ stream: 'default', data: creation })
    const t0 = performance.now()
    process.kill(pid, 'SIGKILL') // only the shim: the dotnet child keeps the pipes open
    const err = await rejectsWith(pending, TransportError, /killed by SIGKILL|exited/)
    assert.ok(performance.now() - t0 < 1000, `rejected after ${Math.round(performance.now() - t0)} ms`)
    await c.done
    const last = c.events.at(-1)
    assert.equal(last?.type, 'failed')
    assert.equal(last.type === 'failed' ? last.error : undefined, err)
    await rejectsWith(conn.send({ stream: 'default', data: creation }), TransportError)
    await conn.close() // resolves: already failed
  })
})

describe('ProcessConnection errors', { timeout: 60_000 }, () => {
  test('a missing executable gives a clear TransportError', async () => {
    const conn = new ProcessConnection({ executable: '/nonexistent/dir/pwsh' })
    await rejectsWith(
      conn.start(),
      TransportError,
      /cannot start \/nonexistent\/dir\/pwsh: not found \(ENOENT\)/,
    )
    assert.equal(conn.state, 'failed')
    await conn.close()
  })

  test('findPwsh names every place it looked', () => {
    const env = {
      PATH: ['/nope/a', '/nope/b'].join(process.platform === 'win32' ? ';' : ':'),
      HOME: '/nohome',
    }
    assert.throws(
      () => findPwshOrThrow(env),
      (e: unknown) =>
        e instanceof TransportError &&
        e.message.includes(resolve('/nope/a/pwsh')) &&
        e.message.includes(resolve('/nope/b/pwsh')) &&
        e.message.includes(resolve('/nohome/.dotnet/tools/pwsh')) &&
        e.message.includes('PSRP_PWSH'),
    )
    assert.throws(() => findPwshOrThrow({ PSRP_PWSH: '/nope/custom-pwsh' }), /PSRP_PWSH=\/nope\/custom-pwsh/)
    assert.deepEqual(pwshCandidates({ PSRP_PWSH: '/x/pwsh', PATH: '/y' }), ['/x/pwsh'])
    if (pwsh !== undefined) assert.equal(findPwshOrThrow({ PSRP_PWSH: pwsh }), pwsh)
  })

  const fake = (mode: string, extra: ProcessConnectionOptions = {}): ProcessConnection =>
    new ProcessConnection({ executable: process.execPath, arguments: [fakePwsh, mode], ...extra })

  test('a malformed line from the peer is a ProtocolError, not a crash', async () => {
    const conn = fake('garbage')
    await conn.start()
    const c = collect(conn)
    const err = await rejectsWith(
      conn.send({ stream: 'default', data: creation }),
      ProtocolError,
      /not an XML/,
    )
    assert.equal(err.side, 'remote')
    assert.match(err.message, /Loading personal and system profiles/)
    await c.done
    assert.equal(c.events.at(-1)?.type, 'failed')
    await conn.close()
    await waitUntil(() => !alive(conn.pid))
  })

  test('a bad GUID from the peer is a ProtocolError', async () => {
    const conn = fake('badguid')
    await conn.start()
    await rejectsWith(conn.send({ stream: 'default', data: creation }), ProtocolError, /bad PSGuid/)
    await conn.close()
  })

  test('stderr output is a TransportError carrying the text', async () => {
    const conn = fake('stderr')
    await conn.start()
    await rejectsWith(
      conn.send({ stream: 'default', data: creation }),
      TransportError,
      /fake failure on stderr/,
    )
    await conn.close()
  })

  test('__NamedPipeError__ lines are server errors', async () => {
    const conn = fake('named-pipe-error')
    await conn.start()
    await rejectsWith(conn.send({ stream: 'default', data: creation }), TransportError, /Something broke/)
    await conn.close()
  })

  test('process exit is a TransportError with exit code and stderr', async () => {
    const conn = fake('exit')
    await conn.start()
    await rejectsWith(
      conn.send({ stream: 'default', data: creation }),
      TransportError,
      /code 3.*fatal: exiting/s,
    )
    await conn.close()
  })

  test('no answer within connectTimeout is a TimeoutError; close() still tears down', async () => {
    const conn = fake('hang', { connectTimeout: 300, closeTimeout: 300 })
    await conn.start()
    await rejectsWith(conn.send({ stream: 'default', data: creation }), TimeoutError, /no answer/)
    await conn.close()
    await waitUntil(() => !alive(conn.pid))
  })

  test('abort and timeout of one wait do not break the transport', async () => {
    const conn = fake('hang', { closeTimeout: 200 })
    await conn.start()
    const ac = new AbortController()
    const p = conn.send({ stream: 'default', data: creation }, { signal: ac.signal })
    ac.abort()
    await rejectsWith(p, AbortError)
    await rejectsWith(conn.command(PIPELINE, { timeout: 50 }), TimeoutError)
    assert.equal(conn.failure, undefined)
    await rejectsWith(conn.close(), TimeoutError) // the fake never acks the Close
    assert.equal(conn.state, 'failed')
    await waitUntil(() => !alive(conn.pid))
  })

  test('a well-behaved peer: full operation set over the stream driver', async () => {
    const conn = fake('ack')
    await conn.start()
    const c = collect(conn, false)
    const payload = new Uint8Array([1, 2, 3, 4])
    await conn.send({ stream: 'default', data: payload })
    await conn.command(PIPELINE.toUpperCase())
    // [9] goes out at once; [10] and [8] wait for its DataAck, then PromptResponse [8] goes first.
    await Promise.all([
      conn.send({ pipelineId: PIPELINE, stream: 'default', data: new Uint8Array([9]) }),
      conn.send({ pipelineId: PIPELINE, stream: 'default', data: new Uint8Array([10]) }),
      conn.send({ pipelineId: PIPELINE, stream: 'promptResponse', data: new Uint8Array([8]) }),
    ])
    await conn.signal(PIPELINE)
    await conn.closePipeline(PIPELINE)
    await conn.close()
    await c.done
    const data = c.events.filter((e) => e.type === 'data')
    assert.deepEqual(
      data.map((e) => [e.pipelineId, [...e.data]]),
      [
        [undefined, [1, 2, 3, 4]],
        [PIPELINE, [9]],
        [PIPELINE, [8]], // PromptResponse overtook the queued Default chunk
        [PIPELINE, [10]],
      ],
    )
    assert.equal(conn.state, 'closed')
  })

  test(
    'stdin and stdout are kernel pipes by default, the socket pair with kernelPipes: false',
    { skip: process.platform !== 'linux' ? 'reads descriptor kinds from /proc (Linux only)' : false },
    async () => {
      const probe = async (options: ProcessConnectionOptions): Promise<string[]> => {
        const conn = fake('ack', options)
        await conn.start()
        const pid = conn.pid
        assert.ok(pid !== undefined)
        const fds = [0, 1].map((fd) => {
          const st = statSync(`/proc/${pid}/fd/${fd}`) // the descriptor's own inode
          return st.isFIFO() ? 'pipe' : st.isSocket() ? 'socket' : 'other'
        })
        // and the transport works end to end over whichever it got
        const c = collect(conn, false)
        await conn.send({ stream: 'default', data: new Uint8Array([7, 7]) })
        await conn.close()
        await c.done
        assert.deepEqual(
          c.events.filter((e) => e.type === 'data').map((e) => [...e.data]),
          [[7, 7]],
        )
        return fds
      }
      assert.deepEqual(await probe({}), ['pipe', 'pipe'])
      assert.deepEqual(await probe({ kernelPipes: false }), ['socket', 'socket'])
    },
  )
})

async function waitUntil(pred: () => boolean, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms
  while (!pred()) {
    if (performance.now() > deadline) throw new Error('condition not reached')
    await new Promise((r) => setTimeout(r, 20))
  }
}
