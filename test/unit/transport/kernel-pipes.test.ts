/**
 * The kernel pipes the process transport gives pwsh (src/transport/fifo.ts) and the reader of their
 * output (src/transport/pipe-line-reader.ts), against real pipes and a real writer process.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fstatSync, readdirSync, readSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { closeQuietly, openFifoPipes, openFifoPipesSync } from '../../../src/transport/fifo.ts'
import { LONG_LINE_BYTES, PipeLineReader } from '../../../src/transport/pipe-line-reader.ts'

const posixOnly = process.platform === 'win32' ? 'FIFOs are POSIX' : false

const leftovers = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('psrp-fifo-'))

/** Reads a stream to its end; the chunks as they came. */
async function drain(stream: NodeJS.ReadableStream): Promise<Buffer[]> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return chunks
}

/**
 * A child that writes the text of the JavaScript expression `text` to the pipe's write end (its
 * stdout) in pieces of `piece` bytes, one piece per event-loop turn, as pwsh's console stream does,
 * then exits.
 */
function writer(writeFd: number, text: string, piece: number): Promise<number | null> {
  const script = `
    const data = Buffer.from(${text})
    let at = 0
    const step = () => {
      if (at >= data.length) return
      require('fs').writeSync(1, data.subarray(at, at + ${piece}))
      at += ${piece}
      setImmediate(step)
    }
    step()`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', writeFd, 'inherit'] })
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

describe('kernel pipes for a child', { skip: posixOnly }, () => {
  test('openFifoPipes and openFifoPipesSync give both ends of each pipe and leave no name behind', async () => {
    for (const open of [openFifoPipes, openFifoPipesSync]) {
      const before = leftovers()
      const pipes = await open(2)
      assert.ok(pipes !== undefined, 'mkfifo is available here')
      try {
        assert.equal(pipes.length, 2)
        for (const [i, pipe] of pipes.entries()) {
          assert.ok(fstatSync(pipe.readFd).isFIFO())
          assert.ok(fstatSync(pipe.writeFd).isFIFO())
          writeSync(pipe.writeFd, Buffer.from(`through pipe ${i}\n`))
        }
        // each pipe is its own: what went into one comes out of that one only
        for (const [i, pipe] of pipes.entries()) {
          const buf = Buffer.alloc(64)
          const n = readSync(pipe.readFd, buf)
          assert.equal(buf.subarray(0, n).toString(), `through pipe ${i}\n`)
        }
        assert.deepEqual(leftovers(), before, 'the FIFOs and their directory are removed at once')
      } finally {
        for (const pipe of pipes) {
          closeQuietly(pipe.readFd)
          closeQuietly(pipe.writeFd)
        }
      }
    }
  })

  test('without mkfifo it resolves to undefined (the caller keeps the socket pair)', async () => {
    const before = leftovers()
    const missing = join(tmpdir(), 'no-such-dir', 'mkfifo')
    assert.equal(await openFifoPipes(2, missing), undefined)
    assert.equal(openFifoPipesSync(2, missing), undefined)
    assert.deepEqual(leftovers(), before)
  })

  test('PipeLineReader delivers every byte, long lines written in small pieces and short ones', async () => {
    const [pipe] = (await openFifoPipes(1)) ?? []
    assert.ok(pipe !== undefined)
    const reader = new PipeLineReader(pipe.readFd)
    const lines = [
      'short one\n',
      `${'A'.repeat(44_000)}\n`, // a pwsh-sized packet line, well past LONG_LINE_BYTES
      'short two\n',
      `${'B'.repeat(3 * LONG_LINE_BYTES + 5)}\n`,
      'last, without a terminator',
    ]
    const done = writer(pipe.writeFd, JSON.stringify(lines.join('')), 256)
    closeQuietly(pipe.writeFd) // the child holds its own copy: its exit ends the stream
    const chunks = await drain(reader)
    assert.equal(await done, 0)
    assert.equal(Buffer.concat(chunks).toString(), lines.join(''))
  })

  test('PipeLineReader keeps back-pressure: a paused consumer stops the reading, resuming finishes it', async () => {
    const [pipe] = (await openFifoPipes(1)) ?? []
    assert.ok(pipe !== undefined)
    const reader = new PipeLineReader(pipe.readFd)
    const total = 4 * 1024 * 1024 // far more than the pipe and the stream's buffer together
    const done = writer(pipe.writeFd, `'x'.repeat(${total - 1}) + '\\n'`, 65_536)
    closeQuietly(pipe.writeFd)
    let exited = false
    void done.then(() => (exited = true))
    let got = 0
    reader.pause()
    reader.on('data', (c: Buffer) => {
      got += c.length
    })
    reader.pause()
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(exited, false, 'the writer is held: nothing reads ahead while the consumer is paused')
    assert.equal(got, 0)
    const ended = new Promise((r) => reader.once('end', r))
    reader.resume()
    await ended
    assert.equal(got, total)
    assert.equal(await done, 0)
  })

  test('destroying a PipeLineReader closes its descriptor; the writer then gets EPIPE', async () => {
    const [pipe] = (await openFifoPipes(1)) ?? []
    assert.ok(pipe !== undefined)
    const reader = new PipeLineReader(pipe.readFd)
    reader.destroy()
    await new Promise((r) => reader.once('close', r))
    assert.throws(() => writeSync(pipe.writeFd, Buffer.from('anyone?\n')), /EPIPE/)
    closeQuietly(pipe.writeFd)
  })
})
