/**
 * PipeStream (src/transport/named-pipe.ts) against a Unix socket server that resets the first
 * connection before answering, as pwsh does to a client caught in a listener it is replacing.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { PipeStream } from '../../../src/transport/named-pipe.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(t)
  }
}

function connectTo(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ path })
    s.once('error', reject)
    s.once('connect', () => {
      s.off('error', reject)
      resolve(s)
    })
  })
}

test('a write made while the stream reconnects is replayed, and writes after it still flow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'psrp-pipe-'))
  const path = join(dir, 'pipe')
  const received: string[] = []
  let firstGone!: () => void
  const firstClosed = new Promise<void>((r) => (firstGone = r))
  let connections = 0
  const sockets: Socket[] = []
  const server = createServer((sock) => {
    sockets.push(sock)
    const n = connections++
    if (n === 0) {
      // read the first bytes, then reset without ever answering
      sock.once('data', () => {
        sock.destroy()
        firstGone()
      })
      return
    }
    let text = ''
    sock.on('data', (d: Buffer) => {
      text += d.toString()
      received[n] = text
      if (text === 'a\nb\n') sock.write('ok\n')
    })
  })
  server.listen(path)
  await once(server, 'listening')
  let created: PipeStream | undefined
  try {
    const stream = (created = new PipeStream(await connectTo(path), async () => {
      await sleep(200)
      return connectTo(path)
    }))
    stream.on('error', () => {})
    const answer = new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())))
    stream.write('a\n')
    await within(firstClosed, 3000, 'the reset')
    await sleep(50) // inside the 200 ms before the stream reconnects
    await within(
      new Promise<void>((resolve, reject) => stream.write('b\n', (e) => (e ? reject(e) : resolve()))),
      3000,
      'the write during the reconnect',
    )
    assert.equal(await within(answer, 3000, 'the answer'), 'ok\n')
    stream.write('c\n')
    await within(
      (async () => {
        while (received[1] !== 'a\nb\nc\n') await sleep(20)
      })(),
      3000,
      `the write after the reconnect (server has ${JSON.stringify(received[1])})`,
    )
    assert.equal(connections, 2)
  } finally {
    created?.destroy()
    for (const s of sockets) s.destroy()
    server.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
