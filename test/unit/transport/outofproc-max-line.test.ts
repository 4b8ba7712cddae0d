/**
 * `maxLineLength` of ProcessConnection and NamedPipeConnection reaches the OutOfProc line reader: a
 * stand-in server (a Node child process on stdin/stdout, a Unix socket) answers the first packet with
 * one line longer than the limit, and `RunspacePool.open` rejects with the reader's `ProtocolError`
 * naming the limit; under a larger limit the same line gets past the reader (to the session, which
 * refuses it as not an OutOfProc packet). Bad values are refused by the constructors.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  InvalidArgumentError,
  NamedPipeConnection,
  ProcessConnection,
  ProtocolError,
  RunspacePool,
} from '../../../src/index.ts'

const LINE = 'x'.repeat(5000)

/** Options of a ProcessConnection whose "pwsh" answers its first input with LINE. */
function fakePwsh(): { executable: string; arguments: string[] } {
  const script = `process.stdin.once('data', () => process.stdout.write(${JSON.stringify(LINE)} + '\\n')); process.stdin.resume()`
  return { executable: process.execPath, arguments: ['-e', script] }
}

function isLineLimit(limit: number): (e: unknown) => boolean {
  return (e) =>
    e instanceof ProtocolError && e.code === 'ERR_PROTOCOL' && e.message.includes(`longer than ${limit}`)
}

function isNotAPacket(e: unknown): boolean {
  return e instanceof ProtocolError && /not an XML element/.test(e.message)
}

describe('ProcessConnection maxLineLength', () => {
  test('a line over the limit fails the open with the reader’s ProtocolError', async () => {
    const conn = new ProcessConnection({ ...fakePwsh(), maxLineLength: 4096 })
    await assert.rejects(RunspacePool.open(conn, { timeout: 20_000 }), isLineLimit(4096))
  })

  test('under a larger limit the same line reaches the session', async () => {
    const conn = new ProcessConnection({ ...fakePwsh(), maxLineLength: 8192 })
    await assert.rejects(RunspacePool.open(conn, { timeout: 20_000 }), isNotAPacket)
  })

  test('it takes precedence over session.maxLineLength', async () => {
    const conn = new ProcessConnection({
      ...fakePwsh(),
      maxLineLength: 4096,
      session: { maxLineLength: 1 << 20 },
    })
    await assert.rejects(RunspacePool.open(conn, { timeout: 20_000 }), isLineLimit(4096))
  })

  test('bad values are refused by the constructor', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new ProcessConnection({ maxLineLength: bad }), InvalidArgumentError)
    }
  })
})

describe('NamedPipeConnection maxLineLength', { skip: process.platform === 'win32' }, () => {
  let dir: string
  let server: Server
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psrp-maxline-'))
    server = createServer((socket) => {
      socket.once('data', () => socket.write(`${LINE}\n`))
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => server.listen(join(dir, 'CoreFxPipe_maxline'), resolve))
  })
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  test('a line over the limit fails the open with the reader’s ProtocolError', async () => {
    const conn = new NamedPipeConnection({ pipeName: 'maxline', tempDir: dir, maxLineLength: 4096 })
    await assert.rejects(RunspacePool.open(conn, { timeout: 20_000 }), isLineLimit(4096))
  })

  test('under a larger limit the same line reaches the session', async () => {
    const conn = new NamedPipeConnection({ pipeName: 'maxline', tempDir: dir, maxLineLength: 8192 })
    await assert.rejects(RunspacePool.open(conn, { timeout: 20_000 }), isNotAPacket)
  })

  test('bad values are refused by the constructor', () => {
    assert.throws(
      () => new NamedPipeConnection({ path: '/nonexistent', maxLineLength: 0 }),
      InvalidArgumentError,
    )
  })
})
